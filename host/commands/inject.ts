import { Option, type Command } from "commander";
import {
  DEFAULT_DMAC,
  DEFAULT_SMAC,
  formatInject,
  MAX_INJECT_MTU,
  MIN_MTU,
  parseMac,
  startInject,
  type InjectOptions,
} from "../tap/inject.ts";
import { parseSpeed } from "../replay/pacing.ts";
import { examples, fail, out, wholeNumber } from "./cli-util.ts";
import { checkIfname } from "../io/tap.ts";

interface Raw {
  ifname: string;
  netns?: string;
  speed: string;
  loop: number;
  limit: number;
  smac?: string;
  dmac?: string;
  mtu: number;
  waitSignal: number;
  lingerMs: number;
  report: "table" | "json";
}

function options(file: string, o: Raw): InjectOptions {
  checkIfname(o.ifname);
  return {
    file,
    ifname: o.ifname,
    netns: o.netns,
    speed: parseSpeed(o.speed),
    loops: o.loop,
    limit: o.limit,
    smac: o.smac !== undefined ? parseMac(o.smac, "--smac") : undefined,
    dmac: o.dmac !== undefined ? parseMac(o.dmac, "--dmac") : undefined,
    mtu: o.mtu,
    waitSignalS: o.waitSignal,
    lingerMs: o.lingerMs,
  };
}

export function register(program: Command): void {
  program
    .command("inject")
    .description(
      "send a capture's frames out of a Linux tap (like tcpreplay), paced, other link types converted to Ethernet",
    )
    .argument("<file>", "pcap or pcapng capture")
    .requiredOption("--ifname <name>", "tap interface to create (or attach to, if it is a persistent tap)")
    .option(
      "--netns <name>",
      "put the tap in this network namespace (used if it exists, else created and removed at exit)",
    )
    .option("--speed <speed>", "top | realtime | xK | pps:N | mbps:N", "top")
    .option("--loop <n>", "send the capture this many times", wholeNumber, 1)
    .option("--limit <n>", "stop after this many frames sent (0: no limit)", wholeNumber, 0)
    .option(
      "--smac <mac>",
      `source MAC of converted frames (default ${DEFAULT_SMAC}); given: Ethernet frames' too`,
    )
    .option(
      "--dmac <mac>",
      `destination MAC of converted frames (default ${DEFAULT_DMAC}); given: Ethernet frames' too`,
    )
    .option(
      "--mtu <n>",
      `link MTU (${MIN_MTU} to ${MAX_INJECT_MTU}); longer frames are skipped`,
      wholeNumber,
      1500,
    )
    .option(
      "--wait-signal <s>",
      "once the link is up, wait up to this many seconds for SIGUSR1 before sending (lets a capture attach)",
      wholeNumber,
      0,
    )
    .option(
      "--linger-ms <ms>",
      "keep the tap open this long after the last frame (a capture on it without --immediate-mode gets frames up to 1 s late)",
      wholeNumber,
      1000,
    )
    .addOption(new Option("--report <fmt>", "final report").choices(["table", "json"]).default("table"))
    .addHelpText(
      "after",
      examples(
        [
          "(as root) the HTTP capture into tap inj0, whose namespace injns is created and removed, at the captured pace",
          "ixwasm inject traces/http-kernel.pcap --ifname inj0 --netns injns --speed realtime",
        ],
        [
          "(as root) three passes at 1,000 frames/s, JSON report (achieved rate, pacing error)",
          "ixwasm inject traces/nc-echo.pcap --ifname inj0 --netns injns --speed pps:1000 --loop 3 --report json",
        ],
      ),
    )
    .action(async (file: string, raw: Raw) => {
      const o = options(file, raw);
      const run = startInject(o, (line) => process.stderr.write(line + "\n"));
      const onSignal = () => run.stop();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const r = await run.done;
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      out(raw.report === "json" ? JSON.stringify(r, null, 2) + "\n" : formatInject(r));
      if (r.cleanup_errors.length) process.stderr.write(`ixwasm: cleanup: ${r.cleanup_errors.join("; ")}\n`);
      if (r.error) fail(`inject stopped: ${r.error}`);
    });
}
