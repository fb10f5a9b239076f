import type { Command } from "commander";
import { dump } from "../inspect/dump.ts";
import { examples, wholeNumber } from "./cli-util.ts";

export function register(program: Command): void {
  program
    .command("dump")
    .description("decode every packet with the WASM core: one line per packet (JSON lines with --jsonl)")
    .argument("<file>", "capture file (pcap or pcapng)")
    .option(
      "--jsonl",
      "one JSON object per packet: n, ts, caplen, len, src, dst, proto, sport, dport, flags, seq, ack, payload",
    )
    .option("--limit <n>", "stop after n packets", wholeNumber)
    .addHelpText(
      "after",
      examples(
        [
          "the first ten packets of the nc echo capture, one line each",
          "ixwasm dump traces/nc-echo.pcap --limit 10",
        ],
        ["JSON lines, with each packet's fields", "ixwasm dump traces/http-kernel.pcap --jsonl --limit 4"],
      ),
    )
    .action((file: string, o: { jsonl?: boolean; limit?: number }) => {
      dump(file, { jsonl: o.jsonl, limit: o.limit });
    });
}
