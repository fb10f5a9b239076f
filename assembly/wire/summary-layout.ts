// Per-record decode result written by `decodeBatch` (wire/summary.ts) for `ixwasm
// dump`, inspect and replay serve, read by the host: 64 bytes per record,
// little-endian. The layout (offsets, SUM_F_* bits, the flow hook's SUM_TCP_* fields
// that say where the first TCP header of the frame sits, maybe inside a tunnel) is
// in the ABI table, abi/table.ts, which the host's copy comes from too.
export * from "../abi/summary.gen";
