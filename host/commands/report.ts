import type { Command } from "commander";
import { readFileSync, writeFileSync } from "node:fs";
import { checkShards, formatShards, loadReport, mergeReports } from "../report/merge.ts";
import { formatReplay } from "../report/replay.ts";
import { UsageError } from "../io/errors.ts";
import { SPLIT_SCHEMA, type SplitManifest } from "../replay/split.ts";
import { examples, fail, out } from "./cli-util.ts";

const MERGE_EXAMPLES = examples(
  [
    "three shards of one capture (on three machines, or here one after another)",
    "ixwasm replay traces/memcaslap-cut.pcap --shard 0/3 --report-file r0.json",
  ],
  ["", "ixwasm replay traces/memcaslap-cut.pcap --shard 1/3 --report-file r1.json"],
  ["", "ixwasm replay traces/memcaslap-cut.pcap --shard 2/3 --report-file r2.json"],
  [
    "one report, as one process replaying the whole capture gives (counts, flows, fidelity)",
    "ixwasm report merge r0.json r1.json r2.json --out merged.json",
  ],
);

export function register(program: Command): void {
  const report = program
    .command("report")
    .description("work with replay reports: merge the shards' reports of one capture into one")
    .addHelpText("after", MERGE_EXAMPLES);
  report
    .command("merge")
    .description(
      "one replay report from the JSON reports of a capture's shards (replay --shard I/N): counts, flows and fidelity summed, percentiles from the summed histograms, the slowest shard's duration, the sum of CPU; per-shard lines kept",
    )
    .argument(
      "<reports...>",
      "the shards' JSON reports (replay --report json or --report-file), one per shard",
    )
    .option("--out <file>", "write the merged JSON report here")
    .option("--json", "print the merged report as JSON instead of the table")
    .option(
      "--split <manifest>",
      "the shards replayed the files `ixwasm split` wrote: check each report against its file in this manifest (<name>.split.json)",
    )
    .addHelpText("after", MERGE_EXAMPLES)
    .action((files: string[], o: { out?: string; json?: boolean; split?: string }) => {
      const t0 = performance.now();
      const split = o.split ? readManifest(o.split) : undefined;
      const m = mergeReports(checkShards(files.map(loadReport), split), split, t0);
      const json = JSON.stringify(m, null, 2) + "\n";
      out(o.json ? json : formatReplay(m) + formatShards(m));
      if (o.out) writeFileSync(o.out, json);
      if (m.error) fail(m.error);
    });
}

function readManifest(file: string): SplitManifest {
  let m: SplitManifest;
  try {
    m = JSON.parse(readFileSync(file, "utf8")) as SplitManifest;
  } catch (e) {
    throw new UsageError(`report merge: cannot read the split manifest ${file} (${(e as Error).message})`);
  }
  if (m?.schema !== SPLIT_SCHEMA)
    throw new UsageError(
      `report merge: ${file}: field schema is ${JSON.stringify(m?.schema)}, not ${SPLIT_SCHEMA}`,
    );
  if (m.error) throw new UsageError(`report merge: ${file}: the split stopped early (${m.error})`);
  return m;
}
