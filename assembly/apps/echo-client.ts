export function echoClientInit(): i32 {
  return 0;
}
export function echoClientRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {}
