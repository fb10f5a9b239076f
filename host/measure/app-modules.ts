// The cost of isolation (docs/design/app-modules.md): pair echo against the
// built-in echo app (in the server core) and against the same echo as an app module
// (examples/echo, one copy of each batch each way), run metered in the serving
// thread (the default) and in a worker thread of its own (--app-thread), side by
// side in one run: one-thread pair, 64-byte messages, at 1 connection and at 16.
// Each run does all three, in rotating order, after a warm-up of each that is not
// counted. Besides round trips/s: the process's CPU per round trip (the module's
// thread included), and the isolation's cost per request, the difference of the
// mean round-trip times. Then the same on a tap, against a kernel client
// (app-modules-tap.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pairOneThread, type PairOptions } from "../pair/pair.ts";
import { buildApp } from "../apps/build.ts";
import { loadAppModule } from "../apps/module.ts";
import { DEFAULT_APP_TIMEOUT_MS, type ServedModule } from "../apps/module-host.ts";
import { summarize, fmt, type Summary } from "./lib/stats.ts";
import { ROOT } from "./lib/root.ts";
import { benchAppModulesTap, type AppModuleTapRow } from "./app-modules-tap.ts";

type Variant = "builtin" | "inline" | "thread";
const VARIANTS: Variant[] = ["builtin", "inline", "thread"];

export interface ModuleFigures {
  rtps: Summary;
  /** module / built-in round trips/s, per run (measured back to back). */
  ratio: Summary;
  /** Process CPU (all threads) per round trip, µs. */
  cpu_us: Summary;
  /** 1e6 / module − 1e6 / built-in round trips/s, per run: what isolation adds to a round trip, µs. */
  isolation_us: Summary;
  /** Batches the module ran per round trip (last run). */
  batches_per_rt: number;
}

export interface AppModuleBenchRow {
  conns: number;
  msgs: number;
  builtin_rtps: Summary;
  builtin_cpu_us: Summary;
  /** The module in the serving thread (metered; the default). */
  inline: ModuleFigures;
  /** The module in a worker thread of its own (--app-thread). */
  thread: ModuleFigures;
}

export interface AppModuleBench {
  size: number;
  rows: AppModuleBenchRow[];
  /** The tap half (null with its reason when it could not run: root, gcc). */
  tap: AppModuleTapRow[] | null;
  tap_error: string | null;
}

function measure(o: PairOptions): { rtps: number; cpuUs: number; batches: number } {
  const c0 = process.cpuUsage();
  const r = pairOneThread(o);
  const c = process.cpuUsage(c0);
  if (!r.completed || r.errors)
    throw new Error(`pair ${o.module ? "with the echo module" : "built-in echo"} failed`);
  const want = o.module ? (o.module.thread ? "thread" : "inline") : undefined;
  if (r.module?.run !== want) throw new Error(`the module ran ${r.module?.run}, not ${want}`);
  return {
    rtps: r.round_trips_per_s,
    cpuUs: (c.user + c.system) / r.round_trips,
    batches: r.module ? r.module.batches / r.round_trips : 0,
  };
}

export async function benchAppModules(runs = 5, size = 64, tap = true): Promise<AppModuleBench> {
  const dir = mkdtempSync(join(tmpdir(), "ixwasm-appbench-"));
  try {
    const wasm = join(dir, "echo.wasm");
    await buildApp(join(ROOT, "examples/echo"), { out: wasm });
    const mod = loadAppModule(wasm); // metered: the default way of running it
    const module = (v: Variant): ServedModule | undefined =>
      v === "builtin"
        ? undefined
        : { mod, onFault: "abort", timeoutMs: DEFAULT_APP_TIMEOUT_MS, thread: v === "thread" };
    const rows: AppModuleBenchRow[] = [];
    for (const [conns, msgs] of [
      [1, 20000],
      [16, 2000],
    ]) {
      const base: PairOptions = { app: "echo", conns, msgs, size, workers: 1, faults: {}, timeoutS: 120 };
      for (const v of VARIANTS) measure({ ...base, msgs: 500, module: module(v) });
      const got = new Map(VARIANTS.map((v) => [v, [] as ReturnType<typeof measure>[]]));
      for (let i = 0; i < runs; i++)
        for (let k = 0; k < VARIANTS.length; k++) {
          const v = VARIANTS[(i + k) % VARIANTS.length]; // rotating order
          got.get(v)!.push(measure({ ...base, module: module(v) }));
        }
      const b = got.get("builtin")!;
      const figures = (v: Variant): ModuleFigures => {
        const m = got.get(v)!;
        return {
          rtps: summarize(m.map((x) => x.rtps)),
          ratio: summarize(m.map((x, i) => x.rtps / b[i].rtps)),
          cpu_us: summarize(m.map((x) => x.cpuUs)),
          isolation_us: summarize(m.map((x, i) => 1e6 / x.rtps - 1e6 / b[i].rtps)),
          batches_per_rt: m[m.length - 1].batches,
        };
      };
      rows.push({
        conns,
        msgs,
        builtin_rtps: summarize(b.map((x) => x.rtps)),
        builtin_cpu_us: summarize(b.map((x) => x.cpuUs)),
        inline: figures("inline"),
        thread: figures("thread"),
      });
    }
    let tapRows: AppModuleTapRow[] | null = null;
    let tapError: string | null = tap ? null : "not asked for";
    if (tap)
      try {
        tapRows = await benchAppModulesTap(ROOT, wasm, runs);
      } catch (e) {
        tapError = (e as Error).message;
      }
    return { size, rows, tap: tapRows, tap_error: tapError };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatAppModuleBench(
  b: AppModuleBench,
  row: (name: string, s: Summary, unit: string) => string,
): string[] {
  const out = [
    `\napp modules: pair echo (one thread, ${b.size}-byte messages), built-in echo vs examples/echo as an app module, run in the serving thread (metered, the default) and in a thread of its own (--app-thread); measured back to back in each run, order rotating, warm-ups not counted.`,
  ];
  for (const r of b.rows) {
    out.push(`  ${r.conns} connection(s) × ${r.msgs} messages:`);
    out.push(row(`built-in echo, ${r.conns} conn`, r.builtin_rtps, "round trips/s"));
    out.push(row(`process CPU, built-in, ${r.conns} conn`, r.builtin_cpu_us, "µs/round trip"));
    for (const [name, f] of [
      ["module", r.inline],
      ["module --app-thread", r.thread],
    ] as const) {
      out.push(row(`echo ${name}, ${r.conns} conn`, f.rtps, "round trips/s"));
      out.push(row(`${name} / built-in, ${r.conns} conn`, f.ratio, "x"));
      out.push(row(`isolation cost, ${name}, ${r.conns} conn`, f.isolation_us, "µs/round trip"));
      out.push(row(`process CPU, ${name}, ${r.conns} conn`, f.cpu_us, "µs/round trip"));
      out.push(`    ${name} batches per round trip: ${fmt(f.batches_per_rt)}`);
    }
  }
  if (!b.tap) {
    out.push(`  tap: not measured (${b.tap_error})`);
    return out;
  }
  out.push(
    `\napp modules on a tap: ixwasm tap (main thread) serving the built-in echo vs the echo module to a kernel client in its namespace (host/measure/native/echo.c, epoll, ${b.size}-byte messages, every byte checked); one tap of each per run, order alternating.`,
  );
  for (const r of b.tap) {
    out.push(`  ${r.conns} connection(s) × ${r.msgs} messages each:`);
    out.push(row(`tap built-in echo, ${r.conns} conn`, r.builtin_rtps, "round trips/s"));
    out.push(row(`tap echo module, ${r.conns} conn`, r.module_rtps, "round trips/s"));
    out.push(row(`tap module / built-in, ${r.conns} conn`, r.ratio, "x"));
    out.push(row(`tap isolation cost, ${r.conns} conn`, r.isolation_us, "µs/round trip"));
    out.push(row(`tap process CPU, built-in, ${r.conns} conn`, r.builtin_cpu_us, "µs/round trip"));
    out.push(row(`tap process CPU, module, ${r.conns} conn`, r.module_cpu_us, "µs/round trip"));
  }
  return out;
}
