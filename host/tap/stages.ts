// tap --stages: each serving core's poll() sections per received frame and
// where its loop's time went (issue 16 §1, §6). Every poll is already timed on
// the host clock (the loop's core_ms); one queue service in LOOP_SAMPLE is timed
// part by part (read, write) and another runs its poll with the section timers
// on (host/tap/loop.ts serveQueue). Those polls' extra cost is the `timers` row:
// the polls' figure is the untimed polls' mean × polls, as in an untimed run.
import { accounting, type StageAccounting } from "../report/accounting.ts";
import { LOOP_SAMPLE, pollStageCost, type PollStageCost, type StageSums } from "../report/stages.ts";
import { QS, qword, ST } from "./loop.ts";
import { DESCHEDULED, descheduled } from "../report/loop-clock.ts";

/** What a serving core's loop left: its statistics words (loop.ts ST) and its section sums. */
export interface TapPart {
  queues: number[];
  stats: Float64Array;
  stageSums?: StageSums | null;
}

/** Host clock reads a host-timed queue service adds: two at its start, one per part. */
const HOST_READS = 5;

function partTimes(p: TapPart) {
  const s = p.stats;
  const polls = s[ST.polls];
  const timed = s[ST.timedPolls];
  const untimedMean = polls > timed ? (s[ST.coreMs] - s[ST.timedMs]) / (polls - timed) : 0;
  const sampled = s[ST.lcSampled];
  const r = sampled + s[ST.lcDropped] ? s[ST.lcReadCost] / (sampled + s[ST.lcDropped]) : 0;
  const f = sampled ? polls / sampled : 0; // one queue service per poll
  return {
    frames: p.queues.reduce((a, q) => a + s[qword(q, QS.rx)], 0),
    polls,
    pollMs: untimedMean * polls,
    readMs: Math.max(0, s[ST.lcRead] - sampled * r) * f,
    writeMs: Math.max(0, s[ST.lcWrite] - sampled * r) * f,
    timersMs: s[ST.timedMs] - timed * untimedMean + (sampled + s[ST.lcDropped]) * HOST_READS * r,
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
        ["timers", "the sampling's own cost (timed polls' extra, host clock reads)", t.timersMs],
        ["descheduled", DESCHEDULED, descheduled(s[ST.wallMs] - s[ST.waitMs], s[ST.cpuMs])],
      ],
      {
        unit: "frame",
        clock: `host performance.now(), the clock of duration_s, from the loop's start; one queue service in ${LOOP_SAMPLE} timed part by part, another with the section timers on (${s[ST.lcSampled]} and ${s[ST.timedPolls]} of ${t.polls}, ${s[ST.lcDropped]} dropped as descheduled)`,
      },
    );
  });
  return out;
}
