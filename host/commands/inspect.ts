import type { Command } from "commander";
import { formatInspect, inspect } from "../inspect/inspect.ts";
import { examples, fail, out } from "./cli-util.ts";

export function register(program: Command): void {
  program
    .command("inspect")
    .description(
      "summarise a pcap/pcapng capture: format, link types, packet and byte counts, timestamps, IPv4/IPv6/TCP/UDP counts, TCP flows",
    )
    .argument("<file>", "capture file (pcap or pcapng)")
    .option("--json", "print JSON instead of a table")
    .addHelpText(
      "after",
      examples(
        ["pcapng with IPv6, UDP, IP fragments and non-IP frames", "ixwasm inspect traces/udp-echo-v6.pcapng"],
        ["the same summary as JSON", "ixwasm inspect traces/memcaslap-cut.pcap --json"],
      ),
    )
    .action((file: string, o: { json?: boolean }) => {
      const r = inspect(file);
      out(o.json ? JSON.stringify(r, null, 2) + "\n" : formatInspect(r));
      if (r.error) fail(r.error);
    });
}
