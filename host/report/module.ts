// The app module's lines in a report (pair, tap): pure formatting of ModuleReport.
import type { ModuleReport } from "../apps/module-host.ts";

export function moduleRows(m: ModuleReport): [string, string][] {
  const rows: [string, string][] = [["app module", `${m.path} (port ${m.port}), ${m.batches} batches`]];
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
      `${c.fault}: mbuf pool ${c.mbuf_pool}, TCB table ${c.tcb_table} (0 = intact)`,
    ]);
  return rows;
}
