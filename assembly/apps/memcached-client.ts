// memcached-client: the load generator of `ixwasm pair --app memcached`: per
// connection and message, an ASCII set of key "k<conn>-<msg>" with an S-byte value,
// then a get whose answer (header, value, END) is compared byte for byte.
import { clientInit, clientRun, MODE_MEMCACHED } from "./client";

export function mcClientInit(): i32 {
  return clientInit(MODE_MEMCACHED);
}
export function mcClientRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  clientRun(prev, nPrev, ev, nEv);
}
