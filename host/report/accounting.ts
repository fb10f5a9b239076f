// Where a replay run's time went (issue 16 §1): every stage on the clock the
// report's rate (pps) is computed from (the host's performance.now()), their sum
// and what is left over (the residual), so that the stages account for the whole
// run. The stages are timed per read batch or per poll, never per packet.
export const ACCOUNTING_SCHEMA = "ixwasm-accounting/1";

export interface AccountedStage {
  name: string;
  /** What the stage covers. */
  about: string;
  ms: number;
  ns_per_packet: number;
  /** Share of the total, %. */
  pct: number;
}

export interface StageAccounting {
  schema: typeof ACCOUNTING_SCHEMA;
  clock: string;
  /** what `packets` counts and the per-unit figures divide by (pair: round trips, tap: frames received) */
  unit?: string;
  packets: number;
  /** From the run's first clock read to the report (and the pre-scan, when the run made one). */
  total_ms: number;
  total_ns_per_packet: number;
  stages: AccountedStage[];
  sum_ms: number;
  /** total − sum: time no stage claims. */
  residual_ms: number;
  residual_pct: number;
  /** Figures inside the stages' time, shown beside them and not added (the time off the CPU). */
  aside?: AccountedStage[];
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** The accounting of a run of `packets` input packets, `totalMs` long, from its stages [name, about, ms]. */
export function accounting(
  packets: number,
  totalMs: number,
  parts: [string, string, number][],
  unit?: { unit: string; clock: string; aside?: [string, string, number][] },
): StageAccounting {
  const per = (ms: number) => (packets ? r2((ms * 1e6) / packets) : 0);
  const pct = (ms: number) => (totalMs > 0 ? r2((ms / totalMs) * 100) : 0);
  const sum = parts.reduce((a, [, , ms]) => a + ms, 0);
  const stage = ([name, about, ms]: [string, string, number]): AccountedStage => ({
    name,
    about,
    ms: r2(ms),
    ns_per_packet: per(ms),
    pct: pct(ms),
  });
  return {
    schema: ACCOUNTING_SCHEMA,
    clock:
      unit?.clock ??
      "host performance.now(), the clock of pps and duration_s; read once per read batch or poll, never per packet",
    ...(unit ? { unit: unit.unit } : {}),
    packets,
    total_ms: r2(totalMs),
    total_ns_per_packet: per(totalMs),
    stages: parts.map(stage),
    sum_ms: r2(sum),
    residual_ms: r2(totalMs - sum),
    residual_pct: pct(totalMs - sum),
    ...(unit?.aside ? { aside: unit.aside.map(stage) } : {}),
  };
}

/** The accounting's table rows: one per stage, then the sum, the total and the residual. */
export function accountingRows(a: StageAccounting): [string, string][] {
  const w = Math.max(...a.stages.map((s) => s.name.length), ...(a.aside ?? []).map((s) => s.name.length), 8);
  const u = a.unit === undefined ? "packet" : a.unit.replace(/ /g, "-");
  const row = (name: string, ms: number, ns: number, pct: string) =>
    `${name.padEnd(w)} ${ms.toFixed(2).padStart(10)} ms ${ns.toFixed(1).padStart(10)} ns/${u} ${pct.padStart(8)}`;
  return [
    ["time", `where the run's ${a.total_ms.toFixed(1)} ms went (${a.clock})`],
    ...a.stages.map((s): [string, string] => [
      "",
      `${row(s.name, s.ms, s.ns_per_packet, `${s.pct} %`)}  ${s.about}`,
    ]),
    ["", row("sum", a.sum_ms, a.packets ? (a.sum_ms * 1e6) / a.packets : 0, "")],
    ["", row("total", a.total_ms, a.total_ns_per_packet, "")],
    [
      "",
      row(
        "residual",
        a.residual_ms,
        a.packets ? (a.residual_ms * 1e6) / a.packets : 0,
        `${a.residual_pct} %`,
      ),
    ],
    ...(a.aside ?? []).map((s): [string, string] => [
      "",
      `${row(s.name, s.ms, s.ns_per_packet, `${s.pct} %`)}  ${s.about}`,
    ]),
  ];
}

/** One thread's (or core's) accounting, headed by its name, as indented rows. */
export function formatAccounting(thread: string, a: StageAccounting): string {
  return (
    accountingRows(a)
      .map(([k, v], i) => (i === 0 ? `${k} (${thread}) ${v}` : `  ${v}`))
      .join("\n") + "\n"
  );
}
