// Every subcommand's --json reaches it (issue 16 §2: `bench` declares --json too,
// and commander handed `bench instructions --json` to the parent, which printed
// the table). Each command with --json, or --report json, run small: its standard
// output must parse as JSON, with the schema or fields that command promises.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/corpus.ts";
import { requireOracle } from "../helpers/oracle.ts";
import { valgrindVersion } from "../../host/measure/instructions.ts";

const CLI = join(ROOT, "dist/host/cli.js");
const HTTP = join(ROOT, "traces/http-kernel.pcap");
const tmp = mkdtempSync(join(tmpdir(), "ixwasm-json-"));

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

test("bench ladder --json (and its --runs, not the suite's)", () => {
  const j = json("bench", "ladder", HTTP, "--json", "--runs", "1", "--min-packets", "500");
  assert.is(j.schema, "ixwasm-ladder/1");
  assert.ok(JSON.stringify(j).includes('"runs":1'), "the ladder's --runs 1 reached it");
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
