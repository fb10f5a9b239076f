import type { Command } from "commander";
import { diffReports, formatDiff, readReport } from "./diff.ts";
import { fail, out } from "./cli-util.ts";

export function register(program: Command): void {
  program
    .command("diff")
    .description(
      "compare two cost reports (replay --report json [--stages], bench ladder --json, bench instructions --json): per-stage and total deltas with noise bands",
    )
    .argument("<a>", "the baseline report (JSON)")
    .argument("<b>", "the report to check (JSON)")
    .option("--json", "print the comparison as JSON")
    .option("--fail-on-regression", "exit 1 when a figure is slower beyond its noise band")
    .action((a: string, b: string, o: { json?: boolean; failOnRegression?: boolean }) => {
      const d = diffReports(readReport(a), readReport(b), a, b);
      out(o.json ? JSON.stringify(d, null, 2) + "\n" : formatDiff(d));
      if (o.failOnRegression && d.regressions)
        fail(`${d.regressions} figure(s) slower than ${a} beyond noise`);
    });
}
