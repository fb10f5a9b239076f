// The replay report of a finished serve run: the host's counts (RunStats, serve's
// own), the serving and track cores' counters, fidelity, and the stage times.
import { cpus } from "node:os";
import type { Core } from "../../core/core.ts";
import { readCounters } from "../../report/counters.ts";
import type { FidelityMeter } from "../../report/fidelity.ts";
import { buildReport, type ReplayReport, type RunStats } from "../../report/replay.ts";
import type { ReplayOptions } from "../options.ts";
import type { MirrorFeed } from "./mirror-feed.ts";
import type { Pacer } from "./pacer.ts";
import { SERVE_DROPS, TRACK_DROPS, type ServeDrops, type ServeStats } from "./stats.ts";
import type { Tracker } from "./tracker.ts";

/** What a finished run hands to the report. */
export interface ServeOutcome {
  app: string;
  core: Core;
  st: RunStats;
  sv: ServeStats;
  drops: ServeDrops;
  peakOpen: number;
  packetsIn: number;
  bytesIn: number;
  servedFlows: number;
  why: Record<string, number>;
  tracker: Tracker;
  feed: MirrorFeed | null;
  fid: FidelityMeter | null;
  pacer: Pacer | null;
  /** --out records written (null: no --out) */
  outRecords: number | null;
}

export function serveReport(r: ServeOutcome, opts: ReplayOptions): ReplayReport {
  const { st, sv, core, drops, packetsIn, bytesIn, tracker, feed, fid } = r;
  if (r.pacer) r.pacer.finish(st, opts.onSamples);
  if (feed) sv.mirror = feed.status();
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
    serve: packetsIn ? Math.round((st.procMs * 1e8) / packetsIn) / 100 : 0,
    output: packetsIn ? Math.round((st.outMs * 1e8) / packetsIn) / 100 : 0,
  };
  const served = r.servedFlows;
  sv.flows_unserved_why = r.why;
  sv.core_bytes = core.totalBytes;
  sv.bytes_per_connection = Math.round(core.totalBytes / Math.max(1, r.peakOpen));
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
