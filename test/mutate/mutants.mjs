// The mutants of `npm run mutate` (test/mutate/run.mjs): each one is a single exact
// text replacement in one source file, a small plausible bug (operator flipped,
// off by one, check dropped, fields swapped), with the suites that should catch it.
//   id      unique name
//   area    the group it is counted in
//   file    path from the repository root
//   find    exact text; must occur exactly once in the file (else the mutant is stale)
//   replace the text put in its place
//   suites  substrings of test file paths, as `node test/run.mjs` takes them
//   why     the bug it stands for
//   known   optional { kind, reason } for a mutant expected to survive: "equivalent"
//           (no behaviour differs), or "holes-branch" (a test for it is on its way)
// test/mutate/mutants.test.ts keeps this list valid against the tree.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { TCP_MUTANTS } from "./mutants/tcp.mjs";
import { TIMING_MUTANTS } from "./mutants/timing.mjs";
import { FLOW_MUTANTS } from "./mutants/flow.mjs";
import { HOST_MUTANTS } from "./mutants/host.mjs";

/** Every mutant, by group (test/mutate/mutants/*.mjs). */
export const MUTANTS = [...TCP_MUTANTS, ...TIMING_MUTANTS, ...FLOW_MUTANTS, ...HOST_MUTANTS];

/** Occurrences of find in text (non-overlapping). */
export function matchCount(text, find) {
  let n = 0;
  for (let i = text.indexOf(find); i >= 0; i = text.indexOf(find, i + find.length)) n++;
  return n;
}

/** Test files under root/test whose path contains one of the substrings. */
export function suiteFiles(root, substrings) {
  const all = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".test.ts")) all.push(relative(root, p));
    }
  };
  walk(join(root, "test"));
  return all.sort().filter((f) => substrings.some((s) => f.includes(s)));
}
