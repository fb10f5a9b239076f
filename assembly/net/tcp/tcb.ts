// TCB table sizing (implemented in the net/tcp work).
export function tcbTableBytes(n: u32): usize {
  return <usize>n * 256;
}
