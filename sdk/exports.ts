// The functions the module host calls, under the names docs/design/app-modules.md
// fixes. An app's entry file re-exports them: `export * from "../../sdk/exports";`.
import { sdkFlags, sdkInbox, sdkInit, sdkOutbox, sdkPort, sdkRun, sdkVersion } from "./index";

export function ixapp_version(): u32 {
  return sdkVersion();
}
export function ixapp_inbox(bytes: u32): usize {
  return sdkInbox(bytes);
}
export function ixapp_init(argLen: u32): i32 {
  return sdkInit(argLen);
}
export function ixapp_port(): u32 {
  return sdkPort();
}
export function ixapp_flags(): u32 {
  return sdkFlags();
}
export function ixapp_run(inLen: u32): u32 {
  return sdkRun(inLen);
}
export function ixapp_outbox(): usize {
  return sdkOutbox();
}
