// deploy/k8s/replay-indexed-job.yaml, checked without a cluster: the Indexed
// Job's pod command (command + args, with Kubernetes' $(VAR) expansion and the
// container's env) runs here once per index with JOB_COMPLETION_INDEX set, then
// the merge Job's init and main commands; the merged report must equal one
// process's replay. The YAML is read with python3's yaml module (python3-yaml).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OWN_TRACES, ROOT } from "../helpers/corpus.ts";
import { requireOracle } from "../helpers/oracle.ts";
import type { MergedReport } from "../../host/report/merge.ts";
import type { ReplayReport } from "../../host/report/replay.ts";
import { tempDir } from "../helpers/tmp.ts";

const MANIFEST = join(ROOT, "deploy/k8s/replay-indexed-job.yaml");
const CLI = join(ROOT, "dist/host/cli.js");
const tmp = tempDir("k8s");

type Env = { name: string; value?: string }[];
interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: Env;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

function haveYaml(): boolean {
  return spawnSync("python3", ["-c", "import yaml"], { stdio: "ignore" }).status === 0;
}

function loadDocs(): Doc[] {
  const py = "import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
  const r = spawnSync("python3", ["-c", py, MANIFEST], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Doc[];
}

/** Kubernetes' expansion of command and args: $(VAR) from the container's env, $$ → $, unknown refs unchanged. */
function expand(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) =>
    m === "$$" ? "$" : name !== undefined && name in env ? env[name] : m,
  );
}

/** Runs a container's command as its pod would, with its env (overrides: the data paths here, and ixwasm). */
function runContainer(c: Container, extra: Record<string, string>) {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) env[e.name] = e.value ?? "";
  Object.assign(env, extra);
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a) => expand(a, env));
  const r = spawnSync(argv[0], argv.slice(1), {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

if (
  requireOracle("python3-yaml", haveYaml(), "apt-get install python3-yaml", "the Kubernetes manifest check")
)
  test("the Indexed Job's pods, run here one per JOB_COMPLETION_INDEX, and the merge step give one process's report", () => {
    const docs = loadDocs();
    const jobs = docs.filter((d) => d.kind === "Job");
    const replayJob = jobs.find((j) => j.spec.completionMode === "Indexed")!;
    const mergeJob = jobs.find((j) => j !== replayJob)!;
    assert.ok(replayJob && mergeJob, "an Indexed Job and a merge Job");
    const n = replayJob.spec.completions as number;
    assert.is(replayJob.spec.parallelism, n);
    const pod = replayJob.spec.template.spec.containers[0] as Container;
    const shardCount = pod.env!.find((e) => e.name === "IXWASM_SHARD_COUNT")?.value;
    assert.is(Number(shardCount), n, "IXWASM_SHARD_COUNT = completions");
    // The volume's paths become this test's directory; everything else is the manifest's.
    const capture = join(OWN_TRACES, "udp-echo-v6.pcapng");
    const out = join(tmp, "reports");
    const here = { CAPTURE: capture, OUT: out, IXWASM: `${process.execPath} ${CLI}` };
    for (let i = 0; i < n; i++) {
      const r = runContainer(pod, { ...here, JOB_COMPLETION_INDEX: String(i) });
      assert.is(r.code, 0, `pod ${i}: ${r.err}`);
      const rep = JSON.parse(readFileSync(join(out, `shard-${i}.json`), "utf8")) as ReplayReport;
      assert.equal(rep.shard, { index: i, count: n, source: "k8s" });
    }
    const spec = mergeJob.spec.template.spec;
    for (const c of [...(spec.initContainers ?? []), ...spec.containers] as Container[]) {
      const r = runContainer(c, here);
      assert.is(r.code, 0, `${c.name}: ${r.err}`);
    }
    const merged = JSON.parse(readFileSync(join(out, "merged.json"), "utf8")) as MergedReport;
    const modeEnv = pod.env!.find((e) => e.name === "MODE")!.value!;
    const one = JSON.parse(
      spawnSync(process.execPath, [CLI, "replay", capture, "--mode", modeEnv, "--report", "json"], {
        encoding: "utf8",
      }).stdout,
    ) as ReplayReport;
    const pick = (r: ReplayReport) => ({
      packets_in: r.packets_in,
      bytes_in: r.bytes_in,
      flows: r.flows,
      drops: r.drops,
      fidelity: [
        r.fidelity!.segments_compared,
        r.fidelity!.segments_matching,
        r.fidelity!.datagrams_compared,
      ],
    });
    assert.equal(pick(merged), pick(one));
    assert.is(merged.per_shard.length, n);
    assert.ok(merged.flows.served > 0 && merged.flows.tracked! > 0);
  });

test("Kubernetes' $(VAR) expansion as the test applies it", () => {
  assert.is(expand("a $(X) $$(X) $(Y) $((i + 1))", { X: "1" }), "a 1 $(X) $(Y) $((i + 1))");
});

test.run();
