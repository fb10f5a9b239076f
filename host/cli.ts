#!/usr/bin/env node
// ixwasm command line: parses arguments and calls the command; nothing else.
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { writeSync } from "node:fs";
import { TraceError, UsageError } from "./io/errors.ts";
import { dump } from "./commands/dump.ts";
import { formatInspect, inspect } from "./commands/inspect.ts";

/** One line on stderr naming the problem (and the fix), then a non-zero exit. */
function fail(message: string, code = 1): never {
  writeSync(2, `ixwasm: ${message}\n`);
  process.exit(code);
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number ≥ 0");
  return n;
}

function out(s: string): void {
  writeSync(1, s);
}

const program = new Command("ixwasm")
  .description(
    "IX-style WebAssembly dataplane: replay captures through a TCP stack, measure per-packet cost, serve a tap",
  )
  .version(process.env.npm_package_version ?? "0.1.0")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

program
  .command("inspect")
  .description(
    "summarise a pcap/pcapng capture: format, link types, packet and byte counts, timestamps, IPv4/IPv6/TCP/UDP counts, TCP flows",
  )
  .argument("<file>", "capture file (pcap or pcapng)")
  .option("--json", "print JSON instead of a table")
  .action((file: string, o: { json?: boolean }) => {
    const r = inspect(file);
    out(o.json ? JSON.stringify(r, null, 2) + "\n" : formatInspect(r));
    if (r.error) fail(r.error);
  });

program
  .command("dump")
  .description("decode every packet with the WASM core: one line per packet (JSON lines with --jsonl)")
  .argument("<file>", "capture file (pcap or pcapng)")
  .option(
    "--jsonl",
    "one JSON object per packet: n, ts, caplen, len, src, dst, proto, sport, dport, flags, seq, ack, payload",
  )
  .option("--limit <n>", "stop after n packets", positiveInt)
  .action((file: string, o: { jsonl?: boolean; limit?: number }) => {
    dump(file, { jsonl: o.jsonl, limit: o.limit });
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof TraceError || e instanceof UsageError) fail(e.message);
  const err = e as NodeJS.ErrnoException;
  if (err.code === "EPIPE") process.exit(0); // reader of our output went away (e.g. `| head`)
  if (err.code === "ENOENT" || err.code === "EACCES" || err.code === "EISDIR") fail(err.message);
  if (process.env.IXWASM_DEBUG) throw e;
  fail(`internal error: ${err.message ?? String(e)} (set IXWASM_DEBUG=1 for a stack trace)`, 70);
}
