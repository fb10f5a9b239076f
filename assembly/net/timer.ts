// Timer wheel sizing (implemented in the net/tcp work).
export function timerWheelBytes(n: u32): usize {
  return <usize>n * 16 + 65536;
}
