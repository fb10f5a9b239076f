// `ixwasm gen`: option values → validated GenOptions (one-line errors with the fix),
// progress on a terminal, and the realised statistics as a table or JSON.
import { InvalidArgumentError } from "commander";
import { writeSync } from "node:fs";
import { formatForPath, type WriteFormat } from "../io/writer.ts";
import { ETC_GET_RATIO, USR_GET_RATIO } from "./dist.ts";
import { MAX_HOSTS, EPHEMERAL_N, US } from "./common.ts";
import {
  churnPlan,
  formatReport,
  generate,
  type GenOptions,
  type GenReport,
  type WorkloadName,
} from "./index.ts";
import { fail, out } from "../commands/cli-util.ts";

/** Raw option values as commander hands them over (strings, already unit-parsed where typed). */
export interface GenFlags {
  out?: string;
  format?: string;
  seed?: number;
  clients?: number;
  servers?: number;
  conns?: number;
  duration?: number;
  packets?: number;
  rate?: number;
  mss?: number;
  rtt?: number;
  port?: number;
  messages?: number;
  size?: number;
  response?: number;
  requests?: number;
  protocol?: string;
  zipf?: number;
  keys?: number;
  getRatio?: number;
  json?: boolean;
  quiet?: boolean;
}

const SUFFIX: Record<string, number> = { "": 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 };

/** A count such as 1000, 100k, 2.5M, 1e6. */
export function count(v: string): number {
  const m = /^([0-9.eE+]+)([kKmMgG]?)$/.exec(v.trim());
  const n = m ? Number(m[1]) * SUFFIX[m[2]] : NaN;
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError("expected a number such as 1000, 100k or 2M");
  return Math.round(n * 1e6) / 1e6;
}

const TIME_UNIT: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9 };

/** A duration in ns: "2s", "500ms", "20us"; a bare number is in `bare` units. */
export function duration(bare: string): (v: string) => number {
  return (v: string) => {
    const m = /^([0-9.eE+]+)\s*(ns|us|µs|ms|s|m)?$/.exec(v.trim());
    const n = m ? Number(m[1]) * TIME_UNIT[m[2] ?? bare] : NaN;
    if (!Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`expected a time such as 2s, 500ms or 20us`);
    return n;
  };
}

interface Defaults {
  clients: number;
  servers: number;
  conns: number;
  durationNs: number;
  port: number;
  size: number;
}

const DEFAULTS: Record<WorkloadName, Defaults> = {
  echo: { clients: 4, servers: 1, conns: 16, durationNs: Infinity, port: 7, size: 64 },
  etc: { clients: 4, servers: 1, conns: 16, durationNs: 2e9, port: 11211, size: 0 },
  usr: { clients: 4, servers: 1, conns: 16, durationNs: 2e9, port: 11211, size: 0 },
  incast: { clients: 1, servers: 32, conns: 32, durationNs: 0.5e9, port: 5001, size: 32768 },
  churn: { clients: 0, servers: 4, conns: 100000, durationNs: NaN, port: 8080, size: 100 },
};

function whole(name: string, v: number, lo: number, hi: number, fix = ""): number {
  if (!Number.isInteger(v) || v < lo || v > hi)
    fail(`gen: ${name} must be a whole number from ${lo} to ${hi} (got ${v})${fix ? `; ${fix}` : ""}`);
  return v;
}

/** Flags → options, or a one-line failure naming the flag and its valid range. */
export function genOptions(workload: WorkloadName, f: GenFlags): GenOptions {
  const d = DEFAULTS[workload];
  if (!f.out) fail(`gen: --out FILE is required (e.g. ixwasm gen ${workload} --out ${workload}.pcap)`);
  const format = (f.format ?? formatForPath(f.out)) as WriteFormat;
  if (!["pcap", "pcap-ns", "pcapng"].includes(format))
    fail(`gen: unknown --format ${f.format}; use pcap, pcap-ns or pcapng`);
  const protocol = f.protocol ?? "ascii";
  if (protocol !== "ascii" && protocol !== "binary")
    fail(`gen: unknown --protocol ${protocol}; use ascii or binary`);
  const conns = whole("--conns", f.conns ?? d.conns, 1, 10_000_000);
  const servers = whole("--servers", f.servers ?? d.servers, 1, MAX_HOSTS);
  let clients = f.clients ?? d.clients;
  // churn: enough client hosts that every connection slot has 4+ fresh ports.
  if (workload === "churn" && !clients) clients = Math.max(1, Math.ceil((conns * 4) / 64512));
  clients = whole("--clients", clients, 1, MAX_HOSTS);
  const rate = f.rate ?? (workload === "churn" ? 50000 : 0);
  if (!(rate >= 0) || !Number.isFinite(rate)) fail(`gen: --rate must be a positive number (got ${f.rate})`);
  const mss = whole(
    "--mss",
    f.mss ?? 1460,
    88,
    9000,
    "the MSS excludes IP and TCP headers (1460 for a 1500-byte MTU)",
  );
  const o: GenOptions = {
    workload,
    out: f.out,
    format,
    seed: whole("--seed", f.seed ?? 1, 0, 0xffffffff),
    clients,
    servers,
    conns,
    durationNs: f.duration ?? d.durationNs,
    maxPackets: f.packets ?? Infinity,
    rate,
    mss,
    rttNs: f.rtt ?? 20 * US,
    port: whole("--port", f.port ?? d.port, 1, 65535),
    messages: whole("--messages", f.messages ?? 10000, 1, 1e12),
    size: whole(
      "--size",
      f.size ?? d.size,
      workload === "churn" || workload === "incast" ? 1 : 0,
      100_000_000,
    ),
    response: whole("--response", f.response ?? 1000, 0, 100_000_000),
    requests: whole("--requests", f.requests ?? 1, 0, 1000),
    protocol,
    zipf: f.zipf ?? 0.99,
    keys: whole("--keys", f.keys ?? 10000, 1, 1 << 26),
    getRatio: f.getRatio ?? (workload === "usr" ? USR_GET_RATIO : ETC_GET_RATIO),
  };
  if (f.packets !== undefined && f.duration === undefined) o.durationNs = Infinity;
  if (!(o.zipf >= 0 && o.zipf <= 10)) fail(`gen: --zipf must be between 0 (uniform) and 10 (got ${o.zipf})`);
  if (!(o.getRatio > 0 && o.getRatio < 1))
    fail(`gen: --get-ratio must be strictly between 0 and 1 (got ${o.getRatio})`);
  if (o.rttNs < 1000) fail(`gen: --rtt must be at least 1us (got ${o.rttNs} ns)`);
  if (workload === "echo" && o.size < 1) fail("gen: echo --size must be at least 1 byte");
  if (workload === "etc" || workload === "usr" || workload === "echo") {
    if (conns < servers)
      fail(`gen: --conns (${conns}) must be at least --servers (${servers}): each server needs a connection`);
    if (conns > clients * EPHEMERAL_N)
      fail(
        `gen: ${conns} connections do not fit ${clients} client(s) × ${EPHEMERAL_N} ports; raise --clients`,
      );
  }
  if (workload === "incast") {
    if (f.conns !== undefined && f.conns !== clients * servers)
      fail(
        `gen: incast uses one connection per client and server (${clients * servers}); set --clients and --servers instead of --conns`,
      );
    o.conns = clients * servers;
  }
  if (workload === "churn") {
    if (o.rate <= 0) fail("gen: churn needs --rate > 0 (connections opened per second)");
    if (f.duration === undefined && f.packets === undefined) o.durationNs = (conns / o.rate) * 1e9;
    const plan = churnPlan(o, mss - 12);
    if (typeof plan === "string") fail(`gen: ${plan}`);
  }
  if (o.durationNs === Infinity && o.maxPackets === Infinity && workload !== "echo")
    fail(`gen: ${workload} needs --duration or --packets`);
  return o;
}

/** Runs gen with a progress line on a terminal; prints the report (table or JSON). */
export function runGen(workload: WorkloadName, f: GenFlags): GenReport {
  const o = genOptions(workload, f);
  const tty = process.stderr.isTTY && !f.quiet;
  if (tty) {
    const t0 = Date.now();
    let last = t0;
    o.onProgress = (packets, bytes) => {
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      const s = (now - t0) / 1000;
      writeSync(
        2,
        `\rgen ${workload}: ${(packets / 1e6).toFixed(2)} M packets, ${(bytes / 1e9).toFixed(2)} GB, ${s.toFixed(1)} s, ${(packets / s / 1e6).toFixed(2)} M packets/s `,
      );
    };
  }
  let r: GenReport;
  try {
    r = generate(o);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT" || err.code === "EACCES" || err.code === "EISDIR" || err.code === "ENOSPC")
      fail(`gen: cannot write ${o.out}: ${err.message}`);
    throw e;
  } finally {
    if (tty) writeSync(2, "\r\x1b[K");
  }
  if (!f.quiet || f.json) out(f.json ? JSON.stringify(r, null, 2) + "\n" : formatReport(r));
  return r;
}
