// replay --workers N with --out and at paced speeds (raw and track:
// host/replay/workers.ts; serve: host/replay/serve/workers.ts).
// Top speed: the dispatcher writes in input order, so the file is byte for byte
// the one-thread file. Paced: every packet is processed, each flow's frames
// keep their input order, and no frame leaves before its slot on the one
// schedule the workers share (origin + (t − t0) / speed, or origin + i / rate).
// No rates are checked (shared machine).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { CORPUS, HAVE_CORPUS, ROOT, corpusNote, ownTraces } from "../helpers/corpus.ts";
import { readAll, type Rec } from "../helpers/records.ts";
import { parseSpeed, type Speed } from "../../host/replay/pacing.ts";
import { replay } from "../../host/replay/replay.ts";
import { replayWorkers, type WorkersReport } from "../../host/replay/workers.ts";
import { serveWorkers } from "../../host/replay/serve/workers.ts";
import { unaccounted, type ReplayReport } from "../../host/report/replay.ts";
import { tempDir } from "../helpers/tmp.ts";

corpusNote();
const tmp = tempDir("workers-out");
const own = (name: string) => join(ROOT, "traces", name);
// Link types, frames over 2 kB, fragments, a corrupt end.
const CORPUS_FILES = [
  "example2.pcap",
  "sll2-64k.pcap",
  "many_interfaces-1.pcapng",
  "ip-frag.pcap",
  "smtp-to-comma.pcap",
];
const OUT_FILES = [...ownTraces(), ...(HAVE_CORPUS ? CORPUS_FILES.map((f) => join(CORPUS, f)) : [])];
const extOf = (f: string) => (f.endsWith(".pcapng") ? ".pcapng" : ".pcap");

function counts(r: ReplayReport) {
  return {
    packets_in: r.packets_in,
    bytes_in: r.bytes_in,
    packets_processed: r.packets_processed,
    packets_out: r.packets_out,
    flows: r.flows,
    drops: r.drops,
    error: r.error,
  };
}

test("top speed --out with 2 workers: byte for byte the one-thread file (raw, track, --out-merged, --loop 2)", async () => {
  let forwarded = 0;
  const runs: [string, "raw" | "track", boolean, number][] = [];
  for (const f of OUT_FILES) {
    runs.push([f, "raw", false, 1], [f, "track", true, 1]);
    if (f.startsWith(join(ROOT, "traces"))) runs.push([f, "raw", true, 1], [f, "track", false, 1]);
  }
  runs.push([own("http-kernel.pcap"), "raw", true, 2]);
  for (const [f, mode, merged, loop] of runs) {
    const what = `${mode}${merged ? " merged" : ""} ×${loop} ${f}`;
    const a = join(tmp, `one${extOf(f)}`);
    const b = join(tmp, `two${extOf(f)}`);
    const one = replay(f, { mode, out: a, outMerged: merged, loop });
    const two = await replayWorkers(f, { mode, workers: 2, out: b, outMerged: merged, loop });
    assert.equal(counts(two), counts(one), what);
    assert.equal(two.out, { file: b, records: one.out!.records }, what);
    assert.ok(readFileSync(b).equals(readFileSync(a)), `${what}: the same bytes`);
    if (mode === "raw" && !merged) {
      assert.is(two.out!.records, one.packets_processed, `${what}: raw forwards what it processed`);
      forwarded += two.out!.records;
    }
    if (mode === "track" && !merged) assert.is(two.out!.records, 0, `${what}: track sends nothing`);
  }
  assert.ok(forwarded > 500, `frames forwarded: ${forwarded}`);
});

/** Symmetric 5-tuple of an Ethernet IPv4 TCP/UDP frame (the own captures used below hold nothing else). */
function flowOf(d: Buffer): string {
  assert.is(d.readUInt16BE(12), 0x0800, "an IPv4 frame");
  const l4 = 14 + (d[14] & 15) * 4;
  const a = `${d.subarray(26, 30).toString("hex")}:${d.readUInt16BE(l4)}`;
  const b = `${d.subarray(30, 34).toString("hex")}:${d.readUInt16BE(l4 + 2)}`;
  return `${d[23]} ${a < b ? `${a} ${b}` : `${b} ${a}`}`;
}

/** Due time (s since the epoch) of input record i on the shared schedule. */
function dueOf(speed: Speed, origin: number, recs: Rec[], i: number): number {
  const t = (r: Rec) => r.sec + r.nsec / 1e9;
  if (speed.kind === "multiplier") return origin + (t(recs[i]) - t(recs[0])) / speed.factor;
  if (speed.kind === "pps") return origin + i / speed.rate;
  throw new Error(`no schedule for ${speed.kind} here`);
}

/**
 * Maps each output record to its input record (same bytes, k-th occurrence) and
 * checks: the file is in time order, each flow's frames are in input order, and
 * no frame is stamped before its due time (1 µs for the float's rounding).
 */
function checkPaced(input: string, output: string, speed: Speed, origin: number, what: string): number {
  const recs = readAll(input).recs;
  const byBytes = new Map<string, number[]>();
  recs.forEach((r, i) => {
    const k = r.data.toString("hex");
    byBytes.set(k, [...(byBytes.get(k) ?? []), i]);
  });
  const lastOf = new Map<string, { i: number; t: number }>();
  let prevT = -Infinity;
  let n = 0;
  for (const r of readAll(output).recs) {
    const t = r.sec + r.nsec / 1e9;
    assert.ok(t >= prevT, `${what}: the merged file is in time order`);
    prevT = t;
    const q = byBytes.get(r.data.toString("hex"));
    assert.ok(q && q.length > 0, `${what}: output record ${n} is an input frame`);
    const i = q!.shift()!;
    const due = dueOf(speed, origin, recs, i);
    assert.ok(t >= due - 1e-6, `${what}: record ${i} stamped ${t}, due ${due}`);
    const flow = flowOf(r.data);
    const last = lastOf.get(flow);
    if (last) {
      assert.ok(i > last.i, `${what}: flow ${flow} in input order (${last.i} then ${i})`);
      assert.ok(t >= last.t, `${what}: flow ${flow} times non-decreasing`);
    }
    lastOf.set(flow, { i, t });
    n++;
  }
  assert.ok(lastOf.size > 1, `${what}: several flows`);
  return n;
}

test("paced raw and track with 2 workers: every packet processed, flows in order, nothing before its slot", async () => {
  const runs: [string, string][] = [
    [own("http-kernel.pcap"), "x10"],
    [own("memcached-ascii.pcap"), "pps:2000"],
  ];
  for (const [f, s] of runs)
    for (const mode of ["raw", "track"] as const) {
      const what = `${mode} ${s} ${f}`;
      const speed = parseSpeed(s);
      const b = join(tmp, "paced.pcapng");
      const one = replay(f, { mode });
      // track sends nothing: --out-merged then holds the input, stamped when it was processed.
      const r: WorkersReport = await replayWorkers(f, {
        mode,
        workers: 2,
        speed,
        out: b,
        outMerged: mode === "track",
      });
      assert.equal(counts(r), counts(one), what);
      assert.is(unaccounted(r), 0, what);
      assert.is(r.speed, s);
      assert.ok(
        r.per_worker.every((w) => w.packets > 0),
        `${what}: both workers had flows`,
      );
      assert.ok(r.pacing !== null && r.latency_us !== null, `${what}: pacing reported`);
      for (const v of [r.pacing!.lateness_us.p50, r.pacing!.lateness_us.p99, r.pacing!.gap_error_us.p99])
        assert.ok(Number.isFinite(v), what);
      assert.ok(r.pacing!.lateness_us.p99 >= r.pacing!.lateness_us.p50, what);
      assert.ok(r.pacing!.achieved_pps > 0, what);
      assert.type(r.schedule_origin_s, "number");
      const n = checkPaced(f, b, speed, r.schedule_origin_s!, what);
      assert.is(n, mode === "raw" ? one.packets_processed : one.packets_in, `${what}: records written`);
      assert.is(r.out!.records, n, what);
    }
});

test("paced serve (x10) with 2 workers: same counts and fidelity as one thread, no flow answered before its client's slot", async () => {
  let split = 0;
  for (const f of [own("http-kernel.pcap"), own("memcached-ascii.pcap")]) {
    const b = join(tmp, "serve-paced.pcapng");
    const one = replay(f, { mode: "serve" });
    const r = await serveWorkers(f, { mode: "serve", workers: 2, speed: parseSpeed("x10"), out: b });
    const what = `serve x10 ${f}`;
    assert.equal(counts(r), { ...counts(one), packets_out: r.packets_out }, what);
    assert.is(unaccounted(r), 0, what);
    assert.equal(
      [r.fidelity!.segments_compared, r.fidelity!.segments_matching],
      [one.fidelity!.segments_compared, one.fidelity!.segments_matching],
      what,
    );
    assert.is(r.speed, "x10");
    assert.ok(r.pacing !== null && Number.isFinite(r.pacing.lateness_us.p99), what);
    if (r.per_worker.every((w) => w.packets > 0)) split++;
    // Each flow's first client packet (its SYN, the capture's first record of the flow) and its due time.
    const recs = readAll(f).recs;
    const t0 = recs[0].sec + recs[0].nsec / 1e9;
    const syn = new Map<string, number>();
    for (const x of recs) {
      const k = flowOf(x.data);
      if (!syn.has(k)) syn.set(k, r.schedule_origin_s! + (x.sec + x.nsec / 1e9 - t0) / 10);
    }
    const last = new Map<string, number>();
    let n = 0;
    for (const x of readAll(b).recs) {
      const t = x.sec + x.nsec / 1e9;
      const k = flowOf(x.data);
      assert.ok(syn.has(k), `${what}: output of a captured flow`);
      assert.ok(t >= syn.get(k)! - 1e-6, `${what}: ${k} answered at ${t}, its SYN due ${syn.get(k)}`);
      assert.ok(t >= (last.get(k) ?? -Infinity), `${what}: ${k} times non-decreasing`);
      last.set(k, t);
      n++;
    }
    assert.is(n, r.packets_out, what);
    assert.is(last.size, one.flows.served, `${what}: every served flow answered`);
  }
  assert.ok(split >= 1, "flows were spread over both workers");
});

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "host/cli.ts"), "replay", ...args], {
    encoding: "utf8",
    cwd: ROOT,
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("CLI: raw --workers 2 paced with --out reports pacing; serve --workers 2 refuses pps in one line", () => {
  const f = own("memcached-ascii.pcap");
  const o = join(tmp, "cli.pcap");
  const r = cli(f, "--mode", "raw", "--workers", "2", "--speed", "pps:5000", "--out", o, "--report", "json");
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out) as WorkersReport;
  assert.is(j.speed, "pps:5000");
  assert.ok(j.pacing !== null);
  assert.is(j.out!.records, j.packets_processed);
  assert.is(readAll(o).recs.length, j.packets_processed);
  const s = cli(f, "--mode", "serve", "--workers", "2", "--speed", "pps:100");
  assert.is(s.code, 1, s.err);
  assert.match(s.err, /--speed pps:100 with serve --workers 2 is not available/);
  assert.is(s.err.trim().split("\n").length <= 2, true, s.err);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
