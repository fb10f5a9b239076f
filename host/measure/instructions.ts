// Deterministic per-packet cost: instructions counted by valgrind's callgrind
// inside one long replay, in windows of N packets that start after a warm-up,
// on the main thread only, with V8's garbage collector and compilers taken out
// (host/measure/lib/callgrind.ts). Instructions per packet = a window's Ir / its
// packets (in serve mode: the client's packets the core received; the
// segments it sends in answer are part of their cost); the median over every
// window of every run. The method, what it
// counts and why it repeats: docs/measurement/instructions.md.
//
// V8 flags, chosen for repeatable counts: --single-threaded (no background
// compiler or GC threads), --no-liftoff and --no-wasm-lazy-compilation (every
// wasm function compiled once by TurboFan before the replay), fixed hash and
// random seeds, and a GC schedule and tiering that follow allocation and call
// counts, not the clock (--predictable-gc-schedule, --predictable).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TraceReader } from "../io/reader.ts";
import { TraceWriter } from "../io/writer.ts";
import { createCore } from "../core/core.ts";
import { READ_CORE } from "../core/open-capture.ts";
import { replay } from "../replay/replay.ts";
import { DESC_BYTES } from "../io/reader.ts";
import { machine, type Machine } from "./lib/machine.ts";
import { splitIr } from "./lib/callgrind.ts";
import { ROOT } from "./lib/root.ts";
import {
  DESC_S_FLAGS,
  DESC_W_CAPLEN,
  DESC_W_LEN,
  DESC_W_LINKTYPE,
  DESC_W_NSEC,
  DESC_W_OFF,
  DESC_W_SEC,
} from "../core/abi.gen.ts";

export const INSTRUCTIONS_SCHEMA = "ixwasm-instructions/2";
export const NODE_FLAGS = [
  "--single-threaded",
  "--no-liftoff",
  "--no-wasm-lazy-compilation",
  "--hash-seed=1",
  "--random-seed=1",
  "--predictable-gc-schedule",
  "--predictable",
];
/**
 * Packets replayed before the first window. On traces/http-kernel.pcap in raw
 * mode the last tier-up (TurboFan for a Node helper called once per file read)
 * comes at ~130 000 packets and lowers the count by 2 %; a window holding a
 * compilation is reported as not steady.
 */
export const WARMUP_PACKETS = 150_000;
/**
 * Below this a window's packet mix (where it cuts the capture's cycle) moves the
 * figure by more than 0.5 %: on traces/http-kernel.pcap (133 packets a cycle)
 * two windows of 10 078 packets gave 324.86 and 326.51 per packet (0.51 %).
 */
export const MIN_WINDOW_PACKETS = 20_000;

export interface InstructionsWindow {
  run: number;
  packets: number;
  /** every instruction of the main thread in the window */
  ir: number;
  /** of which inside V8's garbage collector */
  gc_ir: number;
  /** of which inside V8's compilers (a window with any is not steady) */
  compile_ir: number;
  /** (ir − gc_ir − compile_ir) / packets */
  per_packet: number;
}

export interface InstructionsResult {
  schema: typeof INSTRUCTIONS_SCHEMA;
  file: string;
  mode: string;
  /** packets per window (a window ends at the first batch end at or past it) */
  n: number;
  warmup: number;
  windows: InstructionsWindow[];
  /** median of the windows' per_packet */
  per_packet: number;
  /** (max − min) / min of the windows' per_packet, % */
  spread_pct: number;
  /** GC instructions per packet over all windows (taken out of per_packet) */
  gc_per_packet: number;
  /** every window free of compilation */
  steady: boolean;
  valgrind: string;
  node_flags: string[];
  machine: Machine;
}

export class NoValgrind extends Error {}

export function valgrindVersion(): string | null {
  const r = spawnSync("valgrind", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The first `count` records of `src` (repeated from the start if it has fewer) into `dst`. */
export function firstRecords(src: string, dst: string, count: number): void {
  const core = createCore(READ_CORE);
  const w = new TraceWriter(dst, { format: "pcap" });
  let written = 0;
  let shift = 0;
  while (written < count) {
    const r = new TraceReader(src, core);
    let last = 0;
    let first = NaN;
    let any = false;
    for (let n = r.next(); n > 0 && written < count; n = r.next()) {
      for (let i = 0; i < n && written < count; i++) {
        const d = (core.regions.desc.offset + i * DESC_BYTES) >>> 2;
        if ((core.u32[d + DESC_W_LINKTYPE] >>> DESC_S_FLAGS) & 2) continue; // not a packet
        const sec = core.f64[(d + DESC_W_SEC) >>> 1];
        if (Number.isNaN(first)) first = sec;
        last = sec;
        w.write(
          core.u8,
          core.u32[d + DESC_W_OFF],
          core.u32[d + DESC_W_CAPLEN],
          sec + shift,
          core.u32[d + DESC_W_NSEC],
          core.u32[d + DESC_W_LEN],
        );
        written++;
        any = true;
      }
    }
    r.close();
    if (!any) break;
    shift += Math.floor(last - first) + 1;
  }
  w.close();
}

/** gcc-built host/measure/native/cgmark.c (rebuilt when the source is newer). */
function cgmark(dir: string): string {
  const src = join(ROOT, "host/measure/native/cgmark.c");
  const so = join(dir, "cgmark.so");
  const r = spawnSync("gcc", ["-O2", "-shared", "-fPIC", "-o", so, src], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`gcc failed building ${src}: ${r.stderr.trim() || r.error?.message}`);
  return so;
}

/** One child under callgrind: the windows' dumps split into own work, GC and compilation. */
function countWindows(
  file: string,
  mode: string,
  so: string,
  dir: string,
  run: number,
  warmup: number,
  n: number,
  windows: number,
  loops: number,
): InstructionsWindow[] {
  const js = import.meta.url.endsWith(".js");
  const child = join(
    ROOT,
    js ? "dist/host/measure/instructions-child.js" : "host/measure/instructions-child.ts",
  );
  const out = join(dir, `callgrind.${run}.out`);
  const args = [
    "--tool=callgrind",
    "--collect-atstart=no",
    "--separate-threads=yes", // the replay's thread alone: Node's other threads (tsx's loader, libuv's pool) wake on their own clocks
    `--callgrind-out-file=${out}`,
    process.execPath,
    ...NODE_FLAGS,
    ...(js ? [] : ["--import", "tsx"]),
    child,
    file,
    mode,
    so,
    String(warmup),
    String(n),
    String(windows),
    String(loops),
  ];
  const r = spawnSync("valgrind", args, { encoding: "utf8", cwd: ROOT, maxBuffer: 1 << 26 });
  if (r.status !== 0)
    throw new Error(`valgrind run failed (${r.status}): ${r.stderr.split("\n").slice(-8).join(" ")}`);
  const result: InstructionsWindow[] = [];
  // one dump per window: <out>.<k>-01 is window k's main thread (dump 0 is the exit's);
  // the child's rehearsal windows (instructions-child.ts) come first and are skipped
  for (let k = 1; result.length < windows; k++) {
    const path = `${out}.${k}-01`;
    if (!existsSync(path)) throw new Error(`${path}: missing (${result.length} of ${windows} windows)`);
    const text = readFileSync(path, "utf8");
    if (/^desc: Trigger: Client Request: rehearsal \d+$/m.test(text)) continue;
    const m = /^desc: Trigger: Client Request: packets (\d+)$/m.exec(text);
    if (!m) throw new Error(`${path}: not a window dump`);
    const packets = Number(m[1]);
    const s = splitIr(text);
    result.push({
      run,
      packets,
      ir: s.total,
      gc_ir: s.gc,
      compile_ir: s.compile,
      per_packet: Math.round(((s.total - s.gc - s.compile) / packets) * 100) / 100,
    });
  }
  return result;
}

export interface InstructionsOptions {
  /** packets per window (default 20 000; from MIN_WINDOW_PACKETS the figure holds ±0.5 %) */
  packets?: number;
  /** windows per run (default 2) */
  windows?: number;
  /** valgrind runs, each a process of its own (default 2) */
  runs?: number;
  /** packets before the first window (default WARMUP_PACKETS) */
  warmup?: number;
}

export function benchInstructions(
  file: string,
  mode = "raw",
  o: InstructionsOptions = {},
): InstructionsResult {
  const n = Math.max(1, o.packets ?? 20_000);
  const windows = Math.max(1, o.windows ?? 2);
  const runs = Math.max(1, o.runs ?? 2);
  const warmup = o.warmup ?? WARMUP_PACKETS;
  const vg = valgrindVersion();
  if (!vg)
    throw new NoValgrind(
      "valgrind is not installed: instruction counts need callgrind (Debian: apt-get install valgrind)",
    );
  const dir = join(tmpdir(), `ixwasm-instr-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const so = cgmark(dir);
    const need = warmup + windows * (n + 4096) + 4096; // a window ends at a batch end: room for one more batch each
    // raw and track: the capture repeated into one file; serve: its own --loop (each pass new
    // conversations, the client's ports moved; a file repeated in place would replay the same
    // 4-tuples into TIME-WAIT)
    let trace = file;
    let loops = 1;
    if (mode === "serve") {
      let per = 0; // packets per pass as the windows count them: the core's poll() results
      replay(file, { mode: "serve", progress: false, onBatch: (_core, count) => (per += count) });
      if (per === 0) throw new Error(`${file}: serve processes no packet of it`);
      loops = Math.ceil(need / per);
    } else {
      trace = join(dir, "trace.pcap");
      firstRecords(file, trace, need);
    }
    const all: InstructionsWindow[] = [];
    for (let run = 1; run <= runs; run++)
      all.push(...countWindows(trace, mode, so, dir, run, warmup, n, windows, loops));
    const pp = all.map((w) => w.per_packet).sort((x, y) => x - y);
    const packets = all.reduce((a, w) => a + w.packets, 0);
    return {
      schema: INSTRUCTIONS_SCHEMA,
      file,
      mode,
      n,
      warmup,
      windows: all,
      per_packet: pp[pp.length >> 1],
      spread_pct: pp[0] ? Math.round(((pp[pp.length - 1] - pp[0]) / pp[0]) * 10000) / 100 : 0,
      gc_per_packet: Math.round((all.reduce((a, w) => a + w.gc_ir, 0) / packets) * 100) / 100,
      steady: all.every((w) => w.compile_ir === 0),
      valgrind: vg,
      node_flags: NODE_FLAGS,
      machine: machine(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatInstructions(r: InstructionsResult): string {
  const f = (x: number) => x.toLocaleString("en-US");
  const lines = [
    `instructions per packet (callgrind Ir, main thread, replay --mode ${r.mode}, ${r.file}: windows of ${f(r.n)} packets after ${f(r.warmup)})`,
  ];
  for (const w of r.windows)
    lines.push(
      `  run ${w.run}: ${f(w.packets)} packets, ${f(w.ir)} Ir (GC ${f(w.gc_ir)}, compilers ${f(w.compile_ir)}) → ${w.per_packet} per packet`,
    );
  lines.push(
    `  instructions/packet ${r.per_packet} (median; windows differ by ${r.spread_pct} %; GC ${r.gc_per_packet} per packet, not included)`,
  );
  if (!r.steady) lines.push("  not steady: a window holds a compilation (raise the warm-up)");
  lines.push(`  ${r.valgrind}; node ${r.node_flags.join(" ")}`);
  return lines.join("\n") + "\n";
}
