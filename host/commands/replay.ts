import { Option, type Command } from "commander";
import { addAppModuleOptions, appModuleFrom, type AppModuleRaw } from "./app-module-options.ts";
import { writeFileSync } from "node:fs";
import { APPS, MAX_SERVE_WORKERS, type ReplayMode } from "../replay/options.ts";
import { parseSpeed } from "../replay/pacing.ts";
import { replay } from "../replay/replay.ts";
import { prescan, prescanWorkers, type Prescan, type WorkerPrescans } from "../replay/serve/prescan.ts";
import { formatReplay, type ReplayReport } from "../report/replay.ts";
import { captureId } from "../report/capture-id.ts";
import { chooseShard, MAX_SHARDS, type ShardChoice } from "../replay/shard.ts";
import { UsageError } from "../io/errors.ts";
import { examples, fail, out, wholeNumber } from "./cli-util.ts";
import { DEFAULT_CHARTS, FLOW_SPEC_HELP, parseFlowSpecs, type FlowSpec } from "../report/timeseq.ts";

interface Raw extends AppModuleRaw {
  mode?: ReplayMode;
  app?: string;
  workers: number;
  speed: string;
  loop: number;
  out?: string;
  outMerged?: boolean;
  flows: number;
  report: "table" | "json" | "html";
  reportFile?: string;
  stages?: number | true;
  flow: string[];
  shard?: string;
  shardCount?: number;
}

/** The run's shard (chosen once in the action) and the CPU time at its start, for the report's /2 fields. */
let shard: ShardChoice | null = null;
let cpu0 = process.cpuUsage();

export function register(program: Command): void {
  const cmd = program
    .command("replay")
    .description(
      "replay a capture through the WASM core: serve (the core plays every captured TCP server, with a fidelity score), track (flow lookup and TCP state tracking) or raw (parse, hash, dispatch, count)",
    )
    .argument("<file>", "capture file (pcap or pcapng)")
    .addOption(
      new Option(
        "--mode <mode>",
        "processing mode (default: serve when the capture holds TCP handshakes and runs at top speed once on one worker, else track)",
      ).choices(["raw", "track", "serve"]),
    )
    .addOption(
      new Option("--app <app>", "serve mode's answering app (mirror: the capture's own server)").choices([
        ...APPS,
      ]),
    )
    .option(
      "--workers <n>",
      'worker threads, each owning the flows the RETA gives it (raw, track: fed by this thread; serve: each reads the capture itself); 1: this thread only, the fastest on 2 busy cores (docs/figures.md, "Workers"); with --stages (raw, track), the RETA split in one thread; serve --stages runs one core',
      wholeNumber,
      1,
    )
    .option(
      "--speed <speed>",
      "top | realtime | xK (e.g. x10) | pps:N | mbps:N (serve: paces the client's packets; the core's clock is then the wall clock)",
      "top",
    )
    .option(
      "--loop <n>",
      "replay the capture n times, each pass as new conversations: client port + pass (serve: the same server side, each pass 3+ s of core clock after the last, past TIME-WAIT)",
      wholeNumber,
      1,
    )
    .option(
      "--out <file>",
      "write what the core transmits (.pcap or .pcapng); raw forwards the frames it processed",
    )
    .option("--out-merged", "--out holds the input and the output interleaved by time")
    .option("--flows <n>", "flow-table capacity (track)", wholeNumber, 1 << 18)
    .addOption(
      new Option("--report <kind>", "report format (html: with --report-file, implies --stages)")
        .choices(["table", "json", "html"])
        .default("table"),
    )
    .option(
      "--report-file <file>",
      "also write the JSON report to this file (the HTML file with --report html)",
    )
    .option(
      "--flow <flows>",
      `--report html, serve: the flows to draw a time-sequence chart of (repeat, or a comma list), each ${FLOW_SPEC_HELP}; default: the ${DEFAULT_CHARTS} flows with most mismatches`,
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      "--stages [runs]",
      "stage cost: per-stage ns and estimated cycles per packet, residual, timer overhead (runs timed and untimed replays, default 5 each)",
      wholeNumber,
    )
    .option(
      "--shard <I/N>",
      `replay only shard I of N of the capture's flows (N ≤ ${MAX_SHARDS}): the flow groups --workers N would give worker I, a flow's two directions together, frames without an IP header in shard 0; with --workers W the shard's groups are dealt to W workers. Default: SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX of --shard-count (or IXWASM_SHARD_COUNT); 0/1 is the whole capture (docs/design/scale-out.md)`,
    )
    .option(
      "--shard-count <n>",
      "the shard count with Kubernetes' JOB_COMPLETION_INDEX (the Indexed Job's completions; else IXWASM_SHARD_COUNT)",
      wholeNumber,
    );
  addAppModuleOptions(cmd)
    .addHelpText(
      "after",
      examples(
        [
          "serve (the default here): the core answers as the captured HTTP server, with a fidelity score",
          "ixwasm replay traces/http-kernel.pcap",
        ],
        [
          "shard 1 of 3 of the flows, as one of three machines would; `ixwasm report merge` joins the three reports",
          "ixwasm replay traces/http-kernel.pcap --shard 1/3 --report json --report-file shard-1.json",
        ],
        [
          "flow lookup and TCP state tracking only, the report as JSON (schema ixwasm-replay/2)",
          "ixwasm replay traces/memcached-ascii.pcap --mode track --report json",
        ],
        [
          "stage cost over 3 timed and 3 untimed replays, and an HTML report",
          "ixwasm replay traces/http-kernel.pcap --stages 3 --report html --report-file report.html",
        ],
      ),
    )
    .action((file: string, o: Raw) => {
      cpu0 = process.cpuUsage();
      shard = chooseShard(o.shard, o.shardCount);
      if (o.outMerged && !o.out) throw new UsageError("--out-merged needs --out <file>", "add --out F.pcap");
      const flowSpecs = parseFlowSpecs(o.flow);
      if (flowSpecs.length && o.report !== "html")
        throw new UsageError(
          "--flow chooses the HTML report's charts",
          "add --report html --report-file F.html",
        );
      // The default mode: serve whenever there is a TCP flow to serve (issue 5); an
      // app asks for serve too. The same with --stages and --report html, so their
      // reports describe the run the plain command makes (issue 16 item 7).
      let pre: Prescan | undefined;
      let prescans: WorkerPrescans | undefined;
      if (o.appModule) {
        if ((o.mode ?? "serve") !== "serve" || o.app || o.stages !== undefined || o.report === "html")
          throw new UsageError(
            "--app-module answers in serve mode, without --app, --stages or --report html",
            "use --mode serve (the default for a TCP capture) and drop the others",
          );
        o.mode = "serve";
      }
      if (!o.mode) {
        if (o.app) o.mode = "serve";
        else {
          // serve at any --speed and --loop; a capture whose only flows are UDP is tracked.
          // With --workers N (no shard, no cost report) the choice is made from the workers'
          // own pre-scans, which then serve (one pass over the capture, not two).
          if (
            o.workers > 1 &&
            o.workers <= MAX_SERVE_WORKERS &&
            !shard &&
            o.stages === undefined &&
            o.report !== "html"
          ) {
            prescans = prescanWorkers(file, o.workers);
            const tcp = prescans.pres.reduce((a, p) => a + p.served - p.servedUdp, 0);
            o.mode = tcp > 0 ? "serve" : "track";
          } else {
            pre = prescan(file);
            o.mode = pre.served - pre.servedUdp > 0 ? "serve" : "track";
            // A shard chooses as the whole capture does (every shard runs one mode), but serves from its own pre-scan.
            if (shard) pre = undefined;
          }
        }
      }
      if (flowSpecs.length && (o.mode !== "serve" || (o.app ?? "mirror") !== "mirror"))
        throw new UsageError(
          "--flow charts served flows against the capture's server",
          "run in serve mode with the mirror app (--mode serve, no --app)",
        );
      if (o.stages !== undefined || o.report === "html") return costAction(file, o, pre, flowSpecs); // host/measure/cost.ts
      if (o.workers > 1) return workersAction(file, o, prescans); // host/replay/workers.ts
      const json = o.report === "json";
      const r = replay(file, {
        ...runOptions(o),
        prescan: pre,
        out: o.out,
        outMerged: o.outMerged,
        progress: !json && process.stderr.isTTY === true,
      });
      report(o, r, formatReplay(r));
    });
}

/** What every runner below takes from the command line as it stands. */
function runOptions(o: Raw) {
  return {
    mode: o.mode ?? "track",
    app: o.app ?? null,
    module: appModuleFrom(o),
    workers: o.workers,
    speed: parseSpeed(o.speed),
    loop: o.loop,
    flows: o.flows,
    shard: shard && shard.count > 1 ? { index: shard.index, count: shard.count } : null,
  };
}

/** The report on stdout (JSON, or `text`), in --report-file as JSON, then the run's error, if any, as the exit. */
function report(o: Raw, r: ReplayReport, text: string): void {
  stamp(r);
  if (r.shard) text += `shard    ${r.shard.index}/${r.shard.count} (from ${r.shard.source})\n`;
  out(o.report === "json" ? JSON.stringify(r, null, 2) + "\n" : text);
  if (o.reportFile) writeFileSync(o.reportFile, JSON.stringify(r, null, 2) + "\n");
  if (r.error) fail(r.error);
}

/** The report's fields for `report merge` that only the command knows: the capture, the shard, the process's CPU. */
function stamp(r: ReplayReport): void {
  r.capture = captureId(r.trace);
  r.shard = shard;
  const c = process.cpuUsage(cpu0);
  r.cpu_s = Math.round((c.user + c.system) / 1000) / 1000;
}

// ---- raw and track on worker threads (host/replay/workers.ts) ----
async function workersAction(file: string, o: Raw, prescans?: WorkerPrescans): Promise<void> {
  if (o.mode === "serve") {
    const { serveWorkers, formatServeWorkers } = await import("../replay/serve/workers.ts"); // host/replay/serve/workers.ts
    const r = await serveWorkers(file, {
      ...runOptions(o),
      prescans,
      out: o.out,
      outMerged: o.outMerged,
      progress: o.report !== "json" && process.stderr.isTTY === true,
    });
    return report(o, r, formatReplay(r) + formatServeWorkers(r));
  }
  const { replayWorkers, formatWorkers } = await import("../replay/workers.ts");
  const r = await replayWorkers(file, {
    ...runOptions(o),
    out: o.out,
    outMerged: o.outMerged,
    progress: o.report !== "json" && process.stderr.isTTY === true,
  });
  report(o, r, formatReplay(r) + formatWorkers(r));
}

// ---- stage cost and the HTML report (host/measure/cost.ts, host/report/html.ts) ----
async function costAction(
  file: string,
  o: Raw,
  pre: Prescan | undefined,
  flowSpecs: FlowSpec[],
): Promise<void> {
  if (o.report === "html" && !o.reportFile)
    throw new UsageError("--report html needs --report-file F.html", "add --report-file report.html");
  if (o.out) throw new UsageError("--stages does not write --out", "drop --out, or run without --stages");
  // replay() serves on one core (serve --workers is a thread per worker, host/replay/serve/workers.ts).
  if (o.mode === "serve" && o.workers > 1)
    throw new UsageError(
      "--stages and --report html measure serve on one core",
      "drop --workers (or --mode track for the RETA split in one thread)",
    );
  const { costReport } = await import("../measure/cost.ts");
  const { formatStageCost } = await import("../report/stages.ts");
  const runs = o.stages === undefined || o.stages === true ? 5 : Math.max(1, o.stages);
  const html = o.report === "html";
  const {
    report: r,
    ladder,
    serve,
  } = await costReport(file, { ...runOptions(o), prescan: pre }, runs, html, flowSpecs);
  const text = formatReplay(r) + formatStageCost(r.cost.stage_cost);
  if (!html) return report(o, r, text);
  // --report-file is the HTML page here, not the JSON.
  const { renderHtml } = await import("../report/html.ts");
  writeFileSync(
    o.reportFile!,
    renderHtml({ report: r, ladder, serve, command: `ixwasm ${process.argv.slice(2).join(" ")}` }),
  );
  out(text + `html report: ${o.reportFile}\n`);
  if (r.error) fail(r.error);
}
