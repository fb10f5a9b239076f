// Serve mode's pre-scan: one streaming pass over the capture, before the replay,
// that learns per TCP flow whose handshake is in the capture which side is the
// server, the client's ISN, and the server's ISN and SYN options (RFC 9293
// §3.1 MSS, RFC 7323 window scale and timestamps, RFC 2018 SACK-permitted):
// the arguments of the core's tcpPreset. UDP: one flow per 4-tuple (fragments
// aside), its client the side that sent the first datagram; the mirror answers
// each client datagram with the server datagrams that followed it. Headers are decoded by the core
// (decodeBatch, the same decoder as `dump`); JS reads only the summaries and,
// once per SYN-ACK, its option bytes.
//
// Memory is bounded by the number of flows (one small record each, capped by
// MAX_FLOWS), never by bytes: the server's payload is not kept here. The replay
// pass reads it again from the capture, in order, and feeds it to the mirror
// app as it goes (host/trace/mirror-feed.ts).
import type { Core } from "../core.ts";
import { createCore } from "../core.ts";
import { TraceError } from "../io/errors.ts";
import { DESC_BYTES, TraceReader } from "../io/reader.ts";
import { FlowIndex } from "./flow-index.ts";

// assembly/wire/summary-layout.ts
export const SUM_BYTES = 64;
export const SUM_F_IP = 1;
export const SUM_F_PORTS = 2;
export const SUM_F_TCP = 4;
export const SUM_F_PAYLOAD = 8;
export const SUM_F_FRAG = 16;
export const SUM_F_TRUNC = 32;
export const SUM_F_UNKNOWN_LINK = 64;
export const SUM_F_UDP = 128;
export const SUM_F_NOT_PACKET = 256;
export const TCP_FIN = 1;
export const TCP_SYN = 2;
export const TCP_RST = 4;
export const TCP_ACK = 16;

/** Flows the pre-scan records (served or not); a capture with more is refused with a clear error. */
export const MAX_FLOWS = 1 << 20;
/** Flows served at once from one capture (the mirror's flow records are sized by it). */
export const MAX_SERVED = 1 << 18;

export interface FlowInfo {
  /** Index among served flows (the mirror's flow id), or -1 when the flow is not served. */
  id: number;
  /** 6 TCP, 17 UDP. */
  proto: number;
  /** Why it is not served (null when served). */
  why: string | null;
  /** The 40-byte flow key of the client's direction (assembly/flow/key.ts), for tcpPreset and the mirror. */
  key: Uint8Array;
  clientIsn: number;
  serverIsn: number;
  mss: number;
  /** 0xff: no window scale option. */
  wscale: number;
  sackOk: boolean;
  tsOk: boolean;
  tsVal: number;
  synAckSeen: boolean;
  /** The client SYN's MSS option (0: none) and whether it offered timestamps. */
  clientMss: number;
  clientTs: boolean;
  /** Payload bytes per wire segment on the original path (for segments captured above it: offload). */
  segMss: number;
  /** A human-readable name: client → server. */
  name: string;
}

export interface Prescan {
  /** Client→server direction key → index in lists (host/trace/flow-index.ts). */
  index: FlowIndex;
  /** The flows of one key, in capture order: several when a TCP 4-tuple is reused. */
  lists: FlowInfo[][];
  /** Served flows, TCP and UDP (ids 0..served-1). */
  served: number;
  /** Of those, UDP. */
  servedUdp: number;
  /** TCP flows seen without their handshake, or with one the core cannot take (why). */
  unserved: number;
  unservedWhy: Record<string, number>;
  packets: number;
  error: string | null;
}

/** The core the pre-scan and the replay read with: staging, descriptors and their decode summaries. */
export function scanCoreConfig() {
  return { stagingBytes: 8 << 20, descSlots: 4096, mbufs: 0, ringSlots: 0, flows: 0 };
}

function addrText(u8: Uint8Array, off: number, v6: boolean): string {
  if (!v6) return `${u8[off]}.${u8[off + 1]}.${u8[off + 2]}.${u8[off + 3]}`;
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((u8[off + i] << 8) | u8[off + i + 1]).toString(16));
  return `[${parts.join(":")}]`;
}

/** The SYN-ACK's options: MSS, window scale, SACK-permitted, TSval (RFC 9293 §3.2 option format). */
function parseOptions(u8: Uint8Array, start: number, end: number, f: FlowInfo): void {
  f.mss = 0;
  f.wscale = 0xff;
  f.sackOk = false;
  f.tsOk = false;
  f.tsVal = 0;
  let p = start;
  while (p < end) {
    const kind = u8[p];
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) break;
    const len = u8[p + 1];
    if (len < 2 || p + len > end) break;
    if (kind === 2 && len === 4) f.mss = (u8[p + 2] << 8) | u8[p + 3];
    else if (kind === 3 && len === 3) f.wscale = Math.min(u8[p + 2], 14);
    else if (kind === 4 && len === 2) f.sackOk = true;
    else if (kind === 8 && len === 10) {
      f.tsOk = true;
      f.tsVal = ((u8[p + 2] << 24) | (u8[p + 3] << 16) | (u8[p + 4] << 8) | u8[p + 5]) >>> 0;
    }
    p += len;
  }
}

const udpFlowDefaults: Omit<FlowInfo, "key" | "name"> = {
  id: -1,
  proto: 17,
  why: null,
  clientIsn: 0,
  serverIsn: 0,
  mss: 0,
  wscale: 0xff,
  sackOk: false,
  tsOk: false,
  tsVal: 0,
  synAckSeen: false,
  clientMss: 0,
  clientTs: false,
  segMss: 0,
};

/** One pass over the capture; a corrupt capture ends it early with `error` set (what preceded counts). */
export function prescan(path: string, core?: Core): Prescan {
  const c = core ?? createCore(scanCoreConfig());
  const decode = c.exports.decodeBatch as (n: number) => number;
  const u8 = c.u8;
  const u32 = c.u32;
  const descW = c.regions.desc.offset >>> 2;
  const sumW = c.regions.decode.offset >>> 2;
  const res: Prescan = {
    index: new FlowIndex(),
    lists: [],
    served: 0,
    servedUdp: 0,
    unserved: 0,
    unservedWhy: {},
    packets: 0,
    error: null,
  };
  const newKey = (w: number, v6: boolean, proto: number): Uint8Array => {
    const key = new Uint8Array(40);
    key[0] = v6 ? 6 : 4;
    key[1] = proto;
    const ports = u32[w + 1];
    key[4] = ports & 0xff;
    key[5] = (ports >>> 8) & 0xff;
    key[6] = (ports >>> 16) & 0xff;
    key[7] = ports >>> 24;
    const sb = (w + 8) << 2;
    const db = (w + 12) << 2;
    key.set(u8.subarray(sb, sb + (v6 ? 16 : 4)), 8);
    key.set(u8.subarray(db, db + (v6 ? 16 : 4)), 24);
    return key;
  };
  const tooMany = () => {
    if (++flows > MAX_FLOWS)
      throw new TraceError(
        path,
        reader.offset,
        reader.records,
        `more than ${MAX_FLOWS} flows: too many for serve mode's pre-scan (use --mode track)`,
      );
  };
  let flows = 0;
  const reader = new TraceReader(path, c);
  try {
    for (;;) {
      const n = reader.next();
      if (n === 0) break;
      decode(n);
      res.packets += n;
      for (let i = 0; i < n; i++) {
        const w = sumW + i * (SUM_BYTES >>> 2);
        const d = descW + i * (DESC_BYTES >>> 2);
        const fl = u32[w] & 0xffff;
        if (!(fl & SUM_F_PORTS) || fl & SUM_F_FRAG) continue;
        const v6 = ((u32[w] >>> 16) & 0xff) === 6;
        if (fl & SUM_F_UDP) {
          // UDP: the first datagram of a 4-tuple makes its sender the client.
          const ports = u32[w + 1];
          if (res.index.find(17, v6, ports, u32, w + 8, w + 12) >= 0) continue;
          if (res.index.findReverse(17, v6, ports, u32, w + 8, w + 12) >= 0) continue;
          tooMany();
          const key = newKey(w, v6, 17);
          res.index.set(17, v6, ports, u32, w + 8, w + 12, res.lists.length);
          res.lists.push([
            {
              ...udpFlowDefaults,
              key,
              name: `${addrText(key, 8, v6)}:${ports & 0xffff} → ${addrText(key, 24, v6)}:${ports >>> 16} (UDP)`,
            },
          ]);
          continue;
        }
        if (!(fl & SUM_F_TCP)) continue;
        const tflags = u32[w + 2] & 0xfff;
        if (!(tflags & TCP_SYN)) continue;
        const seq = u32[w + 3];
        if (!(tflags & TCP_ACK)) {
          // A client's SYN: a new flow unless it repeats the current one's.
          const ports = u32[w + 1];
          const li = res.index.find(6, v6, ports, u32, w + 8, w + 12);
          let list = li >= 0 ? res.lists[li] : undefined;
          const last = list?.[list.length - 1];
          if (last && last.clientIsn === seq) continue;
          tooMany();
          const key = newKey(w, v6, 6);
          const frame = u32[d];
          const l4 = frame + (u32[w + 6] >>> 16);
          const hl = (u8[l4 + 12] >>> 4) * 4;
          const co = { mss: 0, tsOk: false } as FlowInfo;
          parseOptions(u8, l4 + 20, Math.min(l4 + hl, frame + u32[d + 1]), co);
          const f: FlowInfo = {
            id: -1,
            proto: 6,
            why: "no SYN-ACK",
            key,
            clientIsn: seq,
            serverIsn: 0,
            mss: 0,
            wscale: 0xff,
            sackOk: false,
            tsOk: false,
            tsVal: 0,
            synAckSeen: false,
            clientMss: co.mss,
            clientTs: co.tsOk,
            segMss: 0,
            name: `${addrText(key, 8, v6)}:${ports & 0xffff} → ${addrText(key, 24, v6)}:${ports >>> 16}`,
          };
          if (!list) {
            res.index.set(6, v6, ports, u32, w + 8, w + 12, res.lists.length);
            res.lists.push((list = []));
          }
          list.push(f);
        } else {
          // The server's SYN-ACK: it must acknowledge the current SYN (RFC 9293 §3.5).
          const li = res.index.findReverse(6, v6, u32[w + 1], u32, w + 8, w + 12);
          const list = li >= 0 ? res.lists[li] : undefined;
          const f = list?.[list.length - 1];
          if (!f || f.synAckSeen || u32[w + 4] !== (f.clientIsn + 1) >>> 0) continue;
          f.synAckSeen = true;
          f.serverIsn = seq;
          const frame = u32[d];
          const l4 = frame + (u32[w + 6] >>> 16);
          const hl = (u8[l4 + 12] >>> 4) * 4;
          parseOptions(u8, l4 + 20, Math.min(l4 + hl, frame + u32[d + 1]), f);
          if (f.why === "no SYN-ACK") f.why = null;
          // What one wire segment carried on the original path (RFC 9293 §3.7.1: the
          // smaller MSS, less the timestamp option when both offered it, RFC 7323 §3.2).
          const v6f = f.key[0] === 6;
          const mss = Math.min(f.clientMss || (v6f ? 1220 : 536), f.mss || (v6f ? 1220 : 536));
          f.segMss = mss - (f.tsOk && f.clientTs ? 12 : 0);
        }
      }
    }
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    res.error = e.message;
  } finally {
    reader.close();
  }
  for (const list of res.lists)
    for (const f of list) {
      if (f.why === null && res.served >= MAX_SERVED) f.why = `more than ${MAX_SERVED} flows to serve`;
      if (f.why === null) {
        f.id = res.served++;
        if (f.proto === 17) res.servedUdp++;
      } else {
        res.unserved++;
        res.unservedWhy[f.why] = (res.unservedWhy[f.why] ?? 0) + 1;
      }
    }
  return res;
}
