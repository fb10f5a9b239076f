// One run of the cost ladder (host/measure/ladder.ts), in a process of its own
// (host/measure/ladder-child.ts): a warm-up, then rounds that each run every
// rung once, the rungs' order rotated per round, so a slow spell of the
// machine falls on all rungs alike. Each rung's figure for the run is the
// lower decile of its chunks' costs over the run's rounds (LADDER_QUANTILE).
import { replay } from "../replay/replay.ts";
import { type BatchExport, type ReplayOptions } from "../replay/options.ts";
import { warmBatchExports } from "./lib/warm.ts";
import { threadCpuNs } from "./lib/threadcpu.ts";

export type RungKey = "raw" | "lookup" | "track" | "serve";

export interface RungSpec {
  name: string;
  adds: string;
  key: RungKey;
  opts: ReplayOptions;
  warm?: BatchExport[];
}

export const RUNGS: RungSpec[] = [
  {
    name: "raw",
    adds: "parse, Toeplitz hash, RETA dispatch, count",
    key: "raw",
    opts: { mode: "raw" },
    warm: ["replayRawBatch"],
  },
  {
    name: "+flow lookup",
    adds: "canonical flow key, flow-table lookup/insert",
    key: "lookup",
    opts: { mode: "track", batchExport: "replayLookupBatch" },
    warm: ["replayLookupBatch"],
  },
  {
    name: "+TCP tracking",
    adds: "passive TCP state tracking (replay track)",
    key: "track",
    opts: { mode: "track" },
    warm: ["replayTrackBatch"],
  },
  {
    name: "serve (+stack, app)",
    adds: "the TCP stack answering as the capture's servers with the mirror app, instead of tracking",
    key: "serve",
    opts: { mode: "serve", app: "mirror" },
  },
];

/**
 * The run's figure per rung: this quantile of its chunks' ns per packet. On
 * the project's 2-vCPU VM a rung's chunks fall into spells 1.5-1.8x apart in
 * thread CPU time (raw 19.5 against 33-36 ns, for seconds at a time, at 1 %
 * steal: another tenant on the physical core), and the median follows
 * whichever spell holds more than half of the run (CV 25 % at load 7). Such
 * interference only adds time, so the fast spell is the code's own cost; the
 * lower decile finds it as long as a tenth of the run had it, where the
 * minimum would be one lucky chunk (in a quiet run the decile is ~2 % under
 * the median; docs/measurement/cost.md).
 */
export const LADDER_QUANTILE = 0.1;
/** serve: input packets per chunk (the capture's passes are whole, so a chunk is a little more); a sixteenth of a smaller round. */
export const SERVE_CHUNK_PACKETS = 512;
/** serve: a chunk counts when the thread ran this share of its wall time (never descheduled). */
export const SERVE_RAN_SHARE = 0.95;

export interface LadderRunSpec {
  /** the capture repeated to a round's packets (raw, lookup, track) */
  file: string;
  /** the capture itself, served `loops` times */
  orig: string;
  loops: number;
  /** input packets a serve round replays (the capture's packets × loops) */
  servePackets: number;
}

export interface RungRun {
  /** LADDER_QUANTILE of the chunks' ns per packet (null: no chunk) */
  ns: number | null;
  /** chunks the figure was taken from, and all chunks */
  chunks: number;
  chunks_all: number;
  /** serve: no chunk was undisturbed, so the figure scales every chunk by its CPU/wall share */
  scaled?: boolean;
  /** why the rung could not run, when it could not */
  error?: string;
}

export type LadderRun = Record<RungKey, RungRun>;

export function quantile(xs: number[], q: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (i - lo);
}

/** Warms every rung up (once per process, before its first round). */
export function warmLadder(spec: LadderRunSpec): void {
  for (const r of RUNGS) {
    try {
      if (r.warm) warmBatchExports(spec.file, r.opts.mode, r.warm);
      else for (let i = 0; i < 3; i++) replay(spec.orig, serveOpts(r, spec.loops)); // tiers serve's JS up
    } catch {
      // the rung's rounds fail the same way and say why (ladderRound)
    }
  }
}

/** Chunk costs of one round: every rung once, the order rotated by the round's number. */
export type RoundChunks = Record<RungKey, Chunks>;

interface Chunks {
  /** the chunks the figure is taken from */
  used: number[];
  /** how many chunks there were */
  all: number;
  /** serve: every chunk scaled by its CPU/wall share, for a run with no undisturbed chunk */
  scaled?: number[];
  /** why the rung could not run */
  error?: string;
}

export function ladderRound(spec: LadderRunSpec, round: number): RoundChunks {
  const out = {} as RoundChunks;
  for (let k = 0; k < RUNGS.length; k++) {
    const r = RUNGS[(k + round) % RUNGS.length];
    try {
      out[r.key] =
        r.key === "serve"
          ? serveChunks(spec.orig, serveOpts(r, spec.loops), serveChunk(spec))
          : batchChunks(spec.file, r.opts);
    } catch (e) {
      out[r.key] = { used: [], all: 0, error: (e as Error).message }; // this rung is not measured, the others are
    }
  }
  return out;
}

/** A run's figure per rung from its rounds' chunks. */
export function runFigures(rounds: RoundChunks[]): LadderRun {
  const out = {} as LadderRun;
  for (const r of RUNGS) {
    let xs = rounds.flatMap((x) => x[r.key].used);
    const scaled = !xs.length && rounds.some((x) => x[r.key].scaled?.length);
    if (scaled) xs = rounds.flatMap((x) => x[r.key].scaled ?? []);
    const q = quantile(xs, LADDER_QUANTILE);
    out[r.key] = {
      ns: q === null ? null : Math.round(q * 1000) / 1000,
      ...(scaled ? { scaled: true } : {}),
      ...(rounds.find((x) => x[r.key].error)
        ? { error: rounds.find((x) => x[r.key].error)![r.key].error }
        : {}),
      chunks: scaled ? 0 : xs.length,
      chunks_all: rounds.reduce((a, x) => a + x[r.key].all, 0),
    };
  }
  return out;
}

function serveOpts(r: RungSpec, loops: number): ReplayOptions {
  return { ...r.opts, progress: false, loop: loops };
}

/**
 * raw and track: a chunk is one batch call (~1,700 packets), on the thread's
 * CPU clock read right before and after it, so time the thread waited for the
 * CPU is not charged; two reads cost ~0.05 ns a packet.
 */
function batchChunks(file: string, opts: ReplayOptions): Chunks {
  const used: number[] = [];
  let c0 = 0;
  replay(file, {
    ...opts,
    progress: false,
    beforeBatch: () => (c0 = threadCpuNs()),
    onBatch: (_core, n) => {
      const d = threadCpuNs() - c0;
      if (n > 0) used.push(d / n);
    },
  });
  return { used, all: used.length };
}

/**
 * serve polls the core about once per packet, where two clock reads a poll
 * would be much of what is timed: the polls' host-clock time (the serve stage)
 * is summed over chunks of SERVE_CHUNK_PACKETS input packets, and a chunk
 * counts only if the thread held the CPU throughout (thread CPU ≥ 95 % of
 * wall), so its poll time is CPU time. Scaling every chunk by its CPU/wall
 * share instead charged a wait to whichever side of the chunk it fell in.
 */
export function serveChunk(spec: LadderRunSpec): number {
  return Math.max(1, Math.min(SERVE_CHUNK_PACKETS, Math.floor(spec.servePackets / 16)));
}

function serveChunks(orig: string, opts: ReplayOptions, chunk: number): Chunks {
  const used: number[] = [];
  const scaled: number[] = [];
  let all = 0;
  let pollMs = 0;
  let started = false;
  let pk0 = 0;
  let cpu0 = 0;
  let wall0 = 0;
  replay(orig, {
    ...opts,
    onBatch: (_core, _n, ms) => (pollMs += ms),
    onProgress: (packets) => {
      if (started && packets - pk0 < chunk) return;
      const cpu = threadCpuNs();
      const wall = performance.now();
      if (started) {
        all++;
        if ((cpu - cpu0) / 1e6 >= SERVE_RAN_SHARE * (wall - wall0))
          used.push((pollMs * 1e6) / (packets - pk0));
      }
      started = true;
      pollMs = 0;
      pk0 = packets;
      cpu0 = cpu;
      wall0 = wall;
    },
  });
  return { used, all, scaled };
}
