// ixwasm report merge: percentiles from the summed histograms (never averaged),
// and every bad input refused with one line naming the field, exit 1, the input
// reports untouched and no --out written.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OWN_TRACES, ROOT } from "../helpers/corpus.ts";
import { LogHist } from "../../host/report/hist.ts";
import { checkShards, mergeReports, type MergedReport } from "../../host/report/merge.ts";
import type { ReplayReport } from "../../host/report/replay.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("merge");
const CLI = join(ROOT, "dist/host/cli.js");
const HTTP = join(OWN_TRACES, "http-kernel.pcap");

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Shard i of n of a capture, as JSON, written to tmp. */
function shard(file: string, i: number, n: number, extra: string[] = [], name = `s${i}of${n}`): string {
  const out = join(tmp, `${name}.json`);
  const r = cli(["replay", file, "--shard", `${i}/${n}`, "--report-file", out, ...extra]);
  if (r.code !== 0) throw new Error(r.err);
  return out;
}

const S = [0, 1, 2].map((i) => shard(HTTP, i, 3, ["--mode", "serve"]));
const read = (f: string) => JSON.parse(readFileSync(f, "utf8")) as ReplayReport;
function variant(name: string, base: string, edit: (r: Record<string, unknown>) => void): string {
  const r = read(base) as unknown as Record<string, unknown>;
  edit(r);
  const f = join(tmp, `${name}.json`);
  writeFileSync(f, JSON.stringify(r));
  return f;
}

test("the merged paced percentiles are the summed histograms' (never an average of the shards')", () => {
  const P = [0, 1].map((i) => shard(HTTP, i, 2, ["--mode", "track", "--speed", "pps:4000"], `paced${i}`));
  const rs = P.map(read);
  const m = mergeReports(checkShards(P.map((file, i) => ({ file, r: rs[i] }))));
  const h = new LogHist();
  for (const r of rs) h.merge(LogHist.fromJSON(r.histograms!.latency_us!));
  assert.is(h.total, rs[0].packets_in + rs[1].packets_in, "a latency sample per packet");
  assert.is(m.histograms!.latency_us!.total, h.total);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  assert.equal(m.latency_us, {
    p50: r2(h.quantile(0.5)),
    p99: r2(h.quantile(0.99)),
    p999: r2(h.quantile(0.999)),
  });
  // Synthetic shards where averaging would be far off: 99 fast samples on one, 1 slow on the other.
  const fast = LogHist.of(Array.from({ length: 990 }, () => 10));
  const slow = LogHist.of(Array.from({ length: 10 }, () => 1000));
  const mk = (i: number, lat: LogHist) =>
    ({
      ...rs[i],
      histograms: { latency_us: lat.toJSON(), lateness_us: null, gap_error_us: null },
    }) as ReplayReport;
  const syn = mergeReports(checkShards([0, 1].map((i) => ({ file: `syn${i}`, r: mk(i, i ? slow : fast) }))));
  assert.ok(syn.latency_us!.p50 <= 11, `p50 ${syn.latency_us!.p50}`);
  assert.ok(syn.latency_us!.p99 <= 11, `p99 ${syn.latency_us!.p99}: 99 % of the samples are 10 µs`);
  assert.ok(syn.latency_us!.p999 >= 1000, `p999 ${syn.latency_us!.p999}`);
});

test("durations and CPU: the slowest shard's wall time, the sum of CPU; per-shard lines kept", () => {
  const r = cli(["report", "merge", ...S, "--json"]);
  assert.is(r.code, 0, r.err);
  const m = JSON.parse(r.out) as MergedReport;
  const rs = S.map(read);
  assert.is(m.duration_s, Math.max(...rs.map((x) => x.duration_s)));
  assert.is(m.cpu_s, Math.round(rs.reduce((a, x) => a + x.cpu_s!, 0) * 1000) / 1000);
  assert.equal(
    m.per_shard.map((s) => [s.index, s.packets_in, s.report]),
    rs.map((x, i) => [i, x.packets_in, S[i]]),
  );
  assert.is(m.packets_in, 133);
  assert.is(m.shard, null);
  assert.equal(m.capture, rs[0].capture);
});

test("bad input: one line naming the field, exit 1, the reports untouched, no --out", () => {
  const other = shard(join(OWN_TRACES, "nc-echo.pcap"), 2, 3, ["--mode", "serve"], "other2");
  const track2 = shard(HTTP, 2, 3, ["--mode", "track"], "track2");
  const four = shard(HTTP, 2, 4, ["--mode", "serve"], "four2");
  const notJson = join(tmp, "notjson.json");
  writeFileSync(notJson, "{ this is not json");
  const cases: [string[], RegExp][] = [
    [[S[0], S[1]], /field shard\.index: shard 2 of 3 missing/],
    [[S[0], S[1], S[1]], /field shard\.index: shard 1 of 3 twice/],
    [[S[0], S[1], other], /field capture differs/],
    [[S[0], S[1], track2], /field mode differs: .* has "serve", .* has "track"/],
    [[S[0], S[1], four], /field shard\.count differs/],
    [[S[0], S[1], notJson], /notjson\.json is not JSON/],
    [[S[0], S[1], join(tmp, "absent.json")], /cannot read .*absent\.json/],
    [
      [S[0], S[1], variant("v1", S[2], (r) => (r.schema = "ixwasm-replay/1"))],
      /field schema is "ixwasm-replay\/1"/,
    ],
    [[S[0], S[1], variant("nopk", S[2], (r) => delete r.packets_in)], /field packets_in: missing/],
    [[S[0], S[1], variant("neg", S[2], (r) => (r.packets_in = -1))], /field packets_in: below 0/],
    [[S[0], S[1], variant("loops", S[2], (r) => (r.loops = 2))], /field loops differs/],
    [[S[0], S[1], variant("cost", S[2], (r) => (r.cost = {}))], /field cost: a --stages report/],
    [
      [S[0], S[1], variant("merged", S[2], (r) => (r.per_shard = []))],
      /field per_shard: it is a merged report/,
    ],
  ];
  const before = S.map((f) => readFileSync(f, "utf8"));
  for (const [files, re] of cases) {
    const out = join(tmp, "never.json");
    const r = cli(["report", "merge", ...files, "--out", out]);
    assert.is(r.code, 1, `${files.join(" ")}: ${r.err}`);
    assert.is(r.out, "");
    assert.is(r.err.trim().split("\n").length, 1, r.err);
    assert.match(r.err, /^ixwasm: report merge: /);
    assert.match(r.err, re);
    assert.not.ok(existsSync(out), "no merged report written");
  }
  assert.equal(
    S.map((f) => readFileSync(f, "utf8")),
    before,
  );
});

test("split shards: each report checked against its file in the manifest", () => {
  const dir = join(tmp, "split");
  const sp = cli(["split", join(OWN_TRACES, "memcaslap-cut.pcap"), "--shards", "3", "--out-dir", dir]);
  assert.is(sp.code, 0, sp.err);
  const manifest = join(dir, "memcaslap-cut.split.json");
  const files = [0, 1, 2].map((i) => join(dir, `memcaslap-cut.shard-${i}-of-3.pcap`));
  const reps = files.map((f, i) => shard(f, i, 3, ["--mode", "serve"], `sp${i}`));
  const ok = cli(["report", "merge", ...reps, "--split", manifest, "--json"]);
  assert.is(ok.code, 0, ok.err);
  const one = cli(["replay", join(OWN_TRACES, "memcaslap-cut.pcap"), "--report", "json"]);
  const a = JSON.parse(ok.out) as MergedReport;
  const b = JSON.parse(one.out) as ReplayReport;
  assert.equal(
    [a.packets_in, a.flows, a.fidelity!.segments_matching],
    [b.packets_in, b.flows, b.fidelity!.segments_matching],
  );
  assert.equal(a.capture, b.capture, "the merged report names the source capture");
  // A split file replayed without --shard: the manifest says which shard it is.
  const plain = files.map((f, i) => {
    const out = join(tmp, `plain${i}.json`);
    assert.is(cli(["replay", f, "--mode", "serve", "--report-file", out]).code, 0);
    return out;
  });
  const inferred = cli(["report", "merge", plain[2], plain[0], plain[1], "--split", manifest, "--json"]);
  assert.is(inferred.code, 0, inferred.err);
  assert.is((JSON.parse(inferred.out) as MergedReport).packets_in, b.packets_in);
  // Without the manifest the shards' files differ: refused.
  const no = cli(["report", "merge", ...reps]);
  assert.is(no.code, 1);
  assert.match(no.err, /field capture differs/);
  // A shard's report of another file than the manifest's for its index.
  const swapped = shard(files[2], 1, 3, ["--mode", "serve"], "swapped");
  const bad = cli(["report", "merge", reps[0], swapped, reps[2], "--split", manifest]);
  assert.is(bad.code, 1);
  assert.match(bad.err, /field capture of .*swapped\.json \(shard 1\) is not the split's file/);
});

test.run();
