#!/usr/bin/env node
// ixwasm command line: parses arguments and calls the command; nothing else.
// Each command lives in host/commands/<name>.ts, listed in registry.ts.
import { CommanderError } from "commander";
import { writeSync } from "node:fs";
import { TraceError, UsageError } from "./io/errors.ts";
import { buildProgram } from "./commands/registry.ts";
import { CliExit } from "./commands/cli-util.ts";

function fail(message: string, code = 1): never {
  writeSync(2, `ixwasm: ${message}\n`);
  process.exit(code);
}

const program = buildProgram();

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof CliExit) fail(e.message, e.code);
  if (e instanceof TraceError || e instanceof UsageError) fail(e.message);
  const err = e as NodeJS.ErrnoException;
  if (err.code === "EPIPE") process.exit(0); // reader of our output went away (e.g. `| head`)
  if (err.code === "ENOENT" || err.code === "EACCES" || err.code === "EISDIR") fail(err.message);
  if (process.env.IXWASM_DEBUG) throw e;
  fail(`internal error: ${err.message ?? String(e)} (set IXWASM_DEBUG=1 for a stack trace)`, 70);
}
