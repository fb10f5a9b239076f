// The core's poll() (assembly/core.ts): the batch bound the host's loops feed it by.
// Part of the ABI table (abi/table.ts).
import type { SharedLayout } from "./types.ts";

export const POLL: SharedLayout = {
  name: "poll",
  coreUser: "assembly/core.ts",
  hostUser: "host/tap/loop.ts, host/tap/liveplay.ts and host/replay/plane.ts",
  about: "The core's poll() batch bound",
  groups: [
    {
      title: "batching",
      type: "u32",
      entries: [
        {
          name: "RX_BURST",
          value: 64,
          doc: "frames poll() takes from the RX ring at most (IX's batch bound); the host's loops read as many a round",
        },
      ],
    },
  ],
};
