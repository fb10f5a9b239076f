// Record descriptors: the host's trace reader frames capture records that sit in
// the staging region and describes each one here; the core decodes a whole batch
// per call. 32 bytes, little-endian, naturally aligned so the host can fill them
// through Uint32Array/Float64Array views without a DataView per field.
//
//  off  size  field
//   0    4    offset of the frame's first byte in linear memory
//   4    4    captured length
//   8    4    original (wire) length
//  12    2    link type (LINKTYPE_* number)
//  14    2    flags (DESC_F_*)
//  16    4    nanoseconds within the second
//  20    4    interface index (pcapng) / 0
//  24    8    seconds since the epoch, f64 (exact for integers < 2^53)
// The numbers come from the ABI table (abi/table.ts), as the host's reader's do.
export * from "../abi/desc.gen";
