// The house rules of issue 15 that a tool can check: no import circle between
// source files (host/, assembly/, abi/), no source file over 800 lines, nothing in
// host/ importing bench/. A circle is reported with its files, in import order.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const MAX_LINES = 800;

function files(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const p = join(dir, name);
    if (statSync(join(root, p)).isDirectory()) out.push(...files(p, exts));
    else if (exts.some((e) => name.endsWith(e))) out.push(p);
  }
  return out;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s*["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)|(?:^|\n)\s*import\s*["'](\.{1,2}\/[^"']+)["']/g;

/** Relative imports of each file, resolved to repository paths (AssemblyScript omits the .ts). */
export function importGraph(paths: string[]): Map<string, string[]> {
  const known = new Set(paths);
  const g = new Map<string, string[]>();
  for (const f of paths) {
    const text = readFileSync(join(root, f), "utf8");
    const deps: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      let t = normalize(join(dirname(f), m[1] ?? m[2] ?? m[3]));
      if (!t.endsWith(".ts")) t += ".ts";
      if (known.has(t)) deps.push(t);
    }
    g.set(f, deps);
  }
  return g;
}

/** One circle per strongly connected component of more than one file (or a file importing itself). */
export function circles(g: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (g.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

test("the circle finder finds a circle and only circles", () => {
  const g = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts", "d.ts"]],
    ["d.ts", []],
  ]);
  assert.equal(circles(g), [["a.ts", "b.ts", "c.ts"]]);
  g.set("c.ts", ["d.ts"]);
  assert.equal(circles(g), []);
});

for (const dir of ["host", "assembly", "abi"])
  test(`no import circle in ${dir}/`, () => {
    const found = circles(importGraph(files(dir, [".ts"])));
    assert.equal(found, [], `circles: ${found.map((c) => c.join(" -> ")).join("; ")}`);
  });

test(`no source or test file over ${MAX_LINES} lines`, () => {
  const all = ["abi", "assembly", "host", "test", "bench"].flatMap((d) => files(d, [".ts", ".mjs", ".c"]));
  const long = all
    .map((f) => ({ f, n: readFileSync(join(root, f), "utf8").split("\n").length - 1 }))
    .filter((x) => x.n > MAX_LINES)
    .map((x) => `${x.f} (${x.n})`);
  assert.equal(long, []);
});

test("nothing in host/ imports bench/", () => {
  const bad = [...importGraph(files("host", [".ts"])).keys()].filter((f) =>
    /from\s*["'][./]*bench\//.test(readFileSync(join(root, f), "utf8")),
  );
  assert.equal(bad, []);
  assert.ok(relative(root, join(root, "host")) === "host");
});

test.run();
