// The app module's lines in a report (pair, tap): pure formatting of ModuleReport.
import type { ModuleReport } from "../apps/module-host.ts";

export function moduleRows(m: ModuleReport): [string, string][] {
  const rows: [string, string][] = [
    ["app module", `${m.path} (port ${m.port}), ${m.batches} batches, run ${m.run}`],
  ];
  const faults = Object.entries(m.faults)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  if (faults.length || m.garbage_commands || m.rejected)
    rows.push([
      "app module faults",
      `${faults.join(", ") || "none"}; ${m.fault_resets} connection(s) reset, ${m.restarts} restart(s), ` +
        `${m.garbage_commands} command(s) refused, ${m.rejected} connection(s) refused` +
        (m.down ? `; DOWN: ${m.down}` : ""),
    ]);
  for (const c of m.checks)
    rows.push([
      "checks after fault",
      `${c.worker !== undefined ? `worker ${c.worker}, ` : ""}${c.fault}: mbuf pool ${c.mbuf_pool}, TCB table ${c.tcb_table} (0 = intact)`,
    ]);
  return rows;
}

/**
 * One figure for several workers' modules (tap, serve with workers, each worker
 * with a module instance of its own): counts summed, the checks after each fault
 * listed with their worker, a module down on any worker named with it.
 */
export function mergeModuleReports(per: (ModuleReport | null | undefined)[]): ModuleReport | undefined {
  const all = per.map((m, w) => [m, w] as const).filter((x): x is [ModuleReport, number] => !!x[0]);
  if (all.length === 0) return undefined;
  if (all.length === 1 && per.length === 1) return all[0][0];
  const [first] = all[0];
  const faults = { ...first.faults };
  for (const k of Object.keys(faults) as (keyof ModuleReport["faults"])[])
    faults[k] = all.reduce((a, [m]) => a + m.faults[k], 0);
  const sum = (f: (m: ModuleReport) => number) => all.reduce((a, [m]) => a + f(m), 0);
  const down = all.filter(([m]) => m.down !== null).map(([m, w]) => `worker ${w}: ${m.down}`);
  return {
    path: first.path,
    port: first.port,
    run: first.run,
    batches: sum((m) => m.batches),
    faults,
    restarts: sum((m) => m.restarts),
    fault_resets: sum((m) => m.fault_resets),
    garbage_commands: sum((m) => m.garbage_commands),
    rejected: sum((m) => m.rejected),
    checks: all.flatMap(([m, w]) => m.checks.map((c) => ({ ...c, worker: w }))),
    down: down.length ? down.join("; ") : null,
  };
}
