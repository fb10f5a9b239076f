// replay --mode serve with an app module (docs/design/app-modules.md): the echo
// module serves a gen echo capture with the fidelity of one worker on two (every
// flow's server bytes, at the capture server's sequence offsets, in --out), and a
// module that traps on one worker's flow is contained to that worker: its flows are
// reset, the other worker serves exactly what it serves in a healthy run, the core's
// checks pass.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { buildApp } from "../../../host/apps/build.ts";
import { loadAppModule } from "../../../host/apps/module.ts";
import type { ServedModule } from "../../../host/apps/module-host.ts";
import { runGen } from "../../../host/gen/run.ts";
import { replay } from "../../../host/replay/replay.ts";
import { serveWorkers } from "../../../host/replay/serve/workers.ts";
import { ROOT } from "../../helpers/corpus.ts";
import { readAll } from "../../helpers/records.ts";
import { tempDir } from "../../helpers/tmp.ts";

const tmp = tempDir("apps-serve");
const pcap = join(tmp, "echo.pcap");
const CONNS = 16;
const MSGS = 40;
runGen("echo", { out: pcap, conns: CONNS, messages: MSGS, clients: 4, quiet: true });
const echoWasm = join(tmp, "echo.wasm");
const faultyWasm = join(tmp, "faulty.wasm");
await buildApp(join(ROOT, "examples/echo"), { out: echoWasm });
await buildApp(join(ROOT, "examples/faulty"), { out: faultyWasm });
const SERVER_PORT = 7;

function served(path: string, options = ""): ServedModule {
  return { mod: loadAppModule(path, { options }), onFault: "restart", timeoutMs: 250 };
}

/**
 * Each flow's server-to-client TCP payload, placed at its offset from the server's
 * ISN (first transmissions; a retransmission writes the same bytes again), keyed by
 * the client's address and port.
 */
function serverStreams(file: string): Map<string, Buffer> {
  const isn = new Map<string, number>();
  const parts = new Map<string, [number, Buffer][]>();
  for (const r of readAll(file).recs) {
    const d = r.data;
    if (d.readUInt16BE(12) !== 0x0800 || d[23] !== 6) continue;
    const ihl = (d[14] & 15) * 4;
    const t = 14 + ihl;
    if (d.readUInt16BE(t) !== SERVER_PORT) continue;
    const key = `${d[30]}.${d[31]}.${d[32]}.${d[33]}:${d.readUInt16BE(t + 2)}`;
    const seq = d.readUInt32BE(t + 4);
    const flags = d[t + 13];
    if (flags & 0x02) isn.set(key, seq);
    const payload = d.subarray(t + (d[t + 12] >> 4) * 4, 14 + d.readUInt16BE(16));
    if (payload.length === 0) continue;
    if (!parts.has(key)) parts.set(key, []);
    parts.get(key)!.push([seq, Buffer.from(payload)]);
  }
  const out = new Map<string, Buffer>();
  for (const [key, ps] of parts) {
    const base = (isn.get(key) ?? 0) + 1;
    const end = Math.max(...ps.map(([s, p]) => ((s - base) >>> 0) + p.length));
    const b = Buffer.alloc(end);
    for (const [s, p] of ps) p.copy(b, (s - base) >>> 0);
    out.set(key, b);
  }
  return out;
}

const reference = serverStreams(pcap);

test("the capture: 16 echo flows, each with its server's bytes", () => {
  assert.is(reference.size, CONNS);
  for (const b of reference.values()) assert.is(b.length, MSGS * 64);
});

test("the echo module serves the capture with the same fidelity on one worker and on two", async () => {
  const out1 = join(tmp, "one.pcap");
  const out2 = join(tmp, "two.pcap");
  const r1 = replay(pcap, { mode: "serve", module: served(echoWasm), out: out1 });
  const r2 = await serveWorkers(pcap, { mode: "serve", workers: 2, module: served(echoWasm), out: out2 });
  for (const [r, what] of [
    [r1, "one worker"],
    [r2, "two workers"],
  ] as const) {
    assert.is(r.error, null, what);
    assert.ok(r.module && r.module.batches > 0, `${what}: the module ran`);
    assert.is(r.module!.run, "inline");
    assert.is(
      Object.values(r.module!.faults).reduce((a, b) => a + b, 0),
      0,
      `${what}: no fault`,
    );
  }
  assert.is(r2.per_worker.length, 2);
  assert.ok(
    r2.per_worker.every((w) => w.flows_served > 0),
    `both workers served flows: ${JSON.stringify(r2.per_worker)}`,
  );
  assert.is(r2.packets_out, r1.packets_out, "as many packets out");
  assert.is(r2.bytes_out, r1.bytes_out, "as many bytes out");
  assert.is(r2.serve!.delivered, r1.serve!.delivered);
  assert.equal(serverStreams(out1), reference, "one worker: every flow's server bytes, in place");
  assert.equal(serverStreams(out2), reference, "two workers: every flow's server bytes, in place");
});

test("a module that traps on one worker's flow: that worker's flows reset, the other worker serves as in a healthy run, checks intact", async () => {
  // the trigger: the first flow's client port (the flow hash puts it on one of the two workers)
  const [firstKey] = reference.keys();
  const rport = Number(firstKey.split(":")[1]);
  const healthy = await serveWorkers(pcap, { mode: "serve", workers: 2, module: served(faultyWasm) });
  const outF = join(tmp, "faulty.pcap");
  const r = await serveWorkers(pcap, {
    mode: "serve",
    workers: 2,
    module: served(faultyWasm, `mode=1,rport=${rport}`),
    out: outF,
  });
  assert.is(r.error, null);
  const m = r.module!;
  assert.is(m.faults.trap, 1, `one trap: ${JSON.stringify(m)}`);
  assert.is(m.checks.length, 1);
  const faulted = m.checks[0].worker!;
  assert.ok(faulted === 0 || faulted === 1);
  assert.equal([m.checks[0].mbuf_pool, m.checks[0].tcb_table], [0, 0], "the core's checks after the fault");
  assert.ok(m.fault_resets >= 1, "the trapping worker's connections reset");
  assert.is(m.restarts, 1);
  const other = 1 - faulted;
  assert.is(
    r.per_worker[other].packets_out,
    healthy.per_worker[other].packets_out,
    "the other worker's output is the healthy run's",
  );
  assert.is(r.per_worker[other].flows_served, healthy.per_worker[other].flows_served);
  const got = serverStreams(outF);
  const whole = [...reference].filter(([k, b]) => got.get(k)?.equals(b)).length;
  assert.ok(whole >= healthy.per_worker[other].flows_served, `${whole} flows served whole`);
  assert.ok(!got.get(firstKey)?.equals(reference.get(firstKey)!), "the trigger flow was not echoed");
  assert.ok(whole < CONNS, "the faulted worker's flows were cut short");
  assert.ok(
    r.per_worker[faulted].packets_out !== healthy.per_worker[faulted].packets_out,
    "the faulted worker's output differs from its healthy run's",
  );
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
