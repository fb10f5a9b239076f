// Every command of the CLI, one module each. A module exports `register(program)`
// which adds its commander command; add a line here for a new command.
import type { Command } from "commander";
import * as inspectCmd from "./inspect-cmd.ts";
import * as dumpCmd from "./dump-cmd.ts";
import * as genCmd from "./gen-cmd.ts";
import * as pairCmd from "./pair-cmd.ts";
import * as benchCmd from "./bench-cmd.ts";
import * as replayCmd from "./replay-cmd.ts";

export const COMMANDS: { register(program: Command): void }[] = [inspectCmd, dumpCmd, pairCmd, benchCmd];
COMMANDS.push(replayCmd);
COMMANDS.push(genCmd);
COMMANDS.push(await import("./tap-cmd.ts"));
COMMANDS.push(await import("./bench-cost-cmd.ts"), await import("./diff-cmd.ts"));
COMMANDS.push(await import("./inject-cmd.ts"));
