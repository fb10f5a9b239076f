// Containment of faulty app modules (docs/design/app-modules.md): a module that
// traps, one that loops forever, one that allocates without bound, and three that
// answer with garbage (unknown opcodes, handles never given out, bytes past the
// outbox). Each runs as the server of a core; a first client (198.18.0.1) makes it
// misbehave; its connections must be reset and counted, the core's mbuf pool and
// TCB table must check intact, and then (restart) a second client (198.18.0.3) is
// served in full by the restarted module on the same core, or (abort) is refused
// while the module stays down. Each case runs twice: the module metered in the
// serving thread (the default) and in a worker thread of its own (--app-thread).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { buildApp } from "../../host/apps/build.ts";
import { loadAppModule } from "../../host/apps/module.ts";
import { ModuleHost, type OnAppFault } from "../../host/apps/module-host.ts";
import { pairConfigs } from "../../host/pair/pair.ts";
import { createCore, type Core } from "../../host/core/core.ts";
import { Link } from "../../host/runtime/link.ts";
import { clientResults, type ClientResults } from "../../host/runtime/client-results.ts";
import { ROOT } from "../helpers/corpus.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir("faulty");
const wasm = join(dir, "faulty.wasm");
await buildApp(join(ROOT, "examples/faulty"), { out: wasm });

const CONNS = 4;
const MSGS = 50;
const TIMEOUT_MS = 250;
const t0 = performance.now();

interface Server {
  core: Core;
  mh: ModuleHost;
  clientCfg: ReturnType<typeof pairConfigs>["client"];
}

type Run = "inline" | "thread";

function server(run: Run, mode: number, onFault: OnAppFault, memoryBytes = 64 << 20): Server {
  const mod = loadAppModule(wasm, { options: `mode=${mode},octet=1,conns=64`, memoryBytes });
  assert.ok(mod.metered, "the module is metered");
  const thread = run === "thread";
  const cfg = pairConfigs({
    app: "echo",
    conns: CONNS,
    msgs: MSGS,
    size: 64,
    workers: 1,
    faults: {},
    timeoutS: 20,
    module: { mod, onFault, timeoutMs: TIMEOUT_MS, thread },
  });
  const core = createCore(cfg.server);
  const mh = new ModuleHost(core, mod, { onFault, timeoutMs: TIMEOUT_MS, thread });
  mh.start();
  assert.is(mh.report.run, run);
  return { core, mh, clientCfg: cfg.client };
}

/** One client core (address 198.18.0.<last>) against the server, until it is done or 10 s pass. */
function wave(s: Server, last: number): ClientResults {
  const client = createCore({
    ...s.clientCfg,
    ipv4: Buffer.from([198, 18, 0, last]).readUInt32LE(0),
    macLo: Buffer.from([2, 0, 0, 0, 0, last]).readUInt32LE(0),
  });
  const link = new Link(client, s.core);
  const end = performance.now() + 10_000;
  for (let i = 0; ; i++) {
    const now = (performance.now() - t0) * 1e6;
    client.exports.poll(now);
    s.core.exports.poll(now);
    s.mh.service();
    link.pump(now);
    if ((i & 63) === 0 && (client.exports.clientDone() || performance.now() > end)) break;
  }
  return clientResults(client);
}

function intact(s: Server): void {
  assert.is(s.core.exports.mbufPoolCheck() >>> 0, 0, "mbuf pool");
  assert.is(s.core.exports.tcbTableCheck() >>> 0, 0, "TCB table");
}

const CASES: [name: string, mode: number, fault: "trap" | "timeout" | "memory" | "garbage"][] = [
  ["traps", 1, "trap"],
  ["loops forever", 2, "timeout"],
  ["allocates without bound", 3, "memory"],
  ["answers with unknown opcodes", 4, "garbage"],
  ["answers with handles it was never given", 5, "garbage"],
  ["answers with lengths past its outbox", 6, "garbage"],
];

for (const run of ["inline", "thread"] as const)
  for (const [name, mode, fault] of CASES)
    test(`${run}: a module that ${name}: its connections reset and counted, the core intact, the restarted module serves`, () => {
      const s = server(run, mode, "restart", 32 << 20);
      const bad = wave(s, 1);
      assert.ok(bad.round_trips < CONNS * MSGS, "the faulty module cannot have served everything");
      assert.ok(
        bad.conns_reset + bad.connects_failed > 0,
        `the client saw its connections reset: ${JSON.stringify(bad)}`,
      );
      const r1 = s.mh.snapshot();
      assert.is(r1.faults[fault], 1, `one ${fault} fault: ${JSON.stringify(r1.faults)}`);
      assert.ok(r1.fault_resets >= 1, "resets counted");
      assert.is(r1.checks.length, 1);
      assert.is(r1.checks[0].mbuf_pool, 0);
      assert.is(r1.checks[0].tcb_table, 0);
      if (fault === "timeout") {
        // the watchdog's bound: never before the timeout; after it, within a round of the
        // loop that polls (generous here: two shared vCPUs can stall a thread that long)
        const ms = r1.checks[0].stalled_ms;
        // (>=: the watchdog fires past the timeout, and the report rounds to 0.1 ms: 250.04 reads 250)
        assert.ok(ms >= TIMEOUT_MS && ms < TIMEOUT_MS + 200, `stalled ${ms} ms`);
      }
      if (fault === "garbage") assert.ok(r1.garbage_commands > 64, `refused ${r1.garbage_commands}`);
      assert.is(r1.restarts, 1);
      const good = wave(s, 3);
      assert.is(
        good.round_trips,
        CONNS * MSGS,
        `the restarted module serves the next client in full: ${JSON.stringify(s.mh.snapshot())}`,
      );
      assert.is(good.errors, 0);
      const r2 = s.mh.close();
      assert.is(r2.down, null);
      intact(s);
    });

for (const run of ["inline", "thread"] as const)
  test(`${run}: --on-app-fault abort: the module stays down, the next client is refused, the core intact`, () => {
    const s = server(run, 1, "abort");
    wave(s, 1);
    const good = wave(s, 3);
    assert.is(good.round_trips, 0);
    assert.is(good.connects_failed + good.conns_reset, CONNS, "refused (RST)");
    const r = s.mh.close();
    assert.match(r.down ?? "", /trap/);
    assert.is(r.restarts, 0);
    assert.ok(r.rejected >= CONNS);
    intact(s);
  });

for (const run of ["inline", "thread"] as const)
  test(`${run}: a healthy module: every round trip, no fault, the core intact`, () => {
    const s = server(run, 0, "abort");
    const r = wave(s, 1);
    assert.is(r.round_trips, CONNS * MSGS);
    assert.is(r.bytes_verified, CONNS * MSGS * 64);
    assert.is(r.errors, 0);
    const m = s.mh.close();
    assert.is(
      Object.values(m.faults).reduce((a, b) => a + b, 0),
      0,
    );
    assert.is(m.garbage_commands, 0);
    intact(s);
  });

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
