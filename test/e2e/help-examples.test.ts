// Every command's --help ends with examples (issue 15): an "Examples:" block of
// at least two `ixwasm …` lines, one of them running that very command. The
// commands are walked from commander's own program (the one cli.ts parses), so a
// new command or subcommand without examples fails here. Each example's options
// must be options of the command it names (a renamed option leaves no stale example).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { Command } from "commander";
import { ROOT } from "../helpers/corpus.ts";
import { buildProgram } from "../../host/commands/registry.ts";

const CLI = join(ROOT, "dist/host/cli.js");

/** Every command under `c` as its path of names (the program itself: []). */
function paths(c: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return [{ path: prefix, cmd: c }, ...c.commands.flatMap((s) => paths(s, [...prefix, s.name()]))];
}

/** The lines after the last "Examples:" line of `help`, trimmed (the block must end the help). */
function examplesBlock(help: string): string[] | null {
  const lines = help.trimEnd().split("\n");
  const at = lines.lastIndexOf("Examples:");
  return at < 0 ? null : lines.slice(at + 1).map((l) => l.trim());
}

/** The options an example line gives that the command it names does not know. */
function unknownOptions(program: Command, line: string): string[] {
  const words = line.split(/\s+/).slice(1); // after "ixwasm"
  let cmd = program;
  for (;;) {
    const sub = cmd.commands.find((s) => s.name() === words[0]);
    if (!sub) break;
    cmd = sub;
    words.shift();
  }
  const known = new Set(["-h", "--help", ...cmd.options.flatMap((o) => [o.long, o.short])]);
  return words.filter((w) => w.startsWith("-")).filter((w) => !known.has(w.split("=")[0]));
}

const program = buildProgram();
const all = paths(program);

test("the walk reaches subcommands (bench ladder, bench instructions)", () => {
  const names = all.map((p) => p.path.join(" "));
  for (const n of ["", "replay", "bench", "bench ladder", "bench instructions"])
    assert.ok(names.includes(n), `"${n}" among ${names.join(", ")}`);
});

for (const { path } of all) {
  const name = ["ixwasm", ...path].join(" ");
  test(`${name} --help ends with an Examples: block`, () => {
    const r = spawnSync(process.execPath, [CLI, ...path, "--help"], { encoding: "utf8" });
    assert.is(r.status, 0, r.stderr);
    const block = examplesBlock(r.stdout);
    assert.ok(block, `${name} --help has no "Examples:" block:\n${r.stdout}`);
    for (const l of block)
      assert.ok(/^(# |ixwasm )/.test(l), `${name}: "${l}" is neither # comment nor example`);
    const runs = block.filter((l) => l.startsWith("ixwasm "));
    assert.ok(runs.length >= 2, `${name}: ${runs.length} example(s), want at least 2`);
    assert.ok(
      runs.some((l) => l === name || l.startsWith(name + " ")),
      `${name}: no example runs this command`,
    );
    for (const l of runs) assert.equal(unknownOptions(program, l), [], `${name}: unknown options in "${l}"`);
  });
}

test.run();
