// `ixwasm pair`: real client and server cores, every byte verified by the client app.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pairConfigs, pairOneThread, pairTwoThreads, type PairOptions } from "../../host/pair/pair.ts";
import { createCore } from "../../host/core/core.ts";
import { Link } from "../../host/runtime/link.ts";
import { ROOT } from "../helpers/corpus.ts";

const base: PairOptions = {
  app: "echo",
  conns: 8,
  msgs: 200,
  size: 64,
  workers: 1,
  faults: {},
  timeoutS: 60,
};

test("echo, one thread: every round trip done and verified", () => {
  const r = pairOneThread(base);
  assert.is(r.completed, true);
  assert.is(r.round_trips, 8 * 200);
  assert.is(r.bytes_verified, 8 * 200 * 64);
  assert.is(r.errors, 0);
  // No retransmission count here: on the real clock a stall of the process longer
  // than the minimum RTO (the shared 2-vCPU VM under load) lets the client's timer
  // fire before the server polled, which is right. The clean-link check runs on the
  // virtual clock below, where only the stack decides.
  assert.ok(
    r.latency_us.p50 > 0 && r.latency_us.p50 <= r.latency_us.p99 && r.latency_us.p99 <= r.latency_us.max,
  );
  assert.ok(r.round_trips_per_s > 0);
  const polls = r.batch_histogram.server.reduce((a, b) => a + b, 0);
  assert.ok(polls > 0 && r.batch_histogram.server.length === 65, "batch histogram 0..64");
  // The client's SYNs wait for ARP at first: a segment held for the neighbour is
  // not counted as sent, so segments out never exceed the frames transmitted.
  const c = r.counters.client;
  assert.ok((c.neigh_miss ?? 0) > 0, "the client had to resolve the server");
  assert.ok(c.tcp_segs_out! <= c.tx_frames!, `segments out ${c.tcp_segs_out} ≤ frames ${c.tx_frames}`);
});

test("echo, one thread, virtual clock: no retransmission on a clean link", () => {
  const r = pairOneThread({ ...base, clock: "virtual" });
  assert.is(r.completed, true);
  assert.is(r.round_trips, 8 * 200);
  assert.is(r.retransmits, 0);
});

test("echo, two worker threads: same result", async () => {
  const r = await pairTwoThreads({ ...base, workers: 2, conns: 16, msgs: 300 });
  assert.is(r.completed, true);
  assert.is(r.round_trips, 16 * 300);
  assert.is(r.bytes_verified, 16 * 300 * 64);
  assert.is(r.errors, 0);
  assert.is(r.workers, 2);
});

function checkStages(r: Awaited<ReturnType<typeof pairTwoThreads>>): void {
  assert.ok(r.stages, "--stages gives the stage cost");
  for (const side of ["client", "server"] as const) {
    const s = r.stages![side];
    const hist = r.batch_histogram[side];
    const polls = hist.reduce((a, b) => a + b, 0);
    const withFrames = polls - hist[0];
    // One iteration in LOOP_SAMPLE timed by the host, at random: the polls that took
    // frames are estimated from those (binomial: within 60 % at these sizes), the rest are empty.
    assert.ok(Math.abs(s.polls + s.idle_polls - polls) <= 1, `${side}: busy + empty = polls`);
    // Two threads: a host-timed round's first reads delay its poll, and a spinning worker's
    // later poll finds frames more often (1.7× seen at load 20): only the one-thread count is held.
    assert.ok(
      withFrames > 0 &&
        s.polls > 0 &&
        (r.workers === 2 || Math.abs(s.polls - withFrames) <= 0.6 * withFrames),
      `${side}: ${s.polls} polls with frames, estimated; ${withFrames} counted`,
    );
    assert.ok(s.timed_polls > 0 && s.clock_read_ns > 0);
    assert.is(s.unit, "round trip");
    assert.is(s.units, r.round_trips);
    const vals = Object.values(s.ns_per_unit);
    assert.is(vals.length, 6);
    assert.ok(vals.every((v) => v >= 0));
    assert.ok(
      s.ns_per_unit["rx+input"] > 0 && s.total_ns_per_unit > 0,
      `${side}, ${r.workers} thread(s): rx+input ${s.ns_per_unit["rx+input"]} ns, total ${s.total_ns_per_unit} ns, ${s.timed_polls} timed polls (${s.dropped_polls} dropped), ${s.polls} with frames`,
    );
    const sum = vals.reduce((a, b) => a + b, 0);
    assert.ok(
      Math.abs(sum + s.idle_ns_per_unit + s.residual_ns_per_unit - s.total_ns_per_unit) <
        0.01 * s.total_ns_per_unit + 0.1,
      "stages + empty polls + residual = total",
    );
  }
}

test("--stages: poll()'s sections timed in both cores, one thread and two", async () => {
  assert.is(pairOneThread(base).stages, null);
  // Enough round trips that the sampled iterations (one in 64, at random) hold polls with frames,
  // and that the first, slow iterations (over LONG_ITER_MS, left out of the samples) are few: at
  // 2,000 a connection a slow start on some machines put the estimate 63-100 % off, 3 runs in 8.
  checkStages(pairOneThread({ ...base, msgs: 20000, stages: true }));
  checkStages(await pairTwoThreads({ ...base, msgs: 20000, workers: 2, stages: true }));
});

test("SYNs that waited for ARP leave as soon as the answer is learned (not at the 20 ms retry)", () => {
  // A manual clock in 100 µs steps: deterministic, whatever the machine's load.
  const cfg = pairConfigs({ ...base, conns: 8, msgs: 50 });
  const client = createCore(cfg.client);
  const server = createCore(cfg.server);
  const link = new Link(client, server);
  const cpoll = client.exports.poll as (n: number) => number;
  const spoll = server.exports.poll as (n: number) => number;
  const roundTrips = () => Number((client.exports.clientRoundTrips as () => bigint | number)());
  let firstAtUs = -1;
  for (let us = 0; us <= 15_000 && firstAtUs < 0; us += 100) {
    cpoll(us * 1000);
    spoll(us * 1000);
    link.pump(us * 1000);
    if (roundTrips() > 0) firstAtUs = us;
  }
  assert.ok(
    firstAtUs >= 0 && firstAtUs <= 2_000,
    `first round trip at ${firstAtUs} µs (the retry is at 20 ms)`,
  );
});

test("memcached set then get: values compared", () => {
  const r = pairOneThread({ ...base, app: "memcached", conns: 4, msgs: 100, size: 300 });
  assert.is(r.completed, true);
  assert.is(r.round_trips, 4 * 100 * 2);
  assert.is(r.errors, 0);
  assert.ok(r.bytes_verified >= 4 * 100 * 300, `verified ${r.bytes_verified} bytes`);
});

test("lossy link (5 % loss, 5 % reorder, 1 % duplication): still byte-exact, with retransmissions", () => {
  const r = pairOneThread({
    ...base,
    conns: 4,
    msgs: 60,
    size: 1000,
    faults: { loss: 0.05, reorder: 0.05, dup: 0.01, seed: 7 },
  });
  assert.is(r.completed, true);
  assert.is(r.errors, 0);
  assert.is(r.bytes_verified, 4 * 60 * 1000);
  assert.ok(r.faults.client_to_server.lost + r.faults.server_to_client.lost > 0, "frames were lost");
  assert.ok(r.retransmits > 0, "and retransmitted");
});

test("rate limit: 100 kB each way through a 2 Mbit/s bucket takes at least 0.35 s and stays byte-exact", () => {
  const r = pairOneThread({ ...base, conns: 2, msgs: 50, size: 1000, faults: { rateBps: 2e6 / 8, seed: 3 } });
  assert.is(r.completed, true);
  assert.is(r.errors, 0);
  assert.is(r.bytes_verified, 100_000);
  // 100 kB plus headers in each direction at 250 kB/s, less the bucket's initial burst allowance.
  assert.ok(r.duration_s >= 0.35, `took ${r.duration_s} s`);
});

test("CLI: --json fields, and a non-zero exit when the run cannot complete", () => {
  const cli = join(ROOT, "dist/host/cli.js");
  const ok = spawnSync(
    process.execPath,
    [cli, "pair", "--workers", "1", "--conns", "2", "--msgs", "50", "--json"],
    { encoding: "utf8" },
  );
  assert.is(ok.status, 0, ok.stderr);
  const j = JSON.parse(ok.stdout);
  for (const k of ["round_trips", "round_trips_per_s", "bytes_verified", "errors", "retransmits"])
    assert.type(j[k], "number", k);
  for (const k of ["p50", "p99", "p999"]) assert.type(j.latency_us[k], "number", k);
  assert.is(j.round_trips, 100);
  const bad = spawnSync(
    process.execPath,
    [cli, "pair", "--workers", "1", "--conns", "2", "--msgs", "100000", "--timeout", "0"],
    { encoding: "utf8" },
  );
  assert.is(bad.status, 1);
  assert.match(
    bad.stderr,
    /^ixwasm: ran out of time: only \d+ of 200000 round trips completed within 0 s\n$/,
  );
});

test.run();
