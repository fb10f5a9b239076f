// The benchmark suite: sections that each measure one thing against its
// baseline, side by side in one run, and print medians with their spread and
// the machine. Used by `npm run bench` (host/measure/run.ts) and `ixwasm bench`.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchIngest, type IngestResult } from "./ingest.ts";
import { benchPair, type PairBench } from "./pair.ts";
import { benchGen, printGen } from "./gen.ts";
import { benchReplay, formatReplayBench } from "./replay.ts";
import { benchScale, formatScale } from "./scale.ts";
import { loopTrace } from "./lib/bigtrace.ts";
import { describe, machine } from "./lib/machine.ts";
import { loadavg } from "node:os";
import { commandLine, writeFiguresDoc, type SectionRun } from "./lib/figures-doc.ts";
import { fmt, type Summary } from "./lib/stats.ts";
import { beginSection, collectedFigures, figuresMarkdown, recordFigure } from "./lib/figures.ts";
import { ROOT } from "./lib/root.ts";
import { BenchInterrupted, catchInterrupts, interruptedBy } from "./lib/interrupt.ts";

export interface BenchContext {
  root: string;
  runs: number;
  say: (line: string) => void;
}

export interface Section {
  name: string;
  about: string;
  run(ctx: BenchContext): Promise<unknown>;
  /** It makes namespaces or servers, calls interruptPoint() between its steps and removes them in finally (lib/interrupt.ts). */
  interruptible?: boolean;
}

/** One printed figure line; the figure is also recorded for the `--markdown` table. */
export function row(name: string, s: Summary, unit: string): string {
  recordFigure(name, s, unit);
  return `  ${name.padEnd(46)} ${fmt(s.median).padStart(9)} ${unit}   (min ${fmt(s.min)}, max ${fmt(s.max)}, CV ${(s.cv * 100).toFixed(1)} %, n=${s.runs})`;
}

const INGEST_WORKLOADS = [
  { name: "HTTP, 625 B/packet", trace: "traces/http-kernel.pcap", bytes: 1e9, tag: "http" },
  { name: "memcached, 280 B/packet", trace: "traces/memcached-ascii.pcap", bytes: 4e8, tag: "memcached" },
];

const ingest: Section = {
  name: "ingest",
  about:
    "inspect-style ingest of a ≥ 1 M-packet capture: ixwasm inspect (frames, decodes, counts flows) vs pcap-parser (records only) vs a plain-JS record walk (record headers only, no decode: the fastest on small packets)",
  async run(ctx) {
    const results: (IngestResult & { workload: string })[] = [];
    for (const w of INGEST_WORKLOADS) {
      const big = loopTrace(join(ctx.root, w.trace), w.bytes, w.tag);
      ctx.say(
        `\ningest, ${w.name}: ${big.path} (${fmt(big.packets)} packets, ${(big.bytes / 1e9).toFixed(2)} GB; ${w.trace} repeated)`,
      );
      const r = await benchIngest(big, ctx.runs);
      // The headline names the fastest reader, and what each side does.
      const walk = r.plain_js_pps.median;
      const ix = r.ixwasm_pps.median;
      ctx.say(
        walk > ix
          ? `  fastest: the plain-JS record walk, ${(walk / ix).toFixed(2)}x inspect; it reads the 16-byte record headers only (no frame copied, nothing decoded), where inspect also frames every packet into the core and decodes Ethernet/IP/TCP and counts TCP conversations`
          : `  fastest: ixwasm inspect (frames, decodes Ethernet/IP/TCP and counts TCP conversations), ${(ix / walk).toFixed(2)}x the plain-JS record walk, which reads the 16-byte record headers only (no decode)`,
      );
      results.push({ workload: w.name, ...r });
      ctx.say(row(`${w.tag}: ixwasm inspect (frame+decode+flows)`, r.ixwasm_pps, "packets/s"));
      ctx.say(row(`${w.tag}: ixwasm inspect`, r.ixwasm_mbps, "MB/s"));
      ctx.say(row(`${w.tag}: pcap-parser (records only)`, r.pcap_parser_pps, "packets/s"));
      ctx.say(row(`${w.tag}: plain JS record walk (no decode)`, r.plain_js_pps, "packets/s"));
      ctx.say(
        `  ixwasm / pcap-parser: ${r.ratio_vs_pcap_parser.toFixed(1)}x; peak RSS of inspect on the file: ${r.max_rss_mb} MB`,
      );
    }
    return results;
  },
};

const pair: Section = {
  name: "pair",
  about:
    "pair echo, 64-byte messages: ixwasm pair in one thread and in two, against a C epoll echo pair over kernel TCP on 127.0.0.1 and Node net on 127.0.0.1",
  async run(ctx) {
    const p: PairBench = await benchPair(ctx.runs);
    ctx.say(
      `\npair echo: ${p.conns} connections × ${p.msgs} messages of ${p.size} B, ping-pong, warm-up runs not counted, sides rotated per run.` +
        `\n  ixwasm: both TCP stacks in WASM, frames passed in memory (no kernel), one thread or two worker threads; IPv4/TCP checksums offloaded (pair --checksums auto), as Linux computes none on 127.0.0.1.` +
        `\n  C epoll pair: kernel TCP on 127.0.0.1, client and server one process of one thread each, epoll, no per-message JS (host/measure/native/echo.c, ${p.gcc} -O3 -march=native).` +
        `\n  Node net: kernel TCP on 127.0.0.1 with Node's per-message JS on both sides, server in a child process.`,
    );
    ctx.say(row("ixwasm pair (1 thread)", p.ixwasm_one_rtps, "round trips/s"));
    ctx.say(row("ixwasm pair (2 worker threads)", p.ixwasm_rtps, "round trips/s"));
    ctx.say(row("C epoll pair, kernel TCP (2 processes)", p.c_epoll_rtps, "round trips/s"));
    ctx.say(row("Node net, kernel TCP (2 processes)", p.node_net_rtps, "round trips/s"));
    ctx.say(row("C epoll pair: client thread CPU", p.c_epoll_client_cpu_us, "µs/round trip"));
    const r = (a: Summary, b: Summary) => (a.median / b.median).toFixed(2);
    ctx.say(
      `  ixwasm / C epoll pair: ${r(p.ixwasm_one_rtps, p.c_epoll_rtps)}x (1 thread), ${r(p.ixwasm_rtps, p.c_epoll_rtps)}x (2 threads); ixwasm / Node net: ${r(p.ixwasm_one_rtps, p.node_net_rtps)}x, ${r(p.ixwasm_rtps, p.node_net_rtps)}x; C epoll / Node net: ${r(p.c_epoll_rtps, p.node_net_rtps)}x`,
    );
    ctx.say(
      `  ixwasm latency p50/p99: 1 thread ${p.ixwasm_one_p50_us}/${p.ixwasm_one_p99_us} µs, 2 threads ${p.ixwasm_p50_us}/${p.ixwasm_p99_us} µs (last run)`,
    );
    return p;
  },
};

/** Every section, in the order `npm run bench` runs them. Add new ones here. */
export const SECTIONS: Section[] = [ingest, pair];

// ---- replay (host/measure/replay.ts): raw and track on one worker, plain-JS parse loop as baseline ----
const replaySection: Section = {
  name: "replay",
  about:
    "replay raw and track, one worker, on a 400 MB HTTP-like capture, against a plain-JS parse+hash loop",
  async run(ctx) {
    const b = await benchReplay(ctx.root, ctx.runs);
    for (const line of formatReplayBench(b, row)) ctx.say(line);
    return b;
  },
};
SECTIONS.push(replaySection);

// ---- serve (host/measure/serve.ts): replay --mode serve on gen etc, track alongside ----
const serveSection: Section = {
  name: "serve",
  about:
    "replay --mode serve (mirror, fidelity checked) on a 500 k-packet gen etc capture, one worker, track alongside",
  async run(ctx) {
    const { benchServe, formatServeBench } = await import("./serve.ts");
    const b = benchServe(Math.max(5, ctx.runs));
    for (const line of formatServeBench(b, row)) ctx.say(line);
    return b;
  },
};
SECTIONS.push(serveSection);

// ---- gen (host/measure/gen.ts): synthetic workload generation speed, one core ----
const genSection: Section = {
  name: "gen",
  about: "ixwasm gen speed per workload (echo, etc, usr, incast, churn), to a file and to /dev/null",
  async run(ctx) {
    const rows = benchGen(Math.max(1, Math.min(ctx.runs, 3)));
    printGen(rows, ctx.say);
    for (const r of rows) {
      recordFigure(`${r.workload}, to a file`, r.pps_file, "packets/s");
      recordFigure(`${r.workload}, to /dev/null`, r.pps_devnull, "packets/s");
    }
    return rows;
  },
};
SECTIONS.push(genSection);

export interface BenchOptions {
  sections?: string[];
  runs?: number;
  json?: boolean;
  /** End with the figures as one Markdown table (docs/figures.md's bench table). */
  markdown?: boolean;
  /** Rewrite each section's generated region of this file (host/measure/lib/figures-doc.ts). */
  figures?: string;
  /** The command line written into those regions (default: this process's, as `ixwasm ...`). */
  command?: string;
  out?: (s: string) => void;
}

export async function runBench(o: BenchOptions = {}): Promise<Record<string, unknown>> {
  const out = o.out ?? ((s: string) => process.stdout.write(s + "\n"));
  let printed: string[] = [];
  const say = (line: string) => {
    printed.push(line);
    if (!o.json) out(line);
  };
  const ctx: BenchContext = { root: ROOT, runs: o.runs ?? 5, say };
  const unknown = (o.sections ?? []).filter((s) => !SECTIONS.some((x) => x.name === s));
  if (unknown.length)
    throw new Error(
      `unknown bench section(s): ${unknown.join(", ")}; sections: ${SECTIONS.map((s) => s.name).join(", ")}`,
    );
  const m = machine();
  ctx.say(`machine: ${describe(m)}`);
  const report: Record<string, unknown> = { schema: "ixwasm-bench/1", machine: m };
  const ran: SectionRun[] = [];
  const load = () => loadavg().map((x) => Math.round(x * 100) / 100);
  for (const s of SECTIONS)
    if (!o.sections?.length || o.sections.includes(s.name)) {
      const uncatch = s.interruptible ? catchInterrupts((line) => process.stderr.write(line + "\n")) : null;
      try {
        beginSection(s.name);
        printed = [];
        const started = new Date();
        const loadStart = load();
        report[s.name] = await s.run(ctx);
        ran.push({
          section: s.name,
          figures: collectedFigures().filter((f) => f.section === s.name),
          printed,
          started,
          ended: new Date(),
          loadStart,
          loadEnd: load(),
        });
        const sig = interruptedBy(); // came during the section's last step: its figures are not whole
        if (sig !== null) throw new BenchInterrupted(sig);
      } finally {
        uncatch?.();
      }
    }
  report.figures = collectedFigures();
  if (o.figures) writeFiguresDoc(o.figures, ran, o.command ?? commandLine(), m);
  if (o.json) out(JSON.stringify(report, null, 2));
  else if (o.markdown) {
    const cmd = ["npm run bench --", ...(o.sections ?? []), "--markdown"].join(" ");
    out("\n" + figuresMarkdown(collectedFigures(), describe(m), cmd));
  }
  return report;
}

// ---- cost (host/measure/ladder.ts, host/measure/native.ts): the cost ladder and WASM vs C per algorithm ----
const costSection: Section = {
  name: "cost",
  about:
    "cost ladder of traces/http-kernel.pcap (raw, +flow lookup, +TCP tracking, serve) and checksum/Toeplitz/parse/flow lookup in WASM vs C (gcc -O3 -march=native, and -O2) on the same frames, thread CPU time on both sides",
  async run(ctx) {
    const { benchLadder, formatLadder } = await import("./ladder.ts");
    const { benchNativeIsolated, formatNative } = await import("./native.ts");
    const trace = join(ctx.root, "traces/http-kernel.pcap");
    const ladder = await benchLadder(trace, { runs: ctx.runs });
    ctx.say("\n" + formatLadder(ladder).trimEnd());
    const native = benchNativeIsolated(trace, ctx.runs);
    for (const line of formatNative(native)) ctx.say(line);
    for (const r of ladder.rungs)
      if (r.ns_per_packet) recordFigure(`ladder: ${r.name}`, r.ns_per_packet, "ns/packet");
    for (const [k, v] of Object.entries(native.kernels)) {
      recordFigure(`${k}, WASM`, v.wasm_ns, "thread CPU ns/frame");
      recordFigure(`${k}, C (gcc -O3 -march=native)`, v.c_ns, "thread CPU ns/frame");
      recordFigure(`${k}, C (gcc -O2)`, v.c_o2_ns, "thread CPU ns/frame");
      recordFigure(`${k}, WASM/C (-O3 -march=native)`, v.ratio_runs, "x");
      recordFigure(`${k}, WASM/C (-O2)`, v.ratio_o2_runs, "x");
    }
    for (const x of native.buffers) {
      recordFigure(`checksum ${x.bytes} B buffer, WASM`, x.wasm_ns, "thread CPU ns/call");
      recordFigure(`checksum ${x.bytes} B buffer, C (gcc -O3 -march=native)`, x.c_ns, "thread CPU ns/call");
      recordFigure(`checksum ${x.bytes} B buffer, C (gcc -O2)`, x.c_o2_ns, "thread CPU ns/call");
      recordFigure(`checksum ${x.bytes} B buffer, WASM/C (-O3 -march=native)`, x.ratio_runs, "x");
    }
    return { ladder, native };
  },
};
SECTIONS.push(costSection);

// ---- scale (host/measure/scale.ts): track cost at 1 M concurrent connections vs 1 k, bytes per connection ----
const scaleSection: Section = {
  name: "scale",
  about:
    "replay --mode track and serve on gen churn captures with 1 k and 1 M concurrent connections: ns/packet ratio, bytes/connection",
  async run(ctx) {
    const b = benchScale(Math.max(1, Math.min(ctx.runs, 3)));
    for (const line of formatScale(b)) ctx.say(line);
    recordFigure(`track, ${fmt(b.small.conns)} connections`, b.small.ns_per_packet, "ns/packet");
    recordFigure(`track, ${fmt(b.large.conns)} connections`, b.large.ns_per_packet, "ns/packet");
    if (b.serve) {
      recordFigure(
        `serve, ${fmt(b.small.conns)} connections`,
        b.serve.small.cpu_ns_per_packet,
        "CPU ns/packet",
      );
      recordFigure(
        `serve, ${fmt(b.large.conns)} connections`,
        b.serve.large.cpu_ns_per_packet,
        "CPU ns/packet",
      );
    }
    return b;
  },
};
SECTIONS.push(scaleSection);

// ---- tap (host/measure/tap-peers.ts): ixwasm tap vs the kernel with NPtcp, sockperf, memcaslap ----
const tapSection: Section = {
  name: "tap",
  interruptible: true,
  about:
    "ixwasm tap vs kernel behind a veth, same client namespace layout: NPtcp 64 B half round trip, sockperf ping-pong p50/p99 (TCP, UDP), memcaslap TPS vs memcached -t 1, tap-path packets/s and CPU per packet; then sparse ping and memcached GETs (one every 20 ms) with --poll adaptive and busy vs the kernel, and a C tap reflector as the tap path's floor (64 B ping-pong, CPU per frame under a ping flood) (root)",
  async run(ctx) {
    const { benchTapPeers, formatTapPeers } = await import("./tap-peers.ts");
    const { benchTapSparse, formatTapSparse } = await import("./tap-sparse.ts");
    const runs = Math.max(1, Math.min(ctx.runs, 5));
    const peers = await benchTapPeers(ctx.root, runs);
    for (const line of formatTapPeers(peers, row)) ctx.say(line);
    const sparse = await benchTapSparse(ctx.root, runs);
    for (const line of formatTapSparse(sparse, row)) ctx.say(line);
    return { ...peers, sparse };
  },
};
SECTIONS.push(tapSection);

// ---- workers (host/measure/workers.ts): replay raw and track, 1 vs 2 worker threads, dispatch cost, projection ----
const workersSection: Section = {
  name: "workers",
  about:
    "replay raw and track on one thread vs two worker threads (2 M-packet gen etc capture), dispatcher and per-worker cost per packet, projection to 8 and 16 workers; serve on 1 vs 2 workers",
  async run(ctx) {
    const { benchWorkers, formatWorkers } = await import("./workers.ts");
    const b = await benchWorkers(Math.max(5, ctx.runs));
    for (const line of formatWorkers(b, row)) ctx.say(line);
    return b;
  },
};
SECTIONS.push(workersSection);

// ---- pair-workers (host/measure/pair-workers.ts): pair echo with 1 vs 2 server workers on the dataplane ----
const pairWorkersSection: Section = {
  name: "pair-workers",
  about:
    "pair echo with the server on the dataplane: 1 vs 2 server workers (client + dispatcher in the main thread), one-thread pair as reference, CPU per round trip",
  async run(ctx) {
    const { benchPairWorkers, formatPairWorkersBench } = await import("./pair-workers.ts");
    const b = await benchPairWorkers(Math.max(5, ctx.runs));
    for (const line of formatPairWorkersBench(b, row)) ctx.say(line);
    return b;
  },
};
SECTIONS.push(pairWorkersSection);

// ---- app-modules (host/measure/app-modules.ts): the cost of isolation, built-in echo vs the echo module ----
const appModulesSection: Section = {
  name: "app-modules",
  interruptible: true,
  about:
    "pair echo and tap echo (kernel client) against the built-in echo vs the same echo as an app module (in the serving thread, and in a thread of its own on pair): round trips/s, ratio, isolation cost per round trip, CPU",
  async run(ctx) {
    const { benchAppModules, formatAppModuleBench } = await import("./app-modules.ts");
    const b = await benchAppModules(Math.max(3, ctx.runs));
    for (const line of formatAppModuleBench(b, row)) ctx.say(line);
    return b;
  },
};
SECTIONS.push(appModulesSection);

// ---- kernels (host/measure/kernels.ts): checksum, Toeplitz and hashBatch per call (moved out of the tests) ----
const kernelsSection: Section = {
  name: "kernels",
  about:
    "per-call speed through the exports: checksum scalar vs SIMD (40 B to 9000 B), Toeplitz table vs bitwise reference, hashBatch per frame",
  async run(ctx) {
    const { benchKernels, formatKernels } = await import("./kernels.ts");
    const b = benchKernels(Math.max(5, ctx.runs));
    for (const line of formatKernels(b, row)) ctx.say(line);
    return b;
  },
};
SECTIONS.push(kernelsSection);

// ---- recovery (host/measure/recovery.ts): SACK-based loss recovery against NewReno, virtual clock ----
const recoverySection: Section = {
  name: "recovery",
  about:
    "pair echo of 60,000-byte messages under 1 %, 5 % and 10 % loss, SACK (RFC 6675) vs NewReno (RFC 6582): completion time and goodput on the virtual clock",
  async run(ctx) {
    const { benchRecovery, formatRecoveryBench } = await import("./recovery.ts");
    const b = benchRecovery(Math.max(5, ctx.runs * 2));
    for (const line of formatRecoveryBench(b)) ctx.say(line);
    return b;
  },
};
SECTIONS.push(recoverySection);
