// Scale (issue 10): per-packet cost of `replay --mode track` with 1 M concurrent
// connections against 1 k, and the memory each connection costs. Both captures
// come from `gen churn` with the same number of packets and connections opened
// (about 1 M, 9 packets each); they differ only in how many are open at once
// (--conns 1000 vs 1000000), so the difference is the working set of the flow
// table and the track records. The same table capacity (2^21 slots) for both.
//
// Serve (issue 10): the same two captures through `replay --mode serve`, the
// pre-scan and the serve pass timed apart, each as CPU time of this process per
// input packet (the machine is shared: CPU time is steadier than wall time),
// small and large alternating so that their ratio comes from one run; the
// core's memory per connection open at once (core bytes / peak concurrency) and
// its slope (planned bytes per added connection).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGen } from "../gen/run.ts";
import { replay } from "../replay/replay.ts";
import { replayCoreConfig } from "../replay/options.ts";
import { serveCoreConfig } from "../replay/serve/sizing.ts";
import { prescan } from "../replay/serve/prescan.ts";
import { DEFAULT_CONFIG, createCore, planBytes, type CoreConfig } from "../core/core.ts";
import { stackConfig } from "../core/stack-config.ts";
import { summarize, type Summary } from "./lib/stats.ts";

export interface ScaleBench {
  packets: number;
  flows_capacity: number;
  small: { conns: number; peak_concurrent: number; flows_tracked: number; ns_per_packet: Summary };
  large: { conns: number; peak_concurrent: number; flows_tracked: number; ns_per_packet: Summary };
  ratio: number;
  bytes_per_connection: { track_slot: number; track_at_1m: number; tcb: number; serve_sizing: number };
  serve: { small: ServeSide; large: ServeSide; ratio: number; bytes_per_added_connection: number } | null;
  seconds: number;
}

export interface ServeSide {
  peak_concurrent: number;
  flows_served: number;
  packets: number;
  /** CPU ns of this process per input packet: the serve pass, and the pre-scan. */
  cpu_ns_per_packet: Summary;
  prescan_cpu_ns_per_packet: Summary;
  /** Wall ns per packet of the serve pass (the report's duration). */
  ns_per_packet: Summary;
  fidelity_pct: number;
  core_bytes: number;
  bytes_per_connection: number;
  prescan_bytes: number;
}

const FLOWS = 1 << 21;

/** Core memory per flow slot (track), measured from the core's own plan(). */
function trackBytesPerSlot(): number {
  const at = (f: number) =>
    planBytes({ ...DEFAULT_CONFIG, ...replayCoreConfig("track", 1, f) } as CoreConfig);
  return (at(1 << 21) - at(1 << 20)) / (1 << 20);
}

/** Planned memory per added connection of a serve-mode core (mirror; host/replay/serve/sizing.ts). */
function serveModeBytesPerConn(): number {
  const at = (n: number) => planBytes({ ...DEFAULT_CONFIG, ...serveCoreConfig(n, "mirror") } as CoreConfig);
  return (at(1 << 20) - at(1 << 19)) / (1 << 19);
}

const cpuNs = (c: NodeJS.CpuUsage) => (c.user + c.system) * 1000;

/** Serve runs of both captures, alternating (each: pre-scan, then the serve pass, CPU-timed apart). */
function serveRuns(files: { small: string; large: string }, runs: number) {
  const acc = {
    small: { cpu: [] as number[], pre: [] as number[], wall: [] as number[] },
    large: { cpu: [] as number[], pre: [] as number[], wall: [] as number[] },
  };
  const last: Record<string, ReturnType<typeof replay>> = {};
  const pres: Record<string, ReturnType<typeof prescan>> = {};
  for (let r = 0; r < runs; r++) {
    for (const k of ["small", "large"] as const) {
      const c0 = process.cpuUsage();
      const pre = prescan(files[k]);
      const c1 = process.cpuUsage();
      const rep = replay(files[k], { mode: "serve", prescan: pre });
      const c2 = process.cpuUsage(c1);
      if (rep.error || pre.error) throw new Error(`serve ${files[k]}: ${rep.error ?? pre.error}`);
      const n = rep.packets_in;
      acc[k].pre.push(cpuNs(process.cpuUsage(c0)) / n - cpuNs(c2) / n);
      acc[k].cpu.push(cpuNs(c2) / n);
      acc[k].wall.push((rep.duration_s * 1e9) / n);
      last[k] = rep;
      pres[k] = pre;
    }
  }
  const side = (k: "small" | "large"): ServeSide => {
    const rep = last[k];
    const sv = rep.serve!;
    return {
      peak_concurrent: sv.peak_concurrent,
      flows_served: rep.flows.served,
      packets: rep.packets_in,
      cpu_ns_per_packet: summarize(acc[k].cpu),
      prescan_cpu_ns_per_packet: summarize(acc[k].pre),
      ns_per_packet: summarize(acc[k].wall),
      fidelity_pct: rep.fidelity!.segments_pct,
      core_bytes: sv.core_bytes,
      bytes_per_connection: sv.bytes_per_connection,
      prescan_bytes: pres[k].bytes,
    };
  };
  const small = side("small");
  const large = side("large");
  return {
    small,
    large,
    ratio: large.cpu_ns_per_packet.median / small.cpu_ns_per_packet.median,
    bytes_per_added_connection: serveModeBytesPerConn(),
  };
}

/** Core memory per connection for a serving core (host/core/stack-config.ts sizing). */
function serveBytesPerConn(): number {
  const at = (n: number) => planBytes({ ...DEFAULT_CONFIG, ...stackConfig(n, 512) } as CoreConfig);
  return (at(200_000) - at(100_000)) / 100_000;
}

export function benchScale(
  runs = 3,
  largeConns = 1_000_000,
  serve = runs > 0 ? Math.min(runs, 2) : 0,
): ScaleBench {
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "ixwasm-scale-"));
  try {
    const big = join(dir, "large.pcap");
    const small = join(dir, "small.pcap");
    const g1 = runGen("churn", { out: big, conns: largeConns, quiet: true });
    const g0 = runGen("churn", { out: small, conns: 1000, packets: g1.packets, quiet: true });
    const ns = { small: [] as number[], large: [] as number[] };
    const flows = { small: 0, large: 0 };
    for (let r = 0; r < runs; r++) {
      for (const [k, p] of [
        ["small", small],
        ["large", big],
      ] as const) {
        const rep = replay(p, { mode: "track", flows: FLOWS });
        if (rep.error) throw new Error(`replay ${p}: ${rep.error}`);
        ns[k].push((rep.duration_s * 1e9) / rep.packets_processed);
        flows[k] = rep.flows.tracked ?? 0;
      }
    }
    const s = summarize(ns.small);
    const l = summarize(ns.large);
    const slot = trackBytesPerSlot();
    const core = createCore({ tcbs: 64, timers: 64, flows: 1024, mbufs: 256, ringSlots: 64 });
    const tcb = core.exports.tcpTcbBytes() >>> 0;
    const sv = serve > 0 ? serveRuns({ small, large: big }, serve) : null;
    return {
      packets: g1.packets,
      flows_capacity: FLOWS,
      small: {
        conns: 1000,
        peak_concurrent: g0.peak_concurrent,
        flows_tracked: flows.small,
        ns_per_packet: s,
      },
      large: {
        conns: largeConns,
        peak_concurrent: g1.peak_concurrent,
        flows_tracked: flows.large,
        ns_per_packet: l,
      },
      ratio: l.min / s.min,
      bytes_per_connection: {
        track_slot: slot,
        track_at_1m: (slot * FLOWS) / largeConns,
        tcb,
        serve_sizing: serveBytesPerConn(),
      },
      serve: sv,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatScale(b: ScaleBench): string[] {
  const f = (x: number) => x.toFixed(1);
  return [
    `  churn captures: ${b.packets} packets each, flow table ${b.flows_capacity} slots`,
    `  1 k concurrent (peak ${b.small.peak_concurrent}, ${b.small.flows_tracked} flows tracked): ` +
      `${f(b.small.ns_per_packet.min)} ns/packet (median ${f(b.small.ns_per_packet.median)})`,
    `  1 M concurrent (peak ${b.large.peak_concurrent}, ${b.large.flows_tracked} flows tracked): ` +
      `${f(b.large.ns_per_packet.min)} ns/packet (median ${f(b.large.ns_per_packet.median)})`,
    `  ratio 1 M / 1 k (best runs): ${b.ratio.toFixed(2)}x  (aim <= 1.25x: ${b.ratio <= 1.25 ? "met" : "NOT met"})`,
    `  bytes per connection: track ${f(b.bytes_per_connection.track_slot)} B per flow slot ` +
      `(${f(b.bytes_per_connection.track_at_1m)} B per held connection at 1 M in 2^21 slots); ` +
      `TCB ${b.bytes_per_connection.tcb} B; a serving core sized by stack-config ${f(b.bytes_per_connection.serve_sizing)} B`,
    ...(b.serve ? formatServe(b.serve) : []),
    `  section time ${b.seconds.toFixed(1)} s`,
  ];
}

function formatServe(s: NonNullable<ScaleBench["serve"]>): string[] {
  const f = (x: number) => x.toFixed(0);
  const side = (name: string, x: ServeSide) =>
    `  serve, ${name} (peak ${x.peak_concurrent} open, ${x.flows_served} flows served, fidelity ${x.fidelity_pct} %): ` +
    `${f(x.cpu_ns_per_packet.median)} CPU ns/packet (${f(x.cpu_ns_per_packet.min)}-${f(x.cpu_ns_per_packet.max)}, ` +
    `wall ${f(x.ns_per_packet.median)}), pre-scan ${f(x.prescan_cpu_ns_per_packet.median)}; ` +
    `core ${(x.core_bytes / 2 ** 20).toFixed(0)} MiB, ${x.bytes_per_connection} B per connection sized for, ` +
    `pre-scan kept ${(x.prescan_bytes / 2 ** 20).toFixed(0)} MiB`;
  return [
    side("1 k concurrent", s.small),
    side("1 M concurrent", s.large),
    `  serve ratio 1 M / 1 k (median CPU ns/packet): ${s.ratio.toFixed(2)}x  (aim <= 1.25x: ${s.ratio <= 1.25 ? "met" : "NOT met"}); ` +
      `a serve core plans ${s.bytes_per_added_connection.toFixed(0)} B per added connection`,
  ];
}
