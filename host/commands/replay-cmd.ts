import { Option, type Command } from "commander";
import { writeFileSync } from "node:fs";
import { APPS, parseSpeed, replay, type ReplayMode } from "./replay.ts";
import { formatReplay } from "../report/replay.ts";
import { UsageError } from "../io/errors.ts";
import { fail, out, wholeNumber } from "./cli-util.ts";

interface Raw {
  mode: ReplayMode;
  app?: string;
  workers: number;
  speed: string;
  loop: number;
  out?: string;
  outMerged?: boolean;
  flows: number;
  report: "table" | "json";
  reportFile?: string;
}

export function register(program: Command): void {
  program
    .command("replay")
    .description(
      "replay a capture through the WASM core: raw (parse, hash, dispatch, count) or track (+ flow lookup and TCP state tracking); serve is not available yet",
    )
    .argument("<file>", "capture file (pcap or pcapng)")
    .addOption(
      new Option("--mode <mode>", "processing mode").choices(["raw", "track", "serve"]).default("track"),
    )
    .addOption(
      new Option("--app <app>", "serve mode's answering app (mirror: the capture's own server)").choices([
        ...APPS,
      ]),
    )
    .option("--workers <n>", "workers the RETA spreads flows over (1..255)", wholeNumber, 1)
    .option("--speed <speed>", "top | realtime | xK (e.g. x10) | pps:N | mbps:N", "top")
    .option(
      "--loop <n>",
      "replay the capture n times, each pass as new conversations (client port + pass)",
      wholeNumber,
      1,
    )
    .option(
      "--out <file>",
      "write what the core transmits (.pcap or .pcapng); raw forwards the frames it processed",
    )
    .option("--out-merged", "--out holds the input and the output interleaved by time")
    .option("--flows <n>", "flow-table capacity (track)", wholeNumber, 1 << 18)
    .addOption(new Option("--report <kind>", "report format").choices(["table", "json"]).default("table"))
    .option("--report-file <file>", "also write the JSON report to this file")
    .action((file: string, o: Raw) => {
      if (o.outMerged && !o.out) throw new UsageError("--out-merged needs --out <file>", "add --out F.pcap");
      const json = o.report === "json";
      const r = replay(file, {
        mode: o.mode,
        app: o.app ?? null,
        workers: o.workers,
        speed: parseSpeed(o.speed),
        loop: o.loop,
        out: o.out,
        outMerged: o.outMerged,
        flows: o.flows,
        progress: !json && process.stderr.isTTY === true,
      });
      out(json ? JSON.stringify(r, null, 2) + "\n" : formatReplay(r));
      if (o.reportFile) writeFileSync(o.reportFile, JSON.stringify(r, null, 2) + "\n");
      if (r.error) fail(r.error);
    });
}
