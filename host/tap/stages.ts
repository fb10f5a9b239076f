// tap --stages: each serving core's poll() sections per received frame and
// where its loop's time went (issue 16 §1, §6). With --stages every poll is
// timed on the host clock (the loop's core_ms: without it, an estimate from one
// poll in CORE_SAMPLE), and every queue service's read and write parts are too
// (two more clock reads each), and one service in
// LOOP_SAMPLE runs its poll with the section timers on (host/tap/loop.ts
// serveQueue). Those polls' extra cost and the added clock reads are the
// `timers` row: the polls' figure is the untimed polls' mean × polls, as in an
// untimed run.
import { accounting, type StageAccounting } from "../report/accounting.ts";
import {
  LOOP_SAMPLE,
  pollStageCost,
  timedPollsExtra,
  type PollStageCost,
  type StageSums,
} from "../report/stages.ts";
import { QS, qword, ST } from "./loop.ts";
import { OFF_CPU, offCpu } from "../report/loop-clock.ts";

/** What a serving core's loop left: its statistics words (loop.ts ST) and its section sums. */
export interface TapPart {
  queues: number[];
  stats: Float64Array;
  stageSums?: StageSums | null;
}

/** Host clock reads --stages adds to a queue service (before its reads, after its writes). */
const PART_READS = 2;
/** ... and to one in LOOP_SAMPLE, where it measures a clock read in place. */
const MEASURE_READS = 2;

function partTimes(p: TapPart) {
  const s = p.stats;
  const polls = s[ST.polls];
  const timed = s[ST.timedPolls];
  const { untimedMean, extraMs } = timedPollsExtra(s[ST.coreMs], polls, s[ST.timedMs], timed);
  const r = s[ST.readCosts] ? s[ST.readCostMs] / s[ST.readCosts] : 0;
  // Every queue service has a read part; those that polled the core (not skipped: loop.ts
  // IDLE_POLL_EVERY) a write part too. Each part holds one clock read.
  const services = polls + s[ST.skippedPolls];
  return {
    frames: p.queues.reduce((a, q) => a + s[qword(q, QS.rx)], 0),
    polls,
    pollMs: untimedMean * polls,
    readMs: Math.max(0, s[ST.readMs] - services * r),
    writeMs: Math.max(0, s[ST.writeMs] - polls * r),
    timersMs: extraMs + (services * PART_READS + s[ST.readCosts] * MEASURE_READS) * r,
    // A skipped service's two added reads are the whole of its time that an untimed run
    // would not spend: one is in its read part, the other in the gap before it.
    loopMs: Math.max(
      0,
      s[ST.gapMs] - s[ST.waitMs] - (s[ST.readCosts] * MEASURE_READS + s[ST.skippedPolls]) * r,
    ),
    r,
  };
}

const name = (i: number, workers: number) => (workers ? `worker ${i}` : "main");

/** poll()'s stage cost per received frame, per serving core ("main" or "worker i"). */
export function tapStages(parts: TapPart[], workers: number): Record<string, PollStageCost> {
  const out: Record<string, PollStageCost> = {};
  parts.forEach((p, i) => {
    if (!p.stageSums) return;
    const t = partTimes(p);
    const s = p.stats;
    out[name(i, workers)] = pollStageCost(p.stageSums, "frame", t.frames, t.pollMs, t.polls, {
      ms: s[ST.emptyMs],
      polls: s[ST.emptyPolls],
    });
  });
  return out;
}

/** Where each serving core's loop time went, per received frame. */
export function tapAccounting(parts: TapPart[], workers: number): Record<string, StageAccounting> {
  const out: Record<string, StageAccounting> = {};
  parts.forEach((p, i) => {
    const s = p.stats;
    const t = partTimes(p);
    out[name(i, workers)] = accounting(
      t.frames,
      s[ST.wallMs],
      [
        ["poll", "the core's poll() calls (host clock around each, as untimed)", t.pollMs],
        ["read", "read(2) of the tap queues into the RX ring", t.readMs],
        ["write", "the app module's service, write(2) of the TX ring", t.writeMs],
        ["wait", "blocked in poll(2) on the idle queues", s[ST.waitMs]],
        [
          "loop",
          "between queue services: the loop's time and stop checks, the spin-then-nap policy",
          t.loopMs,
        ],
        ["timers", "the timing's own cost (timed polls' extra, the added host clock reads)", t.timersMs],
      ],
      {
        unit: "frame",
        clock: `host performance.now(), the clock of duration_s, from the loop's start; every queue service timed part by part, one in ${LOOP_SAMPLE} with the section timers on (${s[ST.timedPolls]} of ${t.polls})`,
        aside: [["off the CPU", OFF_CPU, offCpu(s[ST.wallMs] - s[ST.waitMs], s[ST.cpuMs])]],
      },
    );
  });
  return out;
}
