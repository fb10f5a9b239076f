export function mcClientInit(): i32 {
  return 0;
}
export function mcClientRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {}
