// `ixwasm pair --server-workers N`: the client core and the dispatcher in this
// thread, N dataplane workers answering. The client app checks every byte of
// every answer in order (a reordered or lost byte is an error), so "completed
// with 0 errors and every byte verified" is the byte-exact check.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { PairOptions } from "../../host/pair/pair.ts";
import type { PairReport } from "../../host/report/pair.ts";
import { pairServerWorkers } from "../../host/pair/workers.ts";
import { ROOT } from "../helpers/corpus.ts";

const base: PairOptions = {
  app: "echo",
  conns: 16,
  msgs: 300,
  size: 64,
  workers: 2,
  faults: {},
  timeoutS: 120,
};

function checkComplete(r: PairReport, conns: number, msgs: number, size: number): void {
  assert.is(r.completed, true, "completed");
  assert.is(r.errors, 0, "no response differed");
  assert.is(r.round_trips, conns * msgs);
  assert.is(r.bytes_verified, conns * msgs * size);
  assert.is(r.traps!.lost_flows, 0);
}

function checkWorkers(r: PairReport, n: number): void {
  assert.is(r.schema, "ixwasm-pair/1");
  assert.is(r.server_workers, n);
  assert.is(r.per_worker!.length, n);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  // Every frame the dispatcher handed out reached one worker, and the merged totals are the workers' sums.
  assert.is(sum(r.per_worker!.map((w) => w.packets)), r.dispatch!.frames);
  assert.is(r.dispatch!.frames, r.counters.server.rx_frames, "dispatched = frames the workers' cores took");
  assert.is(sum(r.per_worker!.map((w) => w.tx_frames)), r.counters.server.tx_frames);
  for (let b = 0; b <= 64; b++)
    assert.is(
      r.batch_histogram.server[b],
      sum(r.per_worker!.map((w) => w.batch_histogram[b])),
      `bucket ${b}`,
    );
  assert.is(r.counters.server.tcp_passive_opens, r.conns, "every connection accepted once");
  for (const w of r.per_worker!) {
    assert.ok(w.packets > 0, `worker ${w.worker} served flows (${w.packets} frames)`);
    assert.ok(w.ring.max_occupancy <= w.ring.slots);
    assert.equal(w.drops, {}, `worker ${w.worker} dropped nothing`);
  }
}

test("echo with 1, 2 and 4 server workers: every round trip verified byte-exact", async () => {
  for (const n of [1, 2, 4]) {
    const r = await pairServerWorkers({ ...base, serverWorkers: n });
    checkComplete(r, 16, 300, 64);
    checkWorkers(r, n);
    assert.is(r.control, null, "no control plane unless asked");
  }
});

test("forced migration in the middle of 100 connections: every byte back, in order", async () => {
  const conns = 100;
  const msgs = 150;
  const size = 1500; // two segments each way: order within a message matters too
  const r = await pairServerWorkers({ ...base, conns, msgs, size, serverWorkers: 2, migrateAt: 2000 });
  checkComplete(r, conns, msgs, size);
  checkWorkers(r, 2);
  const c = r.control!;
  assert.is(c.migrate_at, 2000);
  assert.is(c.migrations, 128, "every flow group moved once");
  assert.is(c.refused, 0);
  assert.is(c.flows_lost, 0);
  // The move starts after 2,000 of 15,000 round trips, busiest groups first, and the main thread drives both
  // the moves and the client: connections still had most of their messages to go when their group moved.
  assert.ok(c.flows_moved > conns / 2, `connections moved: ${c.flows_moved}`);
  assert.ok(c.bytes_moved > c.flows_moved * 256, "each moved connection carried at least its TCB");
  assert.is(r.per_worker![0].migrations.out + r.per_worker![1].migrations.out, 128);
  assert.is(r.per_worker![0].migrations.out, r.per_worker![1].migrations.in);
  assert.is(r.counters.server.tcp_rst_sent ?? 0, 0, "no connection was reset");
});

test("--rebalance on: completes and reports the control plane", async () => {
  const r = await pairServerWorkers({ ...base, msgs: 1000, serverWorkers: 3, rebalance: true });
  checkComplete(r, 16, 1000, 64);
  checkWorkers(r, 3);
  const c = r.control!;
  assert.is(c.rebalance, true);
  assert.is(c.migrate_at, null);
  assert.is(c.flows_lost, 0);
  assert.equal(c.errors, []);
  assert.is(
    r.per_worker!.reduce((a, w) => a + w.migrations.out, 0),
    c.migrations,
    "per-worker moves add up to the migrations",
  );
  assert.ok(c.pause_us.max >= c.pause_us.mean && c.pause_us.mean >= 0);
});

function cli(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "host/cli.ts"), "pair", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
}

const TRAP = [
  "--server-workers",
  "2",
  "--conns",
  "16",
  "--msgs",
  "1000",
  "--trap-worker",
  "1",
  "--trap-at",
  "2000",
];

test("a trap in one worker with --on-trap restart: the run finishes, lost flows counted, exit 0", () => {
  const p = cli([...TRAP, "--on-trap", "restart", "--json"]);
  assert.is(p.status, 0, p.stderr);
  const r = JSON.parse(p.stdout) as PairReport;
  const t = r.traps!;
  assert.is(t.on_trap, "restart");
  assert.is(t.events.length, 1);
  assert.is(t.events[0].worker, 1);
  assert.match(t.events[0].message, /unreachable/);
  assert.is(t.restarts, 1);
  assert.is(r.per_worker![1].restarts, 1);
  // Worker 1's connections were reset by its fresh core; worker 0's all finished.
  assert.ok(t.lost_flows > 0 && t.lost_flows < 16, `lost ${t.lost_flows} of 16`);
  assert.is(t.lost_connections.length, t.lost_flows);
  assert.is(
    r.round_trips + t.round_trips_lost,
    16 * 1000,
    "every round trip was made or belongs to a lost flow",
  );
  assert.is(r.errors_excluding_lost, 0, "no answer differed");
  assert.is(r.errors, t.lost_flows, "the client counts each lost connection once");
  assert.ok(r.round_trips >= 2000);
  assert.ok(r.bytes_verified === r.round_trips * 64);
});

test("a trap while groups move and the rebalancer runs: restarted, the rest byte-exact", async () => {
  const conns = 32;
  const msgs = 1000;
  const r = await pairServerWorkers({
    ...base,
    conns,
    msgs,
    serverWorkers: 3,
    rebalance: true,
    migrateAt: 3000,
    onTrap: "restart",
    trapWorker: 1,
    trapAt: 3100, // while the 128 forced moves are under way
  });
  const t = r.traps!;
  assert.is(t.restarts, 1);
  assert.ok(t.lost_flows > 0 && t.lost_flows < conns, `lost ${t.lost_flows} of ${conns}`);
  assert.is(r.round_trips + t.round_trips_lost, conns * msgs);
  assert.is(r.errors_excluding_lost, 0, "no answer differed");
  assert.is(r.bytes_verified, r.round_trips * 64);
  assert.is(r.control!.migrations + r.control!.refused + r.control!.errors.length > 0, true);
});

test("a trap with the default --on-trap abort: exit 1 and one clear line", () => {
  const p = cli(TRAP);
  assert.is(p.status, 1);
  assert.is(p.stdout, "");
  assert.match(p.stderr, /^ixwasm: server worker 1 trapped \([^\n]*unreachable[^\n]*\)[^\n]*\n$/);
});

test("CLI: the worker options need --server-workers, and --workers does not combine with it", () => {
  const a = cli(["--rebalance", "on", "--conns", "1", "--msgs", "1"]);
  assert.is.not(a.status, 0);
  assert.match(a.stderr, /--rebalance needs --server-workers/);
  const b = cli(["--workers", "1", "--server-workers", "2", "--conns", "1", "--msgs", "1"]);
  assert.is.not(b.status, 0);
  assert.match(b.stderr, /cannot be combined/);
  const c = cli(["--server-workers", "1", "--migrate-at", "10", "--conns", "1", "--msgs", "1"]);
  assert.is.not(c.status, 0);
  assert.match(c.stderr, /at least 2 server workers/);
});

test.run();
