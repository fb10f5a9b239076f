// Serve's own counts in the replay report (`serve` and `drops`): where each input
// packet went, the mirror app's status, the pre-scan's peaks and the core's size.
import type { Prescan } from "./prescan.ts";
import type { MirrorStatus } from "./mirror-feed.ts";
import type { ServeMemory } from "./memory.ts";

export const SERVE_DROPS = ["not_packet", "unknown_link", "non_ip", "ip_truncated"] as const;
export const TRACK_DROPS = ["flow_table_full", "tcp_malformed", "tcp_bad_flags", "tcp_rst_invalid"] as const;
export type ServeDrops = Record<string, number>;

export interface ServeStats {
  delivered: number;
  reference: number;
  /** Packets the track core processed (flows not served). */
  tracked: number;
  presets_failed: number;
  polls: number;
  flows_unserved_why: Record<string, number>;
  mirror: MirrorStatus | null;
  /** Flows open at once at most (pre-scan: SYN to close), and live (closed within their 2 s hold counted). */
  peak_concurrent: number;
  peak_held: number;
  /** Connections the core was sized for (TCBs; mirror flow slots alike). */
  capacity: number;
  /** The serving core's memory, and its state per connection it was sized for (memory.per_connection.bytes). */
  core_bytes: number;
  bytes_per_connection: number;
  /** Its pools and per-connection state, to predict the memory of N connections (memory.ts). */
  memory: ServeMemory | null;
  /** The track core's memory (flows not served), 0 when none was needed. */
  track_core_bytes: number;
  /** Bytes the pre-scan kept (its records and live table). */
  prescan_bytes: number;
  /** --stages: polls timed by the core's stage timers (one in `every`), of `polls`. */
  stage_samples?: { every: number; sampled: number; polls: number; dropped: number; clock_read_ns: number };
  /** The serving core's non-zero counters (drops by reason, TCP events). */
  counters?: Record<string, number>;
}

/** Serve's counts at the start of a run: all zero, the pre-scan's peaks. */
export function newServeStats(pre: Prescan, capacity: number, why: Record<string, number>): ServeStats {
  return {
    delivered: 0,
    reference: 0,
    tracked: 0,
    presets_failed: 0,
    polls: 0,
    flows_unserved_why: why,
    mirror: null,
    peak_concurrent: pre.peakOpen,
    peak_held: pre.peakHeld,
    capacity,
    core_bytes: 0,
    bytes_per_connection: 0,
    memory: null,
    track_core_bytes: 0,
    prescan_bytes: pre.bytes,
  };
}

export function newServeDrops(): ServeDrops {
  return Object.fromEntries(SERVE_DROPS.map((r) => [r, 0]));
}
