// `ixwasm tap`: one WASM core on a Linux tap, serving real kernel clients.
//
// The core is the far end of the tap: it owns --ip (and --ip6) and the MAC;
// the tap interface is the kernel's side (in --netns, with --peer-ip). Each
// round takes every queue in turn: read(2) up to 64 frames straight into the
// posted RX mbufs, one core poll, then write(2) every frame that poll
// transmitted on that same queue (the kernel steers a flow to the queue it was
// last written on, so a reply goes back on its request's arrival queue). With
// several queues one core serves them all round-robin until multi-worker tap
// exists. When a round finds nothing it spins for --spin-us, then blocks in
// poll(2) on all queues (bounded so the core's timers keep running).
import { serverAppBytes, stackConfig } from "../stack-config.ts";
import { createCore, type CoreConfig } from "../core.ts";
import { Nic } from "../dispatch/nic.ts";
import { UsageError } from "../io/errors.ts";
import { TapDevice } from "../io/tap.ts";
import { checkFree, setupLink, Teardown, type Cidr } from "../io/netns.ts";
import { readBatchHistogram, readCounters, type Counters } from "../report/counters.ts";

export const TAP_SCHEMA = "ixwasm-tap/1";
export const APPS = { echo: 1, sink: 2, memcached: 3 } as const;
export type TapApp = keyof typeof APPS;
const DEFAULT_PORTS: Record<TapApp, number> = { echo: 7, sink: 9, memcached: 11211 };

const RX_BURST = 64; // IX's batch bound, as the core's
const MBUF_DATA = 2048; // one frame per mbuf: frames ≤ 2048 B, so MTU ≤ 2034
export const MAX_MTU = MBUF_DATA - 14;
const SLICE_MS = 20; // run this long between turns of the event loop (signals, stats)
const MAX_WAIT_MS = 5; // longest block in poll(2): the core's timers run at least this often

export interface TapOptions {
  ifname: string;
  ip: Cidr;
  ip6?: Cidr;
  mac: Buffer;
  queues: number;
  app: TapApp;
  /** 0: the app's usual port. */
  port: number;
  netns?: string;
  peerIp?: Cidr;
  peerIp6?: Cidr;
  /** 0: until SIGINT/SIGTERM. */
  durationS: number;
  mtu: number;
  conns: number;
  spinUs: number;
  /** Count TX frames written on another queue than their flow's last arrival (parses headers: tests only). */
  checkQueues: boolean;
  /** A stats line on stderr every this many ms (0: never). */
  statsMs: number;
  debug?: boolean;
}

export interface QueueReport {
  queue: number;
  rx_frames: number;
  tx_frames: number;
  read_errors: number;
  write_errors: number;
  /** --check-queues: IPv4 TCP/UDP frames written on another queue than their flow last arrived on. */
  misrouted: number | null;
}

export interface TapReport {
  schema: typeof TAP_SCHEMA;
  ifname: string;
  netns: string | null;
  ip: string;
  ip6: string | null;
  mac: string;
  app: TapApp;
  port: number;
  queues: number;
  mtu: number;
  duration_s: number;
  stop_reason: "duration" | "signal" | "error";
  rx_frames: number;
  tx_frames: number;
  rx_bytes: number;
  tx_bytes: number;
  rx_pps: number;
  tx_pps: number;
  per_queue: QueueReport[];
  host: {
    rounds: number;
    core_polls: number;
    read_calls: number;
    empty_reads: number;
    write_calls: number;
    poll_waits: number;
    wait_ms: number;
    core_ms: number;
    /** Time outside the core and outside poll(2): mostly read/write syscalls. */
    io_ms: number;
    rx_ring_full: number;
    spin_us: number;
  };
  batch_histogram: number[];
  counters: Partial<Counters>;
  error: string | null;
  /** Setup steps that did not work but did not stop the run (e.g. ethtool missing). */
  notes: string[];
  cleanup_errors: string[];
}

/** Sizes a server core for `conns` concurrent connections (host/stack-config.ts). */
export function tapConfig(o: TapOptions): Partial<CoreConfig> {
  const ringSlots = 512; // ≥ 64 frames in flight RX; TX gets one poll's output (echo of a full batch and its ACKs)
  const mss4 = o.mtu - 40;
  return {
    ...stackConfig(o.conns, ringSlots),
    app: APPS[o.app],
    appPort: o.port || DEFAULT_PORTS[o.app],
    appBytes: serverAppBytes(o.app, o.conns),
    macLo: o.mac.readUInt32LE(0),
    macHi: o.mac.readUInt16LE(4),
    ipv4: o.ip.bytes.readUInt32LE(0),
    ...(o.ip6
      ? {
          ipv6_0: o.ip6.bytes.readUInt32LE(0),
          ipv6_1: o.ip6.bytes.readUInt32LE(4),
          ipv6_2: o.ip6.bytes.readUInt32LE(8),
          ipv6_3: o.ip6.bytes.readUInt32LE(12),
        }
      : {}),
    mss: mss4,
  };
}

function pick(c: Counters): Partial<Counters> {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== 0)) as Partial<Counters>;
}

function macText(m: Buffer): string {
  return [...m].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Checks what can be checked before anything is created. */
export function checkTapOptions(o: TapOptions): void {
  if (process.getuid && process.getuid() !== 0)
    throw new UsageError(
      "not running as root",
      "tap devices and namespaces need root (CAP_NET_ADMIN): run with sudo",
    );
  if (o.queues < 1 || o.queues > 16)
    throw new UsageError(`--queues ${o.queues} is out of range`, "use 1 to 16");
  if (o.mtu < 576 || o.mtu > MAX_MTU)
    throw new UsageError(
      `--mtu ${o.mtu} is out of range`,
      `use 576 to ${MAX_MTU} (a frame must fit one 2048-byte mbuf; jumbo frames need chained RX mbufs, not done)`,
    );
  if (o.port < 0 || o.port > 65535) throw new UsageError(`--port ${o.port} is not a port`, "use 1 to 65535");
  if (o.conns < 1 || o.conns > 60000)
    throw new UsageError(`--conns ${o.conns} is out of range`, "use 1 to 60000");
  checkFree(
    { ifname: o.ifname, netns: o.netns, peerIp: o.peerIp, peerIp6: o.peerIp6, mtu: o.mtu, ipv6: !!o.ip6 },
    [o.ip, ...(o.ip6 ? [o.ip6] : [])],
  );
}

export interface TapRun {
  /** Resolves with the report once the run ends (duration, stop(), or an error after setup). */
  done: Promise<TapReport>;
  stop(reason?: "signal"): void;
}

/** Sets everything up (throws a UsageError on the first problem, with everything created so far removed) and starts serving. */
export function startTap(o: TapOptions, onReady?: (line: string) => void): TapRun {
  checkTapOptions(o);
  // The core first: a config it refuses must fail before anything exists on the host.
  const core = createCore(tapConfig(o), { debug: o.debug });
  const nic = new Nic(core);
  const td = new Teardown();
  // Last resort if the process exits without finish() (steps already run are gone from the list).
  process.once("exit", () => td.run());
  let tap: TapDevice | null = null;
  let notes: string[] = [];
  try {
    tap = TapDevice.open({ ifname: o.ifname, queues: o.queues });
    const dev = tap;
    td.add(`close ${o.ifname}`, () => dev.close());
    notes = setupLink(
      { ifname: o.ifname, netns: o.netns, peerIp: o.peerIp, peerIp6: o.peerIp6, mtu: o.mtu, ipv6: !!o.ip6 },
      td,
    );
  } catch (e) {
    td.run();
    throw e;
  }
  return serve(o, tap, core, nic, td, notes, onReady);
}

function serve(
  o: TapOptions,
  tap: TapDevice,
  core: ReturnType<typeof createCore>,
  nic: Nic,
  td: Teardown,
  notes: string[],
  onReady?: (line: string) => void,
): TapRun {
  const Q = o.queues;
  const poll = core.exports.poll as (nowNs: number) => number;
  const base = tap.address(core.u8);
  const u8 = core.u8;
  const rxq = new Array<number>(Q).fill(0);
  const txq = new Array<number>(Q).fill(0);
  const misrouted = new Array<number>(Q).fill(0);
  const flowQueue = new Map<number, number>(); // --check-queues: peer ip ^ port → last arrival queue
  const h = {
    rounds: 0,
    polls: 0,
    reads: 0,
    empty: 0,
    writes: 0,
    waits: 0,
    waitMs: 0,
    coreMs: 0,
    ringFull: 0,
  };
  let curQ = 0;
  let txThisRound = 0;
  const t0 = performance.now();
  const nowNs = () => (performance.now() - t0) * 1e6;

  // Key of the peer side of an IPv4 TCP/UDP frame at off (src when rx, dst when tx), or -1.
  const peerKey = (off: number, rx: boolean): number => {
    if (u8[off + 12] !== 0x08 || u8[off + 13] !== 0x00) return -1;
    const ihl = (u8[off + 14] & 15) * 4;
    const proto = u8[off + 23];
    if (proto !== 6 && proto !== 17) return -1;
    const ip = off + (rx ? 26 : 30);
    const port = off + 14 + ihl + (rx ? 0 : 2);
    return (
      (((u8[ip] << 24) | (u8[ip + 1] << 16) | (u8[ip + 2] << 8) | u8[ip + 3]) >>> 0) * 65536 +
      ((u8[port] << 8) | u8[port + 1]) +
      proto * 2 ** 48
    );
  };

  const sendOne = (_mem: Uint8Array, off: number, len: number) => {
    h.writes++;
    if (tap.write(curQ, base + off, len)) {
      txq[curQ]++;
      if (o.checkQueues) {
        const k = peerKey(off, false);
        if (k >= 0) {
          const q = flowQueue.get(k);
          if (q !== undefined && q !== curQ) misrouted[curQ]++;
        }
      }
    }
  };

  /** One queue: read a batch into the RX ring, run the core once, write its output on this queue. */
  const serveQueue = (q: number): number => {
    let n = 0;
    while (n < RX_BURST) {
      const off = nic.rxNextData();
      if (off < 0) {
        h.ringFull++;
        break;
      }
      h.reads++;
      const len = tap.read(q, base + off, MBUF_DATA);
      if (len <= 0) {
        if (len === 0) h.empty++;
        break;
      }
      if (o.checkQueues) {
        const k = peerKey(off, true);
        if (k >= 0) flowQueue.set(k, q);
      }
      nic.rxFill(len);
      n++;
    }
    if (n) nic.rxCommit();
    rxq[q] += n;
    const c0 = performance.now();
    poll((c0 - t0) * 1e6);
    h.coreMs += performance.now() - c0;
    h.polls++;
    curQ = q;
    const tx = nic.txDrain(sendOne);
    txThisRound += tx;
    return n + tx;
  };

  // Announce ourselves so the kernel's ARP entry (if any) is fresh.
  (core.exports.arpAnnounce as () => void)();
  serveQueue(0);

  let stopReason: TapReport["stop_reason"] | null = null;
  let error: string | null = null;
  let lastWork = performance.now();
  const deadline = o.durationS > 0 ? t0 + o.durationS * 1000 : Infinity;
  let resolveDone!: (r: TapReport) => void;
  const done = new Promise<TapReport>((r) => (resolveDone = r));

  let lastStats = { t: t0, rx: 0, tx: 0 };
  const statsTimer =
    o.statsMs > 0
      ? setInterval(() => {
          const now = performance.now();
          const rx = rxq.reduce((a, b) => a + b, 0);
          const tx = txq.reduce((a, b) => a + b, 0);
          const dt = (now - lastStats.t) / 1000;
          const c = readCounters(core);
          process.stderr.write(
            `\r${o.ifname}: rx ${rx} (${Math.round((rx - lastStats.rx) / dt)}/s) tx ${tx} (${Math.round((tx - lastStats.tx) / dt)}/s)` +
              ` tcp opens ${c.tcp_passive_opens} rst ${c.tcp_rst_sent} retx ${c.tcp_retransmits} drops ${c.rx_drop_nombuf + c.not_for_us}   `,
          );
          lastStats = { t: now, rx, tx };
        }, o.statsMs)
      : null;

  const finish = () => {
    if (statsTimer) {
      clearInterval(statsTimer);
      process.stderr.write("\n");
    }
    const wallMs = performance.now() - t0;
    const c = readCounters(core);
    const rx = rxq.reduce((a, b) => a + b, 0);
    const tx = txq.reduce((a, b) => a + b, 0);
    td.run();
    const s = wallMs / 1000;
    resolveDone({
      schema: TAP_SCHEMA,
      ifname: o.ifname,
      netns: o.netns ?? null,
      ip: `${o.ip.addr}/${o.ip.len}`,
      ip6: o.ip6 ? `${o.ip6.addr}/${o.ip6.len}` : null,
      mac: macText(o.mac),
      app: o.app,
      port: o.port || DEFAULT_PORTS[o.app],
      queues: Q,
      mtu: o.mtu,
      duration_s: s,
      stop_reason: stopReason ?? "error",
      rx_frames: rx,
      tx_frames: tx,
      rx_bytes: c.rx_bytes,
      tx_bytes: c.tx_bytes,
      rx_pps: rx / s,
      tx_pps: tx / s,
      per_queue: rxq.map((r, q) => ({
        queue: q,
        rx_frames: r,
        tx_frames: txq[q],
        read_errors: tap.readErrors[q],
        write_errors: tap.writeErrors[q],
        misrouted: o.checkQueues ? misrouted[q] : null,
      })),
      host: {
        rounds: h.rounds,
        core_polls: h.polls,
        read_calls: h.reads,
        empty_reads: h.empty,
        write_calls: h.writes,
        poll_waits: h.waits,
        wait_ms: h.waitMs,
        core_ms: h.coreMs,
        io_ms: Math.max(0, wallMs - h.waitMs - h.coreMs),
        rx_ring_full: h.ringFull,
        spin_us: o.spinUs,
      },
      batch_histogram: readBatchHistogram(core),
      counters: pick(c),
      error,
      notes,
      cleanup_errors: td.errors,
    });
  };

  const slice = () => {
    try {
      const end = Math.min(performance.now() + SLICE_MS, deadline);
      for (;;) {
        const now = performance.now();
        if (stopReason || now >= end) break;
        txThisRound = 0;
        let work = 0;
        for (let q = 0; q < Q; q++) work += serveQueue(q);
        h.rounds++;
        if (work) lastWork = now;
        else if (now - lastWork > o.spinUs / 1000) {
          // Nothing for a while: sleep in poll(2) until a frame comes or the timers need a turn.
          const ms = Math.max(0, Math.min(MAX_WAIT_MS, Math.floor(end - now)));
          const w0 = performance.now();
          tap.wait(ms);
          h.waits++;
          h.waitMs += performance.now() - w0;
        }
      }
      if (!stopReason && performance.now() >= deadline) stopReason = "duration";
    } catch (e) {
      error = (e as Error).message;
      stopReason = "error";
    }
    if (stopReason) finish();
    else setImmediate(slice);
  };

  onReady?.(
    `ixwasm tap: ${o.ifname}${o.netns ? ` in namespace ${o.netns}` : ""}${o.peerIp ? ` (kernel side ${o.peerIp.addr})` : ""}: core ${o.ip.addr}` +
      `${o.ip6 ? ` ${o.ip6.addr}` : ""} mac ${macText(o.mac)}, app ${o.app} port ${o.port || DEFAULT_PORTS[o.app]}, ${Q} queue(s): ready`,
  );
  setImmediate(slice);
  return {
    done,
    stop(reason = "signal") {
      if (!stopReason) stopReason = reason;
    },
  };
}

export function formatTap(r: TapReport): string {
  const rows: [string, string | number][] = [
    [
      "interface",
      `${r.ifname}${r.netns ? ` (namespace ${r.netns})` : ""}, ${r.queues} queue(s), MTU ${r.mtu}`,
    ],
    ["core", `${r.ip}${r.ip6 ? ` ${r.ip6}` : ""} ${r.mac}, app ${r.app} port ${r.port}`],
    ["duration", `${r.duration_s.toFixed(3)} s (${r.stop_reason})`],
    ["frames in / out", `${r.rx_frames} / ${r.tx_frames}`],
    ["bytes in / out", `${r.rx_bytes} / ${r.tx_bytes}`],
    ["frames/s in / out", `${Math.round(r.rx_pps)} / ${Math.round(r.tx_pps)}`],
    [
      "time core / io / waiting",
      `${r.host.core_ms.toFixed(1)} / ${r.host.io_ms.toFixed(1)} / ${r.host.wait_ms.toFixed(1)} ms`,
    ],
    [
      "tcp opens / resets sent / retransmits",
      `${r.counters.tcp_passive_opens ?? 0} / ${r.counters.tcp_rst_sent ?? 0} / ${r.counters.tcp_retransmits ?? 0}`,
    ],
  ];
  for (const q of r.per_queue)
    rows.push([
      `queue ${q.queue} rx / tx`,
      `${q.rx_frames} / ${q.tx_frames}${q.read_errors + q.write_errors ? `  (errors: read ${q.read_errors}, write ${q.write_errors})` : ""}${q.misrouted !== null ? `  misrouted ${q.misrouted}` : ""}`,
    ]);
  if (r.error) rows.push(["error", r.error]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n";
}
