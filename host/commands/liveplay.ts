import { writeFileSync } from "node:fs";
import { InvalidArgumentError, Option, type Command } from "commander";
import { examples, fail, out, wholeNumber } from "./cli-util.ts";
import { UsageError } from "../io/errors.ts";
import { parseCidr } from "../io/netns.ts";
import {
  formatLiveplay,
  MAX_MTU,
  startLiveplay,
  type LiveSpeed,
  type LiveplayOptions,
} from "../tap/liveplay.ts";

interface Raw {
  ifname: string;
  netns?: string;
  server: string;
  ip?: string;
  mac: string;
  flows: string;
  concurrency: number;
  speed: string;
  timeout: number;
  compare: "exact" | "length";
  timeLimit: number;
  mtu: number;
  stats?: boolean;
  report: "table" | "json";
  reportFile?: string;
  debug?: boolean;
}

function parseServer(s: string): LiveplayOptions["server"] {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
    throw new UsageError(`--server "${s}" is not IP:PORT`, "write it as 198.18.0.1:11211");
  const c = parseCidr(`${m[1]}/24`, 4, "--server");
  if (c.bytes[0] !== 198 || (c.bytes[1] & 0xfe) !== 18)
    throw new UsageError(
      `--server ${m[1]} is outside 198.18.0.0/15`,
      "use an address of the benchmarking range",
    );
  return { addr: m[1], bytes: c.bytes, port: Number(m[2]) };
}

export function parseLiveSpeed(s: string): LiveSpeed {
  if (s === "top") return { kind: "top" };
  if (s === "realtime") return { kind: "realtime" };
  const m = /^x(\d+(?:\.\d+)?)$/.exec(s);
  if (m && Number(m[1]) > 0) return { kind: "multiple", factor: Number(m[1]) };
  throw new InvalidArgumentError("expected top, realtime or xK (e.g. x10)");
}

function options(o: Raw): LiveplayOptions {
  const server = parseServer(o.server);
  let ip;
  if (o.ip) ip = parseCidr(o.ip, 4, "--ip");
  else {
    // The server's /24, the next host (or the one before, at the top of the range).
    const b = Buffer.from(server.bytes);
    b[3] = b[3] >= 254 ? b[3] - 1 : b[3] + 1;
    ip = parseCidr(`${[...b].join(".")}/24`, 4, "--ip");
  }
  const mac = Buffer.from(o.mac.replaceAll(":", ""), "hex");
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(o.mac) || mac[0] & 1)
    throw new UsageError(`--mac "${o.mac}" is not a unicast MAC address`, "write it as 02:00:c6:12:00:02");
  let flows = 0;
  if (o.flows !== "all") {
    flows = Number(o.flows);
    if (!Number.isInteger(flows) || flows < 1)
      throw new UsageError(`--flows ${o.flows}`, "use all or a number ≥ 1");
  }
  return {
    file: "",
    ifname: o.ifname,
    netns: o.netns,
    server,
    ip,
    mac,
    flows,
    concurrency: o.concurrency,
    speed: parseLiveSpeed(o.speed),
    timeoutMs: o.timeout,
    compare: o.compare,
    timeLimitS: o.timeLimit,
    mtu: o.mtu,
    statsMs: o.stats === false ? 0 : o.stats || process.stderr.isTTY ? 1000 : 0,
    debug: o.debug,
  };
}

export function register(program: Command): void {
  program
    .command("liveplay")
    .description(
      "play the client of every captured TCP session toward --server's port against a live server behind a tap",
    )
    .argument("<file>", "pcap or pcapng capture")
    .requiredOption("--ifname <name>", "tap interface to create")
    .requiredOption("--server <ip:port>", "the live server (its address goes on the tap's kernel side)")
    .option("--netns <name>", "existing network namespace the server runs in (the tap goes there)")
    .option("--ip <addr/len>", "the core's address (default: the server's /24, next host)")
    .option("--mac <mac>", "the core's MAC address", "02:00:c6:12:00:02")
    .option("--flows <all|n>", "play all sessions or the first n", "all")
    .option("--concurrency <n>", "sessions open at once", wholeNumber, 1000)
    .option(
      "--speed <top|realtime|xK>",
      "top: next request as soon as answered; realtime/xK: captured pauses",
      "top",
    )
    .option("--timeout <ms>", "per response (and per connect and close)", wholeNumber, 2000)
    .addOption(
      new Option("--compare <how>", "exact: every captured response byte; length: only the byte count")
        .choices(["exact", "length"])
        .default("exact"),
    )
    .option("--time-limit <s>", "stop after this many seconds (0: none)", wholeNumber, 300)
    .option("--mtu <n>", `link MTU (576 to ${MAX_MTU})`, wholeNumber, 1500)
    .option("--stats", "progress line every second (default: when stderr is a terminal)")
    .option("--no-stats", "no progress line")
    .addOption(new Option("--report <fmt>", "final report").choices(["table", "json"]).default("table"))
    .option("--report-file <f>", "write the report there instead of stdout")
    .option("--debug", "use the debug build of the core")
    .addHelpText(
      "after",
      examples(
        [
          "(as root) first a fresh memcached in namespace lpns: ip netns add lpns; ip -n lpns link set lo up; ip netns exec lpns memcached -u nobody -p 11211 &",
          "ixwasm liveplay traces/memcached-ascii.pcap --ifname lp0 --netns lpns --server 198.18.0.1:11211 --concurrency 1",
        ],
        [
          "(as root) sessions cut before their last answer: what memcached sends beyond the capture is reported apart",
          "ixwasm liveplay traces/memcaslap-cut.pcap --ifname lp0 --netns lpns --server 198.18.0.1:11211 --report json",
        ],
      ),
    )
    .action(async (file: string, raw: Raw) => {
      const o = options(raw);
      o.file = file;
      const run = startLiveplay(o, (line) => o.statsMs > 0 && process.stderr.write(line + "\n"));
      const onSignal = () => run.stop();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const r = await run.done;
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      const text = raw.report === "json" ? JSON.stringify(r, null, 2) + "\n" : formatLiveplay(r);
      if (raw.reportFile) writeFileSync(raw.reportFile, text);
      else out(text);
      if (r.cleanup_errors.length) process.stderr.write(`ixwasm: cleanup: ${r.cleanup_errors.join("; ")}\n`);
      if (r.error) fail(`liveplay stopped: ${r.error}`);
      if (r.flows.failed > 0) fail(`liveplay: ${r.flows.failed} of ${r.flows.played} flows failed`);
    });
}
