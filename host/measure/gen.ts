// Generation speed of `ixwasm gen`, one core: packets/s for each workload, writing
// to a real file (the page cache absorbs it) and, separately, to /dev/null so the
// figure for the synthesiser alone is visible. Median and range of `runs` runs each,
// per wall-clock second and per CPU second of the process (user + system, compiler
// threads included): on a shared machine the CPU figure is the steadier one.
//
// Whole run and steady state: the first ~0.3 M packets of a process go at half speed
// or less while V8 compiles (its compiler threads count as process CPU), so a short
// run's whole-run figure mostly measures warm-up. Each run also reports the steady
// state: packets written after the first 20 % of the run over the CPU time of that
// span, timed at generate()'s progress callback (every 65536 packets). ETC and USR
// run 10 M packets (IXWASM_BENCH_GEN_PACKETS to change) so both figures mean something.
// All cases share one process, so every case after the first starts with the common
// code (Synth) already compiled: whole-run figures of a fresh `ixwasm gen` are lower.
//
// Run alone: node --import tsx host/measure/gen.ts [--json]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate, type GenOptions, type WorkloadName } from "../gen/index.ts";
import { genOptions } from "../gen/run.ts";
import { fmt, summarize, type Summary } from "./lib/stats.ts";

export interface GenBenchRow {
  workload: string;
  args: string;
  packets: number;
  bytes_per_packet: number;
  pps_file: Summary;
  pps_devnull: Summary;
  /** Packets per CPU second of the process (user + system): steadier on a shared machine. */
  pps_cpu_file: Summary;
  pps_cpu_devnull: Summary;
  /** Per CPU second from 20 % of the run to its end (warm-up left out). */
  pps_cpu_steady_file: Summary;
  pps_cpu_steady_devnull: Summary;
}

/** ETC and USR length: long enough that warm-up (~0.25 CPU s) is a small part. */
const LONG = Number(process.env.IXWASM_BENCH_GEN_PACKETS ?? 10_000_000);

const CASES: { workload: WorkloadName; args: Record<string, unknown>; label: string }[] = [
  { workload: "echo", args: { conns: 64, messages: 20000 }, label: "64 conns × 20000 × 64 B" },
  { workload: "etc", args: { packets: LONG }, label: `ETC ascii, ${LONG / 1e6} M packets` },
  {
    workload: "usr",
    args: { packets: LONG, protocol: "binary" },
    label: `USR binary, ${LONG / 1e6} M packets`,
  },
  { workload: "incast", args: { servers: 32, duration: 1e9 }, label: "32 senders × 32 KiB, 1 s" },
  { workload: "churn", args: { conns: 1_000_000, rate: 200_000 }, label: "1 M concurrent, 200 k opens/s" },
];

interface Once {
  packets: number;
  bytes: number;
  pps: number;
  cpu: number;
  /** Packets per CPU second after the first 20 % of the run. */
  steady: number;
}

function cpuNow(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

function once(o: GenOptions): Once {
  // Progress marks (packets, CPU s); a few hundred per run at most.
  const marks: number[] = [];
  o.onProgress = (packets) => void marks.push(packets, cpuNow());
  const r = generate(o);
  const endCpu = cpuNow();
  let i = 0;
  while (i < marks.length && marks[i] < 0.2 * r.packets) i += 2;
  // Too short to have marks past 20 %: the whole run stands for the steady state.
  const steady = i < marks.length ? (r.packets - marks[i]) / (endCpu - marks[i + 1]) : r.packets_per_cpu_s;
  return {
    packets: r.packets,
    bytes: r.bytes,
    pps: r.packets / r.elapsed_s,
    cpu: r.packets_per_cpu_s,
    steady,
  };
}

export function benchGen(runs = 3): GenBenchRow[] {
  const dir = mkdtempSync(join(tmpdir(), "ixwasm-gen-bench-"));
  const rows: GenBenchRow[] = [];
  try {
    for (const c of CASES) {
      const file: number[] = [];
      const nul: number[] = [];
      const cpuFile: number[] = [];
      const cpu: number[] = [];
      const steadyFile: number[] = [];
      const steady: number[] = [];
      let packets = 0;
      let bytes = 0;
      for (let i = 0; i < runs; i++) {
        const path = join(dir, `${c.workload}.pcap`);
        const a = once(genOptions(c.workload, { out: path, quiet: true, ...c.args }));
        rmSync(path);
        file.push(a.pps);
        cpuFile.push(a.cpu);
        steadyFile.push(a.steady);
        packets = a.packets;
        bytes = a.bytes;
        const d = once(genOptions(c.workload, { out: "/dev/null", format: "pcap", quiet: true, ...c.args }));
        nul.push(d.pps);
        cpu.push(d.cpu);
        steady.push(d.steady);
      }
      rows.push({
        workload: `${c.workload}: ${c.label}`,
        args: JSON.stringify(c.args),
        packets,
        bytes_per_packet: bytes / packets,
        pps_file: summarize(file),
        pps_devnull: summarize(nul),
        pps_cpu_file: summarize(cpuFile),
        pps_cpu_devnull: summarize(cpu),
        pps_cpu_steady_file: summarize(steadyFile),
        pps_cpu_steady_devnull: summarize(steady),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** "1.52 M (1.40–1.61)": median and range. */
function spread(s: Summary): string {
  return `${fmt(s.median)} (${fmt(s.min).replace(/ ?M$/, "")}–${fmt(s.max)})`;
}

export function printGen(rows: GenBenchRow[], say: (line: string) => void = console.log): void {
  say("\ngeneration (ixwasm gen, one core), packets/s, median (min–max); per CPU second");
  say("for the whole run and steady (after the first 20 % of the run):");
  for (const r of rows) {
    say(
      `  ${r.workload}  (${fmt(r.packets)} packets, ${r.bytes_per_packet.toFixed(0)} B/packet, n=${r.pps_file.runs})`,
    );
    say(
      `    to a file:    whole ${spread(r.pps_cpu_file)}, steady ${spread(r.pps_cpu_steady_file)} per CPU s; ${spread(r.pps_file)} per wall s`,
    );
    say(
      `    to /dev/null: whole ${spread(r.pps_cpu_devnull)}, steady ${spread(r.pps_cpu_steady_devnull)} per CPU s; ${spread(r.pps_devnull)} per wall s`,
    );
  }
}

if (process.argv[1]?.endsWith("gen.ts") || process.argv[1]?.endsWith("gen.js")) {
  const rows = benchGen(Number(process.env.IXWASM_BENCH_RUNS ?? 3));
  if (process.argv.includes("--json")) console.log(JSON.stringify(rows, null, 2));
  else printGen(rows);
}
