// `npm run bench:dev -- tap`: ixwasm tap against the kernel with the standard
// tools, side by side in one run, same layout: a client namespace talks over one
// link to (a) the WASM core behind a tap (`ixwasm tap --netns`, the tap's kernel
// side in the client namespace) and (b) the kernel's own server in a second
// namespace behind a veth pair (offloads off on both, as tap sets them). Runs are
// interleaved (kernel, tap, kernel, tap...) so both see the same machine load.
//   (1) NPtcp 64-byte half round trip (netpipe-tcp; our --app netpipe vs NPtcp's receiver)
//   (2) sockperf ping-pong p50/p99, 64-byte messages, TCP and UDP (--app sockperf vs sockperf server)
//   (3) memcaslap TPS, same client settings (--app memcached vs Debian memcached -t 1)
//   (4) the tap path under (3): packets/s, CPU per packet of the tap process (user/sys
//       from /proc/<pid>/stat), and the core's share (the report's poll() time).
// Needs root and the Debian tools (.ci/run). Every namespace, link and process it
// creates is removed in finally; processes are ended by PID.
import { interruptPoint } from "./lib/interrupt.ts";
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { summarize, type Summary } from "./lib/stats.ts";
import { inNsText, removeNetns, spawnInNs, vethPair } from "../io/netns.ts";
import { startTap as startTapChild, type RunningTap } from "../tap/child.ts";

const id = process.pid % 10000;
const NS_CLI = `ixbpc${id}`;
const NS_SRV = `ixbps${id}`;
const VETH = `ixbpv${id}`;
const KERNEL_IP = "198.18.2.2";
const TAP_IP = "198.18.0.2";
const NP_REPEATS = 2000; // NPtcp -n: round trips per trial (3 trials per size)
const SOCKPERF_S = 2;
const MEMCASLAP = ["-T", "1", "-c", "16", "-t", "4s"]; // one client thread, 16 concurrent requests
const CLK_TCK = 100; // /proc/<pid>/stat ticks per second (USER_HZ on Linux)

export interface TapPeersBench {
  runs: number;
  loadavg_before: string;
  loadavg_after: string;
  netpipe64_half_rtt_us: { ixwasm: Summary; kernel: Summary; ratio: number };
  sockperf: Record<
    "tcp" | "udp",
    {
      ixwasm_p50_us: Summary;
      ixwasm_p99_us: Summary;
      kernel_p50_us: Summary;
      kernel_p99_us: Summary;
      ratio_p50: number;
    }
  >;
  memcached_tps: { ixwasm: Summary; kernel: Summary; ratio: number; client: string };
  tap_path: {
    pps: Summary;
    cpu_ns_per_packet: Summary;
    user_ns_per_packet: Summary;
    sys_ns_per_packet: Summary;
    /** Share of the wall time the tap process's threads ran, and waited on a run queue, during the runs (schedstat). */
    cpu_share: Summary;
    runqueue_wait_share: Summary;
    /** From the tap report over the memcached tap's whole life: poll() (WASM) vs the rest. */
    core_ns_per_frame: number;
    io_ns_per_frame: number;
    syscalls_per_frame: number;
  };
  /** sockperf throughput (UDP 64 B, no replies) into --app sockperf: what the tap's receive path takes at most. */
  tap_rx_saturation: {
    pps: Summary;
    /** Of the frames the kernel queued for the tap, the share it dropped (queue full). */
    dropped_fraction: Summary;
    cpu_ns_per_packet: Summary;
    user_ns_per_packet: Summary;
    sys_ns_per_packet: Summary;
    cpu_share: Summary;
    runqueue_wait_share: Summary;
  };
}

const sh = (args: string[], timeoutMs = 60000) =>
  spawnSync(args[0], args.slice(1), { encoding: "utf8", maxBuffer: 16 << 20, timeout: timeoutMs });
const inNs = (ns: string, args: string[], timeoutMs = 60000) => inNsText(ns, args, { timeoutMs });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error("bench tap needs root (namespaces, tap, veth)");
  for (const t of ["NPtcp", "sockperf", "memcaslap", "memcached"])
    if (sh(["sh", "-c", `command -v ${t}`]).status !== 0)
      throw new Error(
        `bench tap: ${t} is missing (apt-get install netpipe-tcp sockperf libmemcached-tools memcached)`,
      );
}

/** Client namespace ↔ veth ↔ server namespace, offloads off like the tap's. */
const kernelPair = () => vethPair(NS_CLI, NS_SRV, VETH, KERNEL_IP, true);

let tapSeq = 0;
async function startTap(root: string, app: string): Promise<RunningTap> {
  const ns = `ixbpt${id}${tapSeq}`;
  const ifname = `ixbpt${id}${tapSeq++}`;
  const fromDist = import.meta.url.includes("/dist/");
  const cli = fromDist ? [join(root, "dist/host/cli.js")] : ["--import", "tsx", join(root, "host/cli.ts")];
  const args = ["--app", app, "--duration", "600"];
  const tap = await startTapChild({ root, cli, ifname, netns: ns, args, readyMs: 30000 });
  inNs(ns, ["ping", "-c", "3", "-i", "0.05", "-q", TAP_IP]); // neighbour entries, warm core
  return tap;
}

function spawnIn(ns: string, args: string[]): ChildProcess {
  return spawnInNs(ns, args, ["ignore", "ignore", "ignore"]);
}

// ---- (1) NPtcp ----
/** NPtcp -u 64 with -n repeats (default size schedule, which our app follows); the 64-byte row's one-way time in µs. */
function netpipe64(ns: string, host: string, dir: string): number {
  const out = join(dir, "np.out");
  rmSync(out, { force: true });
  for (let attempt = 0; attempt < 100; attempt++) {
    const r = inNs(ns, ["NPtcp", "-h", host, "-u", "64", "-n", String(NP_REPEATS), "-o", out], 120000);
    if (r.code === 0) break;
    if (!/Cannot Connect/.test(r.out + r.err)) throw new Error(`NPtcp to ${host}: ${r.out}${r.err}`);
    sh(["sleep", "0.05"]); // the kernel receiver is not listening yet
  }
  const row = readFileSync(out, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number))
    .find((x) => x[0] === 64);
  if (!row) throw new Error(`NPtcp to ${host}: no 64-byte row`);
  return row[2] * 1e6;
}

// ---- (2) sockperf ----
function sockperf(ns: string, host: string, tcp: boolean): { p50: number; p99: number } {
  const args = ["sockperf", "ping-pong", "-i", host, "-p", "11111", "-m", "64", "-t", String(SOCKPERF_S)];
  const r = inNs(ns, tcp ? [...args, "--tcp"] : args, 60000);
  const text = r.out + r.err;
  const p50 = /percentile 50\.000 =\s*([\d.]+)/.exec(text);
  const p99 = /percentile 99\.000 =\s*([\d.]+)/.exec(text);
  if (r.code !== 0 || !p50 || !p99) throw new Error(`sockperf to ${host}: ${text}`);
  return { p50: Number(p50[1]), p99: Number(p99[1]) };
}

// ---- (3) memcaslap, (4) the tap path under it ----
function memcaslap(ns: string, host: string): number {
  const r = inNs(ns, ["memcaslap", "-s", `${host}:11211`, ...MEMCASLAP], 60000);
  const m = /TPS:\s*(\d+)/.exec(r.out.split("Run time").pop() ?? "");
  if (r.code !== 0 || !m) throw new Error(`memcaslap to ${host}: ${r.out}${r.err}`);
  return Number(m[1]);
}

/** Nanoseconds the process's threads ran and waited on a run queue (/proc/<pid>/task/<tid>/schedstat). */
function sched(pid: number): { run: number; wait: number } {
  let run = 0;
  let wait = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const f = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ").map(Number);
    run += f[0];
    wait += f[1];
  }
  return { run, wait };
}

function cpuTicks(pid: number): { user: number; sys: number } {
  // fields after the command name: state is 3rd, utime 14th, stime 15th (proc(5))
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return { user: Number(f[11]), sys: Number(f[12]) };
}

/** The tap's kernel-side counters (/proc/net/dev): its tx is what it queued for the core, its rx what the core sent. */
function tapCounters(ns: string, ifname: string): { rx: number; tx: number; txDropped: number } {
  const line = inNs(ns, ["cat", "/proc/net/dev"])
    .out.split("\n")
    .find((l) => l.trim().startsWith(`${ifname}:`));
  if (!line) throw new Error(`no ${ifname} in /proc/net/dev of ${ns}`);
  const f = line.split(":")[1].trim().split(/\s+/).map(Number);
  return { rx: f[1], tx: f[9], txDropped: f[11] };
}
function tapPackets(ns: string, ifname: string): number {
  const c = tapCounters(ns, ifname);
  return c.rx + c.tx; // frames the core took and sent
}

/** sockperf throughput (UDP, 64 B, as fast as the client can): no replies, so this is the tap's receive path at saturation. */
function rxSaturation(tap: RunningTap): {
  pps: number;
  dropped: number;
  cpuNs: number;
  userNs: number;
  sysNs: number;
  run: number;
  wait: number;
} {
  const c0 = cpuTicks(tap.child.pid!);
  const s0 = sched(tap.child.pid!);
  const k0 = tapCounters(tap.ns, tap.ifname);
  const t0 = performance.now();
  const r = inNs(tap.ns, [
    "sockperf",
    "throughput",
    "-i",
    TAP_IP,
    "-p",
    "11111",
    "-m",
    "64",
    "-t",
    String(SOCKPERF_S),
    "--mps",
    "max",
  ]);
  const secs = (performance.now() - t0) / 1000;
  const k1 = tapCounters(tap.ns, tap.ifname);
  const c1 = cpuTicks(tap.child.pid!);
  const s1 = sched(tap.child.pid!);
  if (r.code !== 0) throw new Error(`sockperf throughput: ${r.out}${r.err}`);
  const got = k1.tx - k0.tx;
  const dropped = k1.txDropped - k0.txDropped;
  const ns = (ticks: number) => (ticks * 1e9) / CLK_TCK / got;
  return {
    pps: got / secs,
    dropped: dropped / (got + dropped),
    userNs: ns(c1.user - c0.user),
    sysNs: ns(c1.sys - c0.sys),
    cpuNs: ns(c1.user - c0.user + c1.sys - c0.sys),
    run: (s1.run - s0.run) / (secs * 1e9),
    wait: (s1.wait - s0.wait) / (secs * 1e9),
  };
}

const ratio = (a: Summary, b: Summary) => a.median / b.median;

export async function benchTapPeers(root: string, runs: number): Promise<TapPeersBench> {
  preflight();
  const dir = mkdtempSync(join(tmpdir(), "ixwasm-bench-tap-"));
  const procs: ChildProcess[] = [];
  const taps: RunningTap[] = [];
  const loadavg_before = readFileSync("/proc/loadavg", "utf8").trim();
  try {
    kernelPair();
    // (1) NPtcp: a fresh kernel receiver per run (it serves one session), same -u.
    let tap = await startTap(root, "netpipe");
    taps.push(tap);
    const np = { ixwasm: [] as number[], kernel: [] as number[] };
    for (let i = 0; i < runs; i++) {
      await interruptPoint();
      const srv = spawnIn(NS_SRV, ["NPtcp", "-u", "64"]);
      procs.push(srv);
      np.kernel.push(netpipe64(NS_CLI, KERNEL_IP, dir));
      np.ixwasm.push(netpipe64(tap.ns, TAP_IP, dir));
    }
    await tap.stop();

    // (2) sockperf: one kernel server per protocol on the same port.
    procs.push(spawnIn(NS_SRV, ["sockperf", "server", "-i", KERNEL_IP, "-p", "11111", "--tcp"]));
    procs.push(spawnIn(NS_SRV, ["sockperf", "server", "-i", KERNEL_IP, "-p", "11111"]));
    await sleep(500);
    tap = await startTap(root, "sockperf");
    taps.push(tap);
    const sp = {
      tcp: { i50: [] as number[], i99: [] as number[], k50: [] as number[], k99: [] as number[] },
      udp: { i50: [] as number[], i99: [] as number[], k50: [] as number[], k99: [] as number[] },
    };
    const rx = {
      pps: [] as number[],
      dropped: [] as number[],
      cpu: [] as number[],
      user: [] as number[],
      sys: [] as number[],
      run: [] as number[],
      wait: [] as number[],
    };
    for (let i = 0; i < runs; i++) {
      await interruptPoint();
      const x = rxSaturation(tap);
      rx.run.push(x.run);
      rx.wait.push(x.wait);
      rx.pps.push(x.pps);
      rx.dropped.push(x.dropped);
      rx.cpu.push(x.cpuNs);
      rx.user.push(x.userNs);
      rx.sys.push(x.sysNs);
      for (const proto of ["tcp", "udp"] as const) {
        const k = sockperf(NS_CLI, KERNEL_IP, proto === "tcp");
        const x = sockperf(tap.ns, TAP_IP, proto === "tcp");
        sp[proto].k50.push(k.p50);
        sp[proto].k99.push(k.p99);
        sp[proto].i50.push(x.p50);
        sp[proto].i99.push(x.p99);
      }
    }
    await tap.stop();

    // (3) memcached, and (4) the tap process's CPU and packets during each run.
    procs.push(
      spawnIn(NS_SRV, ["memcached", "-t", "1", "-l", KERNEL_IP, "-p", "11211", "-U", "0", "-u", "root"]),
    );
    await sleep(500);
    tap = await startTap(root, "memcached");
    taps.push(tap);
    const mc = { ixwasm: [] as number[], kernel: [] as number[] };
    const path = {
      pps: [] as number[],
      cpu: [] as number[],
      user: [] as number[],
      sys: [] as number[],
      run: [] as number[],
      wait: [] as number[],
    };
    for (let i = 0; i < runs; i++) {
      await interruptPoint();
      mc.kernel.push(memcaslap(NS_CLI, KERNEL_IP));
      const c0 = cpuTicks(tap.child.pid!);
      const s0 = sched(tap.child.pid!);
      const p0 = tapPackets(tap.ns, tap.ifname);
      const t0 = performance.now();
      mc.ixwasm.push(memcaslap(tap.ns, TAP_IP));
      const secs = (performance.now() - t0) / 1000;
      const c1 = cpuTicks(tap.child.pid!);
      const s1 = sched(tap.child.pid!);
      path.run.push((s1.run - s0.run) / (secs * 1e9));
      path.wait.push((s1.wait - s0.wait) / (secs * 1e9));
      const pk = tapPackets(tap.ns, tap.ifname) - p0;
      const ns = (ticks: number) => (ticks * 1e9) / CLK_TCK / pk;
      path.pps.push(pk / secs);
      path.user.push(ns(c1.user - c0.user));
      path.sys.push(ns(c1.sys - c0.sys));
      path.cpu.push(ns(c1.user - c0.user + c1.sys - c0.sys));
    }
    const { report: rep } = await tap.stop();
    const frames = rep.rx_frames + rep.tx_frames;
    const s = (xs: number[]) => summarize(xs);
    const spOut = (p: (typeof sp)["tcp"]) => ({
      ixwasm_p50_us: s(p.i50),
      ixwasm_p99_us: s(p.i99),
      kernel_p50_us: s(p.k50),
      kernel_p99_us: s(p.k99),
      ratio_p50: ratio(s(p.i50), s(p.k50)),
    });
    return {
      runs,
      loadavg_before,
      loadavg_after: readFileSync("/proc/loadavg", "utf8").trim(),
      netpipe64_half_rtt_us: {
        ixwasm: s(np.ixwasm),
        kernel: s(np.kernel),
        ratio: ratio(s(np.ixwasm), s(np.kernel)),
      },
      sockperf: { tcp: spOut(sp.tcp), udp: spOut(sp.udp) },
      memcached_tps: {
        ixwasm: s(mc.ixwasm),
        kernel: s(mc.kernel),
        ratio: ratio(s(mc.ixwasm), s(mc.kernel)),
        client: `memcaslap ${MEMCASLAP.join(" ")}`,
      },
      tap_path: {
        pps: s(path.pps),
        cpu_ns_per_packet: s(path.cpu),
        user_ns_per_packet: s(path.user),
        sys_ns_per_packet: s(path.sys),
        cpu_share: s(path.run),
        runqueue_wait_share: s(path.wait),
        core_ns_per_frame: (rep.host.core_ms * 1e6) / frames,
        io_ns_per_frame: (rep.host.io_ms * 1e6) / frames,
        syscalls_per_frame: (rep.host.read_calls + rep.host.write_calls + rep.host.poll_waits) / frames,
      },
      tap_rx_saturation: {
        pps: s(rx.pps),
        dropped_fraction: s(rx.dropped),
        cpu_ns_per_packet: s(rx.cpu),
        user_ns_per_packet: s(rx.user),
        sys_ns_per_packet: s(rx.sys),
        cpu_share: s(rx.run),
        runqueue_wait_share: s(rx.wait),
      },
    };
  } finally {
    for (const t of taps) if (t.child.exitCode === null) process.kill(t.child.pid!, "SIGKILL");
    for (const p of procs) if (p.exitCode === null && p.pid) process.kill(p.pid, "SIGKILL");
    // `ip netns exec` execs the server, so its PID is the server's; give them a moment to go
    await sleep(200);
    for (const ns of [NS_CLI, NS_SRV, ...taps.map((t) => t.ns)]) removeNetns(ns);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatTapPeers(
  b: TapPeersBench,
  row: (name: string, s: Summary, unit: string) => string,
): string[] {
  const x = (r: number) => `${r.toFixed(2)}x`;
  const out = [
    `\ntap vs kernel (client namespace → tap + WASM core, or → veth + kernel server in a second namespace); ${b.runs} runs interleaved; load ${b.loadavg_before} → ${b.loadavg_after}`,
    `NPtcp -u 64 -n ${NP_REPEATS}, 64-byte row (one-way time = half round trip):`,
    row("ixwasm tap --app netpipe", b.netpipe64_half_rtt_us.ixwasm, "µs"),
    row("kernel (NPtcp receiver, veth)", b.netpipe64_half_rtt_us.kernel, "µs"),
    `  ixwasm / kernel: ${x(b.netpipe64_half_rtt_us.ratio)} (aim ≤ 1.5x)`,
  ];
  for (const proto of ["tcp", "udp"] as const) {
    const p = b.sockperf[proto];
    out.push(
      `sockperf ping-pong ${proto.toUpperCase()}, 64-byte messages, ${SOCKPERF_S} s:`,
      row("ixwasm tap --app sockperf p50", p.ixwasm_p50_us, "µs"),
      row("kernel sockperf server p50", p.kernel_p50_us, "µs"),
      row("ixwasm tap --app sockperf p99", p.ixwasm_p99_us, "µs"),
      row("kernel sockperf server p99", p.kernel_p99_us, "µs"),
      `  ixwasm / kernel p50: ${x(p.ratio_p50)}`,
    );
  }
  const m = b.memcached_tps;
  const t = b.tap_path;
  out.push(
    `${m.client}:`,
    row("ixwasm tap --app memcached", m.ixwasm, "TPS"),
    row("Debian memcached -t 1 (veth)", m.kernel, "TPS"),
    `  ixwasm / kernel: ${x(m.ratio)} (aim ≥ 1.0x)`,
    "tap path under that load (tap process, /proc/<pid>/stat; packets both ways):",
    row("packets/s", t.pps, "pkt/s"),
    row("CPU per packet", t.cpu_ns_per_packet, "ns"),
    row("  of which user (JS host + WASM)", t.user_ns_per_packet, "ns"),
    row("  of which sys (read/write/poll(2))", t.sys_ns_per_packet, "ns"),
    "  (sys includes the kernel delivering each frame the core writes to the client: write(2) on a tap runs its receive path)",
    `  the tap process ran ${(t.cpu_share.median * 100).toFixed(0)} % of the time (min ${(t.cpu_share.min * 100).toFixed(0)}, max ${(t.cpu_share.max * 100).toFixed(0)}) and waited for a CPU ${(t.runqueue_wait_share.median * 100).toFixed(0)} % (min ${(t.runqueue_wait_share.min * 100).toFixed(0)}, max ${(t.runqueue_wait_share.max * 100).toFixed(0)}) (schedstat)`,
    `  the core's poll() ${t.core_ns_per_frame.toFixed(0)} ns/frame; outside poll() and poll(2) waits ${t.io_ns_per_frame.toFixed(0)} ns/frame; ${t.syscalls_per_frame.toFixed(2)} syscalls/frame (tap report, whole run)`,
  );
  const r = b.tap_rx_saturation;
  out.push(
    `tap receive path at saturation (sockperf throughput, UDP 64 B, ${SOCKPERF_S} s, no replies; --app sockperf):`,
    row("frames taken/s", r.pps, "pkt/s"),
    row("CPU per frame", r.cpu_ns_per_packet, "ns"),
    row("  of which user (JS host + WASM)", r.user_ns_per_packet, "ns"),
    row("  of which sys (read/poll)", r.sys_ns_per_packet, "ns"),
    `  the tap process ran ${(r.cpu_share.median * 100).toFixed(0)} % of the time (min ${(r.cpu_share.min * 100).toFixed(0)}, max ${(r.cpu_share.max * 100).toFixed(0)}) and waited for a CPU ${(r.runqueue_wait_share.median * 100).toFixed(0)} % (min ${(r.runqueue_wait_share.min * 100).toFixed(0)}, max ${(r.runqueue_wait_share.max * 100).toFixed(0)})`,
    `  dropped by the kernel (tap queue full): ${(r.dropped_fraction.median * 100).toFixed(1)} % of what the client sent (min ${(r.dropped_fraction.min * 100).toFixed(1)}, max ${(r.dropped_fraction.max * 100).toFixed(1)})`,
  );
  return out;
}
