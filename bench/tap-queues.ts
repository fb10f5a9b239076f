// `ixwasm tap` with one queue vs several, and the main thread vs worker threads,
// side by side in one run (configurations interleaved, so each sees the same
// machine load). For each configuration a fresh tap + namespace:
//  - latency: one kernel TCP connection (Node client) doing 64-byte ping-pong,
//    RTT p50/p99;
//  - throughput: a bounded closed-loop load, `--clients` client processes with
//    `--conns` connections each, every connection keeping one 64-byte request
//    outstanding, for `--seconds` after a warm-up: requests/s (each request
//    fully echoed before the next), and the tap process's CPU time per request
//    (/proc/<pid>/stat, all its threads, spinning included).
// Needs root. Everything it creates is removed in finally; processes ended by PID.
//   node --import tsx bench/tap-queues.ts [--runs 3] [--clients 2] [--conns 32] [--seconds 3] [--spin-us N] [--only 0,1] [--json]
// (--seconds 0: latency only)
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { PINGPONG } from "../host/measure/lib/pingpong.ts";
import { inNs, removeLink, removeNetns } from "../host/io/netns.ts";
import { startTap as startTapChild, type RunningTap } from "../host/tap/child.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg("runs", 3);
const CLIENTS = arg("clients", 2);
const CONNS = arg("conns", 32);
const SECONDS = arg("seconds", 3);
const HOST = "198.18.0.2";
const SPIN = process.argv.includes("--spin-us") ? ["--spin-us", String(arg("spin-us", 200))] : [];

const ALL_CONFIGS = [
  { name: "1 queue, main thread", args: ["--queues", "1", "--workers", "0"] },
  { name: "1 queue, 1 worker thread", args: ["--queues", "1", "--workers", "1"] },
  { name: "2 queues, main thread (round-robin)", args: ["--queues", "2", "--workers", "0"] },
  { name: "2 queues, 2 worker threads", args: ["--queues", "2", "--workers", "2"] },
];
// --only 0,1: a subset of the configurations above (by index).
const only = process.argv.indexOf("--only");
const CONFIGS = only > 0 ? process.argv[only + 1].split(",").map((i) => ALL_CONFIGS[Number(i)]) : ALL_CONFIGS;

// Closed loop: C connections, one 64-byte request outstanding on each; counts
// requests completed in [warm, warm + secs] (and in all) and prints {done, all, errors}.
const LOAD = `
const net = require("node:net");
const [host, c, warm, secs] = [process.argv[1], +process.argv[2], +process.argv[3], +process.argv[4]];
const msg = Buffer.alloc(64, 0x61); let counting = false; let done = 0; let all = 0; let errors = 0; let open = 0;
const socks = [];
for (let i = 0; i < c; i++) {
  const s = net.connect({ host, port: 7 }); s.setNoDelay(true); let got = 0;
  s.on("error", () => errors++);
  s.on("connect", () => { open++; s.write(msg); });
  s.on("data", (d) => { got += d.length; while (got >= 64) { got -= 64; all++; if (counting) done++; s.write(msg); } });
  socks.push(s);
}
setTimeout(() => { counting = true; setTimeout(() => { counting = false;
  console.log(JSON.stringify({ done, all, errors, open })); for (const s of socks) s.destroy(); process.exit(0); }, secs * 1000); }, warm * 1000);
`;

/** CPU seconds (user + system, all threads) the process has used: /proc/<pid>/stat utime + stime. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15, in USER_HZ (100) ticks
}

const sh = (args: string[]) => spawnSync(args[0], args.slice(1), { maxBuffer: 64 << 20, timeout: 60000 });
const quantile = (v: number[], q: number) =>
  [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(q * v.length))];

const startTap = (ifname: string, netns: string, extra: string[]) =>
  startTapChild({
    root: ROOT,
    cli: ["--import", "tsx", join(ROOT, "host/cli.ts")],
    ifname,
    netns,
    args: ["--duration", "120", ...SPIN, ...extra],
    readyMs: 30000,
  });

async function load(ns: string): Promise<{ rps: number; all: number; errors: number }> {
  const procs = Array.from({ length: CLIENTS }, () =>
    spawn(
      "ip",
      ["netns", "exec", ns, process.execPath, "-e", LOAD, HOST, String(CONNS), "1", String(SECONDS)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    ),
  );
  const outs = await Promise.all(
    procs.map(
      (p) =>
        new Promise<{ done: number; all: number; errors: number; open: number }>((resolve) => {
          let out = "";
          p.stdout!.on("data", (d) => (out += d));
          p.on("exit", () => resolve(out ? JSON.parse(out) : { done: 0, all: 0, errors: 1, open: 0 }));
        }),
    ),
  );
  return {
    rps: outs.reduce((a, o) => a + o.done, 0) / SECONDS,
    all: outs.reduce((a, o) => a + o.all, 0),
    errors: outs.reduce((a, o) => a + o.errors + (CONNS - o.open), 0),
  };
}

interface Sample {
  config: string;
  p50: number;
  p99: number;
  rps: number;
  /** The tap process's CPU time per request during the load (µs; includes its spinning). */
  cpu_us_per_req: number;
  errors: number;
  per_queue_rx: number[];
}

async function once(c: (typeof CONFIGS)[number], k: number): Promise<Sample> {
  const id = `${process.pid % 10000}${k}`;
  const ifname = `ixwq${id}`;
  const ns = `ixwqns${id}`;
  let tap: RunningTap | null = null;
  try {
    tap = await startTap(ifname, ns, c.args);
    inNs(ns, ["ping", "-c", "5", "-i", "0.01", "-q", HOST], { timeoutMs: 60000 }); // neighbour entries, warm-up
    const pp = inNs(ns, [process.execPath, "-e", PINGPONG, HOST, "3000", "64"], { timeoutMs: 60000 });
    const rtt = JSON.parse(pp.out.toString() || "[]") as number[];
    const cpu0 = cpuSeconds(tap.child.pid!);
    const l = SECONDS > 0 ? await load(ns) : { rps: 0, all: 0, errors: 0 };
    const cpu = cpuSeconds(tap.child.pid!) - cpu0; // over every request of the load, warm-up included
    const { report: r } = await tap.stop();
    return {
      config: c.name,
      p50: Math.round(quantile(rtt, 0.5)),
      p99: Math.round(quantile(rtt, 0.99)),
      rps: Math.round(l.rps),
      cpu_us_per_req: l.all ? Number(((cpu * 1e6) / l.all).toFixed(1)) : 0,
      errors: l.errors,
      per_queue_rx: r.per_queue.map((q: { rx_frames: number }) => q.rx_frames),
    };
  } finally {
    if (tap && tap.child.exitCode === null && tap.child.pid) process.kill(tap.child.pid, "SIGKILL");
    removeNetns(ns);
    removeLink(ifname);
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench/tap-queues.ts needs root (namespaces, tap)");
  const load0 = loadavg()[0];
  const samples: Sample[] = [];
  let k = 0;
  for (let run = 0; run < RUNS; run++) for (const c of CONFIGS) samples.push(await once(c, k++));
  const rows = CONFIGS.map((c) => {
    const s = samples.filter((x) => x.config === c.name);
    const f = (key: "p50" | "p99" | "rps" | "cpu_us_per_req") => {
      const v = s.map((x) => x[key]);
      return { median: quantile(v, 0.5), min: Math.min(...v), max: Math.max(...v) };
    };
    return {
      config: c.name,
      rtt_p50_us: f("p50"),
      rtt_p99_us: f("p99"),
      requests_per_s: f("rps"),
      tap_cpu_us_per_request: f("cpu_us_per_req"),
      errors: s.reduce((a, x) => a + x.errors, 0),
    };
  });
  const machine = `${cpus().length} vCPU ${cpus()[0]?.model ?? "?"}, Node ${process.version}, load ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`;
  if (process.argv.includes("--json")) {
    console.log(
      JSON.stringify(
        { machine, runs: RUNS, clients: CLIENTS, conns: CONNS, seconds: SECONDS, rows, samples },
        null,
        2,
      ),
    );
    return;
  }
  console.log(
    `${machine}; ${RUNS} runs interleaved; load: ${CLIENTS} clients × ${CONNS} connections, 64 B closed loop, ${SECONDS} s`,
  );
  console.log(
    "config                                64 B RTT p50 µs (min..max)   p99 µs          requests/s (min..max)       tap CPU µs/request (min..max)",
  );
  for (const r of rows)
    console.log(
      `${r.config.padEnd(38)}${`${r.rtt_p50_us.median} (${r.rtt_p50_us.min}..${r.rtt_p50_us.max})`.padEnd(29)}${`${r.rtt_p99_us.median}`.padEnd(16)}${`${r.requests_per_s.median} (${r.requests_per_s.min}..${r.requests_per_s.max})`.padEnd(28)}${r.tap_cpu_us_per_request.median} (${r.tap_cpu_us_per_request.min}..${r.tap_cpu_us_per_request.max})${r.errors ? `  errors ${r.errors}` : ""}`,
    );
}

await main();
