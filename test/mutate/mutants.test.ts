// The mutant list of `npm run mutate` (test/mutate/mutants.mjs) stays valid: every
// `find` text occurs exactly once in its file, every suite substring names at
// least one test file, ids are unique, and each mutant changes something. A list
// that no longer matches the code fails here instead of silently testing nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error: a plain .mjs module without types (the runner reads it too)
import { MUTANTS, matchCount, suiteFiles } from "./mutants.mjs";

interface Mutant {
  id: string;
  area: string;
  file: string;
  find: string;
  replace: string;
  suites: string[];
  why: string;
  known?: { kind: string; reason: string };
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const list = MUTANTS as Mutant[];

test("at least 60 mutants, unique ids, each with an area, a reason and suites", () => {
  assert.ok(list.length >= 60, `${list.length} mutants`);
  const ids = list.map((m) => m.id);
  assert.equal(
    ids.filter((id, i) => ids.indexOf(id) !== i),
    [],
    "duplicate ids",
  );
  for (const m of list) {
    assert.ok(m.area && m.why && m.suites.length > 0, m.id);
    assert.is.not(m.find, m.replace, `${m.id} changes nothing`);
    if (m.known) assert.ok(["equivalent", "holes-branch"].includes(m.known.kind) && m.known.reason, m.id);
  }
});

test("every find text occurs exactly once in its file", () => {
  const bad: string[] = [];
  for (const m of list) {
    const path = join(ROOT, m.file);
    if (!existsSync(path)) {
      bad.push(`${m.id}: ${m.file} does not exist`);
      continue;
    }
    const n = matchCount(readFileSync(path, "utf8"), m.find) as number;
    if (n !== 1) bad.push(`${m.id}: find occurs ${n} times in ${m.file}`);
  }
  assert.equal(bad, []);
});

test("every suite substring names at least one test file", () => {
  const bad: string[] = [];
  for (const m of list)
    for (const s of m.suites) if ((suiteFiles(ROOT, [s]) as string[]).length === 0) bad.push(`${m.id}: ${s}`);
  assert.equal(bad, []);
});

test("matchCount counts exact, non-overlapping occurrences", () => {
  assert.is(matchCount("a < b; a < b", "a < b"), 2);
  assert.is(matchCount("aaa", "aa"), 1);
  assert.is(matchCount("x", "y"), 0);
});

test.run();
