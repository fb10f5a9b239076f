// Flow groups (RETA entries) and the chunks that move a group's connections between
// workers (assembly/net/tcp/migrate.ts; the host's control plane, host/runtime/
// control-plane.ts and control-worker.ts). Part of the ABI table (abi/table.ts).
//
// Only the chunk's header is shared: the records after it are the core's own (one core
// writes them, another core reads them; the host only copies the bytes).
import type { SharedLayout } from "./types.ts";

export const MIGRATE: SharedLayout = {
  name: "migrate",
  coreUser: "assembly/net/tcp/migrate.ts and flow/reta.ts",
  hostUser: "host/runtime/control-plane.ts and control-worker.ts",
  about: "Flow groups and the header of a migration chunk, with migrateExport's / migrateImport's results",
  groups: [
    {
      title: "flow groups: a packet's group is its RSS hash & RETA_MASK (as in NIC RSS and IX)",
      type: "u32",
      entries: [
        {
          name: "RETA_SIZE",
          value: 128,
          doc: "flow groups: entries of the redirection table (group -> worker)",
        },
        { name: "RETA_MASK", value: 127, doc: "RETA_SIZE - 1" },
      ],
    },
    {
      title: "chunk header (little-endian), at the start of what migrateExport writes",
      type: "usize",
      record: "MIG_HDR",
      entries: [
        { name: "MIG_HDR", value: 32, doc: "bytes of the header; the flows' records follow, each 8-aligned" },
        { name: "MH_MAGIC", value: 0, doc: "MIG_MAGIC" },
        { name: "MH_VERSION", value: 4, size: 2, field: "u16", doc: "MIG_VERSION" },
        { name: "MH_HDR_BYTES", value: 6, size: 2, field: "u16", doc: "MIG_HDR (where the records start)" },
        { name: "MH_GROUP", value: 8, doc: "the flow group" },
        { name: "MH_FLOWS", value: 12, doc: "connections in the chunk" },
        { name: "MH_CLOCK", value: 16, size: 8, doc: "the exporter's clock at export, µs" },
        { name: "MH_BYTES", value: 24, doc: "bytes of the whole chunk" },
        { name: "MH_MORE", value: 28, doc: "1: connections of the group are left, export again" },
      ],
    },
    {
      title: "chunk magic and version",
      type: "u32",
      entries: [
        { name: "MIG_MAGIC", value: 0x474d5849, hex: true, doc: '"IXMG"' },
        { name: "MIG_VERSION", value: 1, type: "u16", doc: "the chunk format's version" },
      ],
    },
    {
      title: "errors: negative results of migrateExport / migrateImport",
      type: "i32",
      entries: [
        { name: "MIG_BAD", value: -1, doc: "bad arguments or a buffer that is not a chunk of this version" },
        {
          name: "MIG_NOT_MOVABLE",
          value: -2,
          doc: "send data outside the connection's mbufs, or an app without a hook",
        },
        { name: "MIG_TOO_BIG", value: -3, doc: "one connection does not fit the buffer" },
        {
          name: "MIG_NO_ROOM",
          value: -5,
          doc: "the importer lacks TCBs, mbufs, spans, flow entries or app slots (nothing changed)",
        },
        {
          name: "MIG_AGAIN",
          value: -11,
          doc: "a command of the group awaits its result: poll, then ask again",
        },
      ],
    },
  ],
};
