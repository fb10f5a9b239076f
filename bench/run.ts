// `npm run bench`: the project's benchmarks, with the machine they ran on.
// Figures are medians of repeated runs, with min, max and coefficient of
// variation; ratios are measured side by side in one run (the machine is shared).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchIngest } from "./ingest.ts";
import { benchPair } from "./pair.ts";
import { loopTrace } from "./lib/bigtrace.ts";
import { describe, machine } from "./lib/machine.ts";
import { fmt, type Summary } from "./lib/stats.ts";

const root = fileURLToPath(new URL(process.argv[1]?.includes("/dist/") ? "../.." : "..", import.meta.url));
const json = process.argv.includes("--json");
const runs = Number(process.env.IXWASM_BENCH_RUNS ?? 5);

function row(name: string, s: Summary, unit: string): string {
  return `  ${name.padEnd(34)} ${fmt(s.median).padStart(9)} ${unit}   (min ${fmt(s.min)}, max ${fmt(s.max)}, CV ${(s.cv * 100).toFixed(1)} %, n=${s.runs})`;
}

const m = machine();
if (!json) console.log(`machine: ${describe(m)}`);
const workloads = [
  { name: "HTTP, 625 B/packet", trace: "traces/http-kernel.pcap", bytes: 1e9, tag: "http" },
  { name: "memcached, 280 B/packet", trace: "traces/memcached-ascii.pcap", bytes: 4e8, tag: "memcached" },
];
// `npm run bench -- pair` (or `ingest`) runs one section only.
const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const results = [];
for (const w of only.length && !only.includes("ingest") ? [] : workloads) {
  const big = loopTrace(join(root, w.trace), w.bytes, w.tag);
  if (!json)
    console.log(
      `\ningest, ${w.name}: ${big.path} (${fmt(big.packets)} packets, ${(big.bytes / 1e9).toFixed(2)} GB; ${w.trace} repeated)`,
    );
  const ingest = await benchIngest(big, runs);
  results.push({ workload: w.name, ...ingest });
  if (!json) {
    console.log(row("ixwasm inspect (frame+decode+flows)", ingest.ixwasm_pps, "packets/s"));
    console.log(row("ixwasm inspect", ingest.ixwasm_mbps, "MB/s"));
    console.log(row("pcap-parser (records only)", ingest.pcap_parser_pps, "packets/s"));
    console.log(row("plain JS record walk (no decode)", ingest.plain_js_pps, "packets/s"));
    console.log(
      `  ixwasm / pcap-parser: ${ingest.ratio_vs_pcap_parser.toFixed(1)}x; peak RSS of inspect on the file: ${ingest.max_rss_mb} MB`,
    );
  }
}
const pair = only.length && !only.includes("pair") ? null : await benchPair(runs);
if (pair && !json) {
  console.log(
    `\npair echo: ${pair.conns} connections × ${pair.msgs} messages of ${pair.size} B, 2 workers; kernel: Node net on loopback, server in a child process`,
  );
  console.log(row("ixwasm pair (2 worker threads)", pair.ixwasm_rtps, "round trips/s"));
  console.log(row("kernel TCP via Node net", pair.kernel_rtps, "round trips/s"));
  console.log(
    `  ixwasm / kernel: ${pair.ratio.toFixed(2)}x; ixwasm latency p50 ${pair.ixwasm_p50_us} µs, p99 ${pair.ixwasm_p99_us} µs`,
  );
}
if (json)
  console.log(JSON.stringify({ schema: "ixwasm-bench/1", machine: m, ingest: results, pair }, null, 2));
