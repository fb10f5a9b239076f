// Every command of the CLI, one module each. A module exports `register(program)`
// which adds its commander command; the order here is the order of `--help`.
// (bench-cost-cmd adds `bench ladder` and `bench instructions` under bench.)
import type { Command } from "commander";
import * as inspectCmd from "./inspect-cmd.ts";
import * as dumpCmd from "./dump-cmd.ts";
import * as replayCmd from "./replay-cmd.ts";
import * as genCmd from "./gen-cmd.ts";
import * as pairCmd from "./pair-cmd.ts";
import * as tapCmd from "./tap-cmd.ts";
import * as injectCmd from "./inject-cmd.ts";
import * as liveplayCmd from "./liveplay-cmd.ts";
import * as benchCmd from "./bench-cmd.ts";
import * as benchCostCmd from "./bench-cost-cmd.ts";
import * as diffCmd from "./diff-cmd.ts";

export const COMMANDS: { register(program: Command): void }[] = [
  inspectCmd,
  dumpCmd,
  replayCmd,
  genCmd,
  pairCmd,
  tapCmd,
  injectCmd,
  liveplayCmd,
  benchCmd,
  benchCostCmd,
  diffCmd,
];
