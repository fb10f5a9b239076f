// The replay report of a finished serve run: the host's counts (RunStats, serve's
// own), the serving and track cores' counters, fidelity, and the stage times.
import { timedPollsExtra } from "../../report/stages.ts";
import { cpus } from "node:os";
import type { Core } from "../../core/core.ts";
import { readCounters } from "../../report/counters.ts";
import type { FidelityMeter } from "../../report/fidelity.ts";
import { buildReport, type ReplayReport, type RunStats } from "../../report/replay.ts";
import type { ReplayOptions } from "../options.ts";
import type { MirrorFeed } from "./mirror-feed.ts";
import type { Pacer } from "./pacer.ts";
import { accounting, type StageAccounting } from "../../report/accounting.ts";
import { SERVE_DROPS, TRACK_DROPS, type ServeDrops, type ServeStats } from "./stats.ts";
import type { Tracker } from "./tracker.ts";
import { serveMemory, type ServeMemory } from "./memory.ts";

/** What a finished run hands to the report. */
export interface ServeOutcome {
  app: string;
  core: Core;
  st: RunStats;
  sv: ServeStats;
  drops: ServeDrops;
  /** The pre-scan's figures the core was sized from, and the mirror's stream memory. */
  sizedFrom: ServeMemory["sized_from"];
  streamBytes: number;
  packetsIn: number;
  bytesIn: number;
  servedFlows: number;
  why: Record<string, number>;
  tracker: Tracker;
  feed: MirrorFeed | null;
  fid: FidelityMeter | null;
  pacer: Pacer | null;
  /** --stages: polls sampled by the stage timers. */
  stageSamples: ServeStats["stage_samples"];
  /** --out records written (null: no --out) */
  outRecords: number | null;
}

/**
 * --stages: the core times one poll in POLL_SAMPLE (its section timers: nine
 * clock reads, each a call out of wasm); the host times every poll, so the timed
 * ones' extra over the others' mean is the timers' cost (+6-7 % of the core's on
 * the nginx capture when left in), shown apart: `core` is what the polls cost
 * untimed, and the stage figures divide that.
 */
export function serveTimersMs(st: RunStats, polls: number): number {
  return Math.max(0, timedPollsExtra(st.procMs, polls, st.timedPollMs, st.timedPolls).extraMs);
}

/**
 * Where the run's time went, from runServe's call to now (the report built),
 * with the pre-scan before it: every stage on the clock pps is computed from.
 */
export function serveAccounting(st: RunStats, packets: number, polls: number, t0: number): StageAccounting {
  const reportMs = performance.now() - t0 - st.warmupMs - st.setupMs - st.wallMs;
  const total = performance.now() - t0 + st.prescanMs;
  const timersMs = serveTimersMs(st, polls);
  return accounting(packets, total, [
    ["pre-scan", "the pass that learns every flow's ISNs and options", st.prescanMs],
    ["warm-up", "paced speeds: a short top-speed run first", st.warmupMs],
    ["set-up", "the serving core and the run's tables", st.setupMs],
    ["read", "reading and decoding read batches (and the frame copies before each read)", st.readMs],
    [
      "core",
      "poll(): the stack and the mirror (host clock around each call; timed polls as untimed)",
      st.procMs - timersMs,
    ],
    ["timers", "--stages: the timed polls' extra (the core's section timers, one poll in 16)", timersMs],
    [
      "host",
      "the packet loop's JS: classification, live flows, feed records, frame and payload copies into the core, fidelity reference, held-back packets",
      st.hostMs,
    ],
    ["tx", "draining TX: the core's segments scored, --out written", st.outMs],
    ["track", "the track core's batches (flows not served)", st.trackMs],
    ["wait", "paced: sleeping until a packet's slot", st.waitMs],
    ["report", "the report: counters, fidelity, memory", reportMs],
  ]);
}

export function serveReport(r: ServeOutcome, opts: ReplayOptions): ReplayReport {
  const { st, sv, core, drops, packetsIn, bytesIn, tracker, feed, fid } = r;
  if (r.pacer) r.pacer.finish(st, opts.onSamples);
  if (feed) sv.mirror = feed.status();
  if (r.stageSamples) sv.stage_samples = r.stageSamples;
  sv.counters = Object.fromEntries(Object.entries(readCounters(core)).filter(([, v]) => v !== 0));
  const tc = tracker.core ? readCounters(tracker.core) : null;
  sv.tracked = tc ? tc.rp_processed : 0;
  // The track core's own drops (it parses for itself: a tunnel the decoder looked through may stop it).
  if (tc)
    for (const k of [...SERVE_DROPS, ...TRACK_DROPS])
      if (tc[`rp_drop_${k}`]) drops[k] = (drops[k] ?? 0) + tc[`rp_drop_${k}`];
  const fidelity = fid ? fid.finish() : null;
  opts.onEnd?.(core); // stage cost: read the core's stage timers
  const base = buildReport(core, st, cpus());
  const sec = st.wallMs / 1000;
  const processed = sv.delivered + sv.reference + sv.tracked;
  const stages: Record<string, number> = {
    read: packetsIn ? Math.round((st.readMs * 1e8) / packetsIn) / 100 : 0,
    serve: packetsIn ? Math.round(((st.procMs - serveTimersMs(st, sv.polls)) * 1e8) / packetsIn) / 100 : 0,
    output: packetsIn ? Math.round((st.outMs * 1e8) / packetsIn) / 100 : 0,
  };
  const served = r.servedFlows;
  sv.flows_unserved_why = r.why;
  sv.core_bytes = core.totalBytes;
  sv.memory = serveMemory(
    r.app,
    core.config,
    core.totalBytes,
    core.regions,
    sv.capacity,
    r.streamBytes,
    r.sizedFrom,
  );
  sv.bytes_per_connection = sv.memory.per_connection.bytes;
  sv.track_core_bytes = tracker.core ? tracker.core.totalBytes : 0;
  const tracked = tc ? tc.rp_flows : 0;
  const pps = sec > 0 ? Math.round(packetsIn / sec) : 0;
  const mbps = sec > 0 ? Math.round(((bytesIn * 8) / sec / 1e6) * 100) / 100 : 0;
  return {
    ...base,
    app: r.app,
    packets_in: packetsIn,
    packets_out: st.packetsOut,
    bytes_in: bytesIn,
    bytes_out: st.bytesOut,
    packets_processed: processed,
    flows: { total: served + tracked, served, tracked, midstream: tc ? tc.rp_flows_midstream : 0 },
    pps,
    mbps,
    // buildReport's rates count the core's received frames: here every input packet counts.
    pacing: base.pacing && { ...base.pacing, achieved_pps: pps, achieved_mbps: mbps },
    drops: drops as ReplayReport["drops"],
    fidelity,
    stages,
    stages_cycles_est: null,
    worker_packets: [packetsIn],
    tcp: null,
    serve: sv,
    out: st.outFile ? { file: st.outFile, records: r.outRecords ?? 0 } : null,
  };
}
