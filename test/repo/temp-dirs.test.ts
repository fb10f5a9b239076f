// test/helpers/tmp.ts: a suite's temporary directories are gone once its process
// has exited, passed or failed (test/run.mjs fails a run that leaves any), and
// the test files make theirs with it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("../..", import.meta.url).pathname;

/** Runs a child that makes a temp dir with a file in it, prints the dir and exits with `code`. */
function child(code: number, env: Record<string, string> = {}): string {
  const src =
    `import { writeFileSync } from "node:fs";` +
    `import { tempDir } from "./test/helpers/tmp.ts";` +
    `const d = tempDir("selftest"); writeFileSync(d + "/f", "x"); console.log(d); process.exitCode = ${code};`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", src], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  assert.is(r.status, code, r.stderr);
  const dir = r.stdout.trim();
  assert.match(dir, /ixwasm-selftest-/);
  return dir;
}

test("a temp dir and its files are removed when the process exits", () => {
  assert.not.ok(existsSync(child(0)), "left after a clean exit");
});

test("also when the suite failed (exit code 1)", () => {
  assert.not.ok(existsSync(child(1)), "left after a failing exit");
});

test("IXWASM_KEEP_TMP=1 keeps it", () => {
  const dir = child(0, { IXWASM_KEEP_TMP: "1" });
  assert.ok(existsSync(join(dir, "f")), "not kept");
  rmSync(dir, { recursive: true, force: true });
});

test("test files make their temp dirs with the helper, not with mkdtempSync in the OS temp dir", () => {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith(".ts") && p !== join(ROOT, "test/helpers/tmp.ts")) files.push(p);
    }
  };
  walk(join(ROOT, "test"));
  const bad = files.filter((f) => /mkdtempSync\(\s*join\(\s*tmpdir\(\)/.test(readFileSync(f, "utf8")));
  assert.equal(bad, []);
  assert.ok(files.length > 100, `only ${files.length} files walked`);
});

test.run();
