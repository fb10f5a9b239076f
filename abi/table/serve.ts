// Serve mode's copy list: (dst, src, len) triples the host queues in the control
// block's scratch area and the core's serveCopies (assembly/replay/serve.ts) moves
// with memory.copy, one call per poll (host/replay/serve/copy-list.ts). Part of the
// ABI table (abi/table.ts).
import type { SharedLayout } from "./types.ts";

export const SERVE_COPIES: SharedLayout = {
  name: "copies",
  coreUser: "assembly/replay/serve.ts",
  hostUser: "host/replay/serve/copy-list.ts",
  about: "Serve mode's copy list (serveCopies)",
  groups: [
    {
      title: "where the list lives",
      type: "usize",
      entries: [
        {
          name: "COPY_LIST_OFF",
          value: 64,
          doc: "the list's offset from SCRATCH_BASE (the first bytes hold tcpPreset's key)",
        },
      ],
    },
    {
      title: "an entry (u32 fields)",
      type: "usize",
      record: "COPY_BYTES",
      entries: [
        { name: "COPY_BYTES", value: 12, doc: "bytes of an entry" },
        { name: "CP_DST", value: 0, doc: "destination address" },
        { name: "CP_SRC", value: 4, doc: "source address, or NO_SRC" },
        { name: "CP_LEN", value: 8, doc: "bytes" },
      ],
    },
    {
      title: "CP_SRC",
      type: "u32",
      entries: [
        { name: "NO_SRC", value: 0xffffffff, doc: "fill CP_LEN zero bytes (a payload a snap length cut)" },
      ],
    },
  ],
};
