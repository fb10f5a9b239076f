// `ixwasm replay`: a capture through the WASM core, in one of three modes.
//
//   raw    parse, Toeplitz hash, RETA → worker, count (assembly/replay/raw.ts)
//   track  + symmetric flow lookup and passive TCP state tracking (replay/track.ts)
//   serve  the core plays every server (not available yet: see runServe below)
//
// The host only moves batches: the reader frames up to 4096 records into
// descriptors, the core processes them in one call, and the host times each
// call (performance.now() around it, never per packet). Per-packet JS runs only
// for what is per packet by nature: pacing schedules (paced speeds) and --out.
//
// Workers: raw and track run in this thread on one core; --workers N sizes the
// RETA (128 flow groups → N workers) and the core counts each packet on the
// worker its flow hashes to, so the split is what N worker threads would get.
// Worker threads arrive with serve mode's worker pool.
//
// Time: at --speed top the core's clock is the capture's timestamps (output is
// deterministic); at paced speeds it is the wall clock, and --out timestamps are
// the wall-clock time the core processed the frame.
//
// --loop N: pass k (0-based) rewrites each TCP/UDP client port to port + k (the
// core does it, see assembly/replay/common.ts) and shifts timestamps by
// k × (whole seconds the capture spans + 1), so every pass is a distinct set of
// conversations later in time.
import { cpus } from "node:os";
import type { Core } from "../core.ts";
import { createCore, SCRATCH_BASE } from "../core.ts";
import { TraceError, UsageError } from "../io/errors.ts";
import { DESC_BYTES, TraceReader } from "../io/reader.ts";
import { TraceWriter } from "../io/writer.ts";
import { readCounters } from "../report/counters.ts";
import { buildReport, type ReplayReport, type RunStats } from "../report/replay.ts";
import { checkFile } from "./common.ts";
import { stageTiming } from "../report/stages.ts";
import { Nic } from "../dispatch/nic.ts";
import { FidelityMeter } from "../report/fidelity.ts";
import {
  MirrorFeed,
  mirrorAppBytes,
  FR_DATA,
  FR_FIN,
  FR_FLOW,
  FR_RST,
  type MirrorStatus,
} from "../trace/mirror-feed.ts";
import {
  prescan,
  dirKey,
  scanCoreConfig,
  SUM_F_FRAG,
  SUM_F_PAYLOAD,
  SUM_F_IP,
  SUM_F_NOT_PACKET,
  SUM_F_PORTS,
  SUM_F_TCP,
  SUM_F_TRUNC,
  SUM_F_UNKNOWN_LINK,
  TCP_ACK,
  TCP_SYN,
  TCP_FIN,
  TCP_RST,
  type FlowInfo,
  type Prescan,
} from "../trace/prescan.ts";

export type ReplayMode = "raw" | "track" | "serve";
export const MODE_WORDS: Record<ReplayMode, number> = { raw: 1, track: 2, serve: 3 }; // assembly/replay/common.ts MODE_*
export const APPS = ["mirror", "echo", "memcached", "sink"] as const;

export type Speed =
  | { kind: "top" }
  | { kind: "realtime" }
  | { kind: "multiplier"; factor: number }
  | { kind: "pps"; rate: number }
  | { kind: "mbps"; rate: number };

/** top | realtime | xK | pps:N | mbps:N; throws UsageError with the accepted forms. */
export function parseSpeed(s: string): Speed {
  const bad = () =>
    new UsageError(`bad --speed ${JSON.stringify(s)}`, "use top, realtime, xK (e.g. x10), pps:N or mbps:N");
  if (s === "top") return { kind: "top" };
  if (s === "realtime") return { kind: "realtime" };
  let m = /^x(\d+(?:\.\d+)?)$/.exec(s);
  if (m) {
    const factor = Number(m[1]);
    if (!(factor > 0)) throw bad();
    return { kind: "multiplier", factor };
  }
  m = /^(pps|mbps):(\d+(?:\.\d+)?)$/.exec(s);
  if (m) {
    const rate = Number(m[2]);
    if (!(rate > 0)) throw bad();
    return m[1] === "pps" ? { kind: "pps", rate } : { kind: "mbps", rate };
  }
  throw bad();
}

export function speedName(s: Speed): string {
  switch (s.kind) {
    case "multiplier":
      return `x${s.factor}`;
    case "pps":
      return `pps:${s.rate}`;
    case "mbps":
      return `mbps:${s.rate}`;
    default:
      return s.kind;
  }
}

export interface ReplayOptions {
  mode: ReplayMode;
  app?: string | null;
  workers?: number;
  speed?: Speed;
  loop?: number;
  out?: string;
  /** --out holds input and output interleaved by time (input frame first at equal times). */
  outMerged?: boolean;
  /** Flow-table capacity (track). */
  flows?: number;
  /** A progress line on stderr (the CLI sets it for a TTY without --report json). */
  progress?: boolean;
  /** Records per batch (default: the reader's 4096). */
  batch?: number;
  // ---- stage-cost plumbing (host/report/stages.ts, cost.ts) ----
  /** Turn the core's stage timers on (with batchExport naming a timed batch function, assembly/stats/staged.ts). */
  /** serve: the pre-scan already made (the CLI makes one to choose the default mode). */
  prescan?: Prescan;
  stages?: boolean;
  /** Core export to call per batch instead of the mode's (timed passes, cost-ladder rungs). */
  batchExport?: string;
  /** After each core call: packets, the call's ms (host clock), performance.now() after it. */
  onBatch?: (core: Core, n: number, callMs: number, t: number) => void;
  /** Once at the end, before the report is built: the core (to read its stage timers). */
  onEnd?: (core: Core) => void;
}

// ---- serve mode -------------------------------------------------------------------
// The pre-scan (host/trace/prescan.ts) learns each flow's handshake; the replay
// pass below then reads the capture once more, in order:
//  - a client→server packet of a served flow goes into the core's RX ring (the
//    core's clock is the packet's capture time); before a flow's SYN, the host
//    presets the flow's ISN and options (tcpPreset) and announces the flow to
//    the mirror app (a FR_FLOW record);
//  - a server→client packet is the reference: its payload goes to the mirror
//    app through the feed ring (host/trace/mirror-feed.ts), with the client
//    stream offset it acknowledged, and it is scored against what the core
//    sends (host/report/fidelity.ts);
//  - before the next client packet enters, the core is polled until the mirror
//    has sent every recorded segment that is due (one per flow per poll: see
//    assembly/apps/mirror.ts), so the capture's next client ACK finds the data
//    it acknowledges already sent;
//  - anything else (flows without a handshake, UDP, ICMP...) is not served and
//    is counted as tracked; frames the decoder cannot take are dropped with a reason.
// With --app echo|memcached|sink the real app answers (listening on every port)
// and every flow whose SYN is in the capture is served; server packets of the
// capture are then only counted.
export type { Prescan } from "../trace/prescan.ts";

const EV_TIMER = 7; // assembly/api/abi.ts: the kick that makes the app read its feed
const KICK_COOKIE = 0xffffffff;
const APP_IDS: Record<string, number> = { echo: 1, sink: 2, memcached: 3, mirror: 4 };
/** dst 02:00:00:00:00:02 (the server), src 02:00:00:00:00:01 (the client): locally administered. */
const FAKE_MACS = new Uint8Array([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
const SERVE_DROPS = ["not_packet", "unknown_link", "non_ip", "ip_truncated"] as const;

export interface ServeStats {
  delivered: number;
  reference: number;
  tracked: number;
  presets_failed: number;
  polls: number;
  flows_unserved_why: Record<string, number>;
  mirror: MirrorStatus | null;
  /** The serving core's non-zero counters (drops by reason, TCP events). */
  counters?: Record<string, number>;
}

/** The counters of one replay run, all zero (serve and raw/track alike). */
function newRunStats(
  path: string,
  mode: RunStats["mode"],
  workers: number,
  speed: Speed,
  loops: number,
  error: RunStats["error"],
  out: string | undefined,
): RunStats {
  return {
    path,
    mode,
    workers,
    speed: speedName(speed),
    loops,
    format: "",
    linktypes: [],
    readMs: 0,
    procMs: 0,
    outMs: 0,
    waitMs: 0,
    wallMs: 0,
    batches: new Map(),
    packetsOut: 0,
    bytesOut: 0,
    firstTs: null,
    lastTs: null,
    pacing: null,
    latency: null,
    error,
    outFile: out ?? null,
  };
}

export function serveCoreConfig(served: number, app: string) {
  const conns = Math.max(1, served);
  const tcbs = Math.min(conns + 256, 1 << 17);
  const appBytes =
    app === "mirror"
      ? mirrorAppBytes(conns, 64 << 20)
      : app === "memcached"
        ? (64 << 20) + Math.min(conns, 65536) * 8192
        : (1 << 20) + Math.min(conns, 65536) * 4096;
  return {
    ...scanCoreConfig(),
    mbufs: 8192,
    ringSlots: 1024,
    flows: tcbs * 2,
    tcbs,
    timers: 64,
    spans: 1 << 16,
    evqSlots: 8192,
    neighSlots: 256,
    app: APP_IDS[app],
    appBytes,
    appConns: app === "mirror" ? conns : Math.min(conns, 65536),
    // The capture's client sent within the original server's window: ours must
    // not be smaller, or its data would fall outside (RFC 9293 §3.10.7.4).
    rcvbuf: 1 << 22,
    mslMs: 1000, // TIME-WAIT 2 s of capture time: a reused 4-tuple can be preset again
    // 1 symmetric RSS, 4 any address (take on every server), 8 no checksum check (offload captures)
    flags: 1 | 4 | 8,
    mode: MODE_WORDS.serve,
  };
}

type FlowList = FlowInfo[] & { cur?: number };
interface ServeFlow extends FlowInfo {
  started?: boolean;
  /** Sequence number just past the last byte (or SYN/FIN) the core has sent on this flow. */
  sentEnd?: number;
}

/** serve mode: one replay pass with the pre-scan's flows (see above). */
export function runServe(path: string, pre: Prescan, opts: ReplayOptions): ReplayReport {
  const app = opts.app ?? "mirror";
  const mirror = app === "mirror";
  const workers = opts.workers ?? 1;
  const speed = opts.speed ?? { kind: "top" };
  if (speed.kind !== "top")
    throw new UsageError(`--speed ${speedName(speed)} is not available in serve mode yet`, "use --speed top");
  if ((opts.loop ?? 1) !== 1)
    throw new UsageError("--loop is not available in serve mode yet", "drop --loop");
  // With a real app, a flow needs only its SYN: the app answers, there is nothing to compare.
  let served = pre.served;
  const why: Record<string, number> = { ...pre.unservedWhy };
  if (!mirror) {
    served = 0;
    for (const list of pre.byKey.values())
      for (const f of list) {
        if (f.why === "no SYN-ACK") {
          why[f.why]--;
          f.why = null;
        }
        f.id = f.why === null ? served++ : -1;
      }
    for (const k of Object.keys(why)) if (!why[k]) delete why[k];
  }
  const core = createCore(serveCoreConfig(served, app));
  if (opts.stages) stageTiming(core, true); // stage cost: poll()'s sections (host/report/stages.ts)
  const ex = core.exports as unknown as Record<string, (...a: number[]) => number>;
  const poll = ex.poll;
  const decode = ex.decodeBatch;
  const preset = ex.tcpPreset;
  const kick = ex.appTestEvent;
  if (!mirror) ex.tcpListen(0);
  const nic = new Nic(core);
  const feed = mirror ? new MirrorFeed(core) : null;
  // tcpPreset's key goes through the mirror's scratch, or the control block's
  // host-owned scratch area when there is no mirror (no hashBatch runs here).
  const keyScratch = (key: Uint8Array): number => {
    if (feed) return feed.keyScratch(key);
    u8.set(key, SCRATCH_BASE);
    return SCRATCH_BASE;
  };
  const fid = mirror ? new FidelityMeter() : null;
  const u8 = core.u8;
  const u32 = core.u32;
  const f64 = core.f64;
  const descW = core.regions.desc.offset >>> 2;
  const sumW = core.regions.decode.offset >>> 2;

  const st = newRunStats(path, "serve", workers, speed, 1, pre.error, opts.out);
  const sv: ServeStats = {
    delivered: 0,
    reference: 0,
    tracked: 0,
    presets_failed: 0,
    polls: 0,
    flows_unserved_why: why,
    mirror: null,
  };
  const drops: Record<string, number> = Object.fromEntries(SERVE_DROPS.map((r) => [r, 0]));
  let packetsIn = 0;
  let bytesIn = 0;
  let sink: OutputSink | null = null;
  let baseSec = NaN;
  let nowNs = 0;
  let rxQueued = 0;
  let feedDue = false;

  // Transmitted frames: scored against the capture (mirror) and written (--out).
  const onTx = (mem: Uint8Array, off: number, len: number) => {
    st.packetsOut++;
    st.bytesOut += len;
    if (sink) {
      const sec = baseSec + Math.floor(nowNs / 1e9);
      sink.output(mem, off, len, len, 1, sec, nowNs % 1e9);
    }
    scoreTx(mem, off, len); // fidelity (mirror) and each flow's sentEnd (every app)
  };
  const scoreTx = (m: Uint8Array, o: number, len: number) => {
    let et = (m[o + 12] << 8) | m[o + 13];
    let l3 = o + 14;
    if (et === 0x8100) {
      et = (m[o + 16] << 8) | m[o + 17];
      l3 += 4;
    }
    let l4: number, end: number, sa: number, da: number, v6: boolean;
    if (et === 0x0800 && m[l3 + 9] === 6) {
      v6 = false;
      l4 = l3 + (m[l3] & 15) * 4;
      end = l3 + ((m[l3 + 2] << 8) | m[l3 + 3]);
      sa = l3 + 12;
      da = l3 + 16;
    } else if (et === 0x86dd && m[l3 + 6] === 6) {
      v6 = true;
      l4 = l3 + 40;
      end = l4 + ((m[l3 + 4] << 8) | m[l3 + 5]);
      sa = l3 + 8;
      da = l3 + 24;
    } else return;
    end = Math.min(end, o + len);
    const sp = (m[l4] << 8) | m[l4 + 1];
    const dp = (m[l4 + 2] << 8) | m[l4 + 3];
    const k = `${addrWords(m, da, v6)}/${dp}>${addrWords(m, sa, v6)}/${sp}`;
    const list = pre.byKey.get(k) as FlowList | undefined;
    const f = list && list.cur !== undefined ? (list[list.cur] as ServeFlow) : undefined;
    if (!f || f.id < 0) return;
    const seq = ((m[l4 + 4] << 24) | (m[l4 + 5] << 16) | (m[l4 + 6] << 8) | m[l4 + 7]) >>> 0;
    const pay = Math.min(l4 + (m[l4 + 12] >>> 4) * 4, end);
    const tf = m[l4 + 13];
    const segEnd = (seq + (end - pay) + (tf & 2 ? 1 : 0) + (tf & 1 ? 1 : 0)) >>> 0;
    if (f.sentEnd === undefined || ((segEnd - f.sentEnd) | 0) > 0) f.sentEnd = segEnd;
    if (fid) fid.out(f, f.name, f.serverIsn, seq, tf, m.subarray(pay, end));
  };
  const doPoll = () => {
    const p0 = performance.now();
    const n = poll(nowNs);
    const p1 = performance.now();
    st.procMs += p1 - p0;
    sv.polls++;
    opts.onBatch?.(core, n, p1 - p0, p1); // stage cost: service times, timeline (host/report/cost.ts)
    bucket(st.batches, Math.max(1, n));
    nic.txDrain(onTx);
    st.outMs += performance.now() - p1;
    return n;
  };
  /** Polls until the RX frames are in and the mirror has nothing ready (bounded). */
  const settle = () => {
    nic.rxCommit();
    let taken = 0;
    let idle = 0;
    while (taken < rxQueued) {
      const n = doPoll();
      taken += n;
      if (n === 0 && ++idle > 4) break; // the core refuses frames (no mbufs): the counters say why
    }
    rxQueued = 0;
    if (!feed) return;
    if (feedDue) {
      kick(EV_TIMER, 0, KICK_COOKIE, 0, 0, 0, 0);
      doPoll();
      feedDue = false;
    }
    for (let i = 0; i < 4096 && feed.busy(); i++) {
      const s = feed.status();
      if (s.cmds === 0) kick(EV_TIMER, 0, KICK_COOKIE, 0, 0, 0, 0);
      doPoll();
    }
  };
  const feedPut = (
    kind: number,
    flow: number,
    off: number,
    req: number,
    src: Uint8Array | null,
    so: number,
    len: number,
    have = len,
  ) => {
    if (feed!.put(kind, flow, off, req, src, so, len, have)) return;
    feedDue = true;
    settle();
    if (!feed!.put(kind, flow, off, req, src, so, len, have))
      throw new TraceError(path, 0, packetsIn, "serve: the mirror app's feed is full (out of stream memory)");
  };

  /**
   * One client frame into the next RX mbuf. The stack takes Ethernet: frames of
   * other link types (raw IP, BSD loopback, Linux cooked) get a made-up
   * Ethernet header in front of their IP packet (the core accepts any address).
   */
  const deliver = (d: number, w: number, v6: boolean): boolean => {
    const frame = u32[d];
    const caplen = u32[d + 1];
    if ((u32[d + 3] & 0xffff) === 1) return nic.rxPut(u8, frame, caplen);
    const l3 = u32[w + 6] & 0xffff;
    const len = caplen - l3;
    if (len + 14 > 2048) return false;
    const p = nic.rxNextData();
    if (p < 0) return false;
    u8.set(FAKE_MACS, p);
    u8[p + 12] = v6 ? 0x86 : 0x08;
    u8[p + 13] = v6 ? 0xdd : 0x00;
    u8.copyWithin(p + 14, frame + l3, frame + caplen);
    nic.rxFill(len + 14);
    return true;
  };

  const progress = opts.progress ? new Progress() : null;
  const t0 = performance.now();
  let reader: TraceReader | null = null;
  try {
    reader = new TraceReader(path, core, opts.batch ? { batch: opts.batch } : {});
    st.format = reader.format;
    st.linktypes = reader.linktypes;
    for (;;) {
      const r0 = performance.now();
      const n = reader.next();
      if (n > 0) decode(n);
      st.readMs += performance.now() - r0;
      if (n === 0) break;
      if (opts.out && !sink) sink = new OutputSink(opts.out, !!opts.outMerged, 1);
      for (let i = 0; i < n; i++) {
        const d = descW + i * 8;
        const w = sumW + i * 16;
        const sec = f64[(d + 6) >>> 1];
        const nsec = u32[d + 4];
        if (Number.isNaN(baseSec)) {
          baseSec = Math.floor(sec);
          st.firstTs = sec + nsec / 1e9;
        }
        const t = (sec - baseSec) * 1e9 + nsec;
        packetsIn++;
        const fl = u32[w] & 0xffff;
        if (fl & SUM_F_NOT_PACKET) {
          drops.not_packet++;
          continue;
        }
        bytesIn += u32[d + 2];
        st.lastTs = sec + nsec / 1e9;
        // --out-merged: the capture's frames except the server segments the core replaced.
        const inp = () => sink?.input(u8, u32[d], u32[d + 1], u32[d + 2], u32[d + 3] & 0xffff, sec, nsec);
        if (fl & SUM_F_UNKNOWN_LINK) {
          inp();
          drops.unknown_link++;
          continue;
        }
        if (!(fl & SUM_F_IP)) {
          inp();
          if (fl & SUM_F_TRUNC) drops.ip_truncated++;
          else drops.non_ip++;
          continue;
        }
        if ((fl & (SUM_F_TCP | SUM_F_PORTS)) !== (SUM_F_TCP | SUM_F_PORTS) || fl & SUM_F_FRAG) {
          inp();
          sv.tracked++;
          continue;
        }
        const v6 = ((u32[w] >>> 16) & 0xff) === 6;
        const tflags = u32[w + 2] & 0xfff;
        const seq = u32[w + 3];
        let list = pre.byKey.get(dirKey(u32, w, v6, false)) as FlowList | undefined;
        if (list) {
          // Client → server. A SYN moves the list to the flow it opens.
          if (tflags & TCP_SYN && !(tflags & TCP_ACK)) {
            const from = list.cur ?? 0;
            for (let j = from; j < list.length; j++)
              if (list[j].clientIsn === seq) {
                list.cur = j;
                break;
              }
          }
          const f = list.cur === undefined ? undefined : (list[list.cur] as ServeFlow);
          inp();
          if (!f || f.id < 0 || !(f.started || (tflags & TCP_SYN && f.clientIsn === seq))) {
            sv.tracked++;
            continue;
          }
          if (!f.started) {
            f.started = true;
            if (feed) feedPut(FR_FLOW, f.id, 0, 0, f.key, 0, 40);
            // The captured server's ISN and options, for the mirror and for a real app alike:
            // with any other ISN the capture's client ACKs would not acknowledge our data
            // and the connection would be reset (RFC 9293 §3.10.7.3).
            if (f.synAckSeen) {
              const rc = preset(keyScratch(f.key), f.serverIsn, f.mss, f.wscale, +f.sackOk, +f.tsOk, f.tsVal);
              if (rc !== 0) sv.presets_failed++;
              f.sentEnd = f.serverIsn; // nothing sent yet: the client's first ACK waits for our SYN-ACK
            }
          }
          if (feedDue) settle();
          nowNs = Math.max(nowNs, t);
          // A real app answers inside the core: a client segment that acknowledges
          // bytes of the answer must not arrive before the core has sent them, or it
          // is dropped with its data (RFC 9293 §3.10.7.4, SEG.ACK > SND.NXT). Let the
          // core run until it has (bounded: an app that never answers does not stall us).
          if (!feed && tflags & TCP_ACK && f.sentEnd !== undefined && ((u32[w + 4] - f.sentEnd) | 0) > 0) {
            settle();
            for (let i = 0; i < 8 && ((u32[w + 4] - f.sentEnd) | 0) > 0; i++) doPoll();
          }
          if (!deliver(d, w, v6)) {
            settle();
            if (!deliver(d, w, v6)) {
              drops.non_ip++; // longer than an mbuf: the stack cannot take it
              continue;
            }
          }
          rxQueued++;
          sv.delivered++;
          continue;
        }
        list = pre.byKey.get(dirKey(u32, w, v6, true)) as FlowList | undefined;
        const f = list && list.cur !== undefined ? (list[list.cur] as ServeFlow) : undefined;
        if (!f || f.id < 0 || !f.started || !feed) {
          inp();
          if (f && f.id >= 0 && f.started) sv.reference++;
          else sv.tracked++;
          continue;
        }
        // Server → client: the reference.
        sv.reference++;
        if (rxQueued) settle();
        nowNs = Math.max(nowNs, t);
        const frame = u32[d];
        const l4 = frame + (u32[w + 6] >>> 16);
        const pay = l4 + (u8[l4 + 12] >>> 4) * 4;
        // Payload length from the headers; the captured part may be shorter (snap length).
        const plen = u32[w] & SUM_F_PAYLOAD ? u32[w + 5] : 0;
        const have = Math.max(0, Math.min(plen, frame + u32[d + 1] - pay));
        fid!.ref(f, f.name, f.serverIsn, seq, plen, tflags, u8.subarray(pay, pay + have), f.segMss);
        const req = tflags & TCP_ACK ? (u32[w + 4] - f.clientIsn - 1) >>> 0 : 0;
        if (tflags & TCP_SYN) continue; // the core answers the SYN itself
        if (plen) {
          feedPut(FR_DATA, f.id, (seq - f.serverIsn - 1) >>> 0, req, u8, pay, plen, have);
          feedDue = true;
        }
        if (tflags & TCP_FIN) {
          feedPut(FR_FIN, f.id, plen ? 1 : 0, req, null, 0, 0);
          feedDue = true;
        } else if (tflags & TCP_RST) {
          feedPut(FR_RST, f.id, 0, req, null, 0, 0);
          feedDue = true;
        }
      }
      if (rxQueued || feedDue) settle();
      if (progress) progress.tick(packetsIn, 0, 1, reader.offset, reader.fileSize);
    }
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    st.error ??= e.message;
  } finally {
    try {
      settle();
    } finally {
      reader?.close();
      sink?.close();
      progress?.done();
    }
  }
  st.wallMs = performance.now() - t0;
  if (feed) sv.mirror = feed.status();
  sv.counters = Object.fromEntries(Object.entries(readCounters(core)).filter(([, v]) => v !== 0));
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
  return {
    ...base,
    app,
    packets_in: packetsIn,
    packets_out: st.packetsOut,
    bytes_in: bytesIn,
    bytes_out: st.bytesOut,
    packets_processed: processed,
    flows: {
      total: pre.served + pre.unserved,
      served,
      tracked: pre.served + pre.unserved - served,
      midstream: null,
    },
    pps: sec > 0 ? Math.round(packetsIn / sec) : 0,
    mbps: sec > 0 ? Math.round(((bytesIn * 8) / sec / 1e6) * 100) / 100 : 0,
    drops: drops as ReplayReport["drops"],
    fidelity,
    stages,
    stages_cycles_est: null,
    worker_packets: [packetsIn],
    tcp: null,
    serve: sv,
    out: st.outFile ? { file: st.outFile, records: sink?.records ?? 0 } : null,
  };
}

function addrWords(m: Uint8Array, o: number, v6: boolean): string {
  const w = (p: number) => (m[p] | (m[p + 1] << 8) | (m[p + 2] << 16) | (m[p + 3] << 24)) >>> 0;
  return v6 ? `${w(o)}.${w(o + 4)}.${w(o + 8)}.${w(o + 12)}` : `${w(o)}`;
}

// ---- output -------------------------------------------------------------------------
/** --out: what the core transmitted, optionally interleaved with the input (--out-merged). */
class OutputSink {
  private readonly w: TraceWriter;
  constructor(
    path: string,
    readonly merged: boolean,
    linktype: number,
  ) {
    this.w = new TraceWriter(path, { linktype });
  }
  input(
    u8: Uint8Array,
    off: number,
    caplen: number,
    len: number,
    lt: number,
    sec: number,
    nsec: number,
  ): void {
    if (this.merged) this.w.write(u8, off, caplen, sec, nsec, len, lt);
  }
  /** A transmitted frame (raw: the forwarded input; serve: a frame drained from the TX ring). */
  output(
    u8: Uint8Array,
    off: number,
    caplen: number,
    len: number,
    lt: number,
    sec: number,
    nsec: number,
  ): void {
    this.w.write(u8, off, caplen, sec, nsec, len, lt);
  }
  get records(): number {
    return this.w.records;
  }
  close(): void {
    this.w.close();
  }
}

// ---- pacing --------------------------------------------------------------------------
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Sleeps until performance.now() >= t: blocks until SPIN_MS before, then spins. Measured here under load (6 on 2 vCPUs): a 0.3 ms Atomics.wait sometimes returns 4 ms late; longer spins did not help (the spinner gets descheduled instead). */
const SPIN_MS = 0.5;
export function sleepUntil(t: number): void {
  for (;;) {
    const rem = t - performance.now();
    if (rem <= 0) return;
    if (rem > SPIN_MS + 0.05) Atomics.wait(sleeper, 0, 0, rem - SPIN_MS);
  }
}

/** Bounded sample of pacing errors (µs): the first 2^20, then every k-th (deterministic). */
class Samples {
  private readonly a = new Float64Array(1 << 20);
  private n = 0;
  private seen = 0;
  add(x: number): void {
    this.seen++;
    if (this.n < this.a.length) this.a[this.n++] = x;
    else if (this.seen % 7 === 0) this.a[(this.seen >>> 3) % this.a.length] = x;
  }
  quantiles(qs: number[]): number[] | null {
    if (this.n === 0) return null;
    const s = this.a.slice(0, this.n).sort();
    return qs.map((q) => s[Math.min(this.n - 1, Math.floor(q * this.n))]);
  }
}

// ---- the run ---------------------------------------------------------------------------
type BatchFn = (first: number, count: number, loop: number) => number;

export function replayCoreConfig(mode: ReplayMode, workers: number, flows: number) {
  const track = mode === "track";
  return {
    stagingBytes: 8 << 20,
    descSlots: 4096,
    mbufs: 0,
    ringSlots: 0,
    flows: track ? flows : 0,
    appBytes: track ? flows * 128 : 0, // track's flow records (assembly/replay/track.ts TR_BYTES)
    workers,
    flags: 1, // symmetric RSS key: both directions of a flow on one worker
    mode: MODE_WORDS[mode],
  };
}

/** Runs the replay; a corrupt capture ends it early with `error` set in the report. */
export function replay(path: string, opts: ReplayOptions): ReplayReport {
  const mode = opts.mode;
  const workers = opts.workers ?? 1;
  const speed = opts.speed ?? { kind: "top" };
  const loops = opts.loop ?? 1;
  const flows = opts.flows ?? 1 << 18;
  if (workers < 1 || workers > 255)
    throw new UsageError(`--workers ${workers} is out of range`, "use 1..255");
  if (loops < 1) throw new UsageError(`--loop ${loops} is out of range`, "use 1 or more");
  checkFile(path);
  if (mode === "serve") return runServe(path, opts.prescan ?? prescan(path), opts);
  if (opts.app)
    throw new UsageError(`--app ${opts.app} applies to --mode serve only`, "drop --app for raw and track");

  const core: Core = createCore(replayCoreConfig(mode, workers, flows));
  const ex = core.exports as unknown as Record<string, (...a: number[]) => number>;
  let batchFn: BatchFn = mode === "raw" ? (ex.replayRawBatch as BatchFn) : (ex.replayTrackBatch as BatchFn);
  if (opts.stages) stageTiming(core, true); // stage cost (host/report/stages.ts)
  if (opts.batchExport) batchFn = ex[opts.batchExport] as BatchFn;
  const onBatch = opts.onBatch;
  const u32 = core.u32;
  const f64 = core.f64;
  const descW = core.regions.desc.offset >>> 2;
  const paced = speed.kind !== "top";

  const st = newRunStats(path, mode, workers, speed, loops, null, opts.out);
  let sink: OutputSink | null = null;
  const lateness = paced ? new Samples() : null;
  const gapErr = paced ? new Samples() : null;
  const latency = paced ? new Samples() : null;
  const schedOf = new Float64Array(core.regions.desc.bytes / DESC_BYTES);

  // Pacing state: schedule origin, previous packet's schedule and actual time.
  let origin = 0; // performance.now() at the first packet
  let trace0 = NaN; // capture time of the first packet (s)
  let pktIndex = 0;
  let bitsSoFar = 0;
  let prevSched = NaN;
  let prevActual = NaN;
  const wallEpochS = Date.now() / 1000 - performance.now() / 1000;
  let loopShift = 0; // seconds added to this pass's timestamps
  let spanSec = 0;

  if (paced) warmUp(path, mode, workers, flows);
  const progress = opts.progress ? new Progress() : null;
  const t0 = performance.now();
  let reader: TraceReader | null = null;
  try {
    for (let loop = 0; loop < loops; loop++) {
      reader = new TraceReader(path, core, opts.batch ? { batch: opts.batch } : {});
      if (loop === 0) {
        st.format = reader.format;
        st.linktypes = reader.linktypes;
      }
      loopShift = loop * spanSec;
      let firstSec = NaN;
      let lastSec = NaN;
      for (;;) {
        const r0 = performance.now();
        const n = reader.next();
        const r1 = performance.now();
        st.readMs += r1 - r0;
        if (n === 0) break;
        if (loop === 0 && st.linktypes.length === 0) st.linktypes = reader.linktypes;
        if (opts.out && !sink) sink = new OutputSink(opts.out, !!opts.outMerged, reader.linktypes[0] ?? 1);
        // Capture span of this pass (whole seconds), for the next pass's shift and the report.
        const s0 = f64[(descW + 6) >>> 1] + u32[descW + 4] / 1e9;
        const s1 = f64[(descW + (n - 1) * 8 + 6) >>> 1] + u32[descW + (n - 1) * 8 + 4] / 1e9;
        if (Number.isNaN(firstSec)) firstSec = s0;
        lastSec = s1;
        if (st.firstTs === null) st.firstTs = s0;
        st.lastTs = s1 + loopShift;
        if (!paced) {
          const p0 = performance.now();
          batchFn(0, n, loop);
          const p1 = performance.now();
          st.procMs += p1 - p0;
          bucket(st.batches, n);
          if (onBatch) onBatch(core, n, p1 - p0, p1);
          if (sink) {
            writeBatch(sink, core, 0, n, loopShift, null);
            st.outMs += performance.now() - p1;
          }
        } else {
          // Walk the schedule: process each run of packets that are due, sleep to the next.
          const runDue = (from: number, to: number) => {
            const p0 = performance.now();
            batchFn(from, to - from, loop);
            const p1 = performance.now();
            st.procMs += p1 - p0;
            bucket(st.batches, to - from);
            for (let j = from; j < to; j++) latency!.add((p1 - schedOf[j]) * 1000);
            if (sink) {
              writeBatch(sink, core, from, to - from, 0, wallEpochS + p1 / 1000);
              st.outMs += performance.now() - p1;
            }
          };
          let runStart = 0;
          for (let i = 0; i <= n; i++) {
            let sched = Infinity;
            if (i < n) {
              const d = descW + i * 8;
              const ts = f64[(d + 6) >>> 1] + u32[d + 4] / 1e9 + loopShift;
              if (Number.isNaN(trace0)) {
                trace0 = ts;
                origin = performance.now();
              }
              sched = origin + scheduleMs(speed, ts - trace0, pktIndex, bitsSoFar);
              schedOf[i] = sched;
              bitsSoFar += u32[d + 2] * 8;
              pktIndex++;
            }
            const now = performance.now();
            if (sched > now && i > runStart) {
              // Packets runStart..i-1 are due: one core call for them.
              runDue(runStart, i);
              runStart = i;
            }
            if (i === n) break;
            if (sched > performance.now()) {
              const w0 = performance.now();
              sleepUntil(sched);
              st.waitMs += performance.now() - w0;
            }
            const actual = performance.now();
            lateness!.add((actual - sched) * 1000);
            if (!Number.isNaN(prevSched))
              gapErr!.add(Math.abs(actual - prevActual - (sched - prevSched)) * 1000);
            prevSched = sched;
            prevActual = actual;
          }
          if (runStart < n) runDue(runStart, n);
        }
        if (progress)
          progress.tick(readCounters(core).rx_frames, loop, loops, reader.offset, reader.fileSize);
      }
      if (!Number.isNaN(firstSec) && loop === 0) spanSec = Math.floor(lastSec) - Math.floor(firstSec) + 1;
    }
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    st.error = e.message;
  } finally {
    reader?.close();
    sink?.close();
    progress?.done();
  }
  st.wallMs = performance.now() - t0;
  if (sink) st.packetsOut = sink.records;
  if (paced) {
    const [l50, l99] = lateness!.quantiles([0.5, 0.99]) ?? [0, 0];
    const [g50, g99] = gapErr!.quantiles([0.5, 0.99]) ?? [0, 0];
    st.pacing = { lateness_p50: l50, lateness_p99: l99, gap_p50: g50, gap_p99: g99 };
    const q = latency!.quantiles([0.5, 0.99, 0.999]);
    st.latency = q ? { p50: q[0], p99: q[1], p999: q[2] } : null;
  }
  opts.onEnd?.(core);
  return buildReport(core, st, cpus());
}

/**
 * Paced runs start on a throw-away core that processes the capture's first
 * batch a few times: V8 compiles wasm functions lazily on their first call
 * (measured: a 12-16 ms stall at the first packets otherwise), and the compiled
 * code is shared by every instance of the module.
 */
function warmUp(path: string, mode: ReplayMode, workers: number, flows: number): void {
  const core = createCore(replayCoreConfig(mode, workers, Math.min(flows, 4096)));
  const ex = core.exports as unknown as Record<string, BatchFn>;
  const fn = mode === "raw" ? ex.replayRawBatch : ex.replayTrackBatch;
  let reader: TraceReader | null = null;
  try {
    reader = new TraceReader(path, core, { batch: 256 });
    const n = reader.next();
    for (let k = 0; k < 50 && n > 0; k++) fn(0, n, k);
  } catch (e) {
    if (!(e instanceof TraceError)) throw e; // the real run reports it
  } finally {
    reader?.close();
  }
}

/** Milliseconds after the first packet at which a packet is due. */
function scheduleMs(speed: Speed, traceDeltaS: number, index: number, bitsBefore: number): number {
  switch (speed.kind) {
    case "realtime":
      return traceDeltaS * 1000;
    case "multiplier":
      return (traceDeltaS * 1000) / speed.factor;
    case "pps":
      return (index * 1000) / speed.rate;
    case "mbps":
      return bitsBefore / (speed.rate * 1000);
    default:
      return 0;
  }
}

/** Histogram of core-call sizes in power-of-two buckets (key: the bucket's lower bound). */
function bucket(h: Map<number, number>, n: number): void {
  const b = 2 ** Math.floor(Math.log2(n));
  h.set(b, (h.get(b) ?? 0) + 1);
}

/**
 * --out for descriptors first..first+count-1 after the core call: raw forwards
 * every processed frame unchanged (as DPDK's l2fwd, without its MAC rewrite, so
 * the output compares byte for byte with the input); track transmits nothing.
 * wallS: the wall-clock time (paced), or null for the capture's (top).
 */
function writeBatch(
  sink: OutputSink,
  core: Core,
  first: number,
  count: number,
  shift: number,
  wallS: number | null,
): void {
  const u32 = core.u32;
  const f64 = core.f64;
  const descW = core.regions.desc.offset >>> 2;
  const verdictW = core.regions.decode.offset >>> 2;
  const forwards = core.config.mode === MODE_WORDS.raw;
  let sec = 0;
  let nsec = 0;
  if (wallS !== null) {
    sec = Math.floor(wallS);
    nsec = Math.min(999999999, Math.round((wallS - sec) * 1e9));
  }
  for (let i = first; i < first + count; i++) {
    const d = descW + i * 8;
    if (wallS === null) {
      sec = f64[(d + 6) >>> 1] + shift;
      nsec = u32[d + 4];
    }
    const lt = u32[d + 3] & 0xffff;
    const flags = u32[d + 3] >>> 16;
    if (flags & 2) continue; // not a packet (pcapng custom block): nothing to write
    sink.input(core.u8, u32[d], u32[d + 1], u32[d + 2], lt, sec, nsec);
    if (forwards && u32[verdictW + i] >>> 16 === 0)
      sink.output(core.u8, u32[d], u32[d + 1], u32[d + 2], lt, sec, nsec);
  }
}

// ---- progress -------------------------------------------------------------------------------
/** One line on stderr, rewritten at most 5 times a second: packets, rate, ETA from the file offset. */
class Progress {
  private readonly t0 = performance.now();
  private last = 0;
  private shown = false;
  tick(packets: number, loop: number, loops: number, offset: number, size: number): void {
    const now = performance.now();
    if (now - this.last < 200) return;
    this.last = now;
    const frac = Math.min(1, (loop + (size ? offset / size : 1)) / loops);
    const el = (now - this.t0) / 1000;
    const eta = frac > 0 ? (el * (1 - frac)) / frac : 0;
    const line = `  ${fmtCount(packets)} packets  ${fmtCount(packets / Math.max(el, 1e-9))}/s  ${(frac * 100).toFixed(0)}%  ETA ${eta.toFixed(0)} s`;
    process.stderr.write(`\r${line.padEnd(60)}`);
    this.shown = true;
  }
  done(): void {
    if (this.shown) process.stderr.write(`\r${" ".repeat(60)}\r`);
  }
}

function fmtCount(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}

// ---- shared with `ixwasm inject` (host/commands/inject.ts) ----------------------------
// The pacing schedule and the bounded quantile sample, so inject paces and reports
// its pacing error the same way as replay does.
export { scheduleMs, Samples as PacingSamples };
