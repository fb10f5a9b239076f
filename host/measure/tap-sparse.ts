// `ixwasm bench tap`, second part: lone requests and the tap path's floor.
// Side by side in one run, interleaved per run (the order rotated), five targets
// over the same link layout (a client namespace, one link, a server):
//   kernel          veth to a second namespace: the kernel answers ICMP itself,
//                   Debian memcached -t 1 the GETs
//   tap adaptive    `ixwasm tap --app memcached` (the default --poll adaptive)
//   tap busy        the same with --poll busy
//   tap spin 0      --poll adaptive --spin-us 0: naps as soon as a round finds
//                   nothing, like the blocking reflector (flood only: its CPU per
//                   frame is then work, not spinning)
//   reflect block   a C tap reflector (native/tap-reflect.c) that sleeps in poll(2)
//   reflect busy    the same spinning on non-blocking read(2)
//   reflect js block, reflect js busy
//                   the same reflector in TypeScript over the tap's own FFI
//                   (tap-reflect-js.ts: koffi read/write/poll, 20 ms slices):
//                   C → JS is what Node and koffi cost a frame, JS → tap what
//                   ixwasm's loop and core cost on top
// Each busy server is stopped (SIGSTOP) while the others are measured, so its
// spinning CPU does not load their runs; only the target measured runs.
// Figures (ICMP with 64-byte frames: ping -s 22):
//   sparse ping    one echo every 20 ms: round trip p50/p99 (ping's own times),
//                  and the share of that time the server process ran and
//                  waited for a CPU (schedstat): a spinning server that is not on
//                  a CPU when the frame comes answers at its next time slice
//   sparse GET     one memcached GET every 20 ms (native/mc-get.c): p50/p99
//   ping-pong      one echo in flight, back to back (native/icmp-pingpong.c, like
//                  ping -f -l 1 but in ns): mean, p50 and min round trip to the
//                  reply's arrival at the client's socket (the kernel's receive
//                  timestamp), and the mean to the client's wake-up after it
//   flood          ping -f -l 16 (16 in flight): the server process's CPU per
//                  frame (schedstat), its user/sys split (/proc/<pid>/stat),
//                  read+write syscalls per frame (/proc/<pid>/io syscr/syscw) and
//                  voluntary context switches (sleeps) per frame, frames from the
//                  link's counters (both directions).
// Needs root, gcc, ping (iputils) and memcached. Everything it creates is removed
// in finally; processes are ended by PID.
import { interruptPoint } from "./lib/interrupt.ts";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { summarize, type Summary } from "./lib/stats.ts";
import { inNsText, parseCidr, removeNetns, setupLink, spawnInNs, Teardown, vethPair } from "../io/netns.ts";
import { startTap as startTapChild, type RunningTap } from "../tap/child.ts";
import type { PollReport } from "../tap/wake.ts";

const id = process.pid % 10000;
const NS_CLI = `ixbsc${id}`;
const NS_SRV = `ixbss${id}`;
const VETH = `ixbsv${id}`;
const KERNEL_IP = "198.18.2.2";
const TAP_IP = "198.18.0.2";
const REFLECT_IP = "198.18.4.2"; // any address: the reflector answers whatever ARP asks
const SPARSE_N = 100;
const INTERVAL_MS = 20;
const PAYLOAD = "22"; // ping -s 22: 8 B ICMP header + 22 → a 64-byte Ethernet frame
const PINGPONG_S = 1;
const PINGPONG_WARMUP = 2000;
const FLOOD_S = 2;
const FLOOD_IN_FLIGHT = 16;

export const TARGETS = [
  "kernel",
  "tap adaptive",
  "tap busy",
  "tap spin 0",
  "reflect block",
  "reflect busy",
  "reflect js block",
  "reflect js busy",
] as const;
export type TargetName = (typeof TARGETS)[number];

interface Target {
  name: TargetName;
  /** The client's namespace and the server's address from there. */
  ns: string;
  host: string;
  /** The kernel side of the server's link (in ns), for its frame counters. */
  link: string;
  /** The server process (none for the kernel's ICMP). */
  pid: number | null;
  /** Stopped while other targets are measured. */
  spins: boolean;
  memcached: boolean;
  /** Measured under the flood only. */
  floodOnly?: boolean;
}

export interface TargetFigures {
  sparse_ping_p50_us: Summary | null;
  sparse_ping_p99_us: Summary | null;
  /** During the sparse pings: the share of the wall time the server ran, and waited on a run queue. */
  sparse_on_cpu: Summary | null;
  sparse_runqueue_wait: Summary | null;
  sparse_get_p50_us: Summary | null;
  sparse_get_p99_us: Summary | null;
  /** Mean round trip, send → the reply's arrival at the socket (SO_TIMESTAMPNS), per run. */
  pingpong_rtt_us: Summary | null;
  pingpong_p50_us: Summary | null;
  /**
   * Fastest round trip of each run: the path through the server with the least
   * interference from the rest of a shared VM (another tenant, the kernel's
   * housekeeping, the Node process's own threads), which the mean and p50 carry.
   */
  pingpong_min_us: Summary | null;
  /** Mean round trip to the client's return from recvmsg (its wake-up included). */
  pingpong_woken_us: Summary | null;
  flood: {
    frames_per_s: Summary;
    cpu_ns_per_frame: Summary;
    user_share: Summary;
    syscalls_per_frame: Summary;
    sleeps_per_frame: Summary;
  } | null;
}

export interface TapSparseBench {
  runs: number;
  loadavg_before: string;
  loadavg_after: string;
  gcc: string;
  targets: Record<TargetName, TargetFigures>;
  /** The adaptive tap's poll report over its whole life (naps and wake → reply histogram), and the busy one's. */
  poll: { adaptive: PollReport; busy: PollReport };
  reflector_counts: Record<string, Record<string, number>>;
  /** TapSparseOptions.busyNice, when given. */
  busy_nice: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (v: number[], q: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

export interface TapNatives {
  mcGet: string;
  /** The reflectors' commands (argv before IFNAME MODE): the C one, and the TypeScript one over koffi. */
  reflect: string[];
  reflectJs: string[];
  pingPong: string;
}

/** Builds the C clients and the reflector (gcc -O3 -march=native) into dir; the TypeScript reflector runs as built (dist) or through tsx. */
export function buildTapNatives(root: string, dir: string): TapNatives {
  const out = {
    mcGet: join(dir, "mc-get"),
    reflect: [join(dir, "tap-reflect")],
    reflectJs: import.meta.url.includes("/dist/")
      ? [process.execPath, join(root, "dist/host/measure/tap-reflect-js.js")]
      : [process.execPath, "--import", "tsx", join(root, "host/measure/tap-reflect-js.ts")],
    pingPong: join(dir, "icmp-pingpong"),
  };
  for (const [src, exe] of [
    ["mc-get.c", out.mcGet],
    ["tap-reflect.c", out.reflect[0]],
    ["icmp-pingpong.c", out.pingPong],
  ]) {
    const r = spawnSync(
      "gcc",
      ["-O3", "-march=native", "-Wall", "-o", exe, join(root, "host/measure/native", src)],
      {
        encoding: "utf8",
      },
    );
    if (r.status !== 0) throw new Error(`gcc ${src}: ${r.stderr || r.error}`);
  }
  return out;
}

function preflight(): string {
  if (process.getuid?.() !== 0) throw new Error("bench tap needs root (namespaces, tap, veth)");
  for (const t of ["ping", "memcached", "gcc"])
    if (spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0)
      throw new Error(`bench tap: ${t} is missing (apt-get install iputils-ping memcached gcc)`);
  return spawnSync("gcc", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
}

// ---- per-process counters (proc(5)) ----
/** ns on a CPU and ns waiting on a run queue, summed over the threads. */
function schedstat(pid: number): { run: number; wait: number } {
  let run = 0;
  let wait = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const f = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ");
    run += Number(f[0]);
    wait += Number(f[1]);
  }
  return { run, wait };
}
const schedRunNs = (pid: number) => schedstat(pid).run;
function ticks(pid: number): { user: number; sys: number } {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return { user: Number(f[11]), sys: Number(f[12]) };
}
function syscallsRw(pid: number): number {
  const t = readFileSync(`/proc/${pid}/io`, "utf8");
  return Number(/syscr: (\d+)/.exec(t)![1]) + Number(/syscw: (\d+)/.exec(t)![1]);
}
/** Voluntary context switches of every thread: each is a sleep (poll(2), futex). */
function sleeps(pid: number): number {
  let n = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`))
    n += Number(
      /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8"))![1],
    );
  return n;
}
/** Frames both ways on the server's link, from its kernel side (/proc/net/dev in ns). */
function linkFrames(ns: string, link: string): number {
  const line = inNsText(ns, ["cat", "/proc/net/dev"])
    .out.split("\n")
    .find((l) => l.trim().startsWith(`${link}:`));
  if (!line) throw new Error(`no ${link} in /proc/net/dev of ${ns}`);
  const f = line.split(":")[1].trim().split(/\s+/).map(Number);
  return f[1] + f[9];
}

// ---- the clients ----
function ping(t: Target, args: string[], timeoutMs: number): string {
  const r = inNsText(t.ns, ["ping", "-s", PAYLOAD, ...args, t.host], { timeoutMs });
  if (r.code !== 0) throw new Error(`ping ${args.join(" ")} to ${t.name}: ${r.out}${r.err}`);
  return r.out;
}

function sparsePing(t: Target): { us: number[]; onCpu: number; wait: number } {
  const s0 = t.pid === null ? null : schedstat(t.pid);
  const w0 = performance.now();
  const out = ping(t, ["-c", String(SPARSE_N), "-i", String(INTERVAL_MS / 1000), "-W", "1"], 60000);
  const wallNs = (performance.now() - w0) * 1e6;
  const s1 = t.pid === null ? null : schedstat(t.pid);
  const us = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  if (us.length < SPARSE_N * 0.95)
    throw new Error(`sparse ping to ${t.name}: ${us.length} of ${SPARSE_N} answered`);
  return {
    us,
    onCpu: s0 && s1 ? (s1.run - s0.run) / wallNs : NaN,
    wait: s0 && s1 ? (s1.wait - s0.wait) / wallNs : NaN,
  };
}

function sparseGet(t: Target, exe: string): number[] {
  const r = inNsText(t.ns, [exe, t.host, "11211", String(SPARSE_N), String(INTERVAL_MS * 1000)], {
    timeoutMs: 60000,
  });
  if (r.code !== 0) throw new Error(`mc-get to ${t.name}: ${r.out}${r.err}`);
  return JSON.parse(r.out) as number[];
}

export interface PingPongRun {
  n: number;
  lost: number;
  arrival: { mean_ns: number; min_ns: number; p50_ns: number; p99_ns: number };
  woken: { mean_ns: number; p50_ns: number };
}

/** One run of native/icmp-pingpong.c from namespace ns to host (its warm-up round trips not counted). */
export function pingPongRun(exe: string, ns: string, host: string, seconds: number): PingPongRun {
  const r = inNsText(ns, [exe, host, String(seconds), String(PINGPONG_WARMUP)], { timeoutMs: 60000 });
  if (r.code !== 0) throw new Error(`icmp-pingpong to ${host}: ${r.err || r.out}`);
  return JSON.parse(r.out) as PingPongRun;
}

function flood(t: Target): {
  fps: number;
  cpuNs: number;
  user: number;
  sys: number;
  rw: number;
  sleeps: number;
} {
  const pid = t.pid!;
  const f0 = linkFrames(t.ns, t.link);
  const r0 = schedRunNs(pid);
  const k0 = ticks(pid);
  const s0 = syscallsRw(pid);
  const v0 = sleeps(pid);
  const w0 = performance.now();
  ping(t, ["-f", "-l", String(FLOOD_IN_FLIGHT), "-w", String(FLOOD_S), "-q"], 30000);
  const secs = (performance.now() - w0) / 1000;
  const frames = linkFrames(t.ns, t.link) - f0;
  const k1 = ticks(pid);
  return {
    fps: frames / secs,
    cpuNs: (schedRunNs(pid) - r0) / frames,
    user: k1.user - k0.user,
    sys: k1.sys - k0.sys,
    rw: (syscallsRw(pid) - s0) / frames,
    sleeps: (sleeps(pid) - v0) / frames,
  };
}

// ---- the servers ----
let seq = 0;
async function startTap(root: string, poll: string, spinUs = 200): Promise<RunningTap> {
  const name = `ixbst${id}${seq++}`;
  const cli = import.meta.url.includes("/dist/")
    ? [join(root, "dist/host/cli.js")]
    : ["--import", "tsx", join(root, "host/cli.ts")];
  const args = ["--app", "memcached", "--poll", poll, "--spin-us", String(spinUs), "--duration", "900"];
  return startTapChild({ root, cli, ifname: name, netns: name, args, readyMs: 30000 });
}

export interface Reflector {
  child: ChildProcess;
  ns: string;
  out: () => string;
}

/** A reflector (cmd: TapNatives.reflect or reflectJs) on a tap of its own, the tap moved into a namespace with the client's address (198.18.4.1). */
export async function startReflector(
  cmd: string[],
  mode: "busy" | "block",
  td: Teardown,
  procs: ChildProcess[],
  name = `ixbsr${id}${seq++}`,
): Promise<Reflector> {
  const child = spawn(cmd[0], [...cmd.slice(1), name, mode], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  procs.push(child);
  const t0 = Date.now();
  while (!err.includes("ready")) {
    if (child.exitCode !== null || Date.now() - t0 > 10000)
      throw new Error(`${basename(cmd[cmd.length - 1])} ${mode}: ${err}`);
    await sleep(10);
  }
  setupLink(
    { ifname: name, netns: name, peerIp: parseCidr("198.18.4.1/24", 4, "reflector"), mtu: 1500, ipv6: false },
    td,
  );
  return { child, ns: name, out: () => out };
}

/** Ends a reflector (SIGTERM by PID) and waits for it: its exit code and the counts it prints at exit ({} if none). */
export async function stopReflector(
  r: Reflector,
): Promise<{ code: number | null; counts: Record<string, number> }> {
  process.kill(r.child.pid!, "SIGTERM");
  await new Promise((res) => (r.child.exitCode !== null ? res(null) : r.child.once("exit", res)));
  return { code: r.child.exitCode, counts: JSON.parse(r.out() || "{}") };
}

const stopProc = (pid: number | null) => pid !== null && process.kill(pid, "SIGSTOP");
const contProc = (pid: number | null) => pid !== null && process.kill(pid, "SIGCONT");

export interface TapSparseOptions {
  /**
   * A nice value for the spinning servers' serving thread (-20..19), to see what
   * busy polling gives when the scheduler lets it keep a CPU on a loaded machine.
   * Not in the suite (it takes a CPU from everything else): experiments only.
   */
  busyNice?: number;
}

export async function benchTapSparse(
  root: string,
  runs: number,
  o: TapSparseOptions = {},
): Promise<TapSparseBench> {
  const gccVersion = preflight();
  const dir = mkdtempSync(join(tmpdir(), "ixwasm-bench-tap-sparse-"));
  const td = new Teardown();
  const procs: ChildProcess[] = [];
  const taps: RunningTap[] = [];
  const loadavg_before = readFileSync("/proc/loadavg", "utf8").trim();
  try {
    const { mcGet, reflect, reflectJs, pingPong } = buildTapNatives(root, dir);

    td.add("namespaces", () => [NS_CLI, NS_SRV].forEach(removeNetns));
    vethPair(NS_CLI, NS_SRV, VETH, KERNEL_IP, true);
    const mc = spawnInNs(
      NS_SRV,
      ["memcached", "-t", "1", "-l", KERNEL_IP, "-p", "11211", "-U", "0", "-u", "root"],
      ["ignore", "ignore", "ignore"],
    );
    procs.push(mc);
    const adaptive = await startTap(root, "adaptive");
    taps.push(adaptive);
    const busy = await startTap(root, "busy");
    taps.push(busy);
    const spin0 = await startTap(root, "adaptive", 0);
    taps.push(spin0);
    const rBlock = await startReflector(reflect, "block", td, procs);
    const rBusy = await startReflector(reflect, "busy", td, procs);
    const jBlock = await startReflector(reflectJs, "block", td, procs);
    const jBusy = await startReflector(reflectJs, "busy", td, procs);
    const targets: Target[] = [
      {
        name: "kernel",
        ns: NS_CLI,
        host: KERNEL_IP,
        link: `${VETH}c`,
        pid: null,
        spins: false,
        memcached: true,
      },
      {
        name: "tap adaptive",
        ns: adaptive.ns,
        host: TAP_IP,
        link: adaptive.ifname,
        pid: adaptive.child.pid!,
        spins: false,
        memcached: true,
      },
      {
        name: "tap busy",
        ns: busy.ns,
        host: TAP_IP,
        link: busy.ifname,
        pid: busy.child.pid!,
        spins: true,
        memcached: true,
      },
      {
        name: "tap spin 0",
        ns: spin0.ns,
        host: TAP_IP,
        link: spin0.ifname,
        pid: spin0.child.pid!,
        spins: false,
        memcached: false,
        floodOnly: true,
      },
      {
        name: "reflect block",
        ns: rBlock.ns,
        host: REFLECT_IP,
        link: rBlock.ns,
        pid: rBlock.child.pid!,
        spins: false,
        memcached: false,
      },
      {
        name: "reflect busy",
        ns: rBusy.ns,
        host: REFLECT_IP,
        link: rBusy.ns,
        pid: rBusy.child.pid!,
        spins: true,
        memcached: false,
      },
      {
        name: "reflect js block",
        ns: jBlock.ns,
        host: REFLECT_IP,
        link: jBlock.ns,
        pid: jBlock.child.pid!,
        spins: false,
        memcached: false,
      },
      {
        name: "reflect js busy",
        ns: jBusy.ns,
        host: REFLECT_IP,
        link: jBusy.ns,
        pid: jBusy.child.pid!,
        spins: true,
        memcached: false,
      },
    ];
    if (o.busyNice !== undefined)
      for (const t of targets)
        if (t.spins && spawnSync("renice", ["-n", String(o.busyNice), "-p", String(t.pid)]).status !== 0)
          throw new Error(`renice ${t.name}`);
    await sleep(300); // memcached listening
    for (const t of targets) {
      ping(t, ["-c", "3", "-i", "0.05", "-q"], 20000); // neighbour entries, warm paths
      if (t.spins) stopProc(t.pid);
    }
    const ACC_KEYS = [
      "p50",
      "p99",
      "g50",
      "g99",
      "pp",
      "pp50",
      "ppMin",
      "ppWoken",
      "fps",
      "cpu",
      "user",
      "rw",
      "sl",
      "cpuShare",
      "waitShare",
    ];
    type Acc = {
      p50: number[];
      p99: number[];
      g50: number[];
      g99: number[];
      pp: number[];
      pp50: number[];
      ppMin: number[];
      ppWoken: number[];
      fps: number[];
      cpu: number[];
      user: number[];
      rw: number[];
      sl: number[];
      cpuShare: number[];
      waitShare: number[];
    };
    const acc = Object.fromEntries(
      TARGETS.map((n) => [n, Object.fromEntries(ACC_KEYS.map((k) => [k, []])) as unknown as Acc]),
    ) as Record<TargetName, Acc>;
    for (let i = 0; i < runs; i++) {
      for (let j = 0; j < targets.length; j++) {
        await interruptPoint();
        const t = targets[(i + j) % targets.length]; // rotated: no target always first after a stop
        const a = acc[t.name];
        if (t.spins) contProc(t.pid);
        try {
          ping(t, ["-c", "5", "-i", "0.01", "-q"], 20000);
          if (!t.floodOnly) {
            const p = sparsePing(t);
            a.p50.push(quantile(p.us, 0.5));
            a.p99.push(quantile(p.us, 0.99));
            if (t.pid !== null) {
              a.cpuShare.push(p.onCpu);
              a.waitShare.push(p.wait);
            }
            if (t.memcached) {
              const g = sparseGet(t, mcGet);
              a.g50.push(quantile(g, 0.5));
              a.g99.push(quantile(g, 0.99));
            }
            const pp = pingPongRun(pingPong, t.ns, t.host, PINGPONG_S);
            a.pp.push(pp.arrival.mean_ns / 1000);
            a.pp50.push(pp.arrival.p50_ns / 1000);
            a.ppMin.push(pp.arrival.min_ns / 1000);
            a.ppWoken.push(pp.woken.mean_ns / 1000);
          }
          if (t.pid !== null) {
            const f = flood(t);
            a.fps.push(f.fps);
            a.cpu.push(f.cpuNs);
            a.user.push(f.user + f.sys ? f.user / (f.user + f.sys) : 0);
            a.rw.push(f.rw);
            a.sl.push(f.sleeps);
          }
        } finally {
          if (t.spins) stopProc(t.pid);
        }
      }
    }
    for (const t of targets) if (t.spins) contProc(t.pid);
    const { report: ra } = await adaptive.stop();
    const { report: rb } = await busy.stop();
    const counts: Record<string, Record<string, number>> = {};
    for (const [name, r] of [
      ["reflect block", rBlock],
      ["reflect busy", rBusy],
      ["reflect js block", jBlock],
      ["reflect js busy", jBusy],
    ] as const)
      counts[name] = (await stopReflector(r)).counts;
    const s = (xs: number[]) => summarize(xs);
    const opt = (xs: number[]) => (xs.length ? summarize(xs) : null);
    const targetsOut = Object.fromEntries(
      TARGETS.map((n) => {
        const a = acc[n];
        return [
          n,
          {
            sparse_ping_p50_us: opt(a.p50),
            sparse_ping_p99_us: opt(a.p99),
            sparse_on_cpu: opt(a.cpuShare),
            sparse_runqueue_wait: opt(a.waitShare),
            sparse_get_p50_us: a.g50.length ? s(a.g50) : null,
            sparse_get_p99_us: a.g99.length ? s(a.g99) : null,
            pingpong_rtt_us: opt(a.pp),
            pingpong_p50_us: opt(a.pp50),
            pingpong_min_us: opt(a.ppMin),
            pingpong_woken_us: opt(a.ppWoken),
            flood: a.cpu.length
              ? {
                  frames_per_s: s(a.fps),
                  cpu_ns_per_frame: s(a.cpu),
                  user_share: s(a.user),
                  syscalls_per_frame: s(a.rw),
                  sleeps_per_frame: s(a.sl),
                }
              : null,
          } satisfies TargetFigures,
        ];
      }),
    ) as Record<TargetName, TargetFigures>;
    return {
      runs,
      loadavg_before,
      loadavg_after: readFileSync("/proc/loadavg", "utf8").trim(),
      gcc: gccVersion,
      targets: targetsOut,
      poll: { adaptive: ra.poll, busy: rb.poll },
      reflector_counts: counts,
      busy_nice: o.busyNice ?? null,
    };
  } finally {
    for (const t of taps) if (t.child.exitCode === null) process.kill(t.child.pid!, "SIGKILL");
    for (const p of procs) if (p.exitCode === null && p.pid) process.kill(p.pid, "SIGKILL");
    await sleep(200);
    td.run();
    for (const t of taps) removeNetns(t.ns);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatTapSparse(
  b: TapSparseBench,
  row: (name: string, s: Summary, unit: string) => string,
): string[] {
  const T = b.targets;
  const x = (a: Summary | null, k: Summary | null) => (a && k ? `${(a.median / k.median).toFixed(2)}x` : "-");
  const pct = (v: Summary | null) =>
    v ? `${(v.median * 100).toFixed(0)} % (${(v.min * 100).toFixed(0)}–${(v.max * 100).toFixed(0)})` : "-";
  const sparse = TARGETS.filter((n) => T[n].sparse_ping_p50_us);
  const out = [
    `\nsparse requests and the tap path's floor: ${b.runs} runs, targets interleaved (order rotated), a spinning server stopped (SIGSTOP) while others run; ICMP frames 64 B (ping -s ${PAYLOAD}); C built with ${b.gcc} -O3 -march=native;${b.busy_nice !== null ? ` spinning servers at nice ${b.busy_nice};` : ""} load ${b.loadavg_before} → ${b.loadavg_after}`,
    `sparse ping, one every ${INTERVAL_MS} ms, ${SPARSE_N} per run (ping's round trip; the server's share of the wall time on a CPU / waiting for one, schedstat):`,
  ];
  for (const n of sparse) out.push(row(`sparse ping p50: ${n}`, T[n].sparse_ping_p50_us!, "µs"));
  for (const n of sparse) out.push(row(`sparse ping p99: ${n}`, T[n].sparse_ping_p99_us!, "µs"));
  for (const n of sparse)
    if (T[n].sparse_on_cpu)
      out.push(
        `    ${n}: on a CPU ${pct(T[n].sparse_on_cpu)}, waiting for one ${pct(T[n].sparse_runqueue_wait)}`,
      );
  const k = T.kernel;
  out.push(
    `  vs kernel p50: tap busy ${x(T["tap busy"].sparse_ping_p50_us, k.sparse_ping_p50_us)} (aim ≤ 1.5x), tap adaptive ${x(T["tap adaptive"].sparse_ping_p50_us, k.sparse_ping_p50_us)}, reflect busy ${x(T["reflect busy"].sparse_ping_p50_us, k.sparse_ping_p50_us)}, reflect block ${x(T["reflect block"].sparse_ping_p50_us, k.sparse_ping_p50_us)}`,
    `  vs reflector p50: tap busy / reflect busy ${x(T["tap busy"].sparse_ping_p50_us, T["reflect busy"].sparse_ping_p50_us)}, tap adaptive / reflect block ${x(T["tap adaptive"].sparse_ping_p50_us, T["reflect block"].sparse_ping_p50_us)} (aim ≤ 1.3x)`,
    `sparse memcached GET, one every ${INTERVAL_MS} ms, ${SPARSE_N} per run (native/mc-get.c, one TCP connection):`,
  );
  const mcName = (n: TargetName) => (n === "kernel" ? "memcached -t 1 (veth)" : n);
  for (const n of ["kernel", "tap adaptive", "tap busy"] as const) {
    out.push(row(`sparse GET p50: ${mcName(n)}`, T[n].sparse_get_p50_us!, "µs"));
    out.push(row(`sparse GET p99: ${mcName(n)}`, T[n].sparse_get_p99_us!, "µs"));
  }
  out.push(
    `  vs kernel p50: tap busy ${x(T["tap busy"].sparse_get_p50_us, k.sparse_get_p50_us)} (aim ≤ 1.5x), tap adaptive ${x(T["tap adaptive"].sparse_get_p50_us, k.sparse_get_p50_us)}`,
    `64 B ping-pong (native/icmp-pingpong.c: one echo in flight, ${PINGPONG_S} s after ${PINGPONG_WARMUP} not counted; round trip to the reply's arrival at the client's socket, its kernel receive timestamp, as ping's own figure, in ns):`,
  );
  for (const n of sparse) out.push(row(`ping-pong 64 B mean: ${n}`, T[n].pingpong_rtt_us!, "µs"));
  for (const n of sparse) out.push(row(`ping-pong 64 B p50: ${n}`, T[n].pingpong_p50_us!, "µs"));
  for (const n of sparse) out.push(row(`ping-pong 64 B min: ${n}`, T[n].pingpong_min_us!, "µs"));
  for (const n of sparse)
    out.push(row(`ping-pong 64 B to the client's wake-up: ${n}`, T[n].pingpong_woken_us!, "µs"));
  const pp = (n: TargetName) => T[n].pingpong_rtt_us;
  const pp50 = (n: TargetName) => T[n].pingpong_p50_us;
  const ppMin = (n: TargetName) => T[n].pingpong_min_us;
  out.push(
    `  tap busy / reflect busy: mean ${x(pp("tap busy"), pp("reflect busy"))}, p50 ${x(pp50("tap busy"), pp50("reflect busy"))}, min ${x(ppMin("tap busy"), ppMin("reflect busy"))} (aim ≤ 1.3x); to the client's wake-up ${x(T["tap busy"].pingpong_woken_us, T["reflect busy"].pingpong_woken_us)}; tap adaptive / reflect block: mean ${x(pp("tap adaptive"), pp("reflect block"))}`,
    `  the same reflector from Node over koffi / in C (the floor of any tap path in this process model): mean ${x(pp("reflect js busy"), pp("reflect busy"))}, p50 ${x(pp50("reflect js busy"), pp50("reflect busy"))}, min ${x(ppMin("reflect js busy"), ppMin("reflect busy"))}; tap busy / reflect js busy (ixwasm's loop and core above it): mean ${x(pp("tap busy"), pp("reflect js busy"))}, p50 ${x(pp50("tap busy"), pp50("reflect js busy"))}, min ${x(ppMin("tap busy"), ppMin("reflect js busy"))}`,
    `flood (ping -f -l ${FLOOD_IN_FLIGHT}, ${FLOOD_S} s): the server process per frame (both directions); a spinning server's CPU includes its empty rounds:`,
  );
  const fl = (n: TargetName) => T[n].flood!;
  for (const n of TARGETS.slice(1)) {
    const f = fl(n);
    out.push(row(`flood CPU/frame: ${n}`, f.cpu_ns_per_frame, "ns"));
    out.push(
      `    ${n}: ${Math.round(f.frames_per_s.median)} frames/s, user ${(f.user_share.median * 100).toFixed(0)} % of its CPU, ${f.syscalls_per_frame.median.toFixed(2)} read+write syscalls/frame, ${f.sleeps_per_frame.median.toFixed(3)} sleeps/frame`,
    );
  }
  out.push(
    `  CPU/frame: tap spin 0 / reflect block ${x(fl("tap spin 0").cpu_ns_per_frame, fl("reflect block").cpu_ns_per_frame)} (aim ≤ 1.3x), tap adaptive / reflect block ${x(fl("tap adaptive").cpu_ns_per_frame, fl("reflect block").cpu_ns_per_frame)}, tap busy / reflect busy ${x(fl("tap busy").cpu_ns_per_frame, fl("reflect busy").cpu_ns_per_frame)}`,
    `  CPU/frame, the Node floor: reflect js block / reflect block ${x(fl("reflect js block").cpu_ns_per_frame, fl("reflect block").cpu_ns_per_frame)}; tap spin 0 / reflect js block ${x(fl("tap spin 0").cpu_ns_per_frame, fl("reflect js block").cpu_ns_per_frame)}`,
  );
  const pa = b.poll.adaptive;
  const w = pa.wake_to_reply_us;
  out.push(
    `tap adaptive over the whole run: ${pa.naps} naps, ${pa.naps_woken} ended by a frame; poll(2) return → first reply: p50 ≤ ${w.p50_le} µs, p99 ≤ ${w.p99_le} µs, max ${w.max} µs (bucket bounds ${w.bounds.join(", ")} µs: ${w.counts.join(" ")}); tap busy: ${b.poll.busy.naps} naps`,
  );
  return out;
}
