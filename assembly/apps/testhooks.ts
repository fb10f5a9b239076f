// Test hooks: drive an app through appDispatch() (apps/registry.ts) without the
// stack (test/apps/harness.ts is the stand-in stack that uses them).
import { cmdLen, evPush } from "../api/abi";
import { PKT_NOW_US, pkt } from "../net/pkt";

/** Appends an event as the stack would (returns 0 if the queue is full). */
export function appTestEvent(kind: u32, handle: u32, cookie: u32, a: u32, b: u32, c: u32, d: u32): usize {
  return evPush(<u16>kind, handle, cookie, a, b, c, d);
}
/** Sets the loop clock (microseconds; f64 so JS can pass a plain number). */
export function appTestClock(us: f64): void {
  store<u64>(pkt() + PKT_NOW_US, <u64>us);
}
/** Commands the app pushed in the last appDispatch(). */
export function appCmdCount(): u32 {
  return cmdLen();
}
