// The test core: every export of the release core (core.ts) plus the hooks the
// tests and the fuzzer drive it through, which the release core must not ship
// (test/core/exports.test.ts lists both). Built twice: build/core-test.wasm with
// the release core's options, so a test measures the code that runs, and
// build/core.debug.wasm (asserts, no optimisation) for the debug runs.
// The host loads it with createCore(config, { test: true }) or { debug: true }.
export * from "./core";
export {
  tcpTestCapture, tcpTestTxPop, tcpTestTxCount, tcpTestInject, tcpTestCmd, tcpTestEvCount, tcpTestEvBase,
  tcpTestEvReset, tcpTestTcb, tcpTestStat,
} from "./net/tcp/testhooks";
// Drive an app without the stack (test/apps/harness.ts).
export { appTestEvent, appTestClock, appCmdCount } from "./apps/testhooks";
// The stack's fixed-field emitters are @inline; the wire tests call copies.
export { ethEmitPlainTest, ipv4EmitPlainTest, ipv6EmitPlainTest, tcpEmitPlainTest } from "./wire/plain-test";

/** Traps on purpose, so trap containment can be tested without a bug (pair --trap-worker). */
export function testTrap(): void {
  unreachable();
}
