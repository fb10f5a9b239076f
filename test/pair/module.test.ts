// pair --app-module with two threads (docs/design/app-modules.md): the server core's
// worker runs the echo module (in that thread, metered, or in a thread of its own)
// and every round trip is echoed and verified; a module that traps there is reset,
// checked and restarted by that worker, and the run refuses --server-workers with
// its reason.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { buildApp } from "../../host/apps/build.ts";
import { loadAppModule } from "../../host/apps/module.ts";
import { check, pairTwoThreads, type PairOptions } from "../../host/pair/pair.ts";
import { ROOT } from "../helpers/corpus.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("apps-pair");
const echo = join(tmp, "echo.wasm");
const faulty = join(tmp, "faulty.wasm");
await buildApp(join(ROOT, "examples/echo"), { out: echo });
await buildApp(join(ROOT, "examples/faulty"), { out: faulty });

const base: PairOptions = {
  app: "echo",
  conns: 8,
  msgs: 200,
  size: 64,
  workers: 2,
  faults: {},
  timeoutS: 60,
};

for (const thread of [false, true])
  test(`two threads, the module ${thread ? "in a thread of its own" : "in the server core's thread"}: every round trip echoed`, async () => {
    const mod = loadAppModule(echo);
    const r = await pairTwoThreads({ ...base, module: { mod, onFault: "abort", timeoutMs: 250, thread } });
    assert.ok(r.completed, JSON.stringify(r.module));
    assert.is(r.round_trips, 8 * 200);
    assert.is(r.bytes_verified, 8 * 200 * 64);
    assert.is(r.errors, 0);
    assert.ok(r.module, "the module's report");
    assert.is(r.module!.run, thread ? "thread" : "inline");
    assert.ok(r.module!.batches > 0);
    assert.is(r.module!.down, null);
  });

test("two threads, a module that traps: its connections reset, the core's checks intact, restarted", async () => {
  // the pair's client is 198.18.0.1: octet=1 makes the first request trap the module
  const mod = loadAppModule(faulty, { options: "mode=1,octet=1" });
  const r = await pairTwoThreads({
    ...base,
    timeoutS: 5,
    module: { mod, onFault: "restart", timeoutMs: 250 },
  });
  const m = r.module!;
  assert.ok(m.faults.trap >= 1, JSON.stringify(m));
  assert.ok(m.fault_resets >= 1);
  assert.ok(m.restarts >= 1);
  assert.ok(m.checks.length >= 1);
  for (const c of m.checks) assert.equal([c.mbuf_pool, c.tcb_table], [0, 0]);
  assert.ok(r.round_trips < 8 * 200, "the trapping module did not serve everything");
});

test("--server-workers with --app-module is refused, with the reason", () => {
  const mod = loadAppModule(echo);
  assert.throws(
    () => check({ ...base, serverWorkers: 2, module: { mod, onFault: "abort", timeoutMs: 250 } }),
    /cannot move between workers/,
  );
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
