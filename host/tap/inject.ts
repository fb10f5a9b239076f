// `ixwasm inject`: send a capture's frames out of a Linux tap, like tcpreplay.
//
// The capture streams through TraceReader into a core's staging region (the
// core is there only for its memory: READ_CORE, no pools), and every frame is
// written to the tap with write(2) straight from that memory (host/io/tap.ts).
// Frames of other link types get an Ethernet header made in place: the bytes in
// front of a frame's data are its own record header (16 bytes in pcap, 28 in a
// pcapng packet block), already framed into a descriptor, so the 14 bytes fit
// there; a frame too close to the start of staging is copied to a scratch
// buffer instead. Frames are handled strictly in order, so nothing overwritten
// is needed again.
//
// Pacing reuses replay's schedule (scheduleMs) and sleeper (sleepUntil): each
// frame has a scheduled time; the actual time is taken just before its write.
// Reported: lateness (actual - scheduled) and gap error |actual gap - scheduled
// gap| between consecutive frames, p50/p99, with replay's bounded sample.
import { TraceError, UsageError } from "../io/errors.ts";
import { DESC_F_NO_TS, DESC_F_NOT_PACKET, TraceReader } from "../io/reader.ts";
import { TapDevice } from "../io/tap.ts";
import { netnsExists, setupLink, checkFree, Teardown } from "../io/netns.ts";
import { openTrace } from "../core/open-capture.ts";
import { PacingSamples, scheduleMs, sleepUntil, speedName, type Speed } from "../replay/pacing.ts";
import * as ABI from "../core/abi.gen.ts";

// Record-descriptor word offsets (abi/table.ts) as this module's own constants: V8 folds
// these in the per-packet loops, where an imported binding costs a load at each use
// (a read loop of sec + nsec: 1.7 against 3.1 ns a descriptor, medians).
const {
  DESC_WORDS,
  DESC_S_FLAGS,
  DESC_W_CAPLEN,
  DESC_W_LEN,
  DESC_W_LINKTYPE,
  DESC_W_NSEC,
  DESC_W_OFF,
  DESC_W_SEC,
} = ABI;

export const INJECT_SCHEMA = "ixwasm-inject/1";
export const DEFAULT_SMAC = "02:00:c6:12:00:02";
export const DEFAULT_DMAC = "02:00:c6:12:00:01";
export const MIN_MTU = 68;
export const MAX_INJECT_MTU = 9000;
const ETH = 14;
/** Waits longer than this go through the event loop (signals stay responsive); the rest is sleepUntil. */
const ASYNC_WAIT_MS = 20;
const YIELD_EVERY_MS = 50;

// Link types (pcap-linktype(7)) this command turns into Ethernet.
export const LT_ETHERNET = 1;
export const LT_NULL = 0;
export const LT_LOOP = 108;
export const LT_SLL = 113;
export const LT_SLL2 = 276;
export const LT_RAW = 101;
export const LT_RAW_12 = 12; // DLT_RAW on most BSDs, written as-is by some tools
export const LT_RAW_14 = 14; // DLT_RAW on OpenBSD
export const LT_IPV4 = 228;
export const LT_IPV6 = 229;
const NOT_PACKET_LINKTYPE = 0xffff;

export const LINKTYPE_NAMES: Record<number, string> = {
  [LT_NULL]: "NULL",
  [LT_ETHERNET]: "ETHERNET",
  [LT_RAW_12]: "RAW(12)",
  [LT_RAW_14]: "RAW(14)",
  [LT_RAW]: "RAW",
  [LT_LOOP]: "LOOP",
  [LT_SLL]: "LINUX_SLL",
  [LT_SLL2]: "LINUX_SLL2",
  [LT_IPV4]: "IPV4",
  [LT_IPV6]: "IPV6",
};

export function linktypeName(lt: number): string {
  return `${lt}/${LINKTYPE_NAMES[lt] ?? "?"}`;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
// Address families in a NULL/LOOP header: AF_INET is 2 everywhere; AF_INET6 differs by OS.
const AF_INET = 2;
const AF_INET6 = new Set([10, 23, 24, 28, 30]); // Linux, Windows, NetBSD/OpenBSD, FreeBSD, Darwin

/**
 * Turns one record into an Ethernet frame in place (or in scratch). After
 * convert() returns true, `mem`/`start`/`len` name the frame to write; after
 * false, `reason` says why the record is skipped. One object, no allocation per frame.
 */
export class EthernetConverter {
  mem: Uint8Array;
  start = 0;
  len = 0;
  reason = "";
  /** True if the last frame was made from another link type. */
  converted = false;

  constructor(
    private readonly u8: Uint8Array,
    /** Lowest offset of u8 that belongs to the capture's staging bytes (never write below it). */
    private readonly low: number,
    private readonly scratch: Uint8Array,
    private readonly smac: Uint8Array,
    private readonly dmac: Uint8Array,
    /** Rewrite the MACs of frames that are Ethernet already (only when the user gave --smac/--dmac). */
    private readonly rewriteSmac: boolean,
    private readonly rewriteDmac: boolean,
  ) {
    this.mem = u8;
  }

  convert(off: number, caplen: number, linktype: number): boolean {
    const u8 = this.u8;
    this.mem = u8;
    this.converted = false;
    let hdr = 0; // link header bytes to drop
    let type = 0; // EtherType of the payload
    switch (linktype) {
      case LT_ETHERNET:
        if (caplen < ETH) return this.skip("shorter than an Ethernet header");
        if (this.rewriteDmac) u8.set(this.dmac, off);
        if (this.rewriteSmac) u8.set(this.smac, off + 6);
        this.start = off;
        this.len = caplen;
        return true;
      case LT_SLL:
        // packet type, ARPHRD type, address length, address[8], protocol
        if (caplen < 16) return this.skip("truncated Linux SLL header");
        hdr = 16;
        type = (u8[off + 14] << 8) | u8[off + 15];
        if (type < 0x0600)
          return this.skip(`Linux SLL protocol 0x${type.toString(16).padStart(4, "0")} is not an EtherType`);
        break;
      case LT_SLL2:
        // protocol, reserved, ifindex, ARPHRD type, packet type, address length, address[8]
        if (caplen < 20) return this.skip("truncated Linux SLL2 header");
        hdr = 20;
        type = (u8[off] << 8) | u8[off + 1];
        if (type < 0x0600)
          return this.skip(`Linux SLL2 protocol 0x${type.toString(16).padStart(4, "0")} is not an EtherType`);
        break;
      case LT_RAW:
      case LT_RAW_12:
      case LT_RAW_14:
      case LT_IPV4:
      case LT_IPV6: {
        if (caplen < 1) return this.skip("empty raw IP record");
        const v = u8[off] >> 4;
        if (v === 4 && linktype !== LT_IPV6) type = ETHERTYPE_IPV4;
        else if (v === 6 && linktype !== LT_IPV4) type = ETHERTYPE_IPV6;
        else
          return this.skip(
            linktype === LT_IPV4 || linktype === LT_IPV6
              ? `IP version ${v} in a ${linktypeName(linktype)} record`
              : `raw IP record with IP version ${v}`,
          );
        break;
      }
      case LT_NULL:
      case LT_LOOP: {
        if (caplen < 4) return this.skip("truncated NULL/LOOP header");
        hdr = 4;
        // LOOP is network order; NULL is the capturing host's order: accept either.
        const be = ((u8[off] << 24) | (u8[off + 1] << 16) | (u8[off + 2] << 8) | u8[off + 3]) >>> 0;
        const le = ((u8[off + 3] << 24) | (u8[off + 2] << 16) | (u8[off + 1] << 8) | u8[off]) >>> 0;
        const fam = linktype === LT_LOOP ? be : Math.min(be, le);
        if (fam === AF_INET) type = ETHERTYPE_IPV4;
        else if (AF_INET6.has(fam)) type = ETHERTYPE_IPV6;
        else return this.skip(`NULL/LOOP address family ${fam} is not IPv4 or IPv6`);
        break;
      }
      case NOT_PACKET_LINKTYPE:
        return this.skip("not a packet (pcapng custom block)");
      default:
        return this.skip(`link type ${linktypeName(linktype)} cannot be converted to Ethernet`);
    }
    const payload = caplen - hdr;
    let at = off + hdr - ETH;
    let mem = u8;
    if (at < this.low) {
      // Too close to the start of staging to build the header in front: copy.
      if (ETH + payload > this.scratch.length) return this.skip("too large for the conversion buffer");
      this.scratch.set(u8.subarray(off + hdr, off + caplen), ETH);
      mem = this.scratch;
      at = 0;
    }
    mem.set(this.dmac, at);
    mem.set(this.smac, at + 6);
    mem[at + 12] = type >> 8;
    mem[at + 13] = type & 0xff;
    this.mem = mem;
    this.start = at;
    this.len = ETH + payload;
    this.converted = true;
    return true;
  }

  private skip(reason: string): boolean {
    this.reason = reason;
    return false;
  }
}

/** Bytes above the MTU a frame may have: its Ethernet header and, if tagged, one or two VLAN tags. */
export function l2Overhead(mem: Uint8Array, start: number, len: number): number {
  if (len < ETH) return ETH;
  const t = (mem[start + 12] << 8) | mem[start + 13];
  if (t !== ETHERTYPE_VLAN && t !== ETHERTYPE_QINQ) return ETH;
  if (len < ETH + 4) return ETH + 4;
  const t2 = (mem[start + 16] << 8) | mem[start + 17];
  return t2 === ETHERTYPE_VLAN ? ETH + 8 : ETH + 4;
}

export function parseMac(s: string, what: string): Buffer {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s))
    throw new UsageError(`${what} "${s}" is not a MAC address`, "write it as 02:00:c6:12:00:02");
  return Buffer.from(s.replaceAll(":", ""), "hex");
}

export function macText(m: Uint8Array): string {
  return [...m].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

export interface InjectOptions {
  file: string;
  ifname: string;
  /** Namespace for the tap: used if it exists (and left in place), else created and removed at exit. */
  netns?: string;
  speed: Speed;
  loops: number;
  /** Stop after this many frames sent (0: no limit). */
  limit: number;
  /** Given by the user: also rewrite Ethernet frames' MACs. Absent: defaults, for converted frames only. */
  smac?: Buffer;
  dmac?: Buffer;
  mtu: number;
  /** After the link is up, wait up to this many seconds for SIGUSR1 before sending (0: do not wait). */
  waitSignalS: number;
  /** Keep the tap open this long after the last frame (lets captures on it read the last frames). */
  lingerMs: number;
}

export interface InjectReport {
  schema: typeof INJECT_SCHEMA;
  file: string;
  format: string;
  linktypes: string[];
  ifname: string;
  netns: string | null;
  mtu: number;
  speed: string;
  loops: number;
  limit: number | null;
  smac: string;
  dmac: string;
  /** "converted" (synthesised headers only) or "all" (--smac/--dmac also rewrote Ethernet frames). */
  mac_rewrite: "converted" | "all";
  stop_reason: "end" | "limit" | "signal" | "error";
  records_read: number;
  frames_sent: number;
  bytes_sent: number;
  /** Frames sent with fewer bytes than on the wire (snaplen-truncated in the capture). */
  truncated_sent: number;
  /** Frames sent after conversion to Ethernet, by original link type. */
  converted: Record<string, number>;
  skipped: number;
  skipped_by_reason: Record<string, number>;
  write_errors: number;
  last_write_error: string | null;
  /** From the start of the first write(2) to the start of the last (s). */
  duration_s: number;
  /** Last frame's scheduled time minus the first's (s); null at --speed top. */
  scheduled_s: number | null;
  /** Frames per second over the sending span: (frames - 1) / duration. */
  achieved_pps: number;
  /** Ethernet bits (no preamble, no FCS) per second over the same span (the last frame's bits excluded). */
  achieved_mbps: number;
  target_pps: number | null;
  target_mbps: number | null;
  /** µs; null at --speed top. */
  pacing: {
    lateness_p50_us: number;
    lateness_p99_us: number;
    gap_error_p50_us: number;
    gap_error_p99_us: number;
  } | null;
  waited_for_signal: boolean | null;
  wall_s: number;
  error: string | null;
  notes: string[];
  cleanup_errors: string[];
}

export function checkInjectOptions(o: InjectOptions): void {
  if (process.getuid && process.getuid() !== 0)
    throw new UsageError(
      "not running as root",
      "tap devices and namespaces need root (CAP_NET_ADMIN): run with sudo",
    );
  if (o.mtu < MIN_MTU || o.mtu > MAX_INJECT_MTU)
    throw new UsageError(`--mtu ${o.mtu} is out of range`, `use ${MIN_MTU} to ${MAX_INJECT_MTU}`);
  if (o.loops < 1) throw new UsageError(`--loop ${o.loops} is out of range`, "use 1 or more");
  if (o.netns && !/^[A-Za-z0-9_.-]{1,64}$/.test(o.netns))
    throw new UsageError(`invalid namespace name "${o.netns}"`, "use letters, digits, '-', '_' and '.'");
}

export interface InjectRun {
  done: Promise<InjectReport>;
  stop(): void;
}

/** Opens the capture, sets up the tap (throws a UsageError with nothing left behind), then sends. */
export function startInject(o: InjectOptions, onReady?: (line: string) => void): InjectRun {
  checkInjectOptions(o);
  // The capture first: a file we cannot read must fail before anything exists on the host.
  const { core, reader } = openTrace(o.file);
  const reuse = !!o.netns && netnsExists(o.netns);
  const td = new Teardown();
  process.once("exit", () => td.run());
  let tap: TapDevice;
  let notes: string[];
  try {
    if (o.netns && !reuse) checkFree({ ifname: o.ifname, netns: o.netns, mtu: o.mtu, ipv6: false }, []);
    tap = TapDevice.open({ ifname: o.ifname, queues: 1 });
    const dev = tap;
    td.add(`close ${o.ifname}`, () => dev.close());
    notes = setupLink({ ifname: o.ifname, netns: o.netns, reuseNetns: reuse, mtu: o.mtu, ipv6: false }, td);
  } catch (e) {
    reader.close();
    td.run();
    throw e;
  }
  if (reuse) notes.push(`namespace ${o.netns} existed: used and left in place`);
  let stopped = false;
  const done = send(o, core, reader, tap, td, notes, () => stopped, onReady);
  return {
    done,
    stop() {
      stopped = true;
    },
  };
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function send(
  o: InjectOptions,
  core: ReturnType<typeof openTrace>["core"],
  firstReader: TraceReader,
  tap: TapDevice,
  td: Teardown,
  notes: string[],
  stopped: () => boolean,
  onReady?: (line: string) => void,
): Promise<InjectReport> {
  const t0 = performance.now();
  const u8 = core.u8;
  const u32 = core.u32;
  const f64 = core.f64;
  const descW = core.regions.desc.offset >>> 2;
  const base = tap.address(u8);
  const scratch = Buffer.alloc(65536 + 64);
  const scratchAddr = tap.address(scratch);
  const smac = o.smac ?? parseMac(DEFAULT_SMAC, "smac");
  const dmac = o.dmac ?? parseMac(DEFAULT_DMAC, "dmac");
  const conv = new EthernetConverter(
    u8,
    core.regions.staging.offset,
    scratch,
    smac,
    dmac,
    !!o.smac,
    !!o.dmac,
  );
  const speed = o.speed;
  const paced = speed.kind !== "top";
  const lateness = paced ? new PacingSamples() : null;
  const gapErr = paced ? new PacingSamples() : null;

  const converted = new Map<number, number>();
  const skippedBy = new Map<string, number>();
  let records = 0;
  let sent = 0;
  let bytes = 0;
  let bits = 0;
  let lastBits = 0;
  let truncated = 0;
  let skipped = 0;
  let writeErrors = 0;
  let lastWriteError: string | null = null;
  let firstSend = NaN;
  let lastSend = NaN;
  let firstSched = NaN;
  let lastSched = NaN;
  let stopReason: InjectReport["stop_reason"] = "end";
  let error: string | null = null;
  let waited: boolean | null = null;
  const format = firstReader.format;
  let linktypes = [...firstReader.linktypes];

  onReady?.(
    `ixwasm inject: ${o.ifname}${o.netns ? ` in namespace ${o.netns}` : ""} up, MTU ${o.mtu}: ready` +
      (o.waitSignalS > 0 ? ` (waiting up to ${o.waitSignalS} s for SIGUSR1)` : ""),
  );
  if (o.waitSignalS > 0) {
    waited = await new Promise<boolean>((resolve) => {
      const onSig = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        process.off("SIGUSR1", onSig);
        resolve(false);
      }, o.waitSignalS * 1000);
      process.once("SIGUSR1", onSig);
    });
    if (!waited) notes.push(`no SIGUSR1 within ${o.waitSignalS} s: sent anyway`);
  }

  // Schedule state, continued across passes.
  let origin = 0;
  let trace0 = NaN;
  let prevTs = 0;
  let pktIndex = 0;
  let prevSched = NaN;
  let prevActual = NaN;
  let passShift = 0; // capture seconds added to this pass's timestamps
  let passFirst = NaN;
  let passLast = NaN;
  let passFrames = 0;
  let lastYield = performance.now();
  let sendAt = 0; // when the current frame's write(2) started

  const skip = (reason: string) => {
    skipped++;
    skippedBy.set(reason, (skippedBy.get(reason) ?? 0) + 1);
  };

  try {
    outer: for (let loop = 0; loop < o.loops; loop++) {
      const reader = loop === 0 ? firstReader : new TraceReader(o.file, core);
      try {
        for (;;) {
          const n = reader.next();
          if (n === 0) break;
          if (linktypes.length === 0) linktypes = [...reader.linktypes];
          for (let i = 0; i < n; i++) {
            if (stopped()) {
              stopReason = "signal";
              break outer;
            }
            if (o.limit > 0 && sent >= o.limit) {
              stopReason = "limit";
              break outer;
            }
            const d = descW + i * DESC_WORDS;
            const off = u32[d + DESC_W_OFF];
            const caplen = u32[d + DESC_W_CAPLEN];
            const wireLen = u32[d + DESC_W_LEN];
            const lt = u32[d + DESC_W_LINKTYPE] & 0xffff;
            const flags = u32[d + DESC_W_LINKTYPE] >>> DESC_S_FLAGS;
            records++;
            if (flags & DESC_F_NOT_PACKET) {
              skip("not a packet (pcapng custom block)");
              continue;
            }
            if (!conv.convert(off, caplen, lt)) {
              skip(conv.reason);
              continue;
            }
            const mem = conv.mem;
            const start = conv.start;
            const len = conv.len;
            const over = l2Overhead(mem, start, len);
            if (len - over > o.mtu) {
              skip(`larger than the MTU (${o.mtu} + ${over}-byte link header)`);
              continue;
            }
            if (paced) {
              let ts =
                flags & DESC_F_NO_TS ? prevTs : f64[(d + DESC_W_SEC) >>> 1] + u32[d + DESC_W_NSEC] / 1e9;
              prevTs = ts;
              if (Number.isNaN(passFirst)) passFirst = ts;
              passLast = ts;
              passFrames++;
              ts += passShift;
              let first = false;
              if (Number.isNaN(trace0)) {
                trace0 = ts;
                origin = performance.now();
                first = true;
              }
              const sched = origin + scheduleMs(speed, ts - trace0, pktIndex, bits);
              pktIndex++;
              let now = performance.now();
              if (sched - now > ASYNC_WAIT_MS) {
                // A long gap: wait in the event loop (signals get through), wake a little early.
                while (sched - now > ASYNC_WAIT_MS && !stopped()) {
                  await sleepMs(Math.min(sched - now - ASYNC_WAIT_MS / 2, 200));
                  now = performance.now();
                }
                lastYield = now;
                if (stopped()) {
                  stopReason = "signal";
                  break outer;
                }
              }
              sleepUntil(sched);
              // The schedule's origin is the first frame's send time.
              const actual = first ? origin : performance.now();
              sendAt = actual;
              lateness!.add((actual - sched) * 1000);
              if (!Number.isNaN(prevSched))
                gapErr!.add(Math.abs(actual - prevActual - (sched - prevSched)) * 1000);
              prevSched = sched;
              prevActual = actual;
              if (Number.isNaN(firstSched)) firstSched = sched;
              lastSched = sched;
            }
            const addr = mem === u8 ? base + start : scratchAddr + start;
            if (!paced) sendAt = performance.now();
            if (tap.write(0, addr, len)) {
              const t = sendAt;
              if (Number.isNaN(firstSend)) firstSend = t;
              lastSend = t;
              sent++;
              bytes += len;
              lastBits = len * 8;
              bits += lastBits;
              if (caplen < wireLen) truncated++;
              if (conv.converted) converted.set(lt, (converted.get(lt) ?? 0) + 1);
            } else {
              writeErrors++;
              lastWriteError = tap.lastErrno ? tap.strerror(tap.lastErrno) : "short write";
              if (paced) bits += len * 8; // the schedule moves on as if it had been sent
            }
          }
          if (performance.now() - lastYield > YIELD_EVERY_MS) {
            await tick();
            lastYield = performance.now();
          }
        }
      } finally {
        reader.close();
      }
      // The next pass starts one mean gap after this one's last frame (realtime, xK).
      if (passFrames > 0) {
        const span = passLast - passFirst;
        passShift += span + (passFrames > 1 ? span / (passFrames - 1) : 0);
      }
      passFirst = NaN;
      passFrames = 0;
      if (o.limit > 0 && sent >= o.limit) {
        stopReason = "limit";
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof TraceError)) {
      td.run();
      throw e;
    }
    error = e.message;
    stopReason = "error";
  }

  if (o.lingerMs > 0 && sent > 0) await sleepMs(o.lingerMs);
  td.run();

  const durS = sent > 1 ? (lastSend - firstSend) / 1000 : 0;
  const pacing =
    paced && lateness && gapErr
      ? (() => {
          const [l50, l99] = lateness.quantiles([0.5, 0.99]) ?? [0, 0];
          const [g50, g99] = gapErr.quantiles([0.5, 0.99]) ?? [0, 0];
          return { lateness_p50_us: l50, lateness_p99_us: l99, gap_error_p50_us: g50, gap_error_p99_us: g99 };
        })()
      : null;
  const schedS = paced && sent > 1 ? (lastSched - firstSched) / 1000 : paced ? 0 : null;
  return {
    schema: INJECT_SCHEMA,
    file: o.file,
    format,
    linktypes: linktypes.map(linktypeName),
    ifname: o.ifname,
    netns: o.netns ?? null,
    mtu: o.mtu,
    speed: speedName(speed),
    loops: o.loops,
    limit: o.limit > 0 ? o.limit : null,
    smac: macText(smac),
    dmac: macText(dmac),
    mac_rewrite: o.smac || o.dmac ? "all" : "converted",
    stop_reason: stopReason,
    records_read: records,
    frames_sent: sent,
    bytes_sent: bytes,
    truncated_sent: truncated,
    converted: Object.fromEntries([...converted].map(([lt, c]) => [linktypeName(lt), c])),
    skipped,
    skipped_by_reason: Object.fromEntries(skippedBy),
    write_errors: writeErrors,
    last_write_error: lastWriteError,
    duration_s: durS,
    scheduled_s: schedS,
    achieved_pps: durS > 0 ? (sent - 1) / durS : 0,
    achieved_mbps: durS > 0 ? (bits - lastBits) / durS / 1e6 : 0,
    target_pps:
      speed.kind === "pps" ? speed.rate : paced && schedS && schedS > 0 ? (sent - 1) / schedS : null,
    target_mbps:
      speed.kind === "mbps"
        ? speed.rate
        : paced && schedS && schedS > 0
          ? (bits - lastBits) / schedS / 1e6
          : null,
    pacing,
    waited_for_signal: waited,
    wall_s: (performance.now() - t0) / 1000,
    error,
    notes,
    cleanup_errors: td.errors,
  };
}

export function formatInject(r: InjectReport): string {
  const rows: [string, string | number][] = [
    ["capture", `${r.file} (${r.format}, link type ${r.linktypes.join(", ")})`],
    ["interface", `${r.ifname}${r.netns ? ` (namespace ${r.netns})` : ""}, MTU ${r.mtu}`],
    [
      "speed",
      `${r.speed}, ${r.loops} pass(es)${r.limit !== null ? `, limit ${r.limit}` : ""}, stopped: ${r.stop_reason}`,
    ],
    ["records read", r.records_read],
    ["frames sent", `${r.frames_sent} (${r.bytes_sent} bytes)`],
  ];
  if (r.truncated_sent) rows.push(["  snaplen-truncated", r.truncated_sent]);
  const conv = Object.entries(r.converted);
  if (conv.length)
    rows.push([
      "  converted to Ethernet",
      `${conv.map(([k, v]) => `${k}: ${v}`).join(", ")} (MACs ${r.smac} > ${r.dmac})`,
    ]);
  rows.push(["skipped", r.skipped]);
  for (const [why, n] of Object.entries(r.skipped_by_reason)) rows.push([`  ${why}`, n]);
  if (r.write_errors) rows.push(["write errors", `${r.write_errors} (last: ${r.last_write_error})`]);
  rows.push([
    "duration",
    `${r.duration_s.toFixed(3)} s${r.scheduled_s !== null ? ` (scheduled ${r.scheduled_s.toFixed(3)} s)` : ""}`,
  ]);
  rows.push([
    "achieved",
    `${Math.round(r.achieved_pps)} frames/s, ${r.achieved_mbps.toFixed(2)} Mbit/s` +
      (r.target_pps !== null ? ` (target ${Math.round(r.target_pps)} frames/s` : "") +
      (r.target_mbps !== null
        ? `${r.target_pps !== null ? ", " : " (target "}${r.target_mbps.toFixed(2)} Mbit/s)`
        : r.target_pps !== null
          ? ")"
          : ""),
  ]);
  if (r.pacing)
    rows.push(
      [
        "lateness p50 / p99",
        `${r.pacing.lateness_p50_us.toFixed(1)} / ${r.pacing.lateness_p99_us.toFixed(1)} µs`,
      ],
      [
        "gap error p50 / p99",
        `${r.pacing.gap_error_p50_us.toFixed(1)} / ${r.pacing.gap_error_p99_us.toFixed(1)} µs`,
      ],
    );
  for (const n of r.notes) rows.push(["note", n]);
  if (r.error) rows.push(["error", r.error]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n";
}
