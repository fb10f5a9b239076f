import { Option, type Command } from "commander";
import { APPS, formatTap, MAX_MTU, startTap, type TapApp, type TapOptions } from "../tap/tap.ts";
import { examples, fail, out, wholeNumber } from "./cli-util.ts";
import { UsageError } from "../io/errors.ts";
import { addAppModuleOptions, appModuleFrom, type AppModuleRaw } from "./app-module-options.ts";
import { POLL_MODES, type PollMode } from "../tap/wake.ts";
import { inBenchRange, isUla, parseCidr, sameSubnet, type Cidr } from "../io/netns.ts";

interface Raw extends AppModuleRaw {
  ifname: string;
  ip: string;
  ip6?: string;
  mac: string;
  queues: number;
  workers?: number;
  app: TapApp;
  port: number;
  netns?: string;
  peerIp?: string;
  peerIp6?: string;
  duration: number;
  mtu: number;
  conns: number;
  poll: PollMode;
  spinUs: number;
  checkQueues?: boolean;
  stages?: boolean;
  stats?: boolean;
  report: "table" | "json";
  debug?: boolean;
}

function parseMac(s: string): Buffer {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s))
    throw new UsageError(`--mac "${s}" is not a MAC address`, "write it as 02:00:c6:12:00:02");
  const b = Buffer.from(s.replaceAll(":", ""), "hex");
  if (b[0] & 1)
    throw new UsageError(`--mac ${s} is a multicast address`, "use a unicast one (even first byte)");
  if (b.every((x) => x === 0)) throw new UsageError("--mac 00:00:00:00:00:00 is not usable");
  return b;
}

/** The first host of the subnet that is not the core's own address (the kernel side's default). */
function defaultPeer(c: Cidr): Cidr {
  const b = Buffer.from(c.bytes);
  const width = c.family === 4 ? 32 : 128;
  // clear host bits, then +1 (or +2 if that is the core)
  for (let bit = c.len; bit < width; bit++) b[bit >>> 3] &= ~(0x80 >>> (bit & 7));
  b[b.length - 1] |= 1;
  if (b.equals(c.bytes)) b[b.length - 1] = (b[b.length - 1] & ~3) | 2;
  const addr =
    c.family === 4
      ? [...b].join(".")
      : Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(":");
  return { family: c.family, addr, len: c.len, bytes: b };
}

function options(o: Raw): TapOptions {
  const ip = parseCidr(o.ip, 4, "--ip");
  if (!inBenchRange(ip))
    throw new UsageError(
      `--ip ${o.ip} is outside 198.18.0.0/15`,
      "tap addresses must come from the benchmarking range 198.18.0.0/15",
    );
  const ip6 = o.ip6 ? parseCidr(o.ip6, 6, "--ip6") : undefined;
  if (ip6 && !isUla(ip6))
    throw new UsageError(`--ip6 ${o.ip6} is not a unique local address`, "use fd00:198:18::2/64 (fc00::/7)");
  let peerIp = o.peerIp ? parseCidr(o.peerIp, 4, "--peer-ip") : o.netns ? defaultPeer(ip) : undefined;
  let peerIp6 = o.peerIp6 ? parseCidr(o.peerIp6, 6, "--peer-ip6") : ip6 ? defaultPeer(ip6) : undefined;
  if (peerIp) {
    if (!inBenchRange(peerIp)) throw new UsageError(`--peer-ip ${peerIp.addr} is outside 198.18.0.0/15`);
    if (!sameSubnet(ip, peerIp))
      throw new UsageError(
        `--peer-ip ${peerIp.addr}/${peerIp.len} is not in --ip's subnet`,
        "use the same prefix as --ip",
      );
    if (peerIp.bytes.equals(ip.bytes)) throw new UsageError("--peer-ip is the core's own address (--ip)");
  }
  if (peerIp6 && ip6) {
    if (!isUla(peerIp6) || !sameSubnet(ip6, peerIp6))
      throw new UsageError(`--peer-ip6 ${peerIp6.addr} must be a unique local address in --ip6's subnet`);
  } else peerIp6 = undefined;
  if (o.port > 65535) throw new UsageError(`--port ${o.port} is not a port`, "use 1 to 65535");
  peerIp = peerIp ?? undefined;
  return {
    ifname: o.ifname,
    ip,
    ip6,
    mac: parseMac(o.mac),
    queues: o.queues,
    workers: o.workers,
    app: o.app,
    port: o.port,
    module: appModuleFrom(o),
    netns: o.netns,
    peerIp,
    peerIp6,
    durationS: o.duration,
    mtu: o.mtu,
    conns: o.conns,
    poll: o.poll,
    spinUs: o.spinUs,
    checkQueues: !!o.checkQueues,
    stages: !!o.stages,
    statsMs: o.stats === false ? 0 : o.stats || process.stderr.isTTY ? 1000 : 0,
    debug: o.debug,
  };
}

export function register(program: Command): void {
  const cmd = program
    .command("tap")
    .description(
      "serve real kernel clients on a Linux tap: the core owns --ip, the tap interface (optionally in --netns) is the kernel's side",
    )
    .requiredOption("--ifname <name>", "tap interface to create (or attach to, if it is a persistent tap)")
    .option("--ip <addr/len>", "the core's IPv4 address (198.18.0.0/15 only)", "198.18.0.2/24")
    .option("--ip6 <addr/len>", "the core's IPv6 address (unique local, e.g. fd00:198:18::2/64)")
    .option("--mac <mac>", "the core's MAC address", "02:00:c6:12:00:02")
    .option("--queues <n>", "tap queues (IFF_MULTI_QUEUE when > 1)", wholeNumber, 1)
    .option(
      "--workers <n>",
      "worker threads, each with its own core, queue q on worker q mod n; 0: the main thread serves every queue (default: one per queue when --queues > 1, else 0)",
      wholeNumber,
    )
    .addOption(new Option("--app <app>", "server app").choices(Object.keys(APPS)).default("echo"))
    .option(
      "--port <n>",
      "app port (default: echo 7, sink 9, memcached 11211, netpipe 5002 as NPtcp, sockperf 11111 TCP and UDP)",
      wholeNumber,
      0,
    )
    .option("--netns <name>", "create this network namespace and put the tap interface in it")
    .option(
      "--peer-ip <addr/len>",
      "the kernel side's IPv4 address (default with --netns: first host of --ip's subnet)",
    )
    .option(
      "--peer-ip6 <addr/len>",
      "the kernel side's IPv6 address (default with --ip6: first host of its subnet)",
    )
    .option("--duration <s>", "stop after this many seconds (0: at SIGINT/SIGTERM)", wholeNumber, 0)
    .option("--mtu <n>", `link MTU (576 to ${MAX_MTU})`, wholeNumber, 1500)
    .option("--conns <n>", "concurrent TCP connections each core is sized for", wholeNumber, 4096)
    .addOption(
      new Option(
        "--poll <mode>",
        "how a serving thread waits for frames: adaptive spins --spin-us after the last frame, then sleeps in poll(2) (a lone frame then waits for a wake-up); busy never sleeps, reading the tap in a loop so a lone frame is answered at once, and costs one CPU per serving thread for the whole run",
      )
        .choices(POLL_MODES)
        .default("adaptive"),
    )
    .option(
      "--spin-us <n>",
      "with --poll adaptive: busy-poll this long after the last frame before sleeping in poll(2)",
      wholeNumber,
      200,
    )
    .option(
      "--check-queues",
      "count replies written on another queue than their flow arrived on (parses headers)",
    )
    .option(
      "--stages",
      "time poll()'s sections in every core; the report gives ns per received frame per stage",
    )
    .option("--stats", "print a stats line every second (default: when stderr is a terminal)")
    .option("--no-stats", "never print the stats line")
    .addOption(new Option("--report <fmt>", "final report").choices(["table", "json"]).default("table"))
    .option("--debug", "use the debug build of the core (assertions, poisoned mbufs)");
  addAppModuleOptions(cmd)
    .addHelpText(
      "after",
      examples(
        [
          "(as root) memcached on 198.18.0.2, the tap's kernel side in a new namespace ixwns; then: ip netns exec ixwns memccp --servers=198.18.0.2 FILE",
          "ixwasm tap --ifname ixw0 --netns ixwns --app memcached",
        ],
        [
          "(as root) echo over IPv4 and IPv6 for 60 s, JSON report; then: ip netns exec ixwns ping -6 fd00:198:18::2",
          "ixwasm tap --ifname ixw0 --netns ixwns --ip6 fd00:198:18::2/64 --duration 60 --report json",
        ],
        [
          "(as root) sparse requests answered without a wake-up: busy polling, one CPU kept spinning",
          "ixwasm tap --ifname ixw0 --netns ixwns --app memcached --poll busy",
        ],
        [
          "(as root) two tap queues, each served by a worker thread with its own core",
          "ixwasm tap --ifname ixw0 --netns ixwns --queues 2 --app sockperf",
        ],
      ),
    )
    .action(async (raw: Raw) => {
      const o = options(raw);
      const run = startTap(o, (line) => process.stderr.write(line + "\n"));
      const onSignal = () => run.stop("signal");
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const r = await run.done;
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      out(raw.report === "json" ? JSON.stringify(r, null, 2) + "\n" : formatTap(r));
      if (r.cleanup_errors.length) process.stderr.write(`ixwasm: cleanup: ${r.cleanup_errors.join("; ")}\n`);
      if (r.error) fail(`tap stopped: ${r.error}`);
    });
}
