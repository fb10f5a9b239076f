// replay --shard I/N and report merge: three shards merged equal one run in every
// mode on the project's captures; a shard is exactly what --workers N gives
// worker I; shards and workers compose; the shard comes from Slurm's or
// Kubernetes' environment when not given; bad shard specs are one-line errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { OWN_TRACES, ROOT, SERVER_TRACES, ownTraces } from "../helpers/corpus.ts";
import { replay } from "../../host/replay/replay.ts";
import type { ReplayMode, ReplayOptions } from "../../host/replay/options.ts";
import { captureId } from "../../host/report/capture-id.ts";
import { checkShards, mergeReports, type MergedReport } from "../../host/report/merge.ts";
import type { ReplayReport } from "../../host/report/replay.ts";
import { chooseShard, parseShard } from "../../host/replay/shard.ts";
import { UsageError } from "../../host/io/errors.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("shard");
const CLI = join(ROOT, "dist/host/cli.js");
const MODES: ReplayMode[] = ["raw", "track", "serve"];

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A many-flow capture (gen churn): every shard and worker gets flows. */
const CHURN = join(tmp, "churn.pcap");
const g = cli(["gen", "churn", "--out", CHURN, "--packets", "4000", "--seed", "3"]);
if (g.code !== 0) throw new Error(`gen churn failed: ${g.err}`);

/** The own captures, the real servers' (traces/servers) and the many-flow one. */
const captures = [
  ...ownTraces(),
  ...readdirSync(SERVER_TRACES)
    .filter((f) => f.endsWith(".pcap"))
    .map((f) => join(SERVER_TRACES, f)),
  CHURN,
];

/**
 * The counts a merge must reproduce: everything but times, rates and per-worker
 * splits; in serve mode what --workers must not change either
 * (test/replay/serve-workers.test.ts): the core's pure ACKs (packets_out) and the
 * mirror's command counts follow when the core is polled, i.e. which other flows
 * share its batches.
 */
function counts(r: ReplayReport) {
  const f = r.fidelity;
  const serve = r.mode === "serve";
  return {
    packets_in: r.packets_in,
    packets_out: serve ? null : r.packets_out,
    bytes_in: r.bytes_in,
    bytes_out: serve ? null : r.bytes_out,
    packets_processed: r.packets_processed,
    flows: r.flows,
    drops: r.drops,
    tcp: r.tcp,
    fidelity: f && {
      segments_compared: f.segments_compared,
      segments_matching: f.segments_matching,
      bytes_compared: f.bytes_compared,
      bytes_matching: f.bytes_matching,
      segments_missing: f.segments_missing,
      segments_extra: f.segments_extra,
      retransmissions_capture: f.retransmissions_capture,
      retransmissions_core: f.retransmissions_core,
      datagrams_compared: f.datagrams_compared,
      datagrams_matching: f.datagrams_matching,
      datagrams_missing: f.datagrams_missing,
      datagrams_extra: f.datagrams_extra,
    },
    serve: r.serve && {
      delivered: r.serve.delivered,
      reference: r.serve.reference,
      tracked: r.serve.tracked,
      presets_failed: r.serve.presets_failed,
      flows_unserved_why: r.serve.flows_unserved_why,
    },
    error: r.error,
  };
}

function shardRuns(file: string, n: number, opts: ReplayOptions): ReplayReport[] {
  const id = captureId(file);
  return Array.from({ length: n }, (_, i) => {
    const r = replay(file, { ...opts, shard: { index: i, count: n } });
    return { ...r, capture: id, shard: { index: i, count: n, source: "option" } };
  });
}

for (const mode of MODES)
  test(`${mode}: three shards merged equal one run, on every own capture`, () => {
    for (const f of captures) {
      const one = replay(f, { mode });
      const parts = shardRuns(f, 3, { mode });
      const loaded = parts.map((r, i) => ({ file: `shard-${i}`, r }));
      const m = mergeReports(checkShards(loaded));
      assert.equal(counts(m), counts(one), `${mode} ${f}`);
      assert.ok(one.packets_in > 0, f);
      // No shard holds everything (else the split did nothing) on the many-flow capture.
      if (f === CHURN)
        for (const p of parts)
          assert.ok(p.packets_in < one.packets_in && p.packets_in > 0, `${f} ${p.packets_in}`);
    }
  });

test("shard I of N holds exactly the flows --workers N gives worker I", () => {
  for (const f of [CHURN, join(OWN_TRACES, "memcaslap-cut.pcap")])
    for (const n of [2, 3, 5]) {
      const w = replay(f, { mode: "raw", workers: n });
      for (let i = 0; i < n; i++) {
        const s = replay(f, { mode: "raw", shard: { index: i, count: n } });
        assert.is(s.packets_processed, w.worker_packets[i], `${f} shard ${i}/${n}`);
      }
    }
});

test("a read batch without a record of the shard reads on (small batches, a whole file in the staging)", () => {
  // The reader framed 8 records, kept none, and took the staging's unframed bytes for a truncated record.
  for (const f of [join(OWN_TRACES, "http-kernel.pcap"), join(OWN_TRACES, "udp-echo-v6.pcapng"), CHURN])
    for (let i = 0; i < 5; i++) {
      const whole = replay(f, { mode: "raw", shard: { index: i, count: 5 } });
      const small = replay(f, { mode: "raw", shard: { index: i, count: 5 }, batch: 8 });
      assert.is(small.error, null, f);
      assert.is(small.packets_in, whole.packets_in, `${f} ${i}/5`);
    }
});

test("frames without an IP header are shard 0's", () => {
  const f = join(OWN_TRACES, "udp-echo-v6.pcapng"); // 4 ARP frames
  const one = replay(f, { mode: "raw" });
  assert.is(one.drops.non_ip, 4);
  const parts = [0, 1, 2].map((i) => replay(f, { mode: "raw", shard: { index: i, count: 3 } }));
  assert.equal(
    parts.map((p) => p.drops.non_ip),
    [4, 0, 0],
  );
});

test("shard and workers compose: shard I/N with W workers deals the shard's groups to all W workers", () => {
  // N = W = 2: a RETA of g mod W would give every group of shard 0 (the even ones) to worker 0.
  for (const [n, w] of [
    [2, 2],
    [2, 4],
    [3, 3],
  ]) {
    for (let i = 0; i < n; i++) {
      const s = replay(CHURN, { mode: "track", workers: w, shard: { index: i, count: n } });
      assert.is(s.worker_packets.length, w);
      for (const k of s.worker_packets)
        assert.ok(k > s.packets_processed / (4 * w), `${i}/${n} × ${w}: ${s.worker_packets}`);
      assert.is(
        s.worker_packets.reduce((a, b) => a + b, 0),
        s.packets_processed,
      );
    }
  }
});

test("CLI: shards on worker threads (raw, track, serve --workers 2) merge to one run", () => {
  for (const mode of MODES) {
    const files = [0, 1, 2].map((i) => join(tmp, `w-${mode}-${i}.json`));
    files.forEach((file, i) => {
      const r = cli([
        "replay",
        CHURN,
        "--mode",
        mode,
        "--workers",
        "2",
        "--shard",
        `${i}/3`,
        "--report-file",
        file,
      ]);
      assert.is(r.code, 0, r.err);
    });
    const merged = join(tmp, `w-${mode}-merged.json`);
    const m = cli(["report", "merge", ...files, "--out", merged, "--json"]);
    assert.is(m.code, 0, m.err);
    const one = cli(["replay", CHURN, "--mode", mode, "--report", "json"]);
    const a = JSON.parse(m.out) as MergedReport;
    const b = JSON.parse(one.out) as ReplayReport;
    assert.equal(counts(a), counts(b), mode);
    assert.equal(
      a.per_shard.map((s) => s.workers),
      [2, 2, 2],
    );
    assert.is(a.worker_packets.length, 6);
  }
});

test("the shard from the environment: Slurm's array task, Kubernetes' completion index; --shard wins", () => {
  assert.equal(chooseShard(undefined, undefined, {}), null);
  assert.equal(chooseShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "3" }), {
    index: 2,
    count: 3,
    source: "slurm",
  });
  // --array=1-3: task 1 is shard 0.
  assert.equal(
    chooseShard(undefined, undefined, {
      SLURM_ARRAY_TASK_ID: "1",
      SLURM_ARRAY_TASK_COUNT: "3",
      SLURM_ARRAY_TASK_MIN: "1",
      SLURM_ARRAY_TASK_MAX: "3",
    }),
    { index: 0, count: 3, source: "slurm" },
  );
  assert.equal(chooseShard(undefined, 4, { JOB_COMPLETION_INDEX: "3" }), {
    index: 3,
    count: 4,
    source: "k8s",
  });
  assert.equal(chooseShard(undefined, undefined, { JOB_COMPLETION_INDEX: "1", IXWASM_SHARD_COUNT: "2" }), {
    index: 1,
    count: 2,
    source: "k8s",
  });
  assert.equal(chooseShard("1/2", undefined, { SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "3" }), {
    index: 1,
    count: 2,
    source: "option",
  });
  const bad: [string | undefined, number | undefined, Record<string, string>, RegExp][] = [
    [undefined, undefined, { JOB_COMPLETION_INDEX: "1" }, /no shard count/],
    [undefined, 2, { JOB_COMPLETION_INDEX: "2" }, /index 2 is out of range for 2 shards/],
    [undefined, undefined, { SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_COUNT: "3" }, /out of range/],
    [
      undefined,
      undefined,
      {
        SLURM_ARRAY_TASK_ID: "0",
        SLURM_ARRAY_TASK_COUNT: "3",
        SLURM_ARRAY_TASK_MIN: "0",
        SLURM_ARRAY_TASK_MAX: "4",
      },
      /steps or gaps/,
    ],
    [undefined, 3, {}, /--shard-count needs JOB_COMPLETION_INDEX/],
    ["3/3", undefined, {}, /index 3 is out of range/],
    ["0/129", undefined, {}, /129 shards is out of range/],
    ["1/0", undefined, {}, /0 shards is out of range/],
    ["x", undefined, {}, /is not I\/N/],
    ["1/3", 4, {}, /differs/],
  ];
  for (const [opt, count, env, re] of bad) {
    try {
      chooseShard(opt, count, env);
      assert.unreachable(`${opt} ${JSON.stringify(env)} accepted`);
    } catch (e) {
      assert.instance(e, UsageError);
      assert.match((e as Error).message, re);
    }
  }
  assert.equal(parseShard("0/1"), { index: 0, count: 1 });
});

test("CLI: SLURM_ARRAY_TASK_ID picks the shard, JOB_COMPLETION_INDEX needs a count, an index out of range is one line", () => {
  const http = join(OWN_TRACES, "http-kernel.pcap");
  const r = cli(["replay", http, "--report", "json"], {
    SLURM_ARRAY_TASK_ID: "1",
    SLURM_ARRAY_TASK_COUNT: "3",
  });
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out) as ReplayReport;
  assert.equal(j.shard, { index: 1, count: 3, source: "slurm" });
  assert.is(j.packets_in, replay(http, { mode: "serve", shard: { index: 1, count: 3 } }).packets_in);
  const k = cli(["replay", http, "--report", "json", "--shard-count", "3"], { JOB_COMPLETION_INDEX: "2" });
  assert.is(k.code, 0, k.err);
  assert.equal((JSON.parse(k.out) as ReplayReport).shard, { index: 2, count: 3, source: "k8s" });
  const whole = cli(["replay", http, "--report", "json", "--shard", "0/1"], {
    SLURM_ARRAY_TASK_ID: "1",
    SLURM_ARRAY_TASK_COUNT: "3",
  });
  assert.is((JSON.parse(whole.out) as ReplayReport).packets_in, 133);
  for (const [args, env] of [
    [["--shard", "3/3"], {}],
    [[], { JOB_COMPLETION_INDEX: "0" }],
    [["--shard-count", "2"], { JOB_COMPLETION_INDEX: "5" }],
  ] as [string[], Record<string, string>][]) {
    const e = cli(["replay", http, ...args], env);
    assert.is(e.code, 1, `${args} ${JSON.stringify(env)}`);
    assert.is(e.out, "");
    assert.is(e.err.trim().split("\n").length, 1, e.err);
    assert.match(e.err, /^ixwasm: .*(out of range|no shard count)/);
  }
});

test.run();
