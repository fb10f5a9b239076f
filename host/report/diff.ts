// `ixwasm diff A.json B.json`: per-stage and total deltas between two cost
// reports, each with a noise band from the runs' own spread, so a change is
// called slower or faster only when it is larger than the two runs' scatter.
//
// Accepts replay reports (schema ixwasm-replay/1 or /2; the stage cost of --stages
// has medians with min..max, a plain report has single figures and no band),
// cost ladders (ixwasm-ladder/2, and /1) and instruction counts (ixwasm-instructions/2, and /1 of
// reports written before the windowed method: its runs hold the same per_packet).
import { readFileSync } from "node:fs";
import { UsageError } from "../io/errors.ts";

export const DIFF_SCHEMA = "ixwasm-diff/1";

export interface Figure {
  median: number;
  min: number;
  max: number;
}

export interface DiffRow {
  name: string;
  unit: string;
  a: number;
  b: number;
  delta: number;
  delta_pct: number;
  /** |delta| within this is noise: half of A's range plus half of B's */
  band: number;
  verdict: "same" | "within noise" | "slower" | "faster";
}

export interface DiffResult {
  schema: typeof DIFF_SCHEMA;
  kind: string;
  a: string;
  b: string;
  rows: DiffRow[];
  regressions: number;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The comparable figures of a report, by name. */
export function figures(r: Json): { kind: string; unit: string; figs: Map<string, Figure> } {
  const figs = new Map<string, Figure>();
  const one = (x: number): Figure => ({ median: x, min: x, max: x });
  if (r.schema === "ixwasm-replay/1" || r.schema === "ixwasm-replay/2") {
    const c = r.cost?.stage_cost;
    if (c) {
      for (const s of c.stages) figs.set(s.name, { median: s.ns_per_packet, min: s.min, max: s.max });
      figs.set("total", c.total_ns_per_packet);
      figs.set("untimed (host clock)", c.overhead.untimed_ns_per_packet);
    } else for (const [k, v] of Object.entries(r.stages ?? {})) figs.set(k, one(v as number));
    return { kind: `replay ${r.mode}`, unit: "ns/packet", figs };
  }
  if (r.schema === "ixwasm-ladder/2" || r.schema === "ixwasm-ladder/1") {
    for (const g of r.rungs) if (g.ns_per_packet) figs.set(g.name, g.ns_per_packet);
    return { kind: "ladder", unit: "ns/packet", figs };
  }
  if (r.schema === "ixwasm-instructions/2" || r.schema === "ixwasm-instructions/1") {
    const pp = (r.windows ?? r.runs).map((x: Json) => x.per_packet as number);
    figs.set(`instructions (${r.mode})`, {
      median: r.per_packet,
      min: Math.min(...pp),
      max: Math.max(...pp),
    });
    return { kind: "instructions", unit: "Ir/packet", figs };
  }
  throw new UsageError(
    `not a cost report (schema ${JSON.stringify(r.schema)})`,
    "use JSON from replay --report json [--stages], bench ladder --json or bench instructions --json",
  );
}

export function diffReports(a: Json, b: Json, aName = "A", bName = "B"): DiffResult {
  const fa = figures(a);
  const fb = figures(b);
  if (fa.kind !== fb.kind)
    throw new UsageError(
      `${aName} is ${fa.kind}, ${bName} is ${fb.kind}`,
      "compare reports of the same kind",
    );
  const rows: DiffRow[] = [];
  const r2 = (x: number) => Math.round(x * 100) / 100;
  for (const [name, x] of fa.figs) {
    const y = fb.figs.get(name);
    if (!y) continue;
    const delta = y.median - x.median;
    const band = (x.max - x.min) / 2 + (y.max - y.min) / 2;
    const verdict: DiffRow["verdict"] =
      delta === 0 ? "same" : Math.abs(delta) <= band ? "within noise" : delta > 0 ? "slower" : "faster";
    rows.push({
      name,
      unit: fa.unit,
      a: x.median,
      b: y.median,
      delta: r2(delta),
      delta_pct: x.median ? r2((delta / x.median) * 100) : 0,
      band: r2(band),
      verdict,
    });
  }
  return {
    schema: DIFF_SCHEMA,
    kind: fa.kind,
    a: aName,
    b: bName,
    rows,
    regressions: rows.filter((r) => r.verdict === "slower").length,
  };
}

export function readReport(path: string): Json {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`, "give two JSON cost reports");
  }
}

export function formatDiff(d: DiffResult): string {
  const rows = [
    `${d.kind}: ${d.a} → ${d.b} (${d.rows[0]?.unit ?? ""}; band = half of each run's min..max range)`,
    `  ${"figure".padEnd(22)} ${"A".padStart(10)} ${"B".padStart(10)} ${"delta".padStart(10)} ${"%".padStart(8)} ${"± band".padStart(8)}  verdict`,
  ];
  for (const r of d.rows)
    rows.push(
      `  ${r.name.padEnd(22)} ${r.a.toFixed(2).padStart(10)} ${r.b.toFixed(2).padStart(10)} ${(r.delta >= 0 ? "+" : "") + r.delta.toFixed(2).padStart(9)} ${((r.delta_pct >= 0 ? "+" : "") + r.delta_pct.toFixed(1)).padStart(8)} ${r.band.toFixed(2).padStart(8)}  ${r.verdict}`,
    );
  rows.push(
    d.regressions
      ? `  ${d.regressions} figure(s) slower beyond the noise band`
      : "  no figure slower beyond the noise band",
  );
  return rows.join("\n") + "\n";
}
