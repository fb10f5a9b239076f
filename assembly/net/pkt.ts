// The received packet being processed, as the IP layer hands it to the transport
// layer: one static record (the loop runs one packet to completion at a time), so
// nothing is allocated or passed per field.
//
// Addresses are in wire order (bytes as in the header); IPv4 uses the first 4
// bytes of the 16. MACs are those of the Ethernet header the frame arrived with
// (zero for link types without one), so a reply can go back the way it came.
export const PKT_M: usize = 0; // u32 mbuf handle (pointer) that holds the frame
export const PKT_FAMILY: usize = 4; // u8 4 or 6
export const PKT_PROTO: usize = 5; // u8 transport protocol (after IPv6 extension headers)
export const PKT_TTL: usize = 6; // u8 TTL / hop limit
export const PKT_FLAGS: usize = 7; // u8 PKTF_*
export const PKT_L3: usize = 8; // u32 pointer to the IP header
export const PKT_L4: usize = 12; // u32 pointer to the transport header
export const PKT_L4LEN: usize = 16; // u32 transport bytes (header + payload) per the IP length, clipped to what was captured
export const PKT_HASH: usize = 20; // u32 RSS hash of the 4-tuple (0 if not computed)
export const PKT_SRC: usize = 24; // 16 bytes
export const PKT_DST: usize = 40; // 16 bytes
export const PKT_SMAC: usize = 56; // 6 bytes
export const PKT_DMAC: usize = 62; // 6 bytes
export const PKT_NOW_US: usize = 72; // u64 the loop's clock, microseconds (set once per poll)
export const PKT_BYTES: usize = 80;

export const PKTF_L4_TRUNC: u8 = 1; // captured bytes end before the IP length says
export const PKTF_CSUM_OK: u8 = 2; // transport checksum verified (or verification skipped by config)

// Lives in the control block's scratch area? No: static data, so it cannot
// collide with host-owned scratch results.
const pktStore = memory.data(<i32>PKT_BYTES, 16);

@inline export function pkt(): usize {
  return pktStore;
}
