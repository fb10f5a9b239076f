// The cost of isolation (docs/design/app-modules.md): pair echo against the
// built-in echo app (in the server core) and against the same echo as an app module
// (examples/echo, one copy of each batch each way), run metered in the serving
// thread (the default) and in a worker thread of its own (--app-thread), side by
// side in one run: one-thread pair, 64-byte messages, at 1 connection and at 16.
// Each run does all three, in rotating order, after a warm-up of each that is not
// counted (20,000 round trips, the same for all three: the process's JIT and the
// module's tier-up settle before any counted run). Counted runs are 100,000 round
// trips whatever the connection count: shorter runs weighed the start-up of each
// run's fresh core and module instance more (performance-log §5). Besides round trips/s: the process's CPU per round trip (the module's
// thread included), and the isolation's cost per request, the difference of the
// mean round-trip times. Then the same on a tap, against a kernel client
// (app-modules-tap.ts).
import { BenchInterrupted } from "./lib/interrupt.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
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
/** Round trips of each counted run and of each variant's warm-up, spread over the connections. */
export const COUNTED_ROUND_TRIPS = 100_000;
export const WARMUP_ROUND_TRIPS = 20_000;
const CONNS = [1, 16];

export interface ModuleFigures {
  rtps: Summary;
  /** module / built-in round trips/s, per run (measured back to back). */
  ratio: Summary;
  /** Process CPU (all threads) per round trip, µs: set-up and close of the run's cores and module instance included. */
  cpu_us: Summary;
  /** The serving loop's thread CPU per round trip, µs: the steady state, no set-up (the module's own thread not included). */
  loop_cpu_us: Summary;
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
  builtin_loop_cpu_us: Summary;
  /** The module in the serving thread (metered; the default). */
  inline: ModuleFigures;
  /** The module in a worker thread of its own (--app-thread). */
  thread: ModuleFigures;
}

export interface AppModuleBench {
  size: number;
  rows: AppModuleBenchRow[];
  /** 1-minute load average when the pair half started and when it ended. */
  load: [number, number];
  /** The tap half (null with its reason when it could not run: root, gcc). */
  tap: AppModuleTapRow[] | null;
  tap_error: string | null;
}

function measure(o: PairOptions): { rtps: number; cpuUs: number; loopCpuUs: number; batches: number } {
  const c0 = process.cpuUsage();
  const r = pairOneThread({ ...o, loopCpu: true });
  const c = process.cpuUsage(c0);
  if (!r.completed || r.errors)
    throw new Error(`pair ${o.module ? "with the echo module" : "built-in echo"} failed`);
  const want = o.module ? (o.module.thread ? "thread" : "inline") : undefined;
  if (r.module?.run !== want) throw new Error(`the module ran ${r.module?.run}, not ${want}`);
  return {
    rtps: r.round_trips_per_s,
    cpuUs: (c.user + c.system) / r.round_trips,
    loopCpuUs: ((r.loop_cpu_ms ?? NaN) * 1000) / r.round_trips,
    batches: r.module ? r.module.batches / r.round_trips : 0,
  };
}

export async function benchAppModules(
  runs = 5,
  size = 64,
  tap = true,
  roundTrips = COUNTED_ROUND_TRIPS,
  warmup = WARMUP_ROUND_TRIPS,
): Promise<AppModuleBench> {
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
    const load0 = loadavg()[0];
    for (const conns of CONNS) {
      const msgs = Math.ceil(roundTrips / conns); // per connection
      const base: PairOptions = { app: "echo", conns, msgs, size, workers: 1, faults: {}, timeoutS: 300 };
      // Each variant's warm-up, not counted, the same length for all three.
      for (const v of VARIANTS) measure({ ...base, msgs: Math.ceil(warmup / conns), module: module(v) });
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
          loop_cpu_us: summarize(m.map((x) => x.loopCpuUs)),
          isolation_us: summarize(m.map((x, i) => 1e6 / x.rtps - 1e6 / b[i].rtps)),
          batches_per_rt: m[m.length - 1].batches,
        };
      };
      rows.push({
        conns,
        msgs,
        builtin_rtps: summarize(b.map((x) => x.rtps)),
        builtin_cpu_us: summarize(b.map((x) => x.cpuUs)),
        builtin_loop_cpu_us: summarize(b.map((x) => x.loopCpuUs)),
        inline: figures("inline"),
        thread: figures("thread"),
      });
    }
    const load: [number, number] = [load0, loadavg()[0]];
    let tapRows: AppModuleTapRow[] | null = null;
    let tapError: string | null = tap ? null : "not asked for";
    if (tap)
      try {
        tapRows = await benchAppModulesTap(ROOT, wasm, runs);
      } catch (e) {
        if (e instanceof BenchInterrupted) throw e; // not a failure of the tap half: the run is stopping
        tapError = (e as Error).message;
      }
    return { size, rows, load, tap: tapRows, tap_error: tapError };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatAppModuleBench(
  b: AppModuleBench,
  row: (name: string, s: Summary, unit: string) => string,
): string[] {
  const out = [
    `\napp modules: pair echo (one thread, ${b.size}-byte messages), built-in echo vs examples/echo as an app module, run in the serving thread (metered, the default) and in a thread of its own (--app-thread); measured back to back in each run, order rotating; each variant warmed up first (uncounted), load average ${fmt(b.load[0])} at the start, ${fmt(b.load[1])} at the end.`,
  ];
  for (const r of b.rows) {
    out.push(`  ${r.conns} connection(s) × ${r.msgs} messages (${r.conns * r.msgs} round trips per run):`);
    out.push(row(`built-in echo, ${r.conns} conn`, r.builtin_rtps, "round trips/s"));
    out.push(row(`process CPU, built-in, ${r.conns} conn`, r.builtin_cpu_us, "µs/round trip"));
    out.push(row(`serving-loop CPU, built-in, ${r.conns} conn`, r.builtin_loop_cpu_us, "µs/round trip"));
    for (const [name, f] of [
      ["module", r.inline],
      ["module --app-thread", r.thread],
    ] as const) {
      out.push(row(`echo ${name}, ${r.conns} conn`, f.rtps, "round trips/s"));
      out.push(row(`${name} / built-in, ${r.conns} conn`, f.ratio, "x"));
      out.push(row(`isolation cost, ${name}, ${r.conns} conn`, f.isolation_us, "µs/round trip"));
      out.push(row(`process CPU, ${name}, ${r.conns} conn`, f.cpu_us, "µs/round trip"));
      out.push(row(`serving-loop CPU, ${name}, ${r.conns} conn`, f.loop_cpu_us, "µs/round trip"));
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
