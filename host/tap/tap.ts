// `ixwasm tap`: WASM cores on a Linux tap, serving real kernel clients.
//
// A core is the far end of the tap: it owns --ip (and --ip6) and the MAC; the
// tap interface is the kernel's side (in --netns, with --peer-ip). With
// --queues N > 1 the tap is multi-queue and each queue is served by a worker
// thread with its own core (--workers, default one per queue): frames are read
// straight into that core's mbufs and replies written on their arrival queue
// (host/tap/loop.ts has the loop, tap-worker.ts the thread). One
// queue, or --workers 0, stays on the main thread (one core, every queue).
import { APP_ID, serverAppBytes, stackConfig } from "../core/stack-config.ts";
import { moduleAppBytes } from "../apps/module.ts";
import { ModuleHost, type ModuleReport, type ServedModule } from "../apps/module-host.ts";
import { mergeModuleReports, moduleRows } from "../report/module.ts";
import {
  coreViews,
  createCore,
  createMemory,
  MBUF_DATA_DEFAULT,
  MBUF_DATA_JUMBO,
  type Core,
  type CoreConfig,
  type CoreViews,
} from "../core/core.ts";
import { Nic } from "../runtime/nic.ts";
import { newLoopStats, QS, qword, ST, TapLoop, TW_STOP } from "./loop.ts";
import { tapAccounting, tapStages } from "./stages.ts";
import { formatAccounting, type StageAccounting } from "../report/accounting.ts";
import { formatPoll, pollReport, WAKE_BUCKETS, type PollMode, type PollReport } from "./wake.ts";
import type { TapWorkerData, TapWorkerMessage } from "./loop.ts";
import { spawnWorker, workerUrl } from "../runtime/spawn.ts";
import { UsageError } from "../io/errors.ts";
import { TapDevice } from "../io/tap.ts";
import { checkFree, setupLink, Teardown, type Cidr } from "../io/netns.ts";
import { readBatchHistogram, readCounters, type Counters } from "../report/counters.ts";
import { formatPollStages, readStageSums, type PollStageCost, type StageSums } from "../report/stages.ts";

export const TAP_SCHEMA = "ixwasm-tap/1";
/** The apps tap serves, with their core app numbers. */
export const APPS = {
  echo: APP_ID.echo,
  sink: APP_ID.sink,
  memcached: APP_ID.memcached,
  netpipe: APP_ID.netpipe,
  sockperf: APP_ID.sockperf,
} as const;
export type TapApp = keyof typeof APPS;
const DEFAULT_PORTS: Record<TapApp, number> = {
  echo: 7,
  sink: 9,
  memcached: 11211,
  netpipe: 5002,
  sockperf: 11111,
};

// One frame per mbuf (RX never chains): an MTU whose frame (MTU + 14) fits the
// default 2048-byte data area keeps the default mbufs; a larger one, up to 9000
// (the usual jumbo MTU), makes the cores use 9216-byte data areas
// (CFG_MBUF_DATA), 4.4x the pool memory for the same mbuf count.
export const MAX_MTU = 9000;
const ETH_HDR = 14;

/** mbuf data-area size for an MTU: the default when the frame fits it, else the jumbo size. */
export function tapMbufData(mtu: number): number {
  return mtu + ETH_HDR > MBUF_DATA_DEFAULT ? MBUF_DATA_JUMBO : MBUF_DATA_DEFAULT;
}
const SLICE_MS = 20; // the main thread serves this long between turns of the event loop (signals, stats)

export interface TapOptions {
  ifname: string;
  ip: Cidr;
  ip6?: Cidr;
  mac: Buffer;
  queues: number;
  /** Worker threads, each with its own core, serving queue q on worker q mod workers; 0: the main thread serves every queue. Default: one per queue when --queues > 1, else 0. */
  workers?: number;
  app: TapApp;
  /** Serve an app module (docs/design/app-modules.md) instead of the built-in app: an instance of it in each serving thread. */
  module?: ServedModule;
  /** 0: the app's usual port. */
  port: number;
  netns?: string;
  peerIp?: Cidr;
  peerIp6?: Cidr;
  /** 0: until SIGINT/SIGTERM. */
  durationS: number;
  mtu: number;
  conns: number;
  /** busy: never nap (one CPU spins); adaptive: spin spinUs after the last frame, then nap in poll(2) (wake.ts). */
  poll: PollMode;
  spinUs: number;
  /** Count TX frames written on another queue than their flow's last arrival (parses headers: tests only). */
  checkQueues: boolean;
  /** A stats line on stderr every this many ms (0: never). */
  statsMs: number;
  debug?: boolean;
  /** Time poll()'s sections in every core (report: ns per received frame per stage). */
  stages?: boolean;
}

export interface QueueReport {
  queue: number;
  rx_frames: number;
  tx_frames: number;
  read_errors: number;
  write_errors: number;
  /** --check-queues: IPv4 TCP/UDP frames written on another queue than their flow last arrived on (or never arrived on). */
  misrouted: number | null;
  /** The worker thread serving this queue (0 with --workers 0: the main thread). */
  worker: number;
  /** --check-queues: distinct IPv4 TCP/UDP flows that arrived on this queue. */
  flows: number | null;
}

/** One serving thread (a worker, or the main thread with --workers 0) and its core. */
export interface WorkerReport {
  worker: number;
  queues: number[];
  rx_frames: number;
  tx_frames: number;
  core_polls: number;
  /** Polls that took at least one frame. */
  batches: number;
  /** rx_ring_full (host: the core's RX ring had no free slot), rx_over_mtu (host: a frame over MTU + 14) and the core's resource-drop counters. */
  drops: Record<string, number>;
  /** In the core's poll(): with --stages every poll timed; without, one in loop.ts CORE_SAMPLE of each kind, scaled. */
  core_ms: number;
  io_ms: number;
  wait_ms: number;
  batch_histogram: number[];
  error: string | null;
  /** With --app-module: this thread's module instance (batches, faults, restarts, checks). */
  module?: ModuleReport | null;
}

export interface TapReport {
  schema: typeof TAP_SCHEMA;
  ifname: string;
  netns: string | null;
  ip: string;
  ip6: string | null;
  mac: string;
  app: TapApp;
  port: number;
  queues: number;
  /** Worker threads; 0: the main thread served every queue. */
  workers: number;
  mtu: number;
  duration_s: number;
  stop_reason: "duration" | "signal" | "error";
  /** With --app-module: its batches, faults, restarts, resets, and the core's checks after each fault. */
  module?: ModuleReport;
  rx_frames: number;
  tx_frames: number;
  rx_bytes: number;
  tx_bytes: number;
  rx_pps: number;
  tx_pps: number;
  per_queue: QueueReport[];
  per_worker: WorkerReport[];
  /** --check-queues: flows seen arriving on another queue than before, within one thread and across workers (each would break the flow). */
  queue_check: { flows_moved: number; flows_on_several_workers: number } | null;
  /** Summed over the serving threads (thread-milliseconds). */
  host: {
    rounds: number;
    core_polls: number;
    /** Queue services that read nothing and left the core unpolled (loop.ts IDLE_POLL_EVERY). */
    skipped_polls: number;
    read_calls: number;
    empty_reads: number;
    write_calls: number;
    poll_waits: number;
    wait_ms: number;
    core_ms: number;
    /** Time outside the core and outside poll(2): mostly read/write syscalls. */
    io_ms: number;
    rx_ring_full: number;
    /** Frames read longer than MTU + 14, dropped (the kernel side's MTU should prevent them). */
    rx_over_mtu: number;
    spin_us: number;
  };
  /** --poll: the mode, its naps and what waking from them cost (wake.ts). */
  poll: PollReport;
  batch_histogram: number[];
  counters: Partial<Counters>;
  /** --stages: poll()'s stage cost per received frame, per serving core ("main" or "worker i") */
  stages: Record<string, PollStageCost> | null;
  /** --stages: where each serving core's loop time went, per received frame (host/tap/stages.ts) */
  accounting?: Record<string, StageAccounting>;
  error: string | null;
  /** Setup steps that did not work but did not stop the run (e.g. ethtool missing). */
  notes: string[];
  cleanup_errors: string[];
}

/** Sizes a server core for `conns` concurrent connections (host/core/stack-config.ts). */
export function tapConfig(o: TapOptions): Partial<CoreConfig> {
  const ringSlots = 512; // ≥ 64 frames in flight RX; TX gets one poll's output (echo of a full batch and its ACKs)
  // RFC 9293 §3.7.1: MSS = MTU - fixed IPv4 and TCP headers; the core announces 20 less on IPv6 (its header is 40).
  const mss4 = o.mtu - 40;
  return {
    ...stackConfig(o.conns, ringSlots),
    app: APPS[o.app],
    appPort: o.port || DEFAULT_PORTS[o.app],
    appBytes: serverAppBytes(o.app, o.conns),
    macLo: o.mac.readUInt32LE(0),
    macHi: o.mac.readUInt16LE(4),
    ipv4: o.ip.bytes.readUInt32LE(0),
    ...(o.ip6
      ? {
          ipv6_0: o.ip6.bytes.readUInt32LE(0),
          ipv6_1: o.ip6.bytes.readUInt32LE(4),
          ipv6_2: o.ip6.bytes.readUInt32LE(8),
          ipv6_3: o.ip6.bytes.readUInt32LE(12),
        }
      : {}),
    mss: mss4,
    mbufData: tapMbufData(o.mtu),
    ...(o.module
      ? {
          app: APP_ID.external,
          appPort: o.module.mod.port,
          appBytes: moduleAppBytes(o.conns),
          appConns: o.conns,
          appExtFlags: o.module.mod.flags,
        }
      : {}),
  };
}

function pick(c: Counters): Partial<Counters> {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== 0)) as Partial<Counters>;
}

function macText(m: Buffer): string {
  return [...m].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Checks what can be checked before anything is created. */
export function checkTapOptions(o: TapOptions): void {
  if (process.getuid && process.getuid() !== 0)
    throw new UsageError(
      "not running as root",
      "tap devices and namespaces need root (CAP_NET_ADMIN): run with sudo",
    );
  if (o.queues < 1 || o.queues > 16)
    throw new UsageError(`--queues ${o.queues} is out of range`, "use 1 to 16");
  if (o.workers !== undefined && (o.workers < 0 || o.workers > o.queues))
    throw new UsageError(
      `--workers ${o.workers} is out of range`,
      `use 0 (the main thread serves every queue) to --queues (${o.queues})`,
    );
  if (o.mtu < 576 || o.mtu > MAX_MTU)
    throw new UsageError(
      `--mtu ${o.mtu} is out of range`,
      `use 576 to ${MAX_MTU} (a frame must fit one mbuf: above ${MBUF_DATA_DEFAULT - ETH_HDR} the cores use ${MBUF_DATA_JUMBO}-byte mbufs)`,
    );
  if (o.port < 0 || o.port > 65535) throw new UsageError(`--port ${o.port} is not a port`, "use 1 to 65535");
  if (o.conns < 1 || o.conns > 60000)
    throw new UsageError(`--conns ${o.conns} is out of range`, "use 1 to 60000");
  checkFree(
    { ifname: o.ifname, netns: o.netns, peerIp: o.peerIp, peerIp6: o.peerIp6, mtu: o.mtu, ipv6: !!o.ip6 },
    [o.ip, ...(o.ip6 ? [o.ip6] : [])],
  );
}

export interface TapRun {
  /** Resolves with the report once the run ends (duration, stop(), or an error after setup). */
  done: Promise<TapReport>;
  stop(reason?: "signal"): void;
}

/**
 * Worker threads a run uses: 0 means the main thread serves every queue.
 * One queue stays on the main thread: in 6 interleaved comparisons
 * (bench/tap-queues.ts, load 4–12 on 2 vCPUs) its 64 B ping-pong RTT p50 was
 * lower every time (median of each run 40–62 µs vs 45–72 µs in one worker;
 * the runs' ranges overlap, the sign never changed), while p99 (ms, from the
 * load) went either way. Not explained yet; a worker spares nothing here.
 */
export function tapWorkers(o: TapOptions): number {
  return o.workers ?? (o.queues > 1 ? o.queues : 0);
}

/** Sets everything up (throws a UsageError on the first problem, with everything created so far removed) and starts serving. */
export function startTap(o: TapOptions, onReady?: (line: string) => void): TapRun {
  checkTapOptions(o);
  const workers = tapWorkers(o);
  const config = tapConfig(o);
  // The cores' memories first: a config the core refuses must fail before anything exists on the host.
  const core = workers === 0 ? createCore(config, { debug: o.debug }) : null;
  const memories = Array.from({ length: workers }, () => createMemory(config, o.debug));
  const td = new Teardown();
  // Last resort if the process exits without finish() (steps already run are gone from the list).
  process.once("exit", () => td.run());
  let tap: TapDevice | null = null;
  let notes: string[] = [];
  try {
    tap = TapDevice.open({ ifname: o.ifname, queues: o.queues });
    const dev = tap;
    td.add(`close ${o.ifname}`, () => dev.close());
    notes = setupLink(
      { ifname: o.ifname, netns: o.netns, peerIp: o.peerIp, peerIp6: o.peerIp6, mtu: o.mtu, ipv6: !!o.ip6 },
      td,
    );
  } catch (e) {
    td.run();
    throw e;
  }
  const ready = () =>
    onReady?.(
      `ixwasm tap: ${o.ifname}${o.netns ? ` in namespace ${o.netns}` : ""}${o.peerIp ? ` (kernel side ${o.peerIp.addr})` : ""}: core ${o.ip.addr}` +
        `${o.ip6 ? ` ${o.ip6.addr}` : ""} mac ${macText(o.mac)}, ` +
        (o.module
          ? `app module ${o.module.mod.path} port ${o.module.mod.port}`
          : `app ${o.app} port ${o.port || DEFAULT_PORTS[o.app]}`) +
        `, ${o.queues} queue(s), ` +
        `${workers ? `${workers} worker thread(s)` : "main thread"}: ready`,
    );
  return core
    ? serveMain(o, tap, core, td, notes, ready)
    : serveWorkers(o, tap, memories, config, td, notes, ready);
}

/** What one serving thread leaves for the report: its loop's stats, its core's memory, its queues. */
interface Part {
  queues: number[];
  stats: Float64Array;
  views: CoreViews;
  error: string | null;
  /** poll()'s stage sums with --stages (the main thread's core, or a worker's final report) */
  stageSums?: StageSums | null;
  /** With --app-module: this thread's module (each serving thread runs an instance of its own). */
  module?: ModuleReport | null;
}

/** The state a run ends with, turned into the report by finish(). */
interface Ending {
  stopReason: TapReport["stop_reason"] | null;
  error: string | null;
  /** --check-queues: distinct flows that arrived on more than one worker's queues. */
  crossWorker: number;
}

function makeRun(
  o: TapOptions,
  parts: Part[],
  workers: number,
  td: Teardown,
  notes: string[],
  beforeReport?: () => void,
): {
  end: Ending;
  done: Promise<TapReport>;
  finish: () => void;
} {
  const t0 = performance.now();
  const end: Ending = { stopReason: null, error: null, crossWorker: 0 };
  let resolveDone!: (r: TapReport) => void;
  const done = new Promise<TapReport>((r) => (resolveDone = r));
  const sumQ = (f: number) =>
    parts.reduce((a, p) => a + p.queues.reduce((b, q) => b + p.stats[qword(q, f)], 0), 0);
  let lastStats = { t: t0, rx: 0, tx: 0 };
  const statsTimer =
    o.statsMs > 0
      ? setInterval(() => {
          const now = performance.now();
          const rx = sumQ(QS.rx);
          const tx = sumQ(QS.tx);
          const dt = (now - lastStats.t) / 1000;
          const c = sumCounters(parts.map((p) => readCounters(p.views)));
          process.stderr.write(
            `\r${o.ifname}: rx ${rx} (${Math.round((rx - lastStats.rx) / dt)}/s) tx ${tx} (${Math.round((tx - lastStats.tx) / dt)}/s)` +
              ` tcp opens ${c.tcp_passive_opens} rst ${c.tcp_rst_sent} retx ${c.tcp_retransmits} drops ${c.rx_drop_nombuf + c.not_for_us}   `,
          );
          lastStats = { t: now, rx, tx };
        }, o.statsMs)
      : null;
  const finish = () => {
    if (statsTimer) {
      clearInterval(statsTimer);
      process.stderr.write("\n");
    }
    const wallMs = performance.now() - t0;
    beforeReport?.();
    td.run();
    resolveDone(tapReport(o, parts, workers, wallMs, end, notes, td.errors));
  };
  return { end, done, finish };
}

/** --workers 0: the main thread runs one core over every queue, in slices between turns of the event loop. */
function serveMain(
  o: TapOptions,
  tap: TapDevice,
  core: Core,
  td: Teardown,
  notes: string[],
  ready: () => void,
): TapRun {
  const queues = Array.from({ length: o.queues }, (_, q) => q);
  const stats = newLoopStats(o.queues);
  const loop = new TapLoop(
    core,
    new Nic(core, true), // the loop polls its core: local rings
    tap,
    {
      queues,
      poll: o.poll,
      stages: o.stages,
      spinUs: o.spinUs,
      checkQueues: o.checkQueues,
      maxFrame: o.mtu + ETH_HDR,
    },
    stats,
  );
  const part: Part = { queues, stats, views: core, error: null };
  const mh = o.module ? new ModuleHost(core, o.module.mod, o.module) : null;
  if (mh) {
    try {
      mh.start();
    } catch (e) {
      td.run();
      throw e;
    }
    loop.afterPoll = () => mh.service();
  }
  const { end, done, finish } = makeRun(o, [part], 0, td, notes, () => {
    if (o.stages) part.stageSums = readStageSums(core);
    part.module = mh?.close();
  });
  // Announce ourselves so the kernel's ARP entry (if any) is fresh.
  (core.exports.arpAnnounce as () => void)();
  loop.serveQueue(0);
  const deadline = o.durationS > 0 ? performance.now() + o.durationS * 1000 : Infinity;
  const stopped = () => end.stopReason !== null;
  const slice = () => {
    try {
      loop.run(Math.min(performance.now() + SLICE_MS, deadline), stopped);
      if (!end.stopReason && performance.now() >= deadline) end.stopReason = "duration";
    } catch (e) {
      end.error = (e as Error).message;
      end.stopReason = "error";
    }
    if (end.stopReason) finish();
    else setImmediate(slice);
  };
  ready();
  setImmediate(slice);
  return {
    done,
    stop(reason = "signal") {
      if (!end.stopReason) end.stopReason = reason;
    },
  };
}

/**
 * One worker thread per group of queues (queue q → worker q mod workers), each
 * with its own core in its own presized memory. Every core has the same
 * address config (--ip, --ip6, --mac): the kernel, not our RETA, spreads flows
 * over queues, so any worker may get any flow's first frame and must be able
 * to answer it. Each keeps its own TCBs, neighbour cache and timers; nothing
 * is shared. ARP requests and neighbour solicitations reach one queue each
 * (the kernel transmits a frame once) and whichever worker reads one answers
 * it: one answer per question. A server needs no neighbour resolution of its
 * own (TCP takes the peer's MAC from the SYN, ICMP and UDP answer the frame's
 * source MAC), so an ARP reply landing on another worker's queue costs
 * nothing; a core that opened connections itself would need ARP replies
 * replicated to every worker (the dataplane does that) — not needed here.
 * Only worker 0 sends the gratuitous ARP.
 */
function serveWorkers(
  o: TapOptions,
  tap: TapDevice,
  memories: WebAssembly.Memory[],
  config: Partial<CoreConfig>,
  td: Teardown,
  notes: string[],
  ready: () => void,
): TapRun {
  const W = memories.length;
  const ctl = new Int32Array(new SharedArrayBuffer(4));
  const parts: Part[] = memories.map((memory, w) => ({
    queues: Array.from({ length: o.queues }, (_, q) => q).filter((q) => q % W === w),
    stats: newLoopStats(o.queues),
    views: coreViews(memory), // re-read once the worker has run init()
    error: null,
  }));
  const { end, done, finish } = makeRun(o, parts, W, td, notes);
  const flowSets: number[][] = [];
  let readyCount = 0;
  let left = 0;
  const stop = (reason: TapReport["stop_reason"], error?: string) => {
    if (!end.stopReason) end.stopReason = reason;
    if (error && !end.error) end.error = error;
    Atomics.store(ctl, TW_STOP, 1);
  };
  const timer = o.durationS > 0 ? setTimeout(() => stop("duration"), o.durationS * 1000) : null;
  const onLeft = () => {
    if (++left < W) return;
    if (timer) clearTimeout(timer);
    if (o.checkQueues) end.crossWorker = crossCount(flowSets);
    finish();
  };
  parts.forEach((p, w) => {
    const data: TapWorkerData = {
      index: w,
      ifname: o.ifname,
      queues: p.queues,
      fds: p.queues.map((q) => tap.fds[q]),
      memory: memories[w],
      config,
      debug: !!o.debug,
      poll: o.poll,
      spinUs: o.spinUs,
      checkQueues: o.checkQueues,
      maxFrame: o.mtu + ETH_HDR,
      ctl,
      stats: p.stats,
      announce: w === 0,
      stages: !!o.stages,
      module: o.module,
    };
    const worker = spawnWorker(workerUrl(import.meta.url, "worker"), data);
    let reported = false;
    worker.on("message", (m: TapWorkerMessage) => {
      if (m.type === "ready") {
        p.views = coreViews(memories[w]);
        if (++readyCount === W && !end.stopReason) ready();
        return;
      }
      reported = true;
      p.error = m.error;
      p.stageSums = m.stages;
      p.module = m.module;
      flowSets[w] = m.flows;
      if (m.error) stop("error", m.error);
      onLeft();
    });
    worker.on("error", (e) => {
      if (reported) return;
      reported = true;
      p.error = `worker ${w}: ${e.message}`;
      stop("error", p.error);
      onLeft();
    });
    // A report posted just before the thread ended may still be on its way: give it a moment.
    worker.on("exit", () =>
      setTimeout(() => {
        if (reported) return;
        reported = true;
        p.error = `worker ${w} exited without a report`;
        stop("error", p.error);
        onLeft();
      }, 200),
    );
  });
  return { done, stop: (reason = "signal") => stop(reason) };
}

/** Flow keys present in more than one of the sets. */
function crossCount(sets: number[][]): number {
  const seen = new Map<number, number>();
  for (const s of sets) for (const k of s ?? []) seen.set(k, (seen.get(k) ?? 0) + 1);
  let n = 0;
  for (const c of seen.values()) if (c > 1) n++;
  return n;
}

function sumCounters(all: Counters[]): Counters {
  const out = { ...all[0] };
  for (const c of all.slice(1)) for (const k of Object.keys(out) as (keyof Counters)[]) out[k] += c[k];
  return out;
}

/** Core counters that count frames or segments lost for want of a resource. */
const DROP_COUNTERS = [
  "rx_drop_nombuf",
  "mbuf_exhausted",
  "ring_full",
  "flow_table_full",
  "tcp_tcb_full",
  "tcp_tx_nombuf",
  "tcp_rcv_nombuf",
  "tcp_ooo_drops",
] as const satisfies readonly (keyof Counters)[];

function tapReport(
  o: TapOptions,
  parts: Part[],
  workers: number,
  wallMs: number,
  end: Ending,
  notes: string[],
  cleanupErrors: string[],
): TapReport {
  const s = wallMs / 1000;
  const counters = parts.map((p) => readCounters(p.views));
  const hists = parts.map((p) => readBatchHistogram(p.views));
  const c = sumCounters(counters);
  const sum = (f: number) => parts.reduce((a, p) => a + p.stats[f], 0);
  const perQueue: QueueReport[] = [];
  parts.forEach((p, w) =>
    p.queues.forEach((q) =>
      perQueue.push({
        queue: q,
        rx_frames: p.stats[qword(q, QS.rx)],
        tx_frames: p.stats[qword(q, QS.tx)],
        read_errors: p.stats[qword(q, QS.readErr)],
        write_errors: p.stats[qword(q, QS.writeErr)],
        misrouted: o.checkQueues ? p.stats[qword(q, QS.misrouted)] : null,
        worker: w,
        flows: o.checkQueues ? p.stats[qword(q, QS.flows)] : null,
      }),
    ),
  );
  perQueue.sort((a, b) => a.queue - b.queue);
  const rx = perQueue.reduce((a, q) => a + q.rx_frames, 0);
  const tx = perQueue.reduce((a, q) => a + q.tx_frames, 0);
  const ioMs = (p: Part) => Math.max(0, p.stats[ST.wallMs] - p.stats[ST.waitMs] - p.stats[ST.coreMs]);
  const perWorker: WorkerReport[] = parts.map((p, w) => {
    const hist = hists[w];
    return {
      worker: w,
      queues: p.queues,
      rx_frames: p.queues.reduce((a, q) => a + p.stats[qword(q, QS.rx)], 0),
      tx_frames: p.queues.reduce((a, q) => a + p.stats[qword(q, QS.tx)], 0),
      core_polls: p.stats[ST.polls],
      batches: hist.reduce((a, n, i) => (i > 0 ? a + n : a), 0),
      drops: {
        rx_ring_full: p.stats[ST.ringFull],
        rx_over_mtu: p.stats[ST.overMtu],
        ...Object.fromEntries(DROP_COUNTERS.map((k) => [k, counters[w][k]])),
      },
      core_ms: p.stats[ST.coreMs],
      io_ms: ioMs(p),
      wait_ms: p.stats[ST.waitMs],
      batch_histogram: hist,
      error: p.error,
      ...(o.module ? { module: p.module ?? null } : {}),
    };
  });
  const module = o.module ? mergeModuleReports(parts.map((p) => p.module)) : undefined;
  return {
    schema: TAP_SCHEMA,
    ifname: o.ifname,
    netns: o.netns ?? null,
    ip: `${o.ip.addr}/${o.ip.len}`,
    ip6: o.ip6 ? `${o.ip6.addr}/${o.ip6.len}` : null,
    mac: macText(o.mac),
    app: o.app,
    port: o.port || DEFAULT_PORTS[o.app],
    queues: o.queues,
    workers,
    mtu: o.mtu,
    duration_s: s,
    stop_reason: end.stopReason ?? "error",
    ...(module ? { module } : {}),
    rx_frames: rx,
    tx_frames: tx,
    rx_bytes: c.rx_bytes,
    tx_bytes: c.tx_bytes,
    rx_pps: rx / s,
    tx_pps: tx / s,
    per_queue: perQueue,
    per_worker: perWorker,
    queue_check: o.checkQueues
      ? {
          flows_moved: sum(ST.moved),
          flows_on_several_workers: end.crossWorker,
        }
      : null,
    host: {
      rounds: sum(ST.rounds),
      core_polls: sum(ST.polls),
      skipped_polls: sum(ST.skippedPolls),
      read_calls: sum(ST.reads),
      empty_reads: sum(ST.empty),
      write_calls: sum(ST.writes),
      poll_waits: sum(ST.waits),
      wait_ms: sum(ST.waitMs),
      core_ms: sum(ST.coreMs),
      io_ms: parts.reduce((a, p) => a + ioMs(p), 0),
      rx_ring_full: sum(ST.ringFull),
      rx_over_mtu: sum(ST.overMtu),
      spin_us: o.spinUs,
    },
    poll: pollReport(
      o.poll,
      o.spinUs,
      sum(ST.waits),
      sum(ST.wokenNaps),
      Array.from({ length: WAKE_BUCKETS }, (_, b) => sum(ST.wakeHist + b)),
      Math.max(...parts.map((p) => p.stats[ST.wakeMaxMs])),
    ),
    batch_histogram: hists[0].map((_, i) => hists.reduce((a, h) => a + h[i], 0)),
    counters: pick(c),
    stages: o.stages ? tapStages(parts, workers) : null,
    ...(o.stages ? { accounting: tapAccounting(parts, workers) } : {}),
    error: end.error,
    notes,
    cleanup_errors: cleanupErrors,
  };
}

export function formatTap(r: TapReport): string {
  const rows: [string, string | number][] = [
    [
      "interface",
      `${r.ifname}${r.netns ? ` (namespace ${r.netns})` : ""}, ${r.queues} queue(s), ${r.workers ? `${r.workers} worker thread(s)` : "main thread"}, MTU ${r.mtu}`,
    ],
    [
      "core",
      `${r.ip}${r.ip6 ? ` ${r.ip6}` : ""} ${r.mac}, app ${r.module ? "module" : r.app} port ${r.module?.port ?? r.port}`,
    ],
    ["duration", `${r.duration_s.toFixed(3)} s (${r.stop_reason})`],
    ["poll", formatPoll(r.poll)],
    ["frames in / out", `${r.rx_frames} / ${r.tx_frames}`],
    ["bytes in / out", `${r.rx_bytes} / ${r.tx_bytes}`],
    ["frames/s in / out", `${Math.round(r.rx_pps)} / ${Math.round(r.tx_pps)}`],
    [
      "time core / io / waiting",
      `${r.host.core_ms.toFixed(1)} / ${r.host.io_ms.toFixed(1)} / ${r.host.wait_ms.toFixed(1)} ms`,
    ],
    [
      "tcp opens / resets sent / retransmits",
      `${r.counters.tcp_passive_opens ?? 0} / ${r.counters.tcp_rst_sent ?? 0} / ${r.counters.tcp_retransmits ?? 0}`,
    ],
  ];
  for (const q of r.per_queue)
    rows.push([
      `queue ${q.queue} rx / tx`,
      `${q.rx_frames} / ${q.tx_frames}${r.workers ? `  (worker ${q.worker})` : ""}${q.read_errors + q.write_errors ? `  (errors: read ${q.read_errors}, write ${q.write_errors})` : ""}${q.misrouted !== null ? `  misrouted ${q.misrouted}, flows ${q.flows}` : ""}`,
    ]);
  if (r.queue_check)
    rows.push([
      "flows moved / on several workers",
      `${r.queue_check.flows_moved} / ${r.queue_check.flows_on_several_workers}`,
    ]);
  for (const w of r.per_worker)
    if (r.workers > 1 || w.error) {
      const drops = Object.values(w.drops).reduce((a, b) => a + b, 0);
      rows.push([
        `worker ${w.worker} polls / batches / drops`,
        `${w.core_polls} / ${w.batches} / ${drops}${w.error ? `  (${w.error})` : ""}`,
      ]);
    }
  if (r.module) rows.push(...moduleRows(r.module));
  if (r.error) rows.push(["error", r.error]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const table = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n";
  const acc = Object.entries(r.accounting ?? {})
    .map(([core, a]) => formatAccounting(core, a))
    .join("");
  return r.stages && Object.keys(r.stages).length ? table + "\n" + formatPollStages(r.stages) + acc : table;
}
