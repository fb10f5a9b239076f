import type { Command } from "commander";
import { formatSplit, manifestPath, split } from "../replay/split.ts";
import { examples, fail, out, wholeNumber } from "./cli-util.ts";
import { MAX_SHARDS } from "../replay/shard.ts";

export function register(program: Command): void {
  program
    .command("split")
    .description(
      "split a capture into N captures by flow, one streaming pass: shard i holds the flows `replay --shard i/N` replays (a flow's two directions together), so N machines each read 1/N of the file",
    )
    .argument("<file>", "capture file (pcap or pcapng)")
    .requiredOption("--shards <n>", `number of shards, 1..${MAX_SHARDS}`, wholeNumber)
    .requiredOption("--out-dir <dir>", "where the shard files and the manifest (<name>.split.json) go")
    .addHelpText(
      "after",
      examples(
        [
          "three files, one per shard, and the manifest report merge --split checks against",
          "ixwasm split traces/memcaslap-cut.pcap --shards 3 --out-dir /tmp/shards",
        ],
        ["", "ixwasm replay /tmp/shards/memcaslap-cut.shard-1-of-3.pcap --report json --report-file r1.json"],
      ),
    )
    .action((file: string, o: { shards: number; outDir: string }) => {
      const m = split(file, { shards: o.shards, outDir: o.outDir, progress: process.stderr.isTTY === true });
      out(formatSplit(m, manifestPath(file, o.outDir)));
      if (m.error) fail(`${m.error}; the shards hold the ${m.source.records} records before it`);
    });
}
