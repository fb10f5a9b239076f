// Namespace and link setup around a tap, with iproute2 (`ip`), sysctl and
// ethtool. Every step that creates something registers its undo in a Teardown,
// which runs in reverse order on exit, on a signal and on error. The one netns
// helper of the repository: the benchmarks (host/measure, bench/) and the tests
// create, enter and remove their namespaces and veth pairs through it too.
import { execFileSync, spawn, spawnSync, type ChildProcess, type StdioOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { UsageError } from "./errors.ts";

/** A parsed "A.B.C.D/len" or IPv6 "x::y/len". */
export interface Cidr {
  family: 4 | 6;
  addr: string;
  len: number;
  /** The address in network byte order (4 or 16 bytes). */
  bytes: Buffer;
}

export function parseCidr(text: string, family: 4 | 6, what: string): Cidr {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const max = family === 4 ? 32 : 128;
  if (!m || Number(m[2]) > max || Number(m[2]) < 1)
    throw new UsageError(
      `${what} "${text}" is not an IPv${family} address with a prefix length`,
      `write it as ${family === 4 ? "198.18.0.2/24" : "fd00:198:18::2/64"}`,
    );
  const bytes = family === 4 ? parseV4(m[1]) : parseV6(m[1]);
  if (!bytes) throw new UsageError(`${what} "${text}": "${m[1]}" is not an IPv${family} address`);
  return { family, addr: m[1], len: Number(m[2]), bytes };
}

function parseV4(s: string): Buffer | null {
  const p = s.split(".");
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return null;
  return Buffer.from(p.map(Number));
}

function parseV6(s: string): Buffer | null {
  if (!/^[0-9a-fA-F:]+$/.test(s) || s.split("::").length > 2) return null;
  const [head, tail] = s.includes("::") ? s.split("::") : [s, null];
  const hs = head ? head.split(":") : [];
  const ts = tail ? tail.split(":") : [];
  if (tail === null && hs.length !== 8) return null;
  if (hs.length + ts.length > (tail === null ? 8 : 7)) return null;
  const words = [...hs, ...new Array<string>(8 - hs.length - ts.length).fill("0"), ...ts];
  if (words.some((w) => !/^[0-9a-fA-F]{1,4}$/.test(w))) return null;
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(parseInt(w, 16), i * 2));
  return b;
}

/** Addresses of the benchmarking range RFC 2544 set aside (198.18.0.0/15): the only IPv4 we configure. */
export function inBenchRange(c: Cidr): boolean {
  return c.family === 4 && c.bytes[0] === 198 && (c.bytes[1] & 0xfe) === 18;
}

/** Unique local IPv6 (fc00::/7, RFC 4193): stays inside the namespace. */
export function isUla(c: Cidr): boolean {
  return c.family === 6 && (c.bytes[0] & 0xfe) === 0xfc;
}

export function sameSubnet(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family || a.len !== b.len) return false;
  for (let bit = 0; bit < a.len; bit++) {
    const i = bit >>> 3;
    const m = 0x80 >>> (bit & 7);
    if ((a.bytes[i] & m) !== (b.bytes[i] & m)) return false;
  }
  return true;
}

function run(args: string[], ns?: string): { ok: boolean; out: string; err: string } {
  const full = ns ? ["netns", "exec", ns, ...args] : args;
  const cmd = ns ? "ip" : args[0];
  const r = spawnSync(cmd, ns ? full : args.slice(1), { encoding: "utf8" });
  if (r.error)
    throw new UsageError(`cannot run ${cmd}: ${r.error.message}`, "install iproute2 (and ethtool, procps)");
  return { ok: r.status === 0, out: r.stdout ?? "", err: (r.stderr ?? "").trim() };
}

/** Runs a command that must succeed; its stderr becomes the error's text. */
function must(args: string[], ns?: string): string {
  const r = run(args, ns);
  if (!r.ok)
    throw new UsageError(
      `${args.join(" ")}${ns ? ` (in namespace ${ns})` : ""} failed: ${r.err || "no message"}`,
    );
  return r.out;
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

export function linkExists(ifname: string, ns?: string): boolean {
  return run(["ip", "-o", "link", "show", "dev", ifname], ns).ok;
}

/** Deletes the namespace if it exists (what it holds goes with it); never throws. */
export function removeNetns(ns: string): void {
  if (netnsExists(ns)) spawnSync("ip", ["netns", "del", ns]);
}

/** Deletes the link of the root namespace if it exists; never throws. */
export function removeLink(ifname: string): void {
  if (spawnSync("ip", ["link", "show", "dev", ifname]).status === 0) spawnSync("ip", ["link", "del", ifname]);
}

export interface InNsOptions {
  input?: Buffer | string;
  /** Killed after this long (default 15 s): every run is bounded. */
  timeoutMs?: number;
  cwd?: string;
}

/** Runs a program inside the namespace, bounded in time; stdout as bytes. */
export function inNs(ns: string, cmd: string[], opts: InNsOptions = {}) {
  const r = spawnSync("ip", ["netns", "exec", ns, ...cmd], {
    input: opts.input,
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 15000,
    maxBuffer: 64 << 20,
  });
  return { code: r.status, out: r.stdout ?? Buffer.alloc(0), err: (r.stderr ?? Buffer.alloc(0)).toString() };
}

/** A long-running program inside the namespace (a server, a load); the caller ends it by PID. */
export function spawnInNs(
  ns: string,
  cmd: string[],
  stdio: StdioOptions = ["ignore", "pipe", "pipe"],
): ChildProcess {
  return spawn("ip", ["netns", "exec", ns, ...cmd], { stdio });
}

/** inNs with stdout as text. */
export function inNsText(ns: string, cmd: string[], opts: InNsOptions = {}) {
  const r = inNs(ns, cmd, opts);
  return { code: r.code, out: r.out.toString(), err: r.err };
}

/**
 * Client namespace `cli` ↔ veth ↔ server namespace `srv` (the kernel baselines of
 * the tap benchmarks): `<veth>c` at 198.18.2.1/24 and `<veth>s` at `srvIp`/24,
 * links and loopbacks up. With `offloadsOff`, TSO/GSO/GRO and checksum offload
 * off on both ends, as setupLink sets a tap, so the kernel does the same
 * per-packet work as the core. Throws on the first step that fails.
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
    must(["ip", "link", "set", dev, "up"], ns);
    must(["ip", "link", "set", "lo", "up"], ns);
    if (offloadsOff)
      run(["ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off"], ns);
  }
}

/** Every address configured on any interface of the namespace, as text without prefix length. */
export function addressesInUse(ns?: string): Set<string> {
  const out = must(["ip", "-j", "addr", "show"], ns);
  const set = new Set<string>();
  for (const link of JSON.parse(out || "[]") as { addr_info?: { local?: string }[] }[])
    for (const a of link.addr_info ?? []) if (a.local) set.add(canonical(a.local));
  return set;
}

/** Canonical text of an address (IPv6 zero runs compressed the way iproute2 prints). */
export function canonical(addr: string): string {
  if (!addr.includes(":")) return addr;
  const b = parseV6(addr);
  if (!b) return addr;
  const w = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16));
  // longest run of zeros (length ≥ 2) becomes "::" (RFC 5952)
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return w.join(":");
  return `${w.slice(0, best).join(":")}::${w.slice(best + bestLen).join(":")}`;
}

/** Undo steps, run last-first; each one may fail without stopping the others. */
export class Teardown {
  private readonly steps: { what: string; fn: () => void }[] = [];
  readonly errors: string[] = [];

  add(what: string, fn: () => void): void {
    this.steps.push({ what, fn });
  }

  run(): void {
    while (this.steps.length) {
      const s = this.steps.pop()!;
      try {
        s.fn();
      } catch (e) {
        this.errors.push(`${s.what}: ${(e as Error).message}`);
      }
    }
  }
}

export interface LinkSetup {
  ifname: string;
  /** Namespace to create and move the tap into; the root namespace when absent. */
  netns?: string;
  /** The namespace exists already (`ixwasm inject`): move the tap into it, never create or delete it. */
  reuseNetns?: boolean;
  /** The kernel side's addresses (the "peer" of the core). */
  peerIp?: Cidr;
  peerIp6?: Cidr;
  mtu: number;
  /** Keep IPv6 on the link (the core has an IPv6 address); otherwise disabled to keep the link quiet. */
  ipv6: boolean;
}

/** Fails with one line if the namespace or addresses are taken (run before anything is created). */
export function checkFree(s: LinkSetup, coreIps: Cidr[]): void {
  if (s.netns) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(s.netns) || s.netns === "." || s.netns === "..")
      throw new UsageError(`invalid namespace name "${s.netns}"`, "use letters, digits, '-', '_' and '.'");
    if (netnsExists(s.netns))
      throw new UsageError(
        `network namespace ${s.netns} already exists`,
        "pick another --netns or delete it with `ip netns del`",
      );
  }
  const used = addressesInUse(undefined);
  for (const c of [...coreIps, s.peerIp, s.peerIp6]) {
    if (!c) continue;
    // In a namespace we create, nothing is configured yet; only the root namespace can clash.
    if (!s.netns && used.has(canonical(c.addr)))
      throw new UsageError(
        `address ${c.addr} is already in use on this host`,
        "pick another address in 198.18.0.0/15",
      );
  }
}

/** The interface was just created in the root namespace: move it, address it, bring it up. Returns notes for the report. */
export function setupLink(s: LinkSetup, td: Teardown): string[] {
  const notes: string[] = [];
  const ns = s.netns;
  if (ns) {
    if (!s.reuseNetns) {
      must(["ip", "netns", "add", ns]);
      td.add(`ip netns del ${ns}`, () => must(["ip", "netns", "del", ns]));
    }
    must(["ip", "link", "set", "dev", s.ifname, "netns", ns]);
    must(["ip", "link", "set", "dev", "lo", "up"], ns);
  }
  // Quiet link: no router solicitations, no DAD, no SLAAC (or no IPv6 at all).
  const conf = `net.ipv6.conf.${s.ifname}`;
  if (s.ipv6) {
    sysctl(
      ns,
      `${conf}.accept_dad=0`,
      `${conf}.autoconf=0`,
      `${conf}.accept_ra=0`,
      `${conf}.router_solicitations=0`,
    );
  } else sysctl(ns, `${conf}.disable_ipv6=1`);
  must(["ip", "link", "set", "dev", s.ifname, "mtu", String(s.mtu)], ns);
  // No offloads: the core sees what a wire would carry (a tap without a vnet
  // header cannot take TSO/checksum offload anyway; this makes it explicit).
  const eth = run(
    ["ethtool", "-K", s.ifname, "tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off"],
    ns,
  );
  // ethtool missing or refusing is not fatal (a plain tap has no offloads on): the report says so.
  if (!eth.ok) notes.push(`ethtool -K ${s.ifname}: ${eth.err.split("\n")[0] || "failed"}`);
  if (s.peerIp) {
    try {
      must(["ip", "addr", "add", `${s.peerIp.addr}/${s.peerIp.len}`, "dev", s.ifname], ns);
    } catch (e) {
      throw new UsageError(
        `cannot add ${s.peerIp.addr} to ${s.ifname}: ${(e as Error).message}`,
        "the address may be in use",
      );
    }
  }
  if (s.peerIp6 && s.ipv6)
    must(["ip", "-6", "addr", "add", `${s.peerIp6.addr}/${s.peerIp6.len}`, "dev", s.ifname, "nodad"], ns);
  must(["ip", "link", "set", "dev", s.ifname, "up"], ns);
  return notes;
}

function sysctl(ns: string | undefined, ...settings: string[]): void {
  must(["sysctl", "-q", "-w", ...settings], ns);
}

/** Runs `ip` in the root namespace, for tests and tools (throws on failure). */
export function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8" });
}
