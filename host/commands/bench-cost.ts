// `ixwasm bench ladder FILE` and `ixwasm bench instructions FILE`: subcommands
// of the bench command (which keeps its [sections...] for the suite).
import type { Command } from "commander";
import { Option } from "commander";
import { writeFileSync } from "node:fs";
import { examples, fail, out, wholeNumber } from "./cli-util.ts";
import { checkFile } from "../core/open-capture.ts";

export function register(program: Command): void {
  const bench = program.commands.find((c) => c.name() === "bench");
  if (!bench) throw new Error("bench-cost: register after bench");
  bench
    .command("ladder")
    .description(
      "cost ladder of a capture: raw → +flow lookup → +TCP tracking → serve, each rung without stage timers; the increments are the stages' costs",
    )
    .argument("<file>", "capture file (pcap or pcapng)")
    .option("--runs <n>", "runs per rung (median, min, max)", wholeNumber, 5)
    .option(
      "--min-packets <n>",
      "repeat smaller captures to at least this many packets",
      wholeNumber,
      200_000,
    )
    .option(
      "--rounds <n>",
      "rounds per run, each running every rung once (the rungs interleaved)",
      wholeNumber,
      3,
    )
    .option("--json", "print the ladder as JSON (schema ixwasm-ladder/2)")
    .option("--report-file <file>", "also write the JSON to this file")
    .addHelpText(
      "after",
      examples(
        [
          "the ladder of the HTTP capture, repeated to 200,000 packets per round, median of 3 runs",
          "ixwasm bench ladder traces/http-kernel.pcap --runs 3",
        ],
        [
          "as JSON, kept in a file for `ixwasm diff`",
          "ixwasm bench ladder traces/memcaslap-cut.pcap --json --report-file ladder.json",
        ],
      ),
    )
    .action(
      async (
        file: string,
        o: { runs: number; rounds: number; minPackets: number; json?: boolean; reportFile?: string },
      ) => {
        checkFile(file);
        const { benchLadder, formatLadder } = await import("../measure/ladder.ts");
        const l = await benchLadder(file, { runs: o.runs, rounds: o.rounds, minPackets: o.minPackets });
        out(o.json ? JSON.stringify(l, null, 2) + "\n" : formatLadder(l));
        if (o.reportFile) writeFileSync(o.reportFile, JSON.stringify(l, null, 2) + "\n");
      },
    );
  bench
    .command("instructions")
    .description(
      "instructions per packet under valgrind's callgrind: windows of N packets in one long replay, after a warm-up, main thread only, V8's GC and compilers taken out (docs/measurement/instructions.md)",
    )
    .argument("<file>", "capture file (pcap or pcapng)")
    .addOption(new Option("--mode <mode>", "replay mode").choices(["raw", "track", "serve"]).default("raw"))
    // defaults and the smallest N that holds ±0.5 %: host/measure/instructions.ts
    .option("-n, --packets <n>", "packets per window (default 20000)", wholeNumber)
    .option("--windows <n>", "windows per run (default 2)", wholeNumber)
    .option("--runs <n>", "valgrind runs, separate processes (default 2)", wholeNumber)
    .option("--warmup <n>", "packets replayed before the first window (default 150000)", wholeNumber)
    .option("--json", "print the result as JSON (schema ixwasm-instructions/2)")
    .option("--report-file <file>", "also write the JSON to this file")
    .addHelpText(
      "after",
      examples(
        [
          "raw mode with the defaults (2 valgrind runs; needs valgrind)",
          "ixwasm bench instructions traces/http-kernel.pcap",
        ],
        [
          "track mode, smaller windows and one run, as JSON in a file for `ixwasm diff`",
          "ixwasm bench instructions traces/memcaslap-cut.pcap --mode track -n 5000 --runs 1 --report-file instr.json",
        ],
      ),
    )
    .action(
      async (
        file: string,
        o: {
          mode: string;
          packets?: number;
          windows?: number;
          runs?: number;
          warmup?: number;
          json?: boolean;
          reportFile?: string;
        },
      ) => {
        checkFile(file);
        const { benchInstructions, formatInstructions, NoValgrind } =
          await import("../measure/instructions.ts");
        try {
          const r = benchInstructions(file, o.mode, o);
          out(o.json ? JSON.stringify(r, null, 2) + "\n" : formatInstructions(r));
          if (o.reportFile) writeFileSync(o.reportFile, JSON.stringify(r, null, 2) + "\n");
        } catch (e) {
          if (e instanceof NoValgrind) fail(e.message);
          throw e;
        }
      },
    );
}
