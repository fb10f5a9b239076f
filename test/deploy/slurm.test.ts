// deploy/slurm/replay-array.sbatch on a real Slurm: a single-node cluster from
// Debian's packages started here (test/helpers/slurm.ts), the script submitted on
// the project's own captures with 3 shards, in place and after a split; the
// merged report must equal the one-process replay: packets, flows served and
// tracked, fidelity compared and matching.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { OWN_TRACES, ROOT } from "../helpers/corpus.ts";
import { requireOracle } from "../helpers/oracle.ts";
import { SlurmCluster, haveSlurm } from "../helpers/slurm.ts";
import type { MergedReport } from "../../host/report/merge.ts";
import type { ReplayReport } from "../../host/report/replay.ts";

const SCRIPT = join(ROOT, "deploy/slurm/replay-array.sbatch");
const CLI = join(ROOT, "dist/host/cli.js");
const IXWASM = `${process.execPath} ${CLI}`;
const WAIT_MS = 180_000;

function oneRun(file: string): ReplayReport {
  const r = spawnSync(process.execPath, [CLI, "replay", file, "--mode", "serve", "--report", "json"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as ReplayReport;
}

/** What the merged report must share with the one-process replay. */
function essentials(r: ReplayReport) {
  const f = r.fidelity!;
  return {
    packets_in: r.packets_in,
    bytes_in: r.bytes_in,
    packets_processed: r.packets_processed,
    flows: r.flows,
    drops: r.drops,
    fidelity: [
      f.segments_compared,
      f.segments_matching,
      f.bytes_compared,
      f.bytes_matching,
      f.segments_missing,
    ],
    datagrams: [f.datagrams_compared, f.datagrams_matching],
  };
}

if (
  requireOracle(
    "slurm",
    haveSlurm(),
    "root and Debian's munge, slurmctld, slurmd, slurm-client (.ci/run installs them)",
    "the Slurm job-array test",
  )
)
  test("replay-array.sbatch: 3 shards in place and after split, merged = one process (a real single-node Slurm)", async () => {
    const cluster = await SlurmCluster.start();
    try {
      const runs = [
        {
          capture: join(OWN_TRACES, "udp-echo-v6.pcapng"),
          how: [] as string[],
          out: join(cluster.dir, "inplace"),
        },
        {
          capture: join(OWN_TRACES, "memcached-ascii.pcap"),
          how: ["split"],
          out: join(cluster.dir, "split"),
        },
      ];
      const merges: string[] = [];
      for (const r of runs) {
        const s = cluster.tool(
          "bash",
          [SCRIPT, "submit", r.capture, r.out, "3", ...r.how, "--", "--mode", "serve"],
          { IXWASM },
        );
        assert.is(s.status, 0, `submit: ${s.stderr}`);
        const ids = [...s.stdout.matchAll(/job (\d+)/g)].map((m) => m[1]);
        assert.is(ids.length, r.how.length ? 3 : 2, s.stdout);
        cluster.jobs.push(...ids);
        merges.push(ids[ids.length - 1]);
      }
      // Bounded wait for both merge jobs (each runs after its array: afterok).
      const t0 = Date.now();
      const done = () => merges.map((id) => cluster.jobState(id));
      while (
        Date.now() - t0 < WAIT_MS &&
        !done().every((s) => s === "COMPLETED" || s === "FAILED" || s === "CANCELLED" || s === "TIMEOUT")
      )
        await new Promise((res) => setTimeout(res, 500));
      const states = done();
      for (const [i, r] of runs.entries()) {
        const logs = existsSync(r.out)
          ? spawnSync("sh", ["-c", `tail -n 3 ${r.out}/slurm-*.out`], { encoding: "utf8" }).stdout
          : "";
        assert.is(states[i], "COMPLETED", `merge job ${merges[i]}: ${states[i]}\n${logs}\n${cluster.logs()}`);
        const merged = JSON.parse(readFileSync(join(r.out, "merged.json"), "utf8")) as MergedReport;
        const one = oneRun(r.capture);
        assert.equal(essentials(merged), essentials(one), r.capture);
        assert.ok(merged.flows.served > 0 && merged.fidelity!.segments_compared > 0);
        assert.is(merged.fidelity!.segments_matching, merged.fidelity!.segments_compared);
        assert.equal(
          merged.per_shard.map((p) => p.index),
          [0, 1, 2],
        );
        // The array's tasks took their shard from Slurm's environment.
        for (let i = 0; i < 3; i++) {
          const s = JSON.parse(readFileSync(join(r.out, `shard-${i}.json`), "utf8")) as ReplayReport;
          assert.equal(s.shard, { index: i, count: 3, source: "slurm" });
        }
        assert.is(merged.merged.source, r.how.length ? "split" : "shards");
      }
      assert.ok(
        essentials(oneRun(runs[0].capture)).flows.tracked! > 0,
        "the in-place capture has tracked flows too",
      );
    } finally {
      await cluster.stop();
      assert.equal(cluster.alive(), [], "every daemon this test started has ended");
    }
  });

test.run();
