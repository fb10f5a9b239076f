// The cost ladder: one capture through raw → +flow lookup → +TCP tracking →
// serve (the TCP stack and the mirror app), each rung the plain path without
// stage timers. A rung's increment over the one below is that stage's cost,
// measured without instrumentation (the stage timers give the same split with
// it: host/report/stages.ts).
import { replay } from "../replay/replay.ts";
import { type BatchExport, type ReplayOptions } from "../replay/options.ts";
import { warmBatchExports } from "./lib/warm.ts";
import { summarize, type Summary } from "./lib/stats.ts";
import { machine, type Machine } from "./lib/machine.ts";
import { loopTrace } from "./lib/bigtrace.ts";
import { threadCpuNs } from "./lib/threadcpu.ts";
import { basename } from "node:path";

export const LADDER_SCHEMA = "ixwasm-ladder/1";

export interface Rung {
  name: string;
  adds: string;
  /** ns per input packet inside the core calls, in this thread's CPU time (see runCost) */
  ns_per_packet: Summary | null;
  /** this rung's median minus the previous rung's; band: half the sum of both ranges */
  increment_ns: number | null;
  band_ns: number | null;
  note?: string;
}

export interface Ladder {
  schema: typeof LADDER_SCHEMA;
  file: string;
  packets_per_run: number;
  loops: number;
  runs: number;
  rungs: Rung[];
  machine: Machine;
}

interface RungSpec {
  name: string;
  adds: string;
  opts: ReplayOptions;
  warm?: BatchExport[];
  key: "raw" | "track" | "serve";
}

const RUNGS: RungSpec[] = [
  {
    name: "raw",
    adds: "parse, Toeplitz hash, RETA dispatch, count",
    opts: { mode: "raw" },
    warm: ["replayRawBatch"],
    key: "raw",
  },
  {
    name: "+flow lookup",
    adds: "canonical flow key, flow-table lookup/insert",
    opts: { mode: "track", batchExport: "replayLookupBatch" },
    warm: ["replayLookupBatch"],
    key: "track",
  },
  {
    name: "+TCP tracking",
    adds: "passive TCP state tracking (replay track)",
    opts: { mode: "track" },
    warm: ["replayTrackBatch"],
    key: "track",
  },
  {
    name: "serve (+stack, app)",
    adds: "the TCP stack answering as the capture's servers with the mirror app, instead of tracking",
    opts: { mode: "serve", app: "mirror" },
    key: "serve",
  },
];

/**
 * Captures under minPackets are repeated into a temporary file of at least
 * that many records (host/measure/lib/bigtrace.ts: same conversations again, later in
 * time), so batches are full and runs long enough to time; serve replays the
 * capture itself as many times over (its --loop: each pass new conversations,
 * which the mirror needs; a concatenated file would repeat the server's side
 * without its handshakes being new), so every rung times the same number of
 * packets. With the 133-packet capture per run the serve rung's CV was 5-10 %.
 */
export function benchLadder(file: string, runs = 5, minPackets = 200_000): Ladder {
  const orig = file;
  let probe = replay(file, { mode: "raw" });
  const loops = Math.max(1, Math.ceil(minPackets / Math.max(1, probe.packets_in)));
  if (loops > 1) {
    const per = probe.bytes_in / Math.max(1, probe.packets_in) + 16;
    file = loopTrace(file, minPackets * per, `ladder-${basename(file).replace(/\W/g, "_")}`).path;
    probe = replay(file, { mode: "raw" });
  }
  const rungs: Rung[] = [];
  let prev: Summary | null = null;
  for (const r of RUNGS) {
    const serve = r.key === "serve";
    const opts: ReplayOptions = { ...r.opts, progress: false, ...(serve ? { loop: loops } : {}) };
    const f = serve ? orig : file;
    let ns: Summary | null = null;
    let note: string | undefined;
    try {
      if (r.warm) warmBatchExports(f, r.opts.mode, r.warm);
      else for (let i = 0; i < 3; i++) replay(f, opts); // serve: compile and tier its code up
      const xs: number[] = [];
      for (let i = 0; i < runs; i++) xs.push(runCost(f, opts, r.key));
      ns = summarize(xs);
    } catch (e) {
      note = `not measured: ${(e as Error).message}`;
    }
    const inc = ns && prev ? ns.median - prev.median : ns ? ns.median : null;
    const band = ns && prev ? (ns.max - ns.min + prev.max - prev.min) / 2 : ns ? (ns.max - ns.min) / 2 : null;
    rungs.push({
      name: r.name,
      adds: r.adds,
      ns_per_packet: ns,
      increment_ns: inc === null ? null : Math.round(inc * 100) / 100,
      band_ns: band === null ? null : Math.round(band * 100) / 100,
      ...(note ? { note } : {}),
    });
    if (ns) prev = ns;
  }
  return {
    schema: LADDER_SCHEMA,
    file: orig,
    packets_per_run: probe.packets_in,
    loops,
    runs,
    rungs,
    machine: machine(),
  };
}

/**
 * One run's cost per packet on the thread's CPU clock, so a run that loses the
 * CPU to another process is not charged for the wait (on a loaded 2-vCPU VM the
 * host clock around the calls gave one rung a CV of 35 % once). raw and track:
 * the clock read right before and after every batch call (4096 packets a call:
 * two reads cost ~0.05 ns a packet). serve polls the core per packet, where two
 * clock reads a poll would be most of what is measured: its stage time (host
 * clock) is scaled by the run's CPU time over its wall time, which removes the
 * time the thread waited, spread over the run as the waits were.
 */
function runCost(file: string, opts: ReplayOptions, key: RungSpec["key"]): number {
  if (key !== "serve") {
    let c0 = 0;
    let cpu = 0;
    let packets = 0;
    replay(file, {
      ...opts,
      beforeBatch: () => (c0 = threadCpuNs()),
      onBatch: (_core, n) => {
        cpu += threadCpuNs() - c0;
        packets += n;
      },
    });
    return cpu / Math.max(1, packets);
  }
  const c0 = threadCpuNs();
  const w0 = performance.now();
  const rep = replay(file, opts);
  const share = (threadCpuNs() - c0) / 1e6 / (performance.now() - w0);
  return rep.stages.serve * Math.min(1, share);
}

export function formatLadder(l: Ladder): string {
  const rows = [
    `cost ladder: ${l.file} (${l.packets_per_run.toLocaleString("en-US")} packets per run${l.loops > 1 ? `, capture repeated ${l.loops}x` : ""}; median of ${l.runs} runs; thread CPU time; no stage timers)`,
    `  ${"rung".padEnd(22)} ${"ns/packet".padStart(10)} ${"(min..max)".padStart(18)} ${"CV".padStart(6)} ${"increment".padStart(10)} ${"± band".padStart(8)}  adds`,
  ];
  for (const r of l.rungs) {
    const s = r.ns_per_packet;
    rows.push(
      `  ${r.name.padEnd(22)} ${(s ? s.median.toFixed(2) : "-").padStart(10)} ${(s ? `(${s.min.toFixed(1)}..${s.max.toFixed(1)})` : "").padStart(18)} ${(s ? `${(s.cv * 100).toFixed(1)}%` : "").padStart(6)} ${(r.increment_ns !== null ? r.increment_ns.toFixed(2) : "-").padStart(10)} ${(r.band_ns !== null ? r.band_ns.toFixed(2) : "").padStart(8)}  ${r.adds}${r.note ? ` (${r.note})` : ""}`,
    );
  }
  const m = l.machine;
  rows.push(`  machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, load ${m.load.join("/")}`);
  return rows.join("\n") + "\n";
}
