// Deterministic per-packet cost: instructions counted by valgrind's callgrind
// for a replay of the first N and the first 2N packets of a capture; the
// difference over N is instructions per packet (fixed costs cancel). Counting
// is switched on only around the replay (bench/native/cgmark.c via koffi).
//
// V8 flags, chosen for repeatable counts: --single-threaded (no background
// compiler or GC threads), --no-liftoff and --no-wasm-lazy-compilation (every
// wasm function compiled once by TurboFan before the replay: the counts are of
// the optimized code, as in a long run, and no tier-up happens inside the
// window), fixed hash and random seeds, and a GC schedule that does not follow
// the clock (--predictable-gc-schedule: without it, two runs of the same 20 000
// packets were 240 000 Ir apart, with it 1 000), and V8's predictable mode
// (--predictable: without it the 2N run of the test's 100 000 packets came out
// in one of two states, 91.8 M or 99.8 M Ir, 356 or 436 per packet, in two of
// three fresh-clone test runs; with it three pairs gave 356.5-356.9). Node under
// valgrind runs ~50x slower: N defaults to 20 000.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TraceReader } from "../host/io/reader.ts";
import { TraceWriter } from "../host/io/writer.ts";
import { createCore } from "../host/core.ts";
import { READ_CORE } from "../host/commands/common.ts";
import { DESC_BYTES } from "../host/io/reader.ts";
import { machine, type Machine } from "./lib/machine.ts";

export const INSTRUCTIONS_SCHEMA = "ixwasm-instructions/1";
export const NODE_FLAGS = [
  "--single-threaded",
  "--no-liftoff",
  "--no-wasm-lazy-compilation",
  "--hash-seed=1",
  "--random-seed=1",
  "--predictable-gc-schedule",
  "--predictable",
];

export interface InstructionsResult {
  schema: typeof INSTRUCTIONS_SCHEMA;
  file: string;
  mode: string;
  n: number;
  /** Ir of the replay of N and 2N packets, per repetition */
  runs: { ir_n: number; ir_2n: number; per_packet: number }[];
  per_packet: number;
  /** (max − min) / min over the repetitions, % */
  spread_pct: number;
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
        if ((core.u32[d + 3] >>> 16) & 2) continue; // not a packet
        const sec = core.f64[(d + 6) >>> 1];
        if (Number.isNaN(first)) first = sec;
        last = sec;
        w.write(core.u8, core.u32[d], core.u32[d + 1], sec + shift, core.u32[d + 4], core.u32[d + 2]);
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

function root(): string {
  return fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../.." : "..", import.meta.url));
}

/** gcc-built bench/native/cgmark.c (rebuilt when the source is newer). */
function cgmark(dir: string): string {
  const src = join(root(), "bench/native/cgmark.c");
  const so = join(dir, "cgmark.so");
  const r = spawnSync("gcc", ["-O2", "-shared", "-fPIC", "-o", so, src], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`gcc failed building ${src}: ${r.stderr.trim() || r.error?.message}`);
  return so;
}

/** Ir counted by callgrind for one replay of `file`. */
function countIr(file: string, mode: string, so: string, dir: string, tag: string): number {
  const js = import.meta.url.endsWith(".js");
  const child = join(root(), js ? "dist/bench/instructions-child.js" : "bench/instructions-child.ts");
  const out = join(dir, `callgrind.${tag}.out`);
  const args = [
    "--tool=callgrind",
    "--collect-atstart=no",
    `--callgrind-out-file=${out}`,
    process.execPath,
    ...NODE_FLAGS,
    ...(js ? [] : ["--import", "tsx"]),
    child,
    file,
    mode,
    so,
  ];
  const r = spawnSync("valgrind", args, { encoding: "utf8", cwd: root(), maxBuffer: 1 << 26 });
  if (r.status !== 0)
    throw new Error(`valgrind run failed (${r.status}): ${r.stderr.split("\n").slice(-5).join(" ")}`);
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(readFileSync(out, "utf8"));
  if (!m) throw new Error(`no totals in ${out}`);
  unlinkSync(out);
  return Number(m[1]);
}

export function benchInstructions(file: string, mode = "raw", n = 20_000, reps = 2): InstructionsResult {
  const vg = valgrindVersion();
  if (!vg)
    throw new NoValgrind(
      "valgrind is not installed: instruction counts need callgrind (Debian: apt-get install valgrind)",
    );
  const dir = join(tmpdir(), `ixwasm-instr-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const so = cgmark(dir);
  const fN = join(dir, "n.pcap");
  const f2N = join(dir, "2n.pcap");
  firstRecords(file, fN, n);
  firstRecords(file, f2N, 2 * n);
  const runs: InstructionsResult["runs"] = [];
  for (let i = 0; i < reps; i++) {
    const a = countIr(fN, mode, so, dir, `n${i}`);
    const b = countIr(f2N, mode, so, dir, `2n${i}`);
    runs.push({ ir_n: a, ir_2n: b, per_packet: Math.round(((b - a) / n) * 100) / 100 });
  }
  rmSync(dir, { recursive: true, force: true });
  const pp = runs.map((r) => r.per_packet);
  const min = Math.min(...pp);
  return {
    schema: INSTRUCTIONS_SCHEMA,
    file,
    mode,
    n,
    runs,
    per_packet: pp.sort((x, y) => x - y)[pp.length >> 1],
    spread_pct: min ? Math.round(((Math.max(...pp) - min) / min) * 10000) / 100 : 0,
    valgrind: vg,
    node_flags: NODE_FLAGS,
    machine: machine(),
  };
}

export function formatInstructions(r: InstructionsResult): string {
  const lines = [
    `instructions per packet (callgrind Ir, replay --mode ${r.mode}, ${r.file}: first ${r.n.toLocaleString("en-US")} and ${(2 * r.n).toLocaleString("en-US")} packets)`,
  ];
  r.runs.forEach((x, i) =>
    lines.push(
      `  run ${i + 1}: N ${x.ir_n.toLocaleString("en-US")} Ir, 2N ${x.ir_2n.toLocaleString("en-US")} Ir → ${x.per_packet} per packet`,
    ),
  );
  lines.push(
    `  instructions/packet ${r.per_packet} (runs differ by ${r.spread_pct} %); ${r.valgrind}; node ${r.node_flags.join(" ")}`,
  );
  return lines.join("\n") + "\n";
}
