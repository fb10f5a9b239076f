// Flow table (placeholder sizes; implemented in the flow/ work).
export const FLOW_ENTRY_BYTES: usize = 64;
export function flowTableBytes(capacity: u32): usize {
  return <usize>capacity * FLOW_ENTRY_BYTES;
}
