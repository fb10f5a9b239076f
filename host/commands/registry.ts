// Every command of the CLI, one module each. A module exports `register(program)`
// which adds its commander command; the order here is the order of `--help`.
// buildProgram() is the whole command tree, for cli.ts and for the tests.
// (bench-cost.ts adds `bench ladder` and `bench instructions` under bench.)
import { Command } from "commander";
import { examples } from "./cli-util.ts";
import * as inspectCmd from "./inspect.ts";
import * as dumpCmd from "./dump.ts";
import * as replayCmd from "./replay.ts";
import * as genCmd from "./gen.ts";
import * as pairCmd from "./pair.ts";
import * as tapCmd from "./tap.ts";
import * as injectCmd from "./inject.ts";
import * as liveplayCmd from "./liveplay.ts";
import * as benchCmd from "./bench.ts";
import * as benchCostCmd from "./bench-cost.ts";
import * as diffCmd from "./diff.ts";
import * as splitCmd from "./split.ts";
import * as reportCmd from "./report.ts";

export const COMMANDS: { register(program: Command): void }[] = [
  inspectCmd,
  dumpCmd,
  replayCmd,
  splitCmd,
  reportCmd,
  genCmd,
  pairCmd,
  tapCmd,
  injectCmd,
  liveplayCmd,
  benchCmd,
  benchCostCmd,
  diffCmd,
];

/** The `ixwasm` program with every command registered (not parsed). */
export function buildProgram(): Command {
  const program = new Command("ixwasm")
    .description(
      "IX-style WebAssembly dataplane: replay captures through a TCP stack, measure per-packet cost, serve a tap",
    )
    .version(process.env.npm_package_version ?? "0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    // A command's options belong to it, not to its parent: `bench ladder --json` is
    // the ladder's --json (commander needs this here and on `bench`).
    .enablePositionalOptions()
    .exitOverride()
    .addHelpText(
      "after",
      examples(
        ["what a capture holds: packets, protocols, TCP flows", "ixwasm inspect traces/http-kernel.pcap"],
        [
          "the core answers as the capture's HTTP server, scored against the captured answers",
          "ixwasm replay traces/http-kernel.pcap",
        ],
        ["two cores back to back, every byte checked", "ixwasm pair --conns 4 --msgs 100"],
      ),
    );
  for (const c of COMMANDS) c.register(program);
  return program;
}
