// gen.wasm (assembly/gen/frame.ts), the frame writer of `ixwasm gen`, and its host
// (host/gen/synth.ts): the packet descriptors the host queues and the module turns
// into capture records, and the per-burst areas both address. Part of the ABI table
// (abi/table.ts).
import type { SharedLayout } from "./types.ts";

const HEAD_MAX = 320;
const TAIL_MAX = 16;

export const GEN_FRAME: SharedLayout = {
  name: "genframe",
  coreUser: "assembly/gen/frame.ts",
  hostUser: "host/gen/synth.ts",
  about: "gen.wasm's packet descriptors and message areas",
  groups: [
    {
      title: "packet descriptor: synth.ts frame() writes one per packet, frames() turns it into a record",
      type: "usize",
      record: "DESC_BYTES",
      words: true,
      entries: [
        { name: "DESC_BYTES", value: 32, type: "i32", doc: "bytes of a descriptor" },
        { name: "GD_TIME", value: 0, size: 8, field: "f64", doc: "capture time, ns since the epoch" },
        {
          name: "GD_BURST",
          value: 8,
          field: "i32",
          doc: "the burst's slot (its addresses, ports, sequence bases)",
        },
        {
          name: "GD_FLAGS",
          value: 12,
          field: "i32",
          doc: "TCP flags (GD_TCP_FLAGS) | GD_F_CLIENT | side << GD_SIDE_SHIFT",
        },
        { name: "GD_SEQ_OFF", value: 16, field: "i32", doc: "added to the sender's next sequence number" },
        {
          name: "GD_ACK_OFF",
          value: 20,
          field: "i32",
          doc: "added to the receiver's (the ACK; zero on a SYN alone)",
        },
        { name: "GD_OFF", value: 24, doc: "offset of the payload in the side's message" },
        { name: "GD_LEN", value: 28, doc: "payload bytes" },
      ],
    },
    {
      title: "GD_FLAGS",
      type: "i32",
      entries: [
        { name: "GD_TCP_FLAGS", value: 0xff, hex: true, doc: "the TCP flags (RFC 9293 §3.1), low byte" },
        { name: "GD_F_CLIENT", value: 0x100, hex: true, doc: "sent by the client" },
        { name: "GD_SIDE_SHIFT", value: 9, doc: "the message side k (0 request, 1 response) from this bit" },
      ],
    },
    {
      title: "TCP options a frame carries (RFC 7323 timestamps; SYNs add MSS and window scale)",
      type: "u32",
      entries: [
        { name: "OPT_BYTES", value: 12, doc: "NOP NOP timestamps" },
        {
          name: "SYN_OPT_BYTES",
          value: 20,
          doc: "MSS, SACK permitted, timestamps, NOP, window scale (Linux's order)",
        },
      ],
    },
    {
      title: "message areas (per burst and side) and the value pattern",
      type: "u32",
      entries: [
        {
          name: "HEAD_MAX",
          value: HEAD_MAX,
          doc: "bytes of message head kept per burst side (memcached header lines, keys <= 250 B)",
        },
        {
          name: "TAIL_MAX",
          value: TAIL_MAX,
          doc: 'bytes of message tail kept per burst side ("\\r\\nEND\\r\\n" and the like)',
        },
        { name: "AREA", value: HEAD_MAX + TAIL_MAX, doc: "bytes of a side's area: its head, then its tail" },
        {
          name: "PATTERN_PERIOD",
          value: 4096,
          doc: "value bytes repeat with this period; a value of key k starts at a key-dependent phase",
        },
      ],
    },
  ],
};
