// mbuf pool (placeholder sizes; implemented in the mem/ work).
export const MBUF_HEADER_BYTES: usize = 64;
export const MBUF_DATA_BYTES: usize = 2048;
export const MBUF_STRIDE: usize = MBUF_HEADER_BYTES + MBUF_DATA_BYTES;
export function mbufPoolBytes(count: u32): usize {
  return <usize>count * MBUF_STRIDE;
}
export function mbufStackBytes(count: u32): usize {
  return <usize>count * 4;
}
