// The release core ships no test hook: its exports are exactly those declared by
// assembly/core.ts and assembly/exports.ts, none of them a test entry point; the
// test core (assembly/test-core.ts, build/core-test.wasm) and the debug core add
// the hooks and nothing else. testHooks() refuses a release core in one line.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { coreExports, testCoreExports } from "../../abi/generate.ts";
import { createCore, loadCoreModule, testHooks } from "../../host/core/core.ts";

const functions = (mod: WebAssembly.Module) =>
  WebAssembly.Module.exports(mod)
    .filter((e) => e.kind === "function")
    .map((e) => e.name)
    .sort();
const release = coreExports()
  .map((e) => e.name)
  .sort();
const hooks = testCoreExports()
  .map((e) => e.name)
  .sort();

test("the release core exports what core.ts and exports.ts declare, and no test hook", () => {
  const got = functions(loadCoreModule());
  assert.equal(got, release);
  assert.equal(
    got.filter((n) => /^test|Test/.test(n)), // a camelCase word "test" (not migrateStat)
    [],
    "no export named for tests",
  );
  for (const h of hooks) assert.not.ok(got.includes(h), `${h} shipped in the release core`);
});

test("the test core and the debug core: the release exports plus the hooks of test-core.ts", () => {
  assert.ok(hooks.includes("tcpTestInject") && hooks.includes("testTrap") && hooks.includes("appTestEvent"));
  const want = [...release, ...hooks].sort();
  assert.equal(functions(loadCoreModule(false, true)), want, "build/core-test.wasm");
  assert.equal(functions(loadCoreModule(true)), want, "build/core.debug.wasm");
});

test("testHooks: the hooks of a test core; a release core is refused with the fix", () => {
  const cfg = { mbufs: 16, flows: 16, ringSlots: 0, stagingBytes: 65536, descSlots: 16 };
  assert.is(typeof testHooks(createCore(cfg, { test: true })).tcpTestStat, "function");
  assert.throws(() => testHooks(createCore(cfg)), /no test hooks: create it with \{ test: true \}/);
});

test.run();
