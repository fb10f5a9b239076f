// `ixwasm pair`: a load-generating client core and a server core back to back
// through their rings (IX's echo benchmark, and a memcached set/get load), in
// one thread or in two worker threads. The client app verifies every byte it
// gets back; the report says how many round trips, how fast, how much was
// retransmitted, and the latency distribution.
import {
  CFG_F_NO_CSUM_CHECK,
  CFG_F_TX_CSUM_OFFLOAD,
  coreViews,
  createCore,
  createMemory,
  DEFAULT_CONFIG,
  TCPF_SACK,
  type Core,
  type CoreConfig,
  type CoreViews,
} from "../core/core.ts";
import { Link } from "../runtime/link.ts";
import { clientResults, type ClientResults } from "../runtime/client-results.ts";
import { CTL_DONE, CTL_READY, CTL_STOP, newControl, sharedNowMs } from "../runtime/control.ts";
import type { CoreWorkerData, CoreWorkerResult } from "../runtime/core-worker.ts";
import type { Worker } from "node:worker_threads";
import { spawnWorker, workerUrl } from "../runtime/spawn.ts";
import type { FaultConfig } from "../io/faults.ts";
import { UsageError } from "../io/errors.ts";
import { APP_ID, serverAppBytes, stackConfig } from "../core/stack-config.ts";
import { readBatchHistogram, readCounters, type Counters } from "../report/counters.ts";
import type { PairReport } from "../report/pair.ts";
import { pollStageCost, readStageSums, stageTiming, type StageSums } from "../report/stages.ts";
import { PairStep, pairAccounting, workerAccounting } from "./step.ts";
import { threadCpuNs } from "../measure/lib/threadcpu.ts";
import { moduleAppBytes } from "../apps/module.ts";
import { ModuleHost, type ServedModule } from "../apps/module-host.ts";

export interface PairOptions {
  app: "echo" | "memcached";
  conns: number;
  msgs: number;
  size: number;
  workers: 1 | 2;
  faults: FaultConfig;
  timeoutS: number;
  /** SYN and SYN-ACK retransmissions before a handshake gives up (0 or absent: 6 and 5, as Linux). */
  synRetries?: number;
  synackRetries?: number;
  /** Negotiate SACK (default): loss recovery by the SACK scoreboard (RFC 6675); false: NewReno (RFC 6582). */
  sack?: boolean;
  /**
   * IPv4 and TCP checksums on the wire between the cores: "on" fills and checks
   * them; "off" leaves them zero and unchecked (a NIC's checksum offload, as
   * Linux's loopback device does: the kernel pairs the bench compares with skip
   * them too); "auto" (default) is off unless the wire can change a byte
   * (--corrupt, or a test's linkFilter). The client checks every payload byte either way.
   */
  checksums?: "auto" | "on" | "off";
  debug?: boolean;
  /** Time poll()'s sections in both cores (stage cost per round trip in the report). */
  stages?: boolean;
  /** Server side on the multi-worker Dataplane with this many workers (host/pair/workers.ts); `workers` is then unused. */
  serverWorkers?: number;
  /** The control plane's rebalancer moves flow groups between server workers. */
  rebalance?: boolean;
  /** Once the client has made this many round trips, every flow group moves to the next worker. */
  migrateAt?: number;
  /**
   * One thread only: "virtual" moves both cores' clock by a fixed step per
   * iteration while frames move and jumps to the next timer when none do, so a
   * lossy run costs no waiting on retransmission timers and is deterministic
   * (same options and seed, same run). `timeoutS` then bounds the virtual time
   * (and, as a guard, the wall time too). Default "real".
   */
  clock?: "real" | "virtual";
  /** Two threads: the cores' clocks run this many times faster than the wall clock (default 1). */
  timeScale?: number;
  /** Test hook (one thread): the report's loop_cpu_ms, the loop's thread CPU time, timers on or off. */
  loopCpu?: boolean;
  /** Two threads: a worker naps once its peer did no work for this many µs of its empty polls (0: spin 2,000 polls regardless; core-worker.ts). */
  peerStillUs?: number;
  /** Two threads: ... but not within this many µs after the worker moved frames to its peer (its answer is due; core-worker.ts). */
  peerOwedUs?: number;
  /** Test hook: the server app listens on this port instead (the client still connects to the app's port). */
  serverPort?: number;
  /** Test hook: sees (and may rewrite in place, or drop by returning false) every frame crossing the one-thread link. */
  linkFilter?: (dir: "ab" | "ba", frame: Uint8Array) => boolean;
  onTrap?: "abort" | "restart";
  /** The server is an app module (docs/design/app-modules.md), run with the server core (one thread or two). */
  module?: ServedModule;
  /** Test-only: make this server worker trap, at trapAt round trips or trapAfterMs into the run. */
  trapWorker?: number;
  trapAt?: number;
  trapAfterMs?: number;
}

const CLIENT_IDS = { echo: APP_ID.echoClient, memcached: APP_ID.memcachedClient } as const;
const PORTS = { echo: 7, memcached: 11211 } as const;
const CLIENT_MAC = Buffer.from("020000000001", "hex");
const SERVER_MAC = Buffer.from("020000000002", "hex");
const CLIENT_IP = Buffer.from([198, 18, 0, 1]);
const SERVER_IP = Buffer.from([198, 18, 0, 2]);

/** Sizes both cores for the workload (the formulas: stackConfig in host/core/stack-config.ts, and below). */
export function pairConfigs(o: PairOptions): { client: Partial<CoreConfig>; server: Partial<CoreConfig> } {
  const csum = o.checksums ?? "auto";
  const offload = csum === "off" || (csum === "auto" && !o.faults.corrupt && !o.linkFilter);
  const common = {
    ...stackConfig(o.conns, 2048),
    ...(offload ? { flags: DEFAULT_CONFIG.flags | CFG_F_NO_CSUM_CHECK | CFG_F_TX_CSUM_OFFLOAD } : {}),
    synRetries: o.synRetries ?? 0,
    synackRetries: o.synackRetries ?? 0,
    ...(o.sack === false ? { tcpFlags: (DEFAULT_CONFIG.tcpFlags & ~TCPF_SACK) >>> 0 } : {}),
  };
  const reqBytes = o.size + 320; // value plus the memcached command line and key
  return {
    client: {
      ...common,
      app: CLIENT_IDS[o.app],
      appBytes: (1 << 20) + o.conns * (256 + 2 * reqBytes),
      macLo: CLIENT_MAC.readUInt32LE(0),
      macHi: CLIENT_MAC.readUInt16LE(4),
      ipv4: CLIENT_IP.readUInt32LE(0),
      appPeerIp4: SERVER_IP.readUInt32LE(0),
      appPeerPort: o.module ? o.module.mod.port : PORTS[o.app],
      appConns: o.conns,
      appMsgs: o.msgs,
      appMsgBytes: o.size,
    },
    server: {
      ...common,
      app: APP_ID[o.app],
      appBytes: serverAppBytes(o.app, o.conns),
      macLo: SERVER_MAC.readUInt32LE(0),
      macHi: SERVER_MAC.readUInt16LE(4),
      ipv4: SERVER_IP.readUInt32LE(0),
      appPort: o.serverPort ?? PORTS[o.app],
      ...(o.module
        ? {
            app: APP_ID.external,
            appBytes: moduleAppBytes(o.conns),
            appConns: o.conns,
            appPort: o.module.mod.port,
            appExtFlags: o.module.mod.flags,
          }
        : {}),
    },
  };
}

function pick(c: Counters): Partial<Counters> {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== 0)) as Partial<Counters>;
}

function finish(
  o: PairOptions,
  client: ClientResults,
  cv: CoreViews,
  sv: CoreViews,
  seconds: number,
  faults: PairReport["faults"],
  sums: [StageSums, StageSums] | null = null,
  polls: PollTimes | null = null,
): PairReport {
  const side = (v: CoreViews) => ({ counters: readCounters(v), hist: readBatchHistogram(v) });
  return finishReport(o, client, side(cv), side(sv), seconds, faults, sums, polls);
}

/** --stages: each core's poll() time on the host clock over the run (ms) and its polls. */
export interface PollTimes {
  pollMs: [number, number];
  polls: [number, number];
  /** the polls that took no frame, apart */
  empty: [{ ms: number; polls: number }, { ms: number; polls: number }];
}

/** The report from each side's counters and batch histogram (the server side may be a sum over workers). */
export function finishReport(
  o: PairOptions,
  client: ClientResults,
  cside: { counters: Counters; hist: number[] },
  sside: { counters: Counters; hist: number[] },
  seconds: number,
  faults: PairReport["faults"],
  sums: [StageSums, StageSums] | null = null,
  polls: PollTimes | null = null,
): PairReport {
  const cc = cside.counters;
  const sc = sside.counters;
  const expected = o.conns * o.msgs * (o.app === "memcached" ? 2 : 1);
  return {
    schema: "ixwasm-pair/1",
    app: o.app,
    workers: o.workers,
    conns: o.conns,
    msgs: o.msgs,
    size: o.size,
    ...client,
    duration_s: seconds,
    round_trips_per_s: seconds > 0 ? client.round_trips / seconds : 0,
    expected_round_trips: expected,
    retransmits: cc.tcp_retransmits + sc.tcp_retransmits,
    timeouts: cc.tcp_rto_timeouts + sc.tcp_rto_timeouts,
    faults,
    batch_histogram: { client: cside.hist, server: sside.hist },
    counters: { client: pick(cc), server: pick(sc) },
    completed: client.done && client.round_trips === expected,
    ran_out_of_time: !client.done,
    clock: o.clock === "virtual" ? "virtual" : (o.timeScale ?? 1) !== 1 ? `x${o.timeScale}` : "real",
    stages:
      sums && polls
        ? {
            client: pollStageCost(
              sums[0],
              "round trip",
              client.round_trips,
              polls.pollMs[0],
              polls.polls[0],
              polls.empty[0],
            ),
            server: pollStageCost(
              sums[1],
              "round trip",
              client.round_trips,
              polls.pollMs[1],
              polls.polls[1],
              polls.empty[1],
            ),
          }
        : null,
  };
}

export function check(o: PairOptions): void {
  if (o.conns < 1 || o.msgs < 1) throw new UsageError("--conns and --msgs must be at least 1");
  if (o.size < 1 || o.size > 1 << 20)
    throw new UsageError(`--size ${o.size} is out of range`, "use 1 to 1048576 bytes");
  if (o.conns > 60000)
    throw new UsageError(`--conns ${o.conns} is more than the client's ports allow`, "use at most 60000");
  // --server-workers: the control plane moves flow groups between the workers' cores, and a
  // module's connections (its own state, in its own memory) cannot move with them yet.
  if (o.module && (o.serverWorkers || o.clock === "virtual"))
    throw new UsageError(
      "--app-module runs with --workers 1 or 2 and the real clock",
      "drop --server-workers (a module's connections cannot move between workers) and --clock virtual (the module answers in real time)",
    );
}

/** Both cores in this thread, moved by a Link after every pair of polls. */
export function pairOneThread(o: PairOptions): PairReport {
  const tStart = performance.now();
  check(o);
  const cfg = pairConfigs(o);
  const client = createCore(cfg.client, { debug: o.debug });
  const server = createCore(cfg.server, { debug: o.debug });
  const mh = o.module ? new ModuleHost(server, o.module.mod, o.module) : null;
  mh?.start();
  const link = new Link(client, server, o.faults);
  if (o.linkFilter) link.filter = o.linkFilter;
  if (o.stages) for (const c of [client, server]) stageTiming(c, false);
  const step = new PairStep(client, server, mh, link, !!o.stages, o.clock === "virtual");
  const done = client.exports.clientDone as () => number;
  const cpu0 = o.stages || o.loopCpu ? threadCpuNs() : 0;
  const t0 = performance.now();
  const deadline = t0 + o.timeoutS * 1000;
  let now = 0;
  let iterations = 0;
  if (o.clock === "virtual") [now, iterations] = runVirtual(o, client, server, step);
  else
    for (let i = 0; ; i++) {
      now = (performance.now() - t0) * 1e6;
      step.run(i, now);
      if ((i & 63) === 0 && (done() || performance.now() > deadline)) {
        iterations = i + 1;
        break;
      }
    }
  const tEnd = performance.now();
  const cpuMs = o.stages || o.loopCpu ? (threadCpuNs() - cpu0) / 1e6 : 0;
  const seconds = o.clock === "virtual" ? now / 1e9 : (tEnd - t0) / 1000;
  const parts = o.stages ? step.parts(iterations) : null;
  const sums: [StageSums, StageSums] | null = o.stages
    ? [readStageSums(client), readStageSums(server)]
    : null;
  const report = finish(
    o,
    clientResults(client),
    client,
    server,
    seconds,
    { client_to_server: link.faultsAB.counts, server_to_client: link.faultsBA.counts },
    sums,
    parts
      ? {
          pollMs: [
            parts.ms["client poll"] + parts.ms["client empty"],
            parts.ms["server poll"] + parts.ms["server empty"],
          ],
          polls: [iterations, iterations],
          empty: [
            { ms: parts.ms["client empty"], polls: parts.empty[0] },
            { ms: parts.ms["server empty"], polls: parts.empty[1] },
          ],
        }
      : null,
  );
  if (mh) report.module = mh.close();
  if (o.loopCpu) report.loop_cpu_ms = cpuMs;
  if (parts)
    report.accounting = {
      main: pairAccounting(
        report.round_trips,
        parts,
        t0 - tStart,
        tEnd - t0,
        performance.now() - tStart,
        o.clock === "virtual",
        cpuMs,
      ),
    };
  return report;
}

// Virtual clock steps: 20 µs per iteration while frames cross (a fast link's
// RTT of a few iterations); after IDLE_POLLS iterations with nothing crossing,
// straight to the earlier core's next timer. Not runtime/poll-loop.ts's Backoff:
// nothing sleeps here, and the empty iterations are counted across working ones
// (the count is not reset when frames cross), which sets when the clock jumps and
// so every virtual-time figure pair reports; kept as it is.
const VSTEP_NS = 20_000;
const IDLE_POLLS = 3;

/**
 * Runs the pair on a virtual clock until the client is done or timeoutS of
 * virtual (or wall) time pass; returns the clock (ns) and the iterations made.
 */
function runVirtual(o: PairOptions, client: Core, server: Core, step: PairStep): [number, number] {
  const done = client.exports.clientDone as () => number;
  const nextUs = [client, server].map((c) => c.exports.tcpTimerNext as () => bigint);
  const endNs = o.timeoutS * 1e9;
  const wallEnd = performance.now() + o.timeoutS * 1000;
  let now = 0;
  let idle = 0;
  for (let i = 0; ; i++) {
    const moved = step.run(i, now);
    if (done() || now >= endNs || ((i & 1023) === 0 && performance.now() > wallEnd)) return [now, i + 1];
    if (moved > 0 || ++idle < IDLE_POLLS) {
      now += VSTEP_NS;
      continue;
    }
    idle = 0;
    // timerNext is a u64 (µs; all ones when no timer is armed) that arrives as a signed BigInt.
    const next = Math.min(...nextUs.map((f) => Number(BigInt.asUintN(64, f())))) * 1000;
    now = Math.min(endNs, Math.max(now + VSTEP_NS, next));
  }
}

/** Two threads: µs of empty polls with the peer's work count standing still before a worker naps (performance-log.md §10). */
export const PEER_STILL_US = 5;
/** ... but not within this many µs after the worker moved frames to its peer (performance-log.md §10). */
export const PEER_OWED_US = 100;

/** Two core worker threads kept for many runs one after the other (each run costs no thread start). */
export class PairPool {
  readonly workers: Worker[];
  constructor() {
    const entry = workerUrl(import.meta.url, "../runtime/core-worker");
    this.workers = [0, 1].map(() => spawnWorker(entry, null));
  }
  close(): Promise<number[]> {
    return Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The worker's next result (listeners removed once it came). */
function nextResult(w: Worker): Promise<CoreWorkerResult> {
  return new Promise<CoreWorkerResult>((resolve, reject) => {
    const off = () => {
      w.off("message", onMsg);
      w.off("error", onErr);
      w.off("exit", onExit);
    };
    const onMsg = (r: CoreWorkerResult) => (off(), resolve(r));
    const onErr = (e: Error) => (off(), reject(e));
    const onExit = (code: number) => (off(), reject(new Error(`core worker exited with ${code}`)));
    w.on("message", onMsg);
    w.on("error", onErr);
    w.on("exit", onExit);
  });
}

/**
 * Each core in its own worker thread; each worker moves its core's
 * transmissions into the other's RX ring. With a pool, its two threads run the
 * cores (and stay for the next run); otherwise two are started and ended.
 */
export async function pairTwoThreads(o: PairOptions, pool?: PairPool): Promise<PairReport> {
  check(o);
  const cfg = pairConfigs(o);
  const mems = [createMemory(cfg.client, o.debug), createMemory(cfg.server, o.debug)];
  const ctl = newControl();
  const baseMs = sharedNowMs();
  const entry = workerUrl(import.meta.url, "../runtime/core-worker");
  const data = [0, 1].map((i) => {
    const data: CoreWorkerData = {
      index: i,
      memory: mems[i],
      config: i === 0 ? cfg.client : cfg.server,
      debug: !!o.debug,
      peerMemory: mems[1 - i],
      faults: { ...o.faults, seed: (o.faults.seed ?? 1) * 2 + 1 + i },
      ctl,
      baseMs,
      spinRounds: 2000,
      peerStillUs: o.peerStillUs ?? PEER_STILL_US,
      peerOwedUs: o.peerOwedUs ?? PEER_OWED_US,
      client: i === 0,
      stages: !!o.stages,
      timeScale: o.timeScale,
      module: i === 1 ? o.module : undefined,
    };
    return data;
  });
  const workers = pool ? pool.workers : data.map((d) => spawnWorker(entry, d));
  const results = workers.map((w) => nextResult(w));
  if (pool) workers.forEach((w, i) => w.postMessage(data[i]));
  const t0 = performance.now();
  const deadline = t0 + o.timeoutS * 1000 + 10000;
  // Wait for both to be ready, then for the client to finish (or the timeout).
  while (
    (Atomics.load(ctl, CTL_READY) === 0 || Atomics.load(ctl, CTL_READY + 1) === 0) &&
    performance.now() < deadline
  )
    await new Promise((r) => setTimeout(r, 2));
  const start = performance.now();
  const runDeadline = start + o.timeoutS * 1000;
  while (Atomics.load(ctl, CTL_DONE) === 0 && performance.now() < runDeadline)
    await new Promise((r) => setTimeout(r, 1));
  const seconds = (performance.now() - start) / 1000;
  Atomics.store(ctl, CTL_STOP, 1);
  const [cr, sr] = await Promise.all(results);
  if (!pool) await Promise.all(workers.map((w) => w.terminate()));
  const views = mems.map((m) => coreViews(m));
  const sums: [StageSums, StageSums] | null = cr.stages && sr.stages ? [cr.stages, sr.stages] : null;
  const cl = cr.loop;
  const sl = sr.loop;
  const report = finish(
    o,
    cr.client!,
    views[0],
    views[1],
    seconds,
    { client_to_server: cr.faults, server_to_client: sr.faults },
    sums,
    cl && sl
      ? {
          pollMs: [cl.poll + cl.emptyPoll, sl.poll + sl.emptyPoll],
          polls: [cl.rounds, sl.rounds],
          empty: [
            { ms: cl.emptyPoll, polls: cl.emptyPolls },
            { ms: sl.emptyPoll, polls: sl.emptyPolls },
          ],
        }
      : null,
  );
  if (sr.module) report.module = sr.module;
  if (cl && sl)
    report.accounting = {
      client: workerAccounting(report.round_trips, cl),
      server: workerAccounting(report.round_trips, sl),
    };
  return report;
}
