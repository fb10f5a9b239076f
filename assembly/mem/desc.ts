// Record descriptors: the host's trace reader frames capture records that sit in
// the staging region and describes each one here; the core decodes a whole batch
// per call. 32 bytes, little-endian, naturally aligned so the host can fill them
// through Uint32Array/Float64Array views without a DataView per field.
// The fields (offset, captured and wire length, link type, DESC_F_* flags,
// nanoseconds, interface, f64 seconds) are listed in the ABI table,
// abi/table.ts, which the host's reader is generated from too.
export * from "../abi/desc.gen";
