// Tests that need an external program as their oracle (memcached, tshark...). When
// it is absent they must not pass: under CI (CI set to anything but "", "false" or
// "0"; CI installs every oracle) the suite gets one failing test naming what is
// missing; elsewhere a `note:` line is printed and the tests are registered as
// skipped, so uvu counts them as neither passed nor failed (test/run.mjs shows the
// skipped count beside the note).
import { test } from "uvu";
import * as assert from "uvu/assert";

type Fn = () => void | Promise<void>;

export function oracleTest(what: string, present: boolean): (name: string, fn: Fn) => void {
  if (present) return (name, fn) => test(name, fn);
  const ci = process.env.CI ?? "";
  if (ci !== "" && ci !== "false" && ci !== "0") {
    test(`${what} is installed (CI installs it)`, () => {
      assert.unreachable(`${what} is missing: the tests that compare against it cannot run`);
    });
    return () => {};
  }
  let skipped = 0;
  process.on("exit", () =>
    console.log(
      `note: ${what} not found: ${skipped} comparisons against it were not run (skipped, not passed)`,
    ),
  );
  return (name) => {
    skipped++;
    test.skip(name);
  };
}
