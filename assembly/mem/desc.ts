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
export const DESC_BYTES: usize = 32;
export const DESC_OFF: usize = 0;
export const DESC_CAPLEN: usize = 4;
export const DESC_LEN: usize = 8;
export const DESC_LINKTYPE: usize = 12;
export const DESC_FLAGS: usize = 14;
export const DESC_NSEC: usize = 16;
export const DESC_IFACE: usize = 20;
export const DESC_SEC: usize = 24;

// The record has no timestamp (pcapng simple packet block).
export const DESC_F_NO_TS: u16 = 1;
// Not a packet: a block tshark shows as a frame (pcapng custom block); never decoded.
export const DESC_F_NOT_PACKET: u16 = 2;
