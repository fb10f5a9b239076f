// replay --mode raw|track --workers N on worker threads (host/replay/workers.ts):
// the merged counts equal the one-thread run's for 1, 2 and 4 workers, the
// per-worker split equals the RETA split the one-thread run computes, every
// frame is accounted for per worker, and rings that wrap and fill lose nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { CORPUS, HAVE_CORPUS, ROOT, corpusNote, ownTraces } from "../helpers/corpus.ts";
import { replay } from "../../host/replay/replay.ts";
import { replayWorkers, type WorkersReport } from "../../host/replay/workers.ts";
import { unaccounted, type ReplayReport } from "../../host/report/replay.ts";

// A few corpus captures: many flows (synscan), frames over 2 kB (sll2-64k),
// several link types (many_interfaces-1), fragments (ip-frag), IPv6 streams,
// and one that ends in a corrupt record (smtp-to-comma).
const CORPUS_FILES = [
  "example2.pcap",
  "synscan.pcap",
  "sll2-64k.pcap",
  "many_interfaces-1.pcapng",
  "ip-frag.pcap",
  "four_ipv6_http_streams.pcap",
  "smtp-to-comma.pcap",
];

corpusNote();
// Worker threads start in about a second each here (tsx in every worker): own
// captures run with 2 and 4 workers, corpus captures with 2 (4 for the first two).
const RUNS: [string, number[]][] = [
  ...ownTraces().map((f): [string, number[]] => [f, [2, 4]]),
  ...(HAVE_CORPUS
    ? CORPUS_FILES.map((f, i): [string, number[]] => [join(CORPUS, f), i < 2 ? [2, 4] : [2]])
    : []),
];

/** What must not depend on the number of worker threads. */
function counts(r: ReplayReport) {
  return {
    packets_in: r.packets_in,
    bytes_in: r.bytes_in,
    packets_processed: r.packets_processed,
    packets_out: r.packets_out,
    bytes_out: r.bytes_out,
    flows: r.flows,
    drops: r.drops,
    tcp: r.tcp,
    error: r.error,
  };
}

/** The accounting identities of a threaded run. */
function checkAccounting(r: WorkersReport, what: string): void {
  assert.is(unaccounted(r), 0, `${what}: unaccounted`);
  assert.is(r.per_worker.length, r.workers, what);
  let packets = 0;
  for (const w of r.per_worker) {
    const dropped = Object.values(w.drops).reduce((a, b) => a + b, 0);
    assert.is(w.dispatched, w.packets, `${what}: worker ${w.worker} took what it was given`);
    assert.is(w.processed + dropped, w.packets, `${what}: worker ${w.worker} processed + dropped`);
    assert.is(
      w.processed,
      r.worker_packets[w.worker],
      `${what}: worker ${w.worker} processed its own flows only`,
    );
    const calls = Object.values(w.batch_histogram).reduce((a, b) => a + b, 0);
    assert.ok(w.packets === 0 || calls > 0, what);
    assert.ok(w.ring.max_occupancy <= w.ring.slots, what);
    packets += w.packets;
  }
  assert.is(packets, r.packets_in, `${what}: per-worker packets sum to the input`);
}

for (const mode of ["raw", "track"] as const) {
  test(`${mode}: 2 and 4 worker threads give the one-thread counts and its RETA split (${RUNS.length} captures)`, async () => {
    for (const [f, sizes] of RUNS) {
      const one = replay(f, { mode, workers: 1 });
      for (const workers of sizes) {
        const split = replay(f, { mode, workers }); // one thread, the RETA's split computed
        const r = await replayWorkers(f, { mode, workers });
        const what = `${mode} ${f} ${workers} workers`;
        assert.equal(counts(r), counts(one), what);
        assert.equal(r.worker_packets, split.worker_packets, what);
        assert.is(r.workers, workers);
        checkAccounting(r, what);
      }
    }
  });
}

test("--loop 3: the dispatcher's port rewrite gives the same flows and split as one thread", async () => {
  for (const f of ["http-kernel.pcap", "udp-echo-v6.pcapng"].map((n) => join(ROOT, "traces", n))) {
    for (const mode of ["raw", "track"] as const) {
      const split = replay(f, { mode, workers: 2, loop: 3 });
      const r = await replayWorkers(f, { mode, workers: 2, loop: 3 });
      assert.equal(counts(r), counts(split), `${mode} ${f}`);
      assert.equal(r.worker_packets, split.worker_packets, `${mode} ${f}`);
      assert.is(r.loops, 3);
    }
  }
});

test("tiny rings: wrap-around and full-ring back-pressure lose nothing (waits counted)", async () => {
  const f = join(ROOT, "traces/nc-echo.pcap");
  for (const mode of ["raw", "track"] as const) {
    const one = replay(f, { mode, workers: 2, loop: 4 });
    // 16 descriptor slots and 4 kB outboxes (two of nc-echo's 1514-byte frames,
    // or about forty small ones): a gather call fills an outbox long before
    // the end of a batch, so the dispatcher must wait for room many times
    // over, and positions wrap.
    const r = await replayWorkers(f, { mode, workers: 2, loop: 4, ringSlots: 16, stagingBytes: 4096 });
    assert.equal(counts(r), counts(one), mode);
    assert.equal(r.worker_packets, one.worker_packets, mode);
    checkAccounting(r, mode);
    const busiest = r.per_worker.reduce((a, b) => (b.packets > a.packets ? b : a));
    assert.ok(
      busiest.packets > 16 * 10,
      `the ring wrapped many times (${busiest.packets} frames through 16 slots)`,
    );
    assert.ok(busiest.ring.dispatcher_waits > 0, "the dispatcher waited for a full ring");
    assert.is(
      r.dispatch.ring_waits,
      r.per_worker.reduce((a, w) => a + w.ring.dispatcher_waits, 0),
    );
    for (const w of r.per_worker) assert.ok(w.ring.max_occupancy <= 16);
  }
});

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "host/cli.ts"), "replay", ...args], {
    encoding: "utf8",
    cwd: ROOT,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("CLI: --workers 2 --report json has workers, per_worker and the dispatcher's costs; serve lists its workers", () => {
  const f = join(ROOT, "traces/memcached-ascii.pcap");
  const r = cli(f, "--mode", "track", "--workers", "2", "--report", "json");
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out) as WorkersReport;
  assert.is(j.workers, 2);
  assert.is(j.per_worker.length, 2);
  assert.is(
    j.per_worker.reduce((a, w) => a + w.packets, 0),
    j.packets_in,
  );
  assert.equal(counts(j), counts(replay(f, { mode: "track" })));
  assert.ok(j.dispatch.gather_ns > 0);
  for (const w of j.per_worker)
    assert.ok(w.packets === 0 || w.copy_ns_per_packet > 0, `worker ${w.worker} copied`);
  const t = cli(f, "--mode", "raw", "--workers", "2");
  assert.is(t.code, 0, t.err);
  assert.match(t.out, /worker 1 /);
  assert.match(t.out, /dispatcher +read/);
  const s = cli(f, "--mode", "serve", "--workers", "2"); // serve has its own workers (test/replay/serve/workers.test.ts)
  assert.is(s.code, 0, s.err);
  assert.match(s.out, /worker 1 +\d+ packets, \d+ sent/);
  const p = cli(f, "--mode", "raw", "--workers", "2", "--speed", "x100"); // paced: test/replay/workers-out-paced.test.ts
  assert.is(p.code, 0, p.err);
  assert.match(p.out, /speed x100/);
  assert.match(p.out, /pacing +lateness p50/);
});

test.run();
