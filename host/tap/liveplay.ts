// `ixwasm liveplay`: the WASM core plays the client of every captured TCP
// session toward a server port, against a live server behind a Linux tap.
//
// The capture is read first (host/tap/liveplay-feed.ts: sessions split into
// request/response turns), then the tap comes up with the server's address on
// its kernel side (inside --netns, where the server runs), and one loop moves
// frames: read(2) up to 64 frames into the core's posted RX mbufs, one poll,
// write(2) what it transmitted, poll(2) when idle. The liveplay app
// (assembly/apps/liveplay.ts) does the rest inside the core; this side reads its
// status words for the progress line and its per-turn records for the report.
//
// Decisions: --netns must exist already (the server is started in it first);
// we add the server address to the tap's end and remove the tap on exit, the
// namespace stays. If the address is already configured in the namespace (on a
// veth or dummy), the tap gets a /32 route to the core instead. The core's
// TIME_WAIT is 2 s (MSL 1 s): a test tool in a private namespace reuses ports
// sooner than a host would, and each TIME_WAIT holds a TCB.
import { createCore, type Core, type CoreConfig } from "../core/core.ts";
import { Nic } from "../runtime/nic.ts";
import { Backoff } from "../runtime/poll-loop.ts";
import { UsageError } from "../io/errors.ts";
import { TapDevice } from "../io/tap.ts";
import {
  addressesInUse,
  canonical,
  inBenchRange,
  ip as ipCmd,
  linkExists,
  netnsExists,
  setupLink,
  Teardown,
  type Cidr,
} from "../io/netns.ts";
import { APP_ID, stackConfig } from "../core/stack-config.ts";
import { readCounters } from "../report/counters.ts";
import { checkFile } from "../core/open-capture.ts";
import {
  feedStatus,
  planFeed,
  readResults,
  scanSessions,
  writeFeed,
  type FeedOptions,
  type FeedStatus,
  type FlowResult,
  type Session,
  type Sessions,
} from "./liveplay-feed.ts";
import { scanCoreConfig } from "../core/open-capture.ts";
import { RX_BURST } from "../core/poll.gen.ts"; // the core's poll() takes as many at most

export const LIVEPLAY_SCHEMA = "ixwasm-liveplay/1";
const MBUF_DATA = 2048;
export const MAX_MTU = MBUF_DATA - 14;
const SLICE_MS = 20;
const MAX_WAIT_MS = 2;
const SPIN_MS = 0.2;

export type LiveSpeed = { kind: "top" } | { kind: "realtime" } | { kind: "multiple"; factor: number };

export interface LiveplayOptions {
  file: string;
  ifname: string;
  netns?: string;
  server: { addr: string; bytes: Buffer; port: number };
  /** The core's address (default: the server's /24, next host). */
  ip: Cidr;
  mac: Buffer;
  /** 0: all sessions. */
  flows: number;
  concurrency: number;
  speed: LiveSpeed;
  timeoutMs: number;
  compare: "exact" | "length";
  timeLimitS: number;
  mtu: number;
  statsMs: number;
  /** Per-flow rows in the report (default: all; the JSON always has them). */
  debug?: boolean;
}

export interface FlowReport {
  n: number;
  capture: string;
  result: string;
  success: boolean;
  turns: number;
  completed: number;
  timeouts: number;
  mismatches: number;
  first_mismatch: { turn: number; offset: number; expected: string } | null;
  extra_bytes: number;
  /** The capture holds no FIN or RST from the server (it stopped, or the client reset, first). */
  open_end: boolean;
  /** Answer bytes after the last captured server byte of an open-ended session: not compared, no failure. */
  beyond_capture_bytes: number;
  latency_us: { p50: number | null; p99: number | null; max: number | null };
  connect_us: number | null;
  close: string;
  dead: string | null;
}

export interface LiveplayReport {
  schema: typeof LIVEPLAY_SCHEMA;
  trace: string;
  server: string;
  ifname: string;
  netns: string | null;
  core_ip: string;
  speed: string;
  concurrency: number;
  compare: "exact" | "length";
  timeout_ms: number;
  sessions_in_capture: number;
  skipped: Record<string, number>;
  flows: {
    played: number;
    succeeded: number;
    failed: number;
    by_result: Record<string, number>;
    /** Sessions whose capture ends before the server closed (per_flow[].open_end). */
    open_ended: number;
  };
  turns: { total: number; completed: number; timed_out: number; mismatched: number; not_run: number };
  /**
   * Captured request and response bytes of the played turns; what the core sent and received
   * (received includes beyond_capture: answers after the end of open-ended sessions' captures).
   */
  bytes: {
    requests: number;
    responses_expected: number;
    requests_sent: number;
    responses_received: number;
    beyond_capture: number;
  };
  /** Per turn with a response: request handed to the stack → last response byte in (nearest-rank percentiles). */
  latency_us: {
    samples: number;
    p50: number | null;
    p99: number | null;
    max: number | null;
    mean: number | null;
  };
  duration_s: number;
  stop_reason: "done" | "time-limit" | "signal" | "error";
  per_flow: FlowReport[];
  counters: Record<string, number>;
  error: string | null;
  notes: string[];
  cleanup_errors: string[];
}

export function speedName(s: LiveSpeed): string {
  return s.kind === "multiple" ? `x${s.factor}` : s.kind;
}

/** Nearest-rank percentile of sorted values (null when empty). */
export function percentile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function checkLiveplayOptions(o: LiveplayOptions): void {
  checkFile(o.file);
  if (process.getuid && process.getuid() !== 0)
    throw new UsageError("not running as root", "tap devices need root (CAP_NET_ADMIN): run with sudo");
  if (o.concurrency < 1 || o.concurrency > 30000)
    throw new UsageError(`--concurrency ${o.concurrency} is out of range`, "use 1 to 30000");
  if (o.mtu < 576 || o.mtu > MAX_MTU)
    throw new UsageError(`--mtu ${o.mtu} is out of range`, `use 576 to ${MAX_MTU}`);
  if (o.timeoutMs < 1 || o.timeoutMs > 3_600_000)
    throw new UsageError(`--timeout ${o.timeoutMs} is out of range`, "use 1 to 3600000 ms");
  if (o.netns) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(o.netns))
      throw new UsageError(`invalid namespace name "${o.netns}"`, "use letters, digits, '-', '_' and '.'");
    if (!netnsExists(o.netns))
      throw new UsageError(
        `network namespace ${o.netns} does not exist`,
        `create it and start the server in it first (ip netns add ${o.netns}; ip netns exec ${o.netns} memcached -u nobody &)`,
      );
  }
  if (linkExists(o.ifname) || (o.netns && linkExists(o.ifname, o.netns)))
    throw new UsageError(`interface ${o.ifname} already exists`, "pick another --ifname");
  if (!inBenchRange(o.ip)) throw new UsageError(`--ip ${o.ip.addr} is outside 198.18.0.0/15`);
  if (o.ip.bytes.equals(o.server.bytes)) throw new UsageError("--ip is the server's address");
}

/** Sizes the client core: C connections open at once, plus the ones resting in TIME_WAIT. */
export function liveplayConfig(o: LiveplayOptions, flows: number, appBytes: number): Partial<CoreConfig> {
  const open = Math.min(o.concurrency, flows);
  const sc = stackConfig(open + Math.min(flows, 60000), 1024);
  return {
    ...sc,
    timers: open + 64, // app timers: think times and the scan
    app: APP_ID.liveplay,
    appBytes,
    macLo: o.mac.readUInt32LE(0),
    macHi: o.mac.readUInt16LE(4),
    ipv4: o.ip.bytes.readUInt32LE(0),
    mss: o.mtu - 40,
    mslMs: 1000,
  };
}

export interface LiveplayRun {
  done: Promise<LiveplayReport>;
  stop(): void;
}

/** Reads the capture, sets the tap up (a UsageError leaves nothing behind), then plays. */
export function startLiveplay(o: LiveplayOptions, onReady?: (line: string) => void): LiveplayRun {
  checkLiveplayOptions(o);
  const sessions = scanSessions(o.file, o.server.port, createCore(scanCoreConfig()));
  let played = sessions.sessions.filter((s) => !s.skip);
  if (o.flows > 0) played = played.slice(0, o.flows);
  if (!played.length)
    throw new UsageError(
      `${o.file}: no TCP session toward port ${o.server.port} to play` +
        (sessions.error ? ` (${sessions.error})` : ""),
      "check --server's port against the capture (ixwasm dump FILE)",
    );
  const fo: FeedOptions = {
    concurrency: Math.min(o.concurrency, played.length),
    timeoutUs: o.timeoutMs * 1000,
    compare: o.compare === "exact",
    speedFactor: o.speed.kind === "top" ? 0 : o.speed.kind === "realtime" ? 1 : o.speed.factor,
    addr: o.server.bytes,
    port: o.server.port,
    evqSlots: 0,
  };
  const probe = liveplayConfig(o, played.length, 0);
  fo.evqSlots = probe.evqSlots!;
  const feed = planFeed(played, fo);
  const core = createCore(liveplayConfig(o, played.length, feed.bytes), { debug: o.debug });
  writeFeed(core, feed, fo);

  const td = new Teardown();
  process.once("exit", () => td.run());
  let tap: TapDevice;
  const notes: string[] = [];
  try {
    tap = TapDevice.open({ ifname: o.ifname, queues: 1 });
    const dev = tap;
    td.add(`close ${o.ifname}`, () => dev.close());
    const have = addressesInUse(o.netns).has(canonical(o.server.addr));
    const peerIp: Cidr | undefined = have
      ? undefined
      : { family: 4, addr: o.server.addr, len: o.ip.len, bytes: o.server.bytes };
    notes.push(
      ...setupLink(
        { ifname: o.ifname, netns: o.netns, reuseNetns: true, peerIp, mtu: o.mtu, ipv6: false },
        td,
      ),
    );
    if (have) {
      ipCmd(...(o.netns ? ["-n", o.netns] : []), "route", "add", `${o.ip.addr}/32`, "dev", o.ifname);
      notes.push(`${o.server.addr} was configured already: routed ${o.ip.addr} to ${o.ifname}`);
    }
  } catch (e) {
    td.run();
    throw e;
  }
  let stopped = false;
  const done = play(o, sessions, feed, fo, core, tap, td, notes, () => stopped, onReady);
  return {
    done,
    stop() {
      stopped = true;
    },
  };
}

async function play(
  o: LiveplayOptions,
  sessions: Sessions,
  feed: ReturnType<typeof planFeed>,
  fo: FeedOptions,
  core: Core,
  tap: TapDevice,
  td: Teardown,
  notes: string[],
  stopped: () => boolean,
  onReady?: (line: string) => void,
): Promise<LiveplayReport> {
  const nic = new Nic(core, true); // polled below, in this thread: local rings
  const poll = core.exports.poll as (nowNs: number) => number;
  const base = tap.address(core.u8);
  const total = feed.played.length;
  let stopReason: LiveplayReport["stop_reason"] | null = null;
  let error: string | null = null;
  const t0 = performance.now();
  const deadline = o.timeLimitS > 0 ? t0 + o.timeLimitS * 1000 : Infinity;
  const send = (_m: Uint8Array, off: number, len: number) => void tap.write(0, base + off, len);

  /** One round: a batch in, one poll, its output out. Returns frames moved. */
  const round = (): number => {
    let n = 0;
    while (n < RX_BURST) {
      const off = nic.rxNextData();
      if (off < 0) break;
      const len = tap.read(0, base + off, MBUF_DATA);
      if (len <= 0) break;
      nic.rxFill(len);
      n++;
    }
    nic.rxCommit();
    poll((performance.now() - t0) * 1e6);
    return n + nic.txDrain(send);
  };

  onReady?.(
    `ixwasm liveplay: ${total} session(s) from ${o.file} → ${o.server.addr}:${o.server.port} via ${o.ifname}` +
      `${o.netns ? ` in namespace ${o.netns}` : ""}, core ${o.ip.addr}, ${fo.concurrency} at once: ready`,
  );
  (core.exports.arpAnnounce as () => void)();
  let lastStats = t0;
  const progress = () => {
    const s = feedStatus(core);
    process.stderr.write(
      `\rliveplay: flows ${s.done}/${total} done, ${s.active} open; turns ${s.turns}; mismatches ${s.mismatches}; timeouts ${s.timeouts}   `,
    );
  };
  const backoff = new Backoff({ us: SPIN_MS * 1000 }, () => tap.wait(MAX_WAIT_MS));
  await new Promise<void>((resolve) => {
    const slice = () => {
      try {
        const end = performance.now() + SLICE_MS;
        for (;;) {
          const now = performance.now();
          if (stopped()) stopReason = "signal";
          else if (now >= deadline) stopReason = "time-limit";
          else if (feedStatus(core).done >= total) stopReason = "done";
          else if (feedStatus(core).bad) throw new Error("the liveplay app refused the feed (layout)");
          if (stopReason || now >= end) break;
          backoff.after(round());
        }
      } catch (e) {
        error = (e as Error).message;
        stopReason = "error";
      }
      if (o.statsMs > 0 && performance.now() - lastStats >= o.statsMs) {
        lastStats = performance.now();
        progress();
      }
      if (stopReason) resolve();
      else setImmediate(slice);
    };
    setImmediate(slice);
  });
  // Let the last ACKs and FINs leave (bounded): the server should not see a dead peer.
  const flushEnd = performance.now() + 50;
  while (performance.now() < flushEnd && stopReason !== "error") if (!round()) tap.wait(1);
  if (o.statsMs > 0) {
    progress();
    process.stderr.write("\n");
  }
  const wallS = (performance.now() - t0) / 1000;
  const results = readResults(core, feed);
  const counters = Object.fromEntries(Object.entries(readCounters(core)).filter(([, v]) => v !== 0));
  const status = feedStatus(core);
  td.run();
  return buildReport(
    o,
    sessions,
    feed.played,
    results,
    fo,
    wallS,
    stopReason ?? "error",
    error,
    counters,
    status,
    notes,
    td,
  );
}

function printable(b: Buffer): string {
  let s = "";
  for (const c of b)
    s +=
      c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`;
  return s;
}

export function buildReport(
  o: LiveplayOptions,
  sessions: Sessions,
  played: Session[],
  results: FlowResult[],
  fo: FeedOptions,
  wallS: number,
  stopReason: LiveplayReport["stop_reason"],
  error: string | null,
  counters: Record<string, number>,
  status: FeedStatus,
  notes: string[],
  td: Teardown,
): LiveplayReport {
  const byResult: Record<string, number> = {};
  const all: number[] = [];
  let completed = 0;
  let timedOut = 0;
  let mismatched = 0;
  let notRun = 0;
  let reqBytes = 0;
  let respBytes = 0;
  let turnsTotal = 0;
  const perFlow: FlowReport[] = played.map((s, i) => {
    const r = results[i];
    byResult[r.result] = (byResult[r.result] ?? 0) + 1;
    const lats: number[] = [];
    let first: FlowReport["first_mismatch"] = null;
    r.turns.forEach((t, k) => {
      turnsTotal++;
      reqBytes += s.turns[k].reqLen;
      respBytes += s.turns[k].respLen;
      if (t.latencyUs !== null) {
        completed++;
        // A turn without a response (e.g. "quit") ends when the stack took its bytes: no latency.
        if (s.turns[k].respLen > 0) lats.push(t.latencyUs);
      } else if (t.timedOut) timedOut++;
      else notRun++;
      if (t.mismatchAt !== null) {
        mismatched++;
        if (!first) {
          const tr = s.turns[k];
          const at = tr.respOff + t.mismatchAt;
          first = {
            turn: k,
            offset: t.mismatchAt,
            expected:
              t.mismatchAt >= tr.respLen
                ? "(end of the captured response)"
                : printable(s.server.subarray(at, Math.min(at + 24, tr.respOff + tr.respLen))),
          };
        }
      }
    });
    lats.sort((a, b) => a - b);
    all.push(...lats);
    return {
      n: i,
      capture: s.name,
      result: r.result,
      success: r.result === "ok",
      turns: s.turns.length,
      completed: r.turns.filter((t) => t.latencyUs !== null).length,
      timeouts: r.timeouts,
      mismatches: r.mismatches,
      first_mismatch: first,
      extra_bytes: r.extraBytes,
      open_end: s.openEnd,
      beyond_capture_bytes: r.beyondBytes,
      latency_us: {
        p50: percentile(lats, 0.5),
        p99: percentile(lats, 0.99),
        max: lats.length ? lats[lats.length - 1] : null,
      },
      connect_us: r.connectUs,
      close: s.close + (r.closeTimedOut ? " (timed out: aborted)" : ""),
      dead: r.dead,
    };
  });
  all.sort((a, b) => a - b);
  const succeeded = perFlow.filter((f) => f.success).length;
  return {
    schema: LIVEPLAY_SCHEMA,
    trace: o.file,
    server: `${o.server.addr}:${o.server.port}`,
    ifname: o.ifname,
    netns: o.netns ?? null,
    core_ip: `${o.ip.addr}/${o.ip.len}`,
    speed: speedName(o.speed),
    concurrency: fo.concurrency,
    compare: o.compare,
    timeout_ms: o.timeoutMs,
    sessions_in_capture: sessions.sessions.length,
    skipped: sessions.skipped,
    flows: {
      played: played.length,
      succeeded,
      failed: played.length - succeeded,
      by_result: byResult,
      open_ended: perFlow.filter((f) => f.open_end).length,
    },
    turns: { total: turnsTotal, completed, timed_out: timedOut, mismatched, not_run: notRun },
    bytes: {
      requests: reqBytes,
      responses_expected: respBytes,
      requests_sent: status.txBytes,
      responses_received: status.rxBytes,
      beyond_capture: perFlow.reduce((a, f) => a + f.beyond_capture_bytes, 0),
    },
    latency_us: {
      samples: all.length,
      p50: percentile(all, 0.5),
      p99: percentile(all, 0.99),
      max: all.length ? all[all.length - 1] : null,
      mean: all.length ? Math.round(all.reduce((a, b) => a + b, 0) / all.length) : null,
    },
    duration_s: wallS,
    stop_reason: stopReason,
    per_flow: perFlow,
    counters,
    error: error ?? sessions.error,
    notes,
    cleanup_errors: td.errors,
  };
}

export function formatLiveplay(r: LiveplayReport, maxRows = 20): string {
  const rows: [string, string | number][] = [
    ["capture", `${r.trace}: ${r.sessions_in_capture} session(s) toward the port, ${r.flows.played} played`],
    ["server", `${r.server} via ${r.ifname}${r.netns ? ` (namespace ${r.netns})` : ""}, core ${r.core_ip}`],
    [
      "speed / concurrency",
      `${r.speed} / ${r.concurrency}; compare ${r.compare}, timeout ${r.timeout_ms} ms`,
    ],
    [
      "flows",
      `${r.flows.succeeded} succeeded, ${r.flows.failed} failed (${Object.entries(r.flows.by_result)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")})`,
    ],
    [
      "turns",
      `${r.turns.completed}/${r.turns.total} answered; timed out ${r.turns.timed_out}, mismatched ${r.turns.mismatched}, not run ${r.turns.not_run}`,
    ],
    [
      "bytes requests / responses",
      `sent ${r.bytes.requests_sent} of ${r.bytes.requests} / received ${r.bytes.responses_received} of ${r.bytes.responses_expected} captured`,
    ],
    [
      "latency µs p50/p99/max",
      `${r.latency_us.p50 ?? "-"} / ${r.latency_us.p99 ?? "-"} / ${r.latency_us.max ?? "-"} (${r.latency_us.samples} turns)`,
    ],
    ["duration", `${r.duration_s.toFixed(3)} s (${r.stop_reason})`],
  ];
  if (r.flows.open_ended)
    rows.splice(6, 0, [
      "beyond the capture",
      `${r.bytes.beyond_capture} bytes answered after the capture's end, not compared ` +
        `(${r.flows.open_ended} of ${r.flows.played} sessions end before the server closed)`,
    ]);
  if (Object.keys(r.skipped).length)
    rows.push([
      "not played",
      Object.entries(r.skipped)
        .map(([k, v]) => `${v}: ${k}`)
        .join("; "),
    ]);
  if (r.error) rows.push(["error", r.error]);
  const w = Math.max(...rows.map(([k]) => k.length));
  let s = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n";
  const show = r.per_flow
    .filter((f) => !f.success)
    .concat(r.per_flow.filter((f) => f.success))
    .slice(0, maxRows);
  if (show.length) {
    s += "\n  # result      turns  p50 µs  p99 µs  session / first mismatch\n";
    for (const f of show) {
      s += `${String(f.n).padStart(3)} ${f.result.padEnd(12)}${`${f.completed}/${f.turns}`.padStart(6)}${String(f.latency_us.p50 ?? "-").padStart(8)}${String(f.latency_us.p99 ?? "-").padStart(8)}  ${f.capture}`;
      if (f.first_mismatch)
        s += `; turn ${f.first_mismatch.turn} differs at byte ${f.first_mismatch.offset} (captured: ${f.first_mismatch.expected})`;
      if (f.beyond_capture_bytes) s += `; ${f.beyond_capture_bytes} bytes beyond the capture`;
      s += "\n";
    }
    if (r.per_flow.length > show.length)
      s += `  (${r.per_flow.length - show.length} more in --report json)\n`;
  }
  return s;
}
