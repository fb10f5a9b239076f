// The cost of isolation (docs/design/app-modules.md): pair echo against the
// built-in echo app (in the server core) and against the same echo as an app module
// (examples/echo, in a worker of its own, one copy of each batch each way), side by
// side in one run: one-thread pair, 64-byte messages, at 1 connection (every
// request crosses to the module's thread and back alone) and at 16 (batches carry
// several). Each run does both, in alternating order, after a warm-up of each that
// is not counted. Besides round trips/s: the process's CPU per round trip (the
// module's thread included), and the isolation's cost per request, the difference
// of the two mean round-trip times.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pairOneThread, type PairOptions } from "../pair/pair.ts";
import { buildApp } from "../apps/build.ts";
import { DEFAULT_APP_TIMEOUT_MS } from "../apps/module-host.ts";
import { summarize, fmt, type Summary } from "./lib/stats.ts";
import { ROOT } from "./lib/root.ts";

export interface AppModuleBenchRow {
  conns: number;
  msgs: number;
  builtin_rtps: Summary;
  module_rtps: Summary;
  /** module / built-in round trips/s, per run (the two measured back to back). */
  ratio: Summary;
  /** Process CPU (all threads) per round trip, µs. */
  builtin_cpu_us: Summary;
  module_cpu_us: Summary;
  /** 1e6 / module_rtps − 1e6 / builtin_rtps, per run: what isolation adds to a round trip, µs. */
  isolation_us: Summary;
  /** Batches the module ran per round trip (last run). */
  batches_per_rt: number;
}

export interface AppModuleBench {
  size: number;
  rows: AppModuleBenchRow[];
}

function measure(o: PairOptions): { rtps: number; cpuUs: number; batches: number } {
  const c0 = process.cpuUsage();
  const r = pairOneThread(o);
  const c = process.cpuUsage(c0);
  if (!r.completed || r.errors)
    throw new Error(`pair ${o.module ? "with the echo module" : "built-in echo"} failed`);
  return {
    rtps: r.round_trips_per_s,
    cpuUs: (c.user + c.system) / r.round_trips,
    batches: r.module ? r.module.batches / r.round_trips : 0,
  };
}

export async function benchAppModules(runs = 5, size = 64): Promise<AppModuleBench> {
  const dir = mkdtempSync(join(tmpdir(), "ixwasm-appbench-"));
  try {
    const { mod } = await buildApp(join(ROOT, "examples/echo"), { out: join(dir, "echo.wasm") });
    const module = { mod, onFault: "abort" as const, timeoutMs: DEFAULT_APP_TIMEOUT_MS };
    const rows: AppModuleBenchRow[] = [];
    for (const [conns, msgs] of [
      [1, 20000],
      [16, 2000],
    ]) {
      const base: PairOptions = { app: "echo", conns, msgs, size, workers: 1, faults: {}, timeoutS: 120 };
      measure({ ...base, msgs: 500 });
      measure({ ...base, msgs: 500, module });
      const b: number[] = [];
      const m: number[] = [];
      const bc: number[] = [];
      const mc: number[] = [];
      const ratio: number[] = [];
      const iso: number[] = [];
      let batches = 0;
      for (let i = 0; i < runs; i++) {
        const first = i % 2 === 0;
        const x = first ? measure(base) : null;
        const y = measure({ ...base, module });
        const z = x ?? measure(base);
        b.push(z.rtps);
        m.push(y.rtps);
        bc.push(z.cpuUs);
        mc.push(y.cpuUs);
        ratio.push(y.rtps / z.rtps);
        iso.push(1e6 / y.rtps - 1e6 / z.rtps);
        batches = y.batches;
      }
      rows.push({
        conns,
        msgs,
        builtin_rtps: summarize(b),
        module_rtps: summarize(m),
        ratio: summarize(ratio),
        builtin_cpu_us: summarize(bc),
        module_cpu_us: summarize(mc),
        isolation_us: summarize(iso),
        batches_per_rt: batches,
      });
    }
    return { size, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatAppModuleBench(
  b: AppModuleBench,
  row: (name: string, s: Summary, unit: string) => string,
): string[] {
  const out = [
    `\napp modules: pair echo (one thread, ${b.size}-byte messages), built-in echo vs examples/echo as an app module in a worker of its own; measured back to back in each run, order alternating, warm-ups not counted.`,
  ];
  for (const r of b.rows) {
    out.push(`  ${r.conns} connection(s) × ${r.msgs} messages:`);
    out.push(row(`built-in echo, ${r.conns} conn`, r.builtin_rtps, "round trips/s"));
    out.push(row(`echo module, ${r.conns} conn`, r.module_rtps, "round trips/s"));
    out.push(row(`module / built-in, ${r.conns} conn`, r.ratio, "x"));
    out.push(row(`isolation cost, ${r.conns} conn`, r.isolation_us, "µs/round trip"));
    out.push(row(`process CPU, built-in, ${r.conns} conn`, r.builtin_cpu_us, "µs/round trip"));
    out.push(row(`process CPU, module, ${r.conns} conn`, r.module_cpu_us, "µs/round trip"));
    out.push(`    module batches per round trip: ${fmt(r.batches_per_rt)}`);
  }
  return out;
}
