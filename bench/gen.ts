// Generation speed of `ixwasm gen`, one core: packets/s for each workload, writing
// to a real file (the page cache absorbs it) and, separately, to /dev/null so the
// figure for the synthesiser alone is visible. Median of `runs` runs each.
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
      const cpu: number[] = [];
      let packets = 0;
      let bytes = 0;
      for (let i = 0; i < runs; i++) {
        const path = join(dir, `${c.workload}.pcap`);
        const a = once(genOptions(c.workload, { out: path, quiet: true, ...c.args }));
        rmSync(path);
        file.push(a.pps);
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
        pps_cpu_devnull: summarize(cpu),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function printGen(rows: GenBenchRow[], say: (line: string) => void = console.log): void {
  say("\ngeneration (ixwasm gen, one core), packets/s, median:");
  for (const r of rows)
    say(
      `  ${r.workload.padEnd(48)} ${fmt(r.pps_file.median).padStart(9)} to a file, ${fmt(r.pps_devnull.median).padStart(9)} to /dev/null, ${fmt(r.pps_cpu_devnull.median).padStart(9)} per CPU second` +
        `   (${fmt(r.packets)} packets, ${r.bytes_per_packet.toFixed(0)} B/packet, CV ${(r.pps_file.cv * 100).toFixed(1)} %, n=${r.pps_file.runs})`,
    );
}

if (process.argv[1]?.endsWith("gen.ts") || process.argv[1]?.endsWith("gen.js")) {
  const rows = benchGen(Number(process.env.IXWASM_BENCH_RUNS ?? 3));
  if (process.argv.includes("--json")) console.log(JSON.stringify(rows, null, 2));
  else printGen(rows);
}
