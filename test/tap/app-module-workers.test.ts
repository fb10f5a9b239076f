// App modules on tap workers (docs/design/app-modules.md, "Where it is served"):
// each worker's core runs an instance of the module of its own, served to real
// kernel clients (test/tap/module-conns.mjs in the tap's namespace). A faulty
// module on one worker is contained there: that worker's connections are reset and
// counted, the others' connections keep being served, the core's checks pass and
// the restarted instance serves new connections. Needs root and /dev/net/tun:
// without them these tests FAIL (never skip).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { buildApp } from "../../host/apps/build.ts";
import { ROOT, inNs, needTapHost, tapNames, withTap } from "../helpers/tap.ts";
import { tempDir } from "../helpers/tmp.ts";

needTapHost();
const tmp = tempDir("apps-tapw");
const echo = join(tmp, "echo.wasm");
const faulty = join(tmp, "faulty.wasm");
await buildApp(join(ROOT, "examples/echo"), { out: echo });
await buildApp(join(ROOT, "examples/faulty"), { out: faulty });
const names = tapNames("apps");
const CLIENT = join(ROOT, "test/tap/module-conns.mjs");
const N = 16; // held connections: the kernel spreads them over the queues by flow hash
const TRIGGER = 40001;

interface Client {
  first: boolean[];
  second: boolean[];
  reset: (string | null)[];
  triggered: { got: string; closed: boolean; error: string | null } | null;
  fresh: boolean[];
}

function client(ns: string, args: (string | number)[]): Client {
  const r = inNs(ns, [process.execPath, CLIENT, "198.18.0.2", "7", ...args.map(String)], {
    timeoutMs: 120_000,
  });
  assert.is(r.code, 0, `client: ${r.err}`);
  return JSON.parse(r.out.toString()) as Client;
}

const WORKERS = ["--queues", "2", "--workers", "2"];

for (const thread of [false, true])
  test(`two tap workers, ${thread ? "each module in a thread of its own" : "each module in its worker's thread"}: ${N} kernel connections echoed, both workers serving`, async () => {
    const args = [...WORKERS, "--app-module", echo, "--duration", "90", ...(thread ? ["--app-thread"] : [])];
    await withTap(names(), args, async (t) => {
      const c = client(t.ns, [N, 0, 4]);
      assert.equal(c.first, Array(N).fill(true), "first messages echoed");
      assert.equal(c.second, Array(N).fill(true), "second messages echoed");
      assert.equal(c.fresh, Array(4).fill(true), "fresh connections echoed");
      const { code, report } = await t.stop();
      assert.is(code, 0, t.stderr());
      assert.is(report.workers, 2);
      const per = report.per_worker.map((w: { module: { batches: number; run: string } }) => w.module);
      assert.is(per.length, 2);
      for (const m of per) {
        assert.is(m.run, thread ? "thread" : "inline");
        // 16 connections over two queues by flow hash: none on one of them has odds 2^-15
        assert.ok(m.batches > 0, `every worker's module served: ${JSON.stringify(per)}`);
      }
      assert.is(report.module.batches, per[0].batches + per[1].batches);
      assert.is(report.counters.tcp_passive_opens, N + 4);
    });
  });

test("a module that traps on one tap worker: that worker's connections reset and counted, the other worker's keep being served, checks intact, restarted", async () => {
  const opts = `mode=1,rport=${TRIGGER}`;
  const args = [...WORKERS, "--app-module", faulty, "--app-options", opts, "--duration", "90"];
  await withTap(names(), args, async (t) => {
    const c = client(t.ns, [N, TRIGGER, 4]);
    assert.equal(c.first, Array(N).fill(true), "first messages echoed before the fault");
    assert.ok(c.triggered, "the trigger connection ran");
    assert.is(c.triggered!.got, "", "the trapping module echoed nothing");
    assert.ok(c.triggered!.closed, "the trigger connection was reset");
    const survived = c.second.filter(Boolean).length;
    const lost = c.second.length - survived;
    const { code, report } = await t.stop();
    assert.is(code, 0, t.stderr());
    const per = report.per_worker.map(
      (w: { module: { faults: { trap: number }; fault_resets: number; restarts: number } }) => w.module,
    );
    const faulted = per.findIndex((m: { faults: { trap: number } }) => m.faults.trap === 1);
    assert.ok(faulted >= 0, `one worker's module trapped: ${JSON.stringify(per)}`);
    const other = per[1 - faulted];
    assert.is(other.faults.trap, 0, "the other worker's module did not fault");
    assert.is(other.fault_resets, 0);
    // the faulted worker reset its own connections only: the trigger and the held ones it served
    assert.is(per[faulted].fault_resets, 1 + lost, `resets ${JSON.stringify(per)}, lost ${lost}`);
    assert.ok(survived > 0, "the other worker's connections were served after the fault");
    assert.ok(lost > 0, "16 connections over two queues: some were on the faulted worker");
    for (let i = 0; i < N; i++)
      if (!c.second[i]) assert.ok(c.reset[i] !== null, `held connection ${i} lost: reset, not stalled`);
    assert.is(per[faulted].restarts, 1);
    assert.equal(c.fresh, Array(4).fill(true), "new connections served (the restarted module included)");
    assert.is(report.module.faults.trap, 1);
    assert.equal(
      report.module.checks.map((x: { mbuf_pool: number; tcb_table: number; worker: number }) => [
        x.worker,
        x.mbuf_pool,
        x.tcb_table,
      ]),
      [[faulted, 0, 0]],
    );
  });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
