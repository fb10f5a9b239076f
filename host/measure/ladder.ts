// The cost ladder: one capture through raw → +flow lookup → +TCP tracking →
// serve (the TCP stack and the mirror app), each rung the plain path without
// stage timers. A rung's increment over the one below is that stage's cost,
// measured without instrumentation (the stage timers give the same split with
// it: host/report/stages.ts). One run is host/measure/ladder-run.ts in a child
// process; this file starts the runs and sums them up.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { basename, isAbsolute, join, relative } from "node:path";
import { replay } from "../replay/replay.ts";
import { summarize, type Summary } from "./lib/stats.ts";
import { machine, type Machine } from "./lib/machine.ts";
import { loopTrace } from "./lib/bigtrace.ts";
import { FROM_DIST, ROOT } from "./lib/root.ts";
import {
  LADDER_QUANTILE,
  RUNGS,
  serveChunk,
  runFigures,
  type LadderRunSpec,
  type RoundChunks,
} from "./ladder-run.ts";

export const LADDER_SCHEMA = "ixwasm-ladder/2";

export interface Rung {
  name: string;
  adds: string;
  /** ns per input packet: median, min, max and CV of the runs' figures (per_run) */
  ns_per_packet: Summary | null;
  /** each run's figure, in run order: what ns_per_packet sums up */
  per_run: (number | null)[];
  /** chunks each run's figure was taken from (median over runs), and of how many */
  chunks_per_run: number;
  chunks_all_per_run: number;
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
  rounds: number;
  /** how a run's figure is made from its chunks, and what the CV is over */
  statistic: string;
  rungs: Rung[];
  machine: Machine;
}

export interface LadderOptions {
  runs?: number;
  minPackets?: number;
  /** rounds per run: each runs every rung once over the run's packets */
  rounds?: number;
}

const statistic = (serveChunkPackets: number) =>
  `per run: the ${LADDER_QUANTILE * 100}th percentile of the rung's chunk costs (raw and track: each batch call on the thread's CPU clock; ` +
  `serve: the polls' time in chunks of ${serveChunkPackets} input packets during which the thread was never descheduled), ` +
  `rounds interleaving the rungs; each run a fresh process (node --no-liftoff); figure: the median of the runs, CV over the runs`;

/**
 * Captures under minPackets are repeated into a temporary file of at least
 * that many records (host/measure/lib/bigtrace.ts: same conversations again,
 * later in time), so batches are full; serve replays the capture itself as
 * many times over (its --loop: each pass new conversations, which the mirror
 * needs), so every rung times the same number of packets per round.
 *
 * Each run is a fresh process started with --no-liftoff (every wasm function
 * compiled by TurboFan up front, the state a long replay reaches): with
 * dynamic tiering, after the same warm-up, the tracking rung came out at 54.5,
 * 58 or 69 ns from one process to the next (2-3 % within each), at 54.5-55.7
 * in every process without Liftoff. In a process of its own a run also starts
 * from the same state whatever ran before it (the bench's other sections, a
 * replay before `--report html`'s ladder), and per-process effects show in the
 * CV instead of hiding from it.
 */
export async function benchLadder(file: string, opt: LadderOptions = {}): Promise<Ladder> {
  const runs = Math.max(1, opt.runs ?? 5);
  const rounds = Math.max(1, opt.rounds ?? 3);
  const min = opt.minPackets ?? 200_000;
  const orig = replay(file, { mode: "raw" });
  let probe = orig;
  const loops = Math.max(1, Math.ceil(min / Math.max(1, probe.packets_in)));
  let big = file;
  if (loops > 1) {
    const per = probe.bytes_in / Math.max(1, probe.packets_in) + 16;
    big = loopTrace(file, min * per, `ladder-${basename(file).replace(/\W/g, "_")}`).path;
    probe = replay(big, { mode: "raw" });
  }
  const spec: LadderRunSpec = { file: big, orig: file, loops, servePackets: loops * orig.packets_in };
  const m = machine(); // the load at the start, as every bench prints it
  const results = (await interleavedRuns(spec, runs, rounds)).map(runFigures);
  const rungs: Rung[] = [];
  let prev: Summary | null = null;
  for (const r of RUNGS) {
    const perRun = results.map((x) => x[r.key].ns);
    const xs = perRun.filter((x): x is number => x !== null);
    const ns = xs.length ? summarize(xs) : null;
    const inc = ns && prev ? ns.median - prev.median : ns ? ns.median : null;
    const band = ns && prev ? (ns.max - ns.min + prev.max - prev.min) / 2 : ns ? (ns.max - ns.min) / 2 : null;
    const missing = perRun.length - xs.length;
    const scaled = results.filter((x) => x[r.key].scaled).length;
    const error = results.find((x) => x[r.key].error)?.[r.key].error;
    const notes = [
      ...(error
        ? [`not measured: ${error}`]
        : missing
          ? [`${missing} of ${runs} runs had no chunk to time`]
          : []),
      ...(scaled
        ? [
            `${scaled} of ${runs} runs had no chunk the thread ran through: their figure scales all chunks by CPU/wall`,
          ]
        : []),
    ];
    rungs.push({
      name: r.name,
      adds: r.adds,
      ns_per_packet: ns,
      per_run: perRun,
      chunks_per_run: summarize(results.map((x) => x[r.key].chunks)).median,
      chunks_all_per_run: summarize(results.map((x) => x[r.key].chunks_all)).median,
      increment_ns: inc === null ? null : Math.round(inc * 100) / 100,
      band_ns: band === null ? null : Math.round(band * 100) / 100,
      ...(notes.length ? { note: notes.join("; ") } : {}),
    });
    if (ns) prev = ns;
  }
  return {
    schema: LADDER_SCHEMA,
    file,
    packets_per_run: probe.packets_in,
    loops,
    runs,
    rounds,
    statistic: statistic(serveChunk(spec)),
    rungs,
    machine: m,
  };
}

/**
 * The runs' processes are started together and take turns round by round
 * (run 1's round 1, run 2's round 1, ..., run 1's round 2, ...), one at a
 * time, so each run's rounds are spread over the whole measurement. Run one
 * after the other, a slow spell of the machine lasting a whole run (13 s at
 * load 10: every rung 1.75x) made that run's figures 1.75x the others'.
 */
async function interleavedRuns(spec: LadderRunSpec, runs: number, rounds: number): Promise<RoundChunks[][]> {
  const children: LineChild[] = [];
  try {
    for (let i = 0; i < runs; i++) children.push(new LineChild(spec));
    for (const c of children) await c.line(); // "ready": warmed up
    const out: RoundChunks[][] = children.map(() => []);
    for (let r = 0; r < rounds; r++)
      for (let i = 0; i < runs; i++) {
        children[i].send(`round ${r}`);
        out[i].push(JSON.parse(await children[i].line()) as RoundChunks);
      }
    return out;
  } finally {
    for (const c of children) c.end();
  }
}

/** A ladder child (host/measure/ladder-child.ts) spoken to a line at a time. */
class LineChild {
  private readonly p: ChildProcessWithoutNullStreams;
  private buf = "";
  private err = "";
  private readonly lines: string[] = [];
  private waiting: { ok: (s: string) => void; fail: (e: Error) => void } | null = null;
  private failed: Error | null = null;

  constructor(spec: LadderRunSpec) {
    const child = join(
      ROOT,
      FROM_DIST ? "dist/host/measure/ladder-child.js" : "host/measure/ladder-child.ts",
    );
    this.p = spawn(
      process.execPath,
      [...(FROM_DIST ? [] : ["--import", "tsx"]), "--no-liftoff", child, JSON.stringify(spec)],
      { cwd: ROOT, stdio: "pipe" },
    );
    this.p.stdout.setEncoding("utf8").on("data", (d: string) => {
      this.buf += d;
      for (let i; (i = this.buf.indexOf("\n")) >= 0;) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.wake();
    });
    this.p.stderr.setEncoding("utf8").on("data", (d: string) => (this.err += d));
    this.p.on("close", (code) => {
      if (code !== 0) this.failed = new Error(`cost ladder run failed (${code}): ${this.err}`);
      else this.failed = new Error("cost ladder run ended early");
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiting;
    if (!w) return;
    if (this.lines.length) {
      this.waiting = null;
      w.ok(this.lines.shift()!);
    } else if (this.failed) {
      this.waiting = null;
      w.fail(this.failed);
    }
  }

  line(): Promise<string> {
    return new Promise((ok, fail) => {
      this.waiting = { ok, fail };
      this.wake();
    });
  }

  send(s: string): void {
    this.p.stdin.write(s + "\n");
  }

  end(): void {
    this.p.stdin.end();
  }
}

/** A path under the working directory as a relative one (the figures page shows it). */
function shortPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") && !isAbsolute(r) ? r : p;
}

export function formatLadder(l: Ladder): string {
  const rows = [
    `cost ladder: ${shortPath(l.file)} (${l.packets_per_run.toLocaleString("en-US")} packets per rung and round${l.loops > 1 ? `, capture repeated ${l.loops}x` : ""}; ${l.runs} run${l.runs === 1 ? "" : "s"} of ${l.rounds} round${l.rounds === 1 ? "" : "s"}, each run a fresh process; thread CPU time; no stage timers)`,
    `  figure: ${l.statistic}`,
    `  ${"rung".padEnd(22)} ${"ns/packet".padStart(10)} ${"(min..max)".padStart(18)} ${"CV".padStart(6)} ${"increment".padStart(10)} ${"± band".padStart(8)} ${"chunks".padStart(9)}  adds`,
  ];
  for (const r of l.rungs) {
    const s = r.ns_per_packet;
    rows.push(
      `  ${r.name.padEnd(22)} ${(s ? s.median.toFixed(2) : "-").padStart(10)} ${(s ? `(${s.min.toFixed(1)}..${s.max.toFixed(1)})` : "").padStart(18)} ${(s ? `${(s.cv * 100).toFixed(1)}%` : "").padStart(6)} ${(r.increment_ns !== null ? r.increment_ns.toFixed(2) : "-").padStart(10)} ${(r.band_ns !== null ? r.band_ns.toFixed(2) : "").padStart(8)} ${`${r.chunks_per_run}/${r.chunks_all_per_run}`.padStart(9)}  ${r.adds}${r.note ? ` (${r.note})` : ""}`,
    );
  }
  const m = l.machine;
  rows.push(`  machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, load ${m.load.join("/")}`);
  return rows.join("\n") + "\n";
}
