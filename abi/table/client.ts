// The load-generating client app's result record the host reads through
// clientFirstDiffPtr() (assembly/apps/client.ts; host/runtime/client-results.ts).
// Part of the ABI table (abi/table.ts).
import type { SharedLayout } from "./types.ts";

export const CLIENT: SharedLayout = {
  name: "client",
  coreUser: "assembly/apps/client.ts",
  hostUser: "host/runtime/client-results.ts",
  about: "The client app's first differing answer byte",
  groups: [
    {
      title: "the first difference (u32 fields at clientFirstDiffPtr())",
      type: "usize",
      record: "FD_BYTES",
      entries: [
        { name: "FD_BYTES", value: 20, doc: "bytes of the record" },
        { name: "FD_CONN", value: 0, doc: "the connection; FD_NONE until a difference is seen" },
        { name: "FD_REQUEST", value: 4, doc: "its request number" },
        { name: "FD_OFFSET", value: 8, doc: "offset in the answer" },
        { name: "FD_EXPECTED", value: 12, doc: "the byte expected; FD_NONE past the expected answer's end" },
        { name: "FD_GOT", value: 16, doc: "the byte received" },
      ],
    },
    {
      title: "FD_CONN, FD_EXPECTED",
      type: "u32",
      entries: [{ name: "FD_NONE", value: 0xffffffff, doc: "none" }],
    },
  ],
};
