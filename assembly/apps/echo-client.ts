// echo-client: the load generator of `ixwasm pair --app echo` (IX's echo benchmark):
// N connections, M messages of S bytes each, one outstanding per connection, every
// echoed byte verified. The engine is client.ts.
import { clientInit, clientRun, MODE_ECHO } from "./client";

export function echoClientInit(): i32 {
  return clientInit(MODE_ECHO);
}
export function echoClientRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  clientRun(prev, nPrev, ev, nEv);
}
