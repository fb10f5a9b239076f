// Namespaces for the tap benchmarks: the kernel baseline's veth pair, the tap
// CLI started and waited for, removal, and the ping-pong client run inside.
// Addresses only in 198.18.0.0/15.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";

const sh = (args: string[]) =>
  spawnSync(args[0], args.slice(1), { encoding: "utf8", maxBuffer: 16 << 20, timeout: 60000 });
const must = (args: string[]) => {
  const r = sh(args);
  if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
};

/**
 * Client namespace `cli` ↔ veth ↔ server namespace `srv`: `<veth>c` at
 * 198.18.2.1/24 and `<veth>s` at `srvIp`/24, links and loopbacks up. With
 * `offloadsOff`, TSO/GSO/GRO and checksum offload off on both ends, as
 * `ixwasm tap` sets its link (host/io/netns.ts), so the kernel does the same
 * per-packet work as the core.
 */
export function vethPair(cli: string, srv: string, veth: string, srvIp: string, offloadsOff: boolean): void {
  must(["ip", "netns", "add", cli]);
  must(["ip", "netns", "add", srv]);
  must([
    "ip",
    "link",
    "add",
    `${veth}c`,
    "netns",
    cli,
    "type",
    "veth",
    "peer",
    "name",
    `${veth}s`,
    "netns",
    srv,
  ]);
  must(["ip", "-n", cli, "addr", "add", "198.18.2.1/24", "dev", `${veth}c`]);
  must(["ip", "-n", srv, "addr", "add", `${srvIp}/24`, "dev", `${veth}s`]);
  for (const [ns, dev] of [
    [cli, `${veth}c`],
    [srv, `${veth}s`],
  ]) {
    must(["ip", "-n", ns, "link", "set", dev, "up"]);
    must(["ip", "-n", ns, "link", "set", "lo", "up"]);
    if (offloadsOff)
      sh([
        "ip",
        "netns",
        "exec",
        ns,
        "ethtool",
        "-K",
        dev,
        "tso",
        "off",
        "gso",
        "off",
        "gro",
        "off",
        "tx",
        "off",
        "rx",
        "off",
      ]);
  }
}

export function removeNetns(ns: string): void {
  if (existsSync(`/run/netns/${ns}`)) sh(["ip", "netns", "del", ns]);
}

/**
 * `ixwasm tap --ifname <ifname> --netns <ns> --report json --no-stats` plus
 * `args` (`cli`: the node arguments that run the CLI), resolved once it prints
 * "ready" on stderr; killed by PID if it does not within `readyMs`.
 */
export async function spawnTap(
  root: string,
  cli: string[],
  ifname: string,
  ns: string,
  args: string[],
  readyMs: number,
): Promise<ChildProcess> {
  const argv = [...cli, "tap", "--ifname", ifname, "--netns", ns, "--report", "json", "--no-stats", ...args];
  const tap = spawn(process.execPath, argv, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`tap not ready within ${readyMs / 1000} s: ${err}`)),
        readyMs,
      );
      tap.stderr!.on("data", (d) => {
        err += d;
        if (err.includes("ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
      tap.on("exit", () => reject(new Error(`tap exited: ${err}`)));
    });
  } catch (e) {
    if (tap.exitCode === null && tap.pid) process.kill(tap.pid, "SIGKILL");
    throw e;
  }
  return tap;
}

/** Node script: one connection to `host`:7, N round trips of `size` bytes; prints the RTTs (µs) as JSON (argv: host n size). */
export const PINGPONG = `
const net = require("node:net");
const [host, n, size] = [process.argv[1], +process.argv[2], +process.argv[3]];
const s = net.connect({ host, port: 7 }); s.setNoDelay(true);
const msg = Buffer.alloc(size, 0x5a); const rtt = []; let got = 0; let t = 0;
s.on("connect", () => { t = process.hrtime.bigint(); s.write(msg); });
s.on("data", (d) => { got += d.length; while (got >= size) { got -= size;
  const now = process.hrtime.bigint(); rtt.push(Number(now - t) / 1000);
  if (rtt.length === n) { console.log(JSON.stringify(rtt)); s.destroy(); return; }
  t = process.hrtime.bigint(); s.write(msg); } });
setTimeout(() => { console.log(JSON.stringify(rtt)); process.exit(0); }, 30000).unref();
`;
