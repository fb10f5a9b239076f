// The cost of isolation on a tap (docs/design/app-modules.md, "The cost of
// isolation"): `ixwasm tap` serving the built-in echo and the same echo as an app
// module (examples/echo), each to a kernel client in the tap's namespace (the C
// echo client, host/measure/native/echo.c with HOST PORT: an epoll loop, one
// message in flight per connection, every byte checked), 64-byte messages, at 1
// and at 16 connections. Each run starts one tap of each kind in turn (order
// alternating) and measures both connection counts on it after a warm-up. Besides
// round trips/s: the tap process's CPU per round trip (its /proc stat, every
// thread).
import { interruptPoint } from "./lib/interrupt.ts";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildEchoPair } from "./pair.ts";
import { summarize, type Summary } from "./lib/stats.ts";
import { inNsText } from "../io/netns.ts";
import { startTap as startTapChild, type RunningTap } from "../tap/child.ts";

const TAP_IP = "198.18.0.2";
const CASES = [
  { conns: 1, msgs: 20000 },
  { conns: 16, msgs: 1250 },
] as const; // msgs: per connection

export type TapVariant = "builtin" | "module";

export interface AppModuleTapRow {
  conns: number;
  msgs: number;
  builtin_rtps: Summary;
  module_rtps: Summary;
  ratio: Summary;
  /** 1e6 / module − 1e6 / built-in, per run: what isolation adds to a round trip, µs. */
  isolation_us: Summary;
  /** The tap process's CPU (all its threads) per round trip, µs. */
  builtin_cpu_us: Summary;
  module_cpu_us: Summary;
}

/** Clock ticks of a process (utime + stime from /proc/PID/stat). */
function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return Number(rest[11]) + Number(rest[12]); // fields 14 and 15 (utime, stime)
}
const TICK_US = 1e6 / Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim() || 100);

let seq = 0;
async function startTap(root: string, args: string[]): Promise<RunningTap> {
  const id = `${process.pid % 10000}${seq++}`;
  const fromDist = import.meta.url.includes("/dist/");
  const cli = fromDist ? [join(root, "dist/host/cli.js")] : ["--import", "tsx", join(root, "host/cli.ts")];
  return startTapChild({
    root,
    cli,
    ifname: `appsb${id}`,
    netns: `appsbns${id}`,
    args: [...args, "--duration", "600"],
    readyMs: 60000,
  });
}

/** The C client against the tap: round trips/s and the tap's CPU per round trip. */
function client(exe: string, tap: RunningTap, conns: number, msgs: number): { rtps: number; cpuUs: number } {
  const pid = tap.child.pid!;
  const t0 = cpuTicks(pid);
  const r = inNsText(tap.ns, [exe, String(conns), String(msgs), "64", "200", TAP_IP, "7"], {
    timeoutMs: 150_000,
  });
  const ticks = cpuTicks(pid) - t0;
  if (r.code !== 0) throw new Error(`echo client against the tap: ${r.out}${r.err}`);
  const j = JSON.parse(r.out) as { round_trips: number; round_trips_per_s: number };
  return { rtps: j.round_trips_per_s, cpuUs: (ticks * TICK_US) / j.round_trips };
}

export async function benchAppModulesTap(
  root: string,
  wasm: string,
  runs: number,
): Promise<AppModuleTapRow[]> {
  if (process.getuid?.() !== 0) throw new Error("the tap half needs root (tap devices and namespaces)");
  const { exe } = buildEchoPair();
  const got = new Map<string, { rtps: number[]; cpu: number[] }>();
  const rec = (v: TapVariant, conns: number) => {
    const k = `${v} ${conns}`;
    if (!got.has(k)) got.set(k, { rtps: [], cpu: [] });
    return got.get(k)!;
  };
  for (let i = 0; i < runs; i++) {
    const order: TapVariant[] = i % 2 === 0 ? ["builtin", "module"] : ["module", "builtin"];
    for (const v of order) {
      await interruptPoint();
      const tap = await startTap(root, v === "builtin" ? ["--app", "echo"] : ["--app-module", wasm]);
      try {
        for (const c of CASES) {
          client(exe, tap, c.conns, 500); // warm-up, not counted
          const m = client(exe, tap, c.conns, c.msgs);
          rec(v, c.conns).rtps.push(m.rtps);
          rec(v, c.conns).cpu.push(m.cpuUs);
        }
      } finally {
        const { report } = await tap.stop();
        if (v === "module" && report.module?.run !== "inline")
          throw new Error(`the tap ran the module ${report.module?.run}, not inline`);
      }
    }
  }
  return CASES.map((c) => {
    const b = rec("builtin", c.conns);
    const m = rec("module", c.conns);
    return {
      conns: c.conns,
      msgs: c.msgs,
      builtin_rtps: summarize(b.rtps),
      module_rtps: summarize(m.rtps),
      ratio: summarize(m.rtps.map((x, i) => x / b.rtps[i])),
      isolation_us: summarize(m.rtps.map((x, i) => 1e6 / x - 1e6 / b.rtps[i])),
      builtin_cpu_us: summarize(b.cpu),
      module_cpu_us: summarize(m.cpu),
    };
  });
}
