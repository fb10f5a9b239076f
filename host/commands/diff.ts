import type { Command } from "commander";
import { diffReports, formatDiff, readReport } from "../report/diff.ts";
import { examples, fail, out } from "./cli-util.ts";

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
    .addHelpText(
      "after",
      examples(
        [
          "a stage-cost report before a change, and one after it",
          "ixwasm replay traces/http-kernel.pcap --stages --report-file base.json",
        ],
        ["", "ixwasm replay traces/http-kernel.pcap --stages --report-file new.json"],
        [
          "per-stage deltas; exit 1 if a figure is slower beyond its noise band",
          "ixwasm diff base.json new.json --fail-on-regression",
        ],
      ),
    )
    .action((a: string, b: string, o: { json?: boolean; failOnRegression?: boolean }) => {
      const d = diffReports(readReport(a), readReport(b), a, b);
      out(o.json ? JSON.stringify(d, null, 2) + "\n" : formatDiff(d));
      if (o.failOnRegression && d.regressions)
        fail(`${d.regressions} figure(s) slower than ${a} beyond noise`);
    });
}
