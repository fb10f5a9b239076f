// `npm run bench`: the project's benchmarks, with the machine they ran on.
// Figures are medians of repeated runs, with min, max and coefficient of
// variation; ratios are measured side by side in one run (the machine is shared).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchIngest } from "./ingest.ts";
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
const big = loopTrace(join(root, "traces/http-kernel.pcap"), 1e9, "http");
if (!json)
  console.log(
    `\ningest: ${big.path} (${fmt(big.packets)} packets, ${(big.bytes / 1e9).toFixed(2)} GB; traces/http-kernel.pcap repeated)`,
  );
const ingest = await benchIngest(big, runs);
if (json) console.log(JSON.stringify({ schema: "ixwasm-bench/1", machine: m, ingest }, null, 2));
else {
  console.log(row("ixwasm inspect (frame+decode+flows)", ingest.ixwasm_pps, "packets/s"));
  console.log(row("ixwasm inspect", ingest.ixwasm_mbps, "MB/s"));
  console.log(row("pcap-parser (records only)", ingest.pcap_parser_pps, "packets/s"));
  console.log(row("plain JS record walk (no decode)", ingest.plain_js_pps, "packets/s"));
  console.log(
    `  ixwasm / pcap-parser: ${ingest.ratio_vs_pcap_parser.toFixed(1)}x; peak RSS of inspect on the file: ${ingest.max_rss_mb} MB`,
  );
}
