// SPSC descriptor ring (placeholder sizes; implemented in the mem/ work).
export const RING_HEADER_BYTES: usize = 256;
export const RING_SLOT_BYTES: usize = 16;
export function ringBytes(slots: u32): usize {
  return slots == 0 ? 0 : RING_HEADER_BYTES + <usize>slots * RING_SLOT_BYTES;
}
