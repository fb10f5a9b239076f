// Helpers shared by command modules: output, option parsers, the one-line failure.
import { InvalidArgumentError } from "commander";
import { writeSync } from "node:fs";

export class CliExit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** One line on stderr naming the problem (and the fix), then a non-zero exit (partial results already printed). */
export function fail(message: string, code = 1): never {
  throw new CliExit(code, message);
}

export function out(s: string): void {
  writeSync(1, s);
}

export function wholeNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number ≥ 0");
  return n;
}

export function probability(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("expected a probability between 0 and 1");
  return n;
}

/**
 * The "Examples:" block that ends a command's --help, for `addHelpText("after", …)`:
 * each example a comment line (none: the step after the one before) and a command
 * line that runs as written from the repository's root (traces/ holds the bundled
 * captures). Every command has one (test/e2e/help-examples.test.ts).
 */
export function examples(...list: [about: string, command: string][]): string {
  const lines = list.flatMap(([about, command]) => (about ? [`# ${about}`, command] : [command]));
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}`;
}
