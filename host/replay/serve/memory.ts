// What a serving core's memory holds (issue 16 §4): fixed pools, and state per
// connection, so that memory for N connections can be predicted from one run:
//   total ≈ fixed_bytes + per_connection.bytes × connections(N),
//   connections(N) = serveCapacity: N held at once + 1/8 + 256.
// Every figure comes from the core's own region plan (assembly/mem/plan.ts,
// through planRegions: a throw-away instance), divided by the counts in the
// config, so no size of the core is written twice. The flow table's and the
// mirror's hash slots are powers of two: per connection they are counted as
// they are at this size (between 1× and 2× their least), which is why a
// prediction far from the run's size is good to ~3 %, not exactly.
import {
  DEFAULT_CONFIG,
  planRegions,
  type CoreConfig,
  type Region,
  type RegionName,
} from "../../core/core.ts";
import { serveAppBytes, STREAM_CAP, STREAM_FLOOR } from "./sizing.ts";

export const SERVE_MEMORY_SCHEMA = "ixwasm-serve-memory/1";

export interface PoolFigure {
  count: number;
  bytes_each: number;
  bytes: number;
}

export interface ServeMemory {
  schema: typeof SERVE_MEMORY_SCHEMA;
  /** The serving core's memory (its WebAssembly.Memory). */
  total_bytes: number;
  /** Connections it was sized for (TCBs, mirror slots): serveCapacity of the pre-scan's peak held. */
  connections: number;
  /** What the pre-scan found, which the sizes follow. */
  sized_from: {
    peak_held: number;
    peak_in_flight_bytes: number;
    max_batch_bytes: number;
    max_ack_advance: number;
  };
  /** Pools that do not grow with connections; their sum is fixed_bytes. */
  fixed: {
    /** Capture reading: staging, record descriptors, decode results. */
    read: number;
    mbufs: PoolFigure;
    /** RX and TX rings, event and command queues. */
    rings_queues: number;
    spans: PoolFigure;
    /** The mirror's stream blocks: the pre-scan's peak in flight + one read batch, + 1/4, within [floor, cap]. */
    mirror_streams: { bytes: number; floor: number; cap: number };
    /** The mirror's feed ring and SENDV span arrays. */
    mirror_feed: number;
    /** Spare TCBs and flow entries (256 and 1024), timer wheel heads, neighbour cache. */
    spare: number;
    /** Static data, heap reserve, control block, alignment, page rounding. */
    other: number;
  };
  fixed_bytes: number;
  /** State per connection the core is sized for; bytes = the sum. */
  per_connection: {
    tcb: number;
    timer: number;
    /** 1.25 flow entries and their hash slots (at this table size). */
    flow_table: number;
    /** The mirror's flow record and its hash slots (at this size); 0 for other apps. */
    mirror_slot: number;
    /** The app's per-connection memory (echo, memcached, sink: bounded at 65,536 connections). */
    app: number;
    bytes: number;
  };
  /** How to predict: the formula, and what it gives for 1 M connections held at once. */
  predict: { formula: string; connections_1m: number; bytes_1m: number; bytes_1m_max: number };
}

const units = new Map<string, number>();
/** Bytes of one unit of a region, from the planner: (region at n + k) − (region at n), / k. */
function unit(
  name: string,
  region: RegionName,
  a: Partial<CoreConfig>,
  b: Partial<CoreConfig>,
  k: number,
): number {
  let v = units.get(name);
  if (v === undefined) {
    const at = (c: Partial<CoreConfig>) =>
      planRegions({ ...DEFAULT_CONFIG, ...c } as CoreConfig).regions[region].bytes;
    v = (at(b) - at(a)) / k;
    units.set(name, v);
  }
  return v;
}

const sizeOf = (r: Record<RegionName, Region>, ...names: RegionName[]) =>
  names.reduce((s, n) => s + r[n].bytes, 0);

/**
 * The breakdown of a serving core of config `config` (serveCoreConfig) for
 * `connections`, with what the pre-scan found; `streamBytes` its mirror stream
 * memory (0: not the mirror).
 */
export function serveMemory(
  app: string,
  config: CoreConfig,
  totalBytes: number,
  regions: Record<RegionName, Region>,
  connections: number,
  streamBytes: number,
  sizedFrom: ServeMemory["sized_from"],
): ServeMemory {
  // Units, from small plans (20 and 22 flow entries: the hash has 32 slots either way).
  const tcb = unit("tcb", "tcb", { tcbs: 1024 }, { tcbs: 2048 }, 1024);
  const timer = unit("timer", "timer", { tcbs: 1024 }, { tcbs: 2048 }, 1024);
  const flowEntry = unit("flowEntry", "flow", { flows: 20 }, { flows: 22 }, 2);
  const flowSlot = (unit("flow20", "flow", { flows: 0 }, { flows: 20 }, 1) - 20 * flowEntry) / 32;
  const mbufEach = unit("mbuf", "mbuf", { mbufs: 1024 }, { mbufs: 2048 }, 1024);
  const mbufStack = unit("mbufStack", "mbufStack", { mbufs: 1024 }, { mbufs: 2048 }, 1024);
  const spanEach = unit("span", "span", { spans: 1024 }, { spans: 2048 }, 1024);
  const mirror = app === "mirror";
  // The app's region: fixed (no connection) and per connection (the mirror's flow records and hash).
  const appFixed = serveAppBytes(app, 0, streamBytes);
  const appPer = (regions.app.bytes - appFixed) / connections;
  const streams = mirror ? appFixed - serveAppBytes(app, 0, 0) : 0;
  // Flow entries per connection (serveCoreConfig: tcbs × 1.25 + 1024) with their share of the hash slots.
  const flowsPer = (config.flows - 1024) / config.tcbs;
  const slotShare = (regions.flow.bytes - config.flows * flowEntry) / config.flows;
  const flowTable = flowsPer * (flowEntry + slotShare);
  const per = {
    tcb,
    timer,
    flow_table: r1(flowTable),
    mirror_slot: mirror ? r1(appPer) : 0,
    app: mirror ? 0 : r1(appPer),
    bytes: r1(tcb + timer + flowTable + appPer),
  };
  const perBytes = per.bytes * connections;
  const read = sizeOf(regions, "staging", "desc", "decode");
  const mbufs = {
    count: config.mbufs,
    bytes_each: mbufEach + mbufStack,
    bytes: sizeOf(regions, "mbuf", "mbufStack"),
  };
  const rings = sizeOf(regions, "rxRing", "txRing", "evq", "cmdq");
  const spans = { count: config.spans, bytes_each: spanEach, bytes: regions.span.bytes };
  const feed = appFixed - streams;
  // Spare TCBs (256) and flow entries (1024 + 1/4 of the spare TCBs), timer heads and app timers, neighbours.
  const spareTcbs = config.tcbs - connections;
  const spare = Math.round(
    spareTcbs * tcb +
      (regions.timer.bytes - connections * timer) +
      (config.flows - flowsPer * connections) * (flowEntry + slotShare) +
      regions.neigh.bytes,
  );
  const fixedBytes = Math.round(totalBytes - perBytes);
  const other = fixedBytes - read - mbufs.bytes - rings - spans.bytes - streams - feed - spare;
  const conns1m = 1_000_000 + (1_000_000 >>> 3) + 256; // serveCapacity's headroom
  return {
    schema: SERVE_MEMORY_SCHEMA,
    total_bytes: totalBytes,
    connections,
    sized_from: sizedFrom,
    fixed: {
      read,
      mbufs,
      rings_queues: rings,
      spans,
      mirror_streams: { bytes: streams, floor: mirror ? STREAM_FLOOR : 0, cap: mirror ? STREAM_CAP : 0 },
      mirror_feed: feed,
      spare,
      other,
    },
    fixed_bytes: fixedBytes,
    per_connection: per,
    predict: {
      formula:
        "total ≈ fixed_bytes + per_connection.bytes × connections, connections = N held at once × 9/8 + 256 (N: the pre-scan's peak of connections open or in TIME-WAIT); the mirror's streams follow the bytes in flight, not the connections: bytes_1m keeps this run's, bytes_1m_max takes their cap",
      connections_1m: conns1m,
      bytes_1m: Math.round(fixedBytes + per.bytes * conns1m),
      // The mirror's streams follow the bytes in flight, not the connections: at their cap, the most they take.
      bytes_1m_max: Math.round(fixedBytes - streams + (mirror ? STREAM_CAP : 0) + per.bytes * conns1m),
    },
  };
}

const r1 = (x: number) => Math.round(x * 10) / 10;
