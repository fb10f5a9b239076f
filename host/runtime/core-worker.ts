// A worker thread that owns one core: it instantiates the core on the memory the
// main thread created (init runs here: the instance's globals live here), then
// runs the loop: poll, move what the core transmitted into the peer core's RX
// ring (through the fault injector), sleep briefly when idle. It leaves when
// the main thread sets CTL_STOP, and reports the app's results. Started with
// workerData null it waits for runs posted to it instead, one after the other
// (a pool for many short runs: the fault sweep).
import { parentPort, workerData } from "node:worker_threads";
import { coreViews, createCore, type CoreConfig } from "../core/core.ts";
import { FaultInjector, type FaultConfig } from "../io/faults.ts";
import { Nic } from "./nic.ts";
import { Backoff, pollLoop } from "./poll-loop.ts";
import { CTL_DONE, CTL_READY, CTL_STOP, CTL_WORK } from "./control.ts";
import { clientResults, type ClientResults } from "./client-results.ts";
import { clockReadMs, pollTimersFor, readStageSums, stageTiming, type StageSums } from "../report/stages.ts";
import { CORE, HOST, LoopClock } from "../report/loop-clock.ts";
import { threadCpuNs } from "../measure/lib/threadcpu.ts";
import { ModuleHost, type ModuleReport, type ServedModule } from "../apps/module-host.ts";

export interface CoreWorkerData {
  /** 0 or 1: the two workers of a pair are each other's peer (index ^ 1). */
  index: number;
  memory: WebAssembly.Memory;
  config: Partial<CoreConfig>;
  debug: boolean;
  peerMemory: WebAssembly.Memory;
  faults: FaultConfig;
  ctl: Int32Array;
  baseMs: number;
  /** The core's clock runs this many times faster than the wall clock (1 = real time). */
  timeScale?: number;
  /** Polls without work before the worker naps (µs-scale spin, then 0.2 ms naps). */
  spinRounds: number;
  /**
   * Also nap once the peer worker's count of working rounds has not moved for
   * this many µs of empty polls (0 or absent: spin the whole spinRounds): the
   * peer is idle or not on a CPU, so its frames are not coming soon (poll-loop.ts Spin).
   */
  peerStillUs?: number;
  /** ... but not within this many µs after this worker moved frames to the peer (its answer is due; poll-loop.ts Spin). */
  peerOwedUs?: number;
  client: boolean;
  /** Turn poll()'s stage timers on (host/report/stages.ts); the sums come back in the result. */
  stages?: boolean;
  /** The server's app module (pair --app-module): it runs with this worker's core. */
  module?: ServedModule;
}

export interface CoreWorkerResult {
  index: number;
  polls: number;
  naps: number;
  client: ClientResults | null;
  faults: FaultInjector["counts"];
  rxFull: number;
  stages: StageSums | null;
  module: ModuleReport | null;
  /** --stages: where the worker's time went (host/pair/step.ts workerAccounting) */
  loop: WorkerLoopTimes | null;
}

/** The worker's parts: each class of round (its poll took frames or not) at its exact count, the long ones apart. */
function classParts(lc: LoopClock, busy: number, rounds: number) {
  const nBusy = Math.max(0, busy - lc.longOf[1]);
  const nEmpty = Math.max(0, rounds - busy - lc.longOf[0]);
  return {
    poll: lc.perMark(0) * nBusy,
    move: lc.perMark(1) * nBusy + lc.perMark(3) * nEmpty,
    emptyPoll: lc.perMark(2) * nEmpty,
  };
}

/** A pair worker's time, ms: start-up, its loop, and the loop's parts estimated from sampled rounds. */
export interface WorkerLoopTimes {
  setupMs: number;
  loopMs: number;
  rounds: number;
  poll: number;
  move: number;
  /** polls that took no frame: their ms and how many */
  emptyPoll: number;
  emptyPolls: number;
  napMs: number;
  naps: number;
  /** one host clock read; host-timed rounds kept and dropped; polls run with the section timers on */
  readMs: number;
  sampled: number;
  dropped: number;
  /** rounds longer than LONG_ITER_MS (tick to tick, naps apart), timed whole, and their ms */
  long: number;
  longMs: number;
  coreTimed: number;
  /** one core clock read */
  coreReadMs: number;
  /** the loop's thread CPU time */
  cpuMs: number;
}

function run(d: CoreWorkerData): CoreWorkerResult {
  const tStart = performance.now();
  const core = createCore(d.config, { memory: d.memory, fresh: true, debug: d.debug });
  const poll = core.exports.poll as (nowNs: number) => number;
  const self = new Nic(core);
  // --stages: one round in LOOP_SAMPLE timed by the host (poll, move), another with the core's section timers on.
  if (d.stages) stageTiming(core, false);
  // A poll that took frames and one that did not, each with its move, are timed apart and
  // scaled by their exact counts (LoopClock.perMark).
  const lc = d.stages ? new LoopClock(["poll", "move", "emptyPoll", "emptyMove"]) : null;
  let busyRounds = 0;
  const timers = pollTimersFor(core);
  let coreTimed = 0;
  let napMs = 0;
  const mh = d.module ? new ModuleHost(core, d.module.mod, d.module) : null;
  mh?.start();
  // The peer's rings exist once its worker has run init(): wait for its ready flag.
  Atomics.store(d.ctl, CTL_READY + d.index, 1);
  const peerIndex = d.index ^ 1;
  for (let waited = 0; Atomics.load(d.ctl, CTL_READY + peerIndex) === 0; waited++) {
    if (waited > 30000) throw new Error("peer core did not start within 30 s");
    Atomics.wait(d.ctl, CTL_READY + peerIndex, 0, 1);
  }
  const peer = new Nic(coreViews(d.peerMemory));
  const faults = new FaultInjector(d.faults);
  const scale = d.timeScale ?? 1;
  const done = core.exports.clientDone as (() => number) | undefined;
  let rxFull = 0;
  const deliver = (f: Uint8Array) => {
    if (!peer.rxPut(f, 0, f.length)) rxFull++;
  };

  // Nap on our RX ring: the peer's publish wakes us; timers are at ms scale.
  const stillUs = d.peerStillUs ?? 0;
  const peerWork = CTL_WORK + peerIndex;
  // When this worker last moved frames to its peer (performance.now()): its answer is due for peerOwedUs.
  let movedAt = -Infinity;
  const owedMs = (d.peerOwedUs ?? 0) / 1000;
  const owed = () => performance.now() - movedAt < owedMs;
  const backoff = new Backoff(
    stillUs > 0
      ? {
          rounds: d.spinRounds,
          peer: () => Atomics.load(d.ctl, peerWork),
          stillUs,
          owed,
        }
      : { rounds: d.spinRounds },
    () => {
      const w0 = performance.now();
      lc?.pause(w0); // a round's length is tick to tick, naps apart
      self.rx.sleep(0.2);
      napMs += performance.now() - w0;
    },
  );
  let worked = 0;
  const round = (): number => {
    const t = performance.now();
    const now = (performance.timeOrigin + t - d.baseMs) * 1e6 * scale; // sharedNowMs(), its read kept
    lc?.tick(t);
    const k = lc === null ? -1 : lc.pick();
    let n: number;
    if (k === HOST) {
      // From the round's own clock read: reads added before the poll delayed it, and in a
      // spinning worker a later poll finds frames more often (docs/measurement/cost.md).
      lc!.beginAt(t);
      n = poll(now);
      lc!.mark(n ? 0 : 2);
    } else if (k === CORE) {
      timers(true);
      n = poll(now);
      timers(false);
      coreTimed++;
    } else n = poll(now);
    if (lc !== null) {
      lc.cls = n > 0 ? 1 : 0;
      busyRounds += lc.cls;
    }
    // Back-pressure: take from our TX ring only what the peer's RX ring can hold now
    // (the rest waits in our ring, as a NIC's TX queue waits for the wire).
    let moved: number;
    if (!faults.active) {
      // The plain wire: Nic to Nic by words, nothing per frame in JS (as the one-thread Link).
      const refused = peer.rxFull + peer.rxTooLong;
      moved = self.txMoveTo(peer, Math.max(0, peer.rxSpace() - 2));
      rxFull += peer.rxFull + peer.rxTooLong - refused;
    } else
      moved = self.txDrain(
        (mem, off, len) => faults.pass(mem.subarray(off, off + len), now, deliver),
        Math.max(0, peer.rxSpace() - 2),
      );
    if (faults.active) faults.flush(deliver);
    peer.rxCommit();
    if (moved > 0) movedAt = t;
    if (d.client && done && done() && Atomics.load(d.ctl, CTL_DONE + d.index) === 0)
      Atomics.store(d.ctl, CTL_DONE + d.index, 1);
    // a module with a batch out or a fault in hand counts as work: no nap meanwhile
    const work = n + moved + (mh !== null && mh.service() ? 1 : 0);
    if (work > 0) Atomics.store(d.ctl, CTL_WORK + d.index, ++worked);
    if (k === HOST) {
      lc!.mark(n ? 1 : 3); // "move" holds the module's service and the work count too
      lc!.end();
      lc!.measureRead();
    }
    return work;
  };
  const cpu0 = lc ? threadCpuNs() : 0;
  const t0 = performance.now();
  const polls = pollLoop(round, backoff, () => Atomics.load(d.ctl, CTL_STOP) === 0);
  const loopMs = performance.now() - t0;
  const cpuMs = lc ? (threadCpuNs() - cpu0) / 1e6 : 0;
  const naps = backoff.naps;
  return {
    index: d.index,
    polls,
    naps,
    client: d.client ? clientResults(core) : null,
    faults: faults.counts,
    rxFull: rxFull + self.rxFull,
    stages: d.stages ? readStageSums(core) : null,
    module: mh ? mh.close() : null,
    loop: lc
      ? {
          setupMs: t0 - tStart,
          loopMs,
          rounds: polls,
          ...classParts(lc, busyRounds, polls),
          emptyPolls: polls - busyRounds,
          napMs,
          naps,
          readMs: lc.readCostMs(),
          sampled: lc.sampled,
          dropped: lc.dropped,
          long: lc.long,
          longMs: lc.longMs,
          coreTimed,
          coreReadMs: clockReadMs(readStageSums(core)),
          cpuMs,
        }
      : null,
  };
}

if (workerData) parentPort!.postMessage(run(workerData as CoreWorkerData));
else parentPort!.on("message", (d: CoreWorkerData) => parentPort!.postMessage(run(d)));
