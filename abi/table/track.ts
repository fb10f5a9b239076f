// Replay track mode's conversation states (assembly/replay/track.ts), which
// trackStates() counts and the replay report names (host/report/replay.ts). Part of
// the ABI table (abi/table.ts).
import type { SharedLayout } from "./types.ts";

export const TRACK: SharedLayout = {
  name: "track",
  coreUser: "assembly/replay/track.ts",
  hostUser: "host/report/replay.ts",
  about: "Replay track mode's conversation states",
  groups: [
    {
      title: "states: RFC 9293 names; the tracker sees both ends, so one state per conversation",
      type: "u32",
      entries: [
        { name: "ST_NONE", value: 0, host: "NONE", doc: "not TCP" },
        { name: "ST_SYN_SENT", value: 1, host: "SYN_SENT", doc: "a SYN" },
        { name: "ST_SYN_RECEIVED", value: 2, host: "SYN_RECEIVED", doc: "its SYN-ACK" },
        { name: "ST_ESTABLISHED", value: 3, host: "ESTABLISHED", doc: "the handshake's ACK, or data" },
        { name: "ST_FIN_WAIT", value: 4, host: "FIN_WAIT", doc: "one side has sent FIN" },
        { name: "ST_CLOSING", value: 5, host: "CLOSING", doc: "both sides have sent FIN" },
        { name: "ST_TIME_WAIT", value: 6, host: "TIME_WAIT", doc: "both FINs acknowledged" },
        { name: "ST_CLOSED", value: 7, host: "CLOSED", doc: "reset" },
      ],
    },
    {
      title: "trackStates(): a u64 count per state at the address it returns",
      type: "u32",
      entries: [{ name: "ST_COUNT", value: 8, doc: "states" }],
    },
  ],
};
