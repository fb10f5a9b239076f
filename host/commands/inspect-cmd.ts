import type { Command } from "commander";
import { formatInspect, inspect } from "./inspect.ts";
import { fail, out } from "./cli-util.ts";

export function register(program: Command): void {
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
}
