// Every subcommand's --json reaches it (issue 16 §2: `bench` declares --json too,
// and commander handed `bench instructions --json` to the parent, which printed
// the table). Each command with --json, or --report json, run small: its standard
// output must parse as JSON, with the schema or fields that command promises.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../helpers/corpus.ts";
import { requireOracle } from "../helpers/oracle.ts";
import { valgrindVersion } from "../../host/measure/instructions.ts";
import { summarize, type Summary } from "../../host/measure/lib/stats.ts";
import { tempDir } from "../helpers/tmp.ts";

const CLI = join(ROOT, "dist/host/cli.js");
const HTTP = join(ROOT, "traces/http-kernel.pcap");
const tmp = tempDir("json");

function json(...args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  assert.is(r.status, 0, `ixwasm ${args.join(" ")}: ${r.stderr}`);
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new assert.Assertion({
      message: `ixwasm ${args.join(" ")} printed no JSON: ${r.stdout.slice(0, 200)}`,
      generated: false,
      operator: "json",
      expects: "JSON",
      actual: r.stdout.slice(0, 200),
    });
  }
}

test("inspect --json", () => {
  assert.is(json("inspect", HTTP, "--json").packets, 133);
});

test("replay --report json", () => {
  assert.is(json("replay", HTTP, "--report", "json").schema, "ixwasm-replay/2");
});

test("gen --json", () => {
  const j = json("gen", "echo", "--out", join(tmp, "g.pcap"), "--packets", "200", "--json", "--quiet");
  assert.ok(Object.keys(j).length > 0);
});

test("pair --json", () => {
  const j = json("pair", "--conns", "2", "--msgs", "5", "--workers", "1", "--json");
  assert.is(j.schema, "ixwasm-pair/1");
  assert.is(j.round_trips, 10);
});

test("bench ladder --json (and its --runs, not the suite's): the CV per rung is the runs' spread", () => {
  const j = json("bench", "ladder", HTTP, "--json", "--runs", "2", "--rounds", "1", "--min-packets", "5000");
  assert.is(j.schema, "ixwasm-ladder/2");
  assert.is(j.runs, 2, "the ladder's --runs 2 reached it");
  assert.is(j.rounds, 1);
  const rungs = j.rungs as { name: string; per_run: number[]; ns_per_packet: Summary }[];
  assert.is(rungs.length, 4);
  for (const r of rungs) {
    // the figure and its CV are the median and CV of the runs' own figures, as printed
    assert.is(r.per_run.length, 2, r.name);
    const again = summarize(r.per_run);
    assert.is(r.ns_per_packet.runs, 2, r.name);
    assert.is(r.ns_per_packet.median, again.median, r.name);
    assert.is(r.ns_per_packet.cv, again.cv, r.name);
    assert.ok(r.ns_per_packet.cv >= 0 && r.ns_per_packet.min <= r.ns_per_packet.max, r.name);
  }
});

test("diff --json", () => {
  const a = join(tmp, "a.json");
  const b = join(tmp, "b.json");
  for (const f of [a, b]) {
    const r = spawnSync(process.execPath, [CLI, "replay", HTTP, "--report", "json", "--report-file", f]);
    assert.is(r.status, 0);
  }
  const j = json("diff", a, b, "--json");
  assert.ok(Object.keys(j).length > 0);
});

if (requireOracle("valgrind", !!valgrindVersion(), "apt-get install valgrind; .ci/run installs it"))
  test("bench instructions --json", () => {
    const j = json(
      "bench",
      "instructions",
      HTTP,
      "--json",
      "-n",
      "200",
      "--runs",
      "1",
      "--windows",
      "1",
      "--warmup",
      "400",
    );
    assert.is(j.schema, "ixwasm-instructions/2");
  });

test.run();
