// One iteration of the one-thread pair (client poll, server poll, the app
// module's service, the link), and with --stages where the loop's time went:
// one iteration in LOOP_SAMPLE timed part by part on the host clock, another
// with both cores' section timers on (host/report/loop-clock.ts), the rest as
// untimed. The accounting puts every part on the clock of round_trips_per_s.
import type { Core } from "../core/core.ts";
import type { Link } from "../runtime/link.ts";
import type { ModuleHost } from "../apps/module-host.ts";
import { CORE, HOST, LONG_ITER_MS, LoopClock, OFF_CPU, offCpu } from "../report/loop-clock.ts";
import { clockReadMs, LOOP_SAMPLE, pollTimersFor, readStageSums } from "../report/stages.ts";
import { accounting, type StageAccounting } from "../report/accounting.ts";
import type { WorkerLoopTimes } from "../runtime/core-worker.ts";

// A poll that took no frame is marked apart ("... empty"): it costs less than a clock read, too little for
// the core's section timers to split (host/report/stages.ts pollStageCost).
const PARTS = ["client poll", "server poll", "module", "link", "client empty", "server empty"];
/** Host clock reads a host-timed iteration adds (two at its start, one per part run). */
const HOST_READS = 2 + 4;
/** Core clock reads a timed poll makes (assembly/stats/stages.ts: two at its start, one per section, one at its end). */
const POLL_READS = 9;

/** The loop's parts over the run (ms), as estimated from the sampled iterations. */
export interface PairParts {
  ms: Record<string, number>;
  /** polls of each core that took no frame, estimated */
  empty: [number, number];
  iterations: number;
  /** iterations longer than LONG_ITER_MS, timed whole, and their ms */
  long: number;
  longMs: number;
  /** host-timed iterations kept and dropped (long), polls run with the section timers on */
  sampled: number;
  dropped: number;
  coreTimed: number;
  /** one host clock read, ms */
  readMs: number;
  /** what the sampling itself cost: its host reads and the timed polls' core reads */
  timersMs: number;
}

export class PairStep {
  private readonly cpoll: (nowNs: number) => number;
  private readonly spoll: (nowNs: number) => number;
  private readonly lc: LoopClock | null;
  private readonly ctime: (on: boolean) => void;
  private readonly stime: (on: boolean) => void;
  private coreTimed = 0;

  constructor(
    private readonly client: Core,
    private readonly server: Core,
    private readonly mh: ModuleHost | null,
    private readonly link: Link,
    stages: boolean,
    /** `now` is virtual: with --stages the step reads the host clock itself to find the long iterations */
    private readonly virtualClock = false,
  ) {
    this.cpoll = client.exports.poll as (n: number) => number;
    this.spoll = server.exports.poll as (n: number) => number;
    this.lc = stages ? new LoopClock(PARTS) : null;
    this.ctime = pollTimersFor(client);
    this.stime = pollTimersFor(server);
  }

  /** Iteration i at time now (ns): both polls, the module, the link. Returns frames moved. */
  run(i: number, now: number): number {
    const lc = this.lc;
    if (lc !== null) {
      lc.tick(this.virtualClock ? performance.now() : now / 1e6);
      const k = lc.pick(); // apart, so neither times the other's reads
      if (k === HOST) {
        lc.begin();
        lc.mark(this.cpoll(now) ? 0 : 4);
        lc.mark(this.spoll(now) ? 1 : 5);
        this.mh?.service();
        lc.mark(2);
        const moved = this.link.pump(now);
        lc.mark(3);
        lc.end();
        return moved;
      }
      if (k === CORE) {
        this.ctime(true);
        this.cpoll(now);
        this.ctime(false);
        this.stime(true);
        this.spoll(now);
        this.stime(false);
        this.coreTimed++;
        this.mh?.service();
        return this.link.pump(now);
      }
    }
    this.cpoll(now);
    this.spoll(now);
    this.mh?.service();
    return this.link.pump(now);
  }

  /** The parts over `iterations` iterations (null without --stages). */
  parts(iterations: number): PairParts {
    const lc = this.lc!;
    const r = lc.readCostMs();
    const c = (core: Core) => clockReadMs(readStageSums(core));
    return {
      ms: lc.estimate(iterations),
      empty: [lc.count(4, iterations), lc.count(5, iterations)],
      iterations,
      long: lc.long,
      longMs: lc.longMs,
      sampled: lc.sampled,
      dropped: lc.dropped,
      coreTimed: this.coreTimed,
      readMs: r,
      timersMs:
        (lc.sampled + lc.dropped) * HOST_READS * r +
        this.coreTimed * POLL_READS * (c(this.client) + c(this.server)),
    };
  }
}

const longAbout = (n: number, what: string) =>
  `${n} ${what} over ${LONG_ITER_MS * 1000} µs, timed whole (a GC step, a page fault, a preemption)`;

/** Where a one-thread pair run went, per round trip: set-up, the loop's parts, the report. */
export function pairAccounting(
  roundTrips: number,
  p: PairParts,
  setupMs: number,
  loopMs: number,
  totalMs: number,
  virtual: boolean,
  /** the loop's thread CPU time */
  cpuMs: number,
): StageAccounting {
  const rows: [string, string, number][] = [
    ["set-up", "both cores (compiled, instantiated), the link", setupMs],
    [
      "client poll",
      "the client core's poll() calls (host clock around them), those that took no frame included",
      p.ms["client poll"] + p.ms["client empty"],
    ],
    ["server poll", "the server core's poll() calls", p.ms["server poll"] + p.ms["server empty"]],
    ["module", "--app-module: the module's wake and watchdog after each server poll", p.ms.module],
    ["link", "moving each core's TX ring into the other's RX ring (faults, filters)", p.ms.link],
    [
      "loop clock",
      virtual ? "the virtual loop reads no clock per iteration" : "the loop's clock read, one per iteration",
      virtual ? 0 : p.iterations * p.readMs,
    ],
    [
      "timers",
      `the sampling's own clock reads (host and core, measured in place)${virtual ? ", and the host clock read per iteration that finds the long ones" : ""}`,
      p.timersMs + (virtual ? p.iterations * p.readMs : 0),
    ],
    ["long iterations", longAbout(p.long, "iterations"), p.longMs],
    ["report", "results, counters, the report", totalMs - setupMs - loopMs],
  ];
  return accounting(roundTrips, totalMs, rows, {
    unit: "round trip",
    clock:
      `host performance.now()${virtual ? " (wall time; round_trips_per_s is on the virtual clock)" : ", the clock of round_trips_per_s"}; ` +
      `one loop iteration in ${LOOP_SAMPLE} timed part by part, another with the cores' section timers on (${p.sampled} and ${p.coreTimed} of ${p.iterations}; ${p.dropped} sampled ones were long)`,
    aside: [["off the CPU", OFF_CPU, offCpu(loopMs, cpuMs)]],
  });
}

/** Where a two-thread pair worker's time went, per round trip (host/runtime/core-worker.ts). */
export function workerAccounting(roundTrips: number, w: WorkerLoopTimes): StageAccounting {
  const timers = (w.sampled + w.dropped) * 4 * w.readMs + w.coreTimed * POLL_READS * w.coreReadMs;
  return accounting(
    roundTrips,
    w.setupMs + w.loopMs,
    [
      ["set-up", "the core on the shared memory, waiting for the peer's", w.setupMs],
      ["poll", "the core's poll() calls (host clock around them), empty ones included", w.poll + w.emptyPoll],
      ["move", "its TX ring into the peer's RX ring, the done check (and --app-module's service)", w.move],
      ["naps", `sleeping on the empty RX ring (${w.naps} naps)`, w.napMs],
      ["loop clock", "the round's clock read, one per round", w.rounds * w.readMs],
      ["timers", "the sampling's own clock reads (host and core, measured in place)", timers],
      ["long rounds", longAbout(w.long, "rounds"), w.longMs],
    ],
    {
      unit: "round trip",
      clock:
        `host performance.now() in the worker (round_trips_per_s: the main thread's, between both ready and done); ` +
        `one round in ${LOOP_SAMPLE} timed part by part, another with the section timers on (${w.sampled} and ${w.coreTimed} of ${w.rounds}; ${w.dropped} sampled ones were long)`,
      aside: [["off the CPU", OFF_CPU, offCpu(w.loopMs - w.napMs, w.cpuMs)]],
    },
  );
}
