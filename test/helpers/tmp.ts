// Temporary directories for tests: made in the OS temp dir with the "ixwasm-"
// prefix and removed when the suite's process exits, passed or failed, so a
// test run leaves nothing behind (test/run.mjs checks that it does not).
// IXWASM_KEEP_TMP=1 keeps them, to look at what a failing test wrote.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** A new directory named ixwasm-NAME-XXXXXX, removed with its contents at exit. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ixwasm-${name}-`));
  if (made.length === 0 && !process.env.IXWASM_KEEP_TMP)
    process.once("exit", () => {
      for (const d of made)
        try {
          rmSync(d, { recursive: true, force: true });
        } catch {} // still in use (EBUSY): test/run.mjs names what is left
    });
  made.push(dir);
  return dir;
}
