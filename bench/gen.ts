// Generation speed of `ixwasm gen`, one core: packets/s for each workload, writing
// to a real file (the page cache absorbs it) and, separately, to /dev/null so the
// figure for the synthesiser alone is visible. Median and range of `runs` runs each,
// per wall-clock second and per CPU second of the process (user + system, compiler
// threads included): on a shared machine the CPU figure is the steadier one.
//
// Run alone: node --import tsx bench/gen.ts [--json]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate, type GenOptions, type WorkloadName } from "../host/trace/gen/index.ts";
import { genOptions } from "../host/commands/gen.ts";
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
}

const CASES: { workload: WorkloadName; args: Record<string, unknown>; label: string }[] = [
  { workload: "echo", args: { conns: 64, messages: 20000 }, label: "64 conns × 20000 × 64 B" },
  { workload: "etc", args: { duration: 10e9, conns: 64 }, label: "ETC ascii, 10 s of capture" },
  { workload: "usr", args: { duration: 10e9, conns: 64, protocol: "binary" }, label: "USR binary, 10 s" },
  { workload: "incast", args: { servers: 32, duration: 1e9 }, label: "32 senders × 32 KiB, 1 s" },
  { workload: "churn", args: { conns: 1_000_000, rate: 200_000 }, label: "1 M concurrent, 200 k opens/s" },
];

function once(o: GenOptions): { packets: number; bytes: number; pps: number; cpu: number } {
  const r = generate(o);
  return { packets: r.packets, bytes: r.bytes, pps: r.packets / r.elapsed_s, cpu: r.packets_per_cpu_s };
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
      let packets = 0;
      let bytes = 0;
      for (let i = 0; i < runs; i++) {
        const path = join(dir, `${c.workload}.pcap`);
        const a = once(genOptions(c.workload, { out: path, quiet: true, ...c.args }));
        rmSync(path);
        file.push(a.pps);
        cpuFile.push(a.cpu);
        packets = a.packets;
        bytes = a.bytes;
        const d = once(genOptions(c.workload, { out: "/dev/null", format: "pcap", quiet: true, ...c.args }));
        nul.push(d.pps);
        cpu.push(d.cpu);
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
  say("\ngeneration (ixwasm gen, one core), packets/s, median (min–max):");
  for (const r of rows) {
    say(
      `  ${r.workload}  (${fmt(r.packets)} packets, ${r.bytes_per_packet.toFixed(0)} B/packet, n=${r.pps_file.runs})`,
    );
    say(`    to a file:    ${spread(r.pps_cpu_file)} per CPU second, ${spread(r.pps_file)} per wall second`);
    say(
      `    to /dev/null: ${spread(r.pps_cpu_devnull)} per CPU second, ${spread(r.pps_devnull)} per wall second`,
    );
  }
}

if (process.argv[1]?.endsWith("gen.ts") || process.argv[1]?.endsWith("gen.js")) {
  const rows = benchGen(Number(process.env.IXWASM_BENCH_RUNS ?? 3));
  if (process.argv.includes("--json")) console.log(JSON.stringify(rows, null, 2));
  else printGen(rows);
}
