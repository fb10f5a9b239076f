// The one rule for a test whose oracle is missing (tshark, memcached, valgrind,
// chromium, root, the public corpus...): it never passes silently.
//
//   if (requireOracle("tshark", haveTshark(), TSHARK_HINT, "the capture check"))
//     test("tshark reads the capture cleanly", ...);
//
// Register the tests that need the oracle only when this returns true. When the
// oracle is missing:
//  - under CI=true a failing test "<name> is available" is registered (once per
//    name and file): the suite FAILS, and CI never runs short of an oracle;
//  - otherwise one line "note: missing oracle: <name> (<hint>): <what> not run"
//    is printed and no test is registered for it. test/run.mjs counts every such
//    line as one check "not run" (never as passed): a suite left with no test at
//    all is shown as "MISS", not "ok", and the run ends with how many were not
//    run beside "N passed, N failed".
// Decide at registration time, never inside a test body (a test that returns early
// is counted as passed by uvu): put the oracle's part of a check in a test of its own.
import { spawnSync } from "node:child_process";
import { test } from "uvu";
import * as assert from "uvu/assert";

/** The prefix test/run.mjs looks for (keep the two in step). */
export const MISSING_ORACLE = "note: missing oracle:";

const failing = new Set<string>();

/** CI=true (any value but empty, 0 or false). */
export function inCi(): boolean {
  const v = process.env.CI ?? "";
  return v !== "" && v !== "0" && v !== "false";
}

export function requireOracle(name: string, available: boolean, hint: string, what = "its tests"): boolean {
  if (available) return true;
  if (inCi()) {
    if (!failing.has(name)) {
      failing.add(name);
      test(`${name} is available`, () => {
        assert.unreachable(`${name} is missing (${hint}); CI must have it`);
      });
    }
  } else console.log(`${MISSING_ORACLE} ${name} (${hint}): ${what} not run`);
  return false;
}

/** A program on PATH that runs (`<tool> <args>` exits 0). */
export function haveTool(tool: string, args = ["--version"]): boolean {
  return spawnSync(tool, args, { stdio: "ignore" }).status === 0;
}

let tshark: boolean | undefined;
/** tshark, the reference decoder (Debian package tshark); looked up once. */
export function haveTshark(): boolean {
  return (tshark ??= haveTool("tshark", ["-v"]));
}
export const TSHARK_HINT = "apt-get install tshark; .ci/run installs it";

type Fn = () => void | Promise<void>;

/**
 * A `test` for a suite whose every check needs the oracle `what` (e.g. the memcached
 * differential suite): with the oracle present it is uvu's test; without it,
 * requireOracle's rule (a failing test under CI, one "missing oracle" note
 * otherwise) and the checks are not registered.
 */
export function oracleTest(what: string, present: boolean, hint: string): (name: string, fn: Fn) => void {
  if (present) return (name, fn) => test(name, fn);
  requireOracle(what, false, hint, "every comparison against it");
  return () => {};
}
