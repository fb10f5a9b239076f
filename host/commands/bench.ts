import type { Command } from "commander";
import { CliExit, examples, wholeNumber } from "./cli-util.ts";
import { BenchInterrupted, interruptedBy } from "../measure/lib/interrupt.ts";
import { SECTIONS, runBench } from "../measure/suite.ts";
import { UsageError } from "../io/errors.ts";

export function register(program: Command): void {
  program
    .command("bench")
    .description(
      `run the benchmarks (medians with spread, side by side with baselines): ${SECTIONS.map((s) => s.name).join(", ")}`,
    )
    .argument(
      "[sections...]",
      `sections to run (default all): ${SECTIONS.map((s) => `${s.name} = ${s.about}`).join("; ")}`,
    )
    // `bench ladder --json` is the ladder's option, not the suite's (see buildProgram in registry.ts).
    .enablePositionalOptions()
    .option("--runs <n>", "repetitions per figure", wholeNumber, 5)
    .option("--json", "print the results as JSON")
    .option("--markdown", "end with the figures as one Markdown table")
    .option(
      "--figures <file>",
      "rewrite each section's generated region of this file (<!-- figures:SECTION begin/end -->; docs/figures.md) with its figures, the command, machine, date and load",
    )
    .addHelpText(
      "after",
      examples(
        ["two sections, 3 runs per figure", "ixwasm bench kernels recovery --runs 3"],
        ["the cost section as JSON (schema ixwasm-bench/1)", "ixwasm bench cost --json"],
        [
          "the cost section, its region of docs/figures.md regenerated",
          "ixwasm bench cost --figures docs/figures.md",
        ],
        [
          "every section, ending with the figures as a Markdown table (tap needs root)",
          "ixwasm bench --markdown",
        ],
      ),
    )
    .action(
      async (
        sections: string[],
        o: { runs: number; json?: boolean; markdown?: boolean; figures?: string },
      ) => {
        const known = new Set(SECTIONS.map((s) => s.name));
        const bad = sections.filter((s) => !known.has(s));
        if (bad.length)
          throw new UsageError(
            `unknown bench section ${bad.join(", ")}`,
            `choose from ${[...known].join(", ")}`,
          );
        try {
          await runBench({ sections, runs: o.runs, json: o.json, markdown: o.markdown, figures: o.figures });
        } catch (e) {
          // The sections' finally blocks have removed what they made (measure/lib/interrupt.ts).
          // After Ctrl-C the step under way may fail first with its own error (its client got the signal too).
          const sig = e instanceof BenchInterrupted ? e.signal : interruptedBy();
          if (sig !== null)
            throw new CliExit(130, `bench interrupted by ${sig}: what it had made is removed`);
          throw e;
        }
      },
    );
}
