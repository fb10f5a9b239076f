// Serve mode's fidelity score: the core's transmitted segments against the
// capture's server segments, per flow, by sequence offset from the server's ISN
// (the core took the same ISN, so offsets line up with no translation).
//
// Compared: every first transmission of a segment that occupies sequence space
// (payload, SYN or FIN) and every RST, in the capture's server direction. Two
// segments match when they start at the same offset with the same payload
// length, the same SYN/FIN/RST flags and equal payload bytes (CRC-32 of each;
// of the captured part when the capture's snap length cut the payload).
// Excluded, because they follow the local stack's timing and policy rather than
// the conversation: pure ACKs (delayed-ACK timing, RFC 9293 §3.8.6.3), window
// values, TCP timestamp values, ACK/PSH/ECE/CWR bits, IP ID/TTL, and
// retransmissions on either side (they depend on the loss and timers of each
// run; counted apart). A capture segment the core never sent is "missing"; a
// core segment at an offset the capture never used is "extra" (not compared).
import { crc32 } from "node:zlib";

export interface FidelityReport {
  segments_compared: number;
  segments_matching: number;
  bytes_compared: number;
  bytes_matching: number;
  /** segments_matching / segments_compared, in percent (100 when nothing was compared). */
  segments_pct: number;
  segments_missing: number;
  segments_extra: number;
  retransmissions_capture: number;
  retransmissions_core: number;
  first_mismatches: { flow: string; offset: number; what: string }[];
  excluded: string;
}

export const FIDELITY_EXCLUDED =
  "pure ACKs, window values, TCP timestamp values, ACK/PSH/ECE/CWR bits, IP ID/TTL, retransmissions (counted apart)";

const F_FIN = 1;
const F_SYN = 2;
const F_RST = 4;

interface Seg {
  len: number;
  flags: number;
  crc: number;
  /** Bytes the CRC covers (a capture's snap length may cut payloads). */
  crcLen: number;
}

interface FlowSide {
  name: string;
  isn: number;
  refs: Map<number, Seg>;
  outs: Map<number, Seg>;
  refMax: number;
  outMax: number;
}

export class FidelityMeter {
  private readonly flows = new Map<object, FlowSide>();
  private compared = 0;
  private matching = 0;
  private bytesCompared = 0;
  private bytesMatching = 0;
  private missing = 0;
  private extra = 0;
  private retxCapture = 0;
  private retxCore = 0;
  private readonly mismatches: FidelityReport["first_mismatches"] = [];

  constructor(private readonly maxMismatches = 10) {}

  private side(flow: object, name: string, isn: number): FlowSide {
    let s = this.flows.get(flow);
    if (!s) {
      s = { name, isn, refs: new Map(), outs: new Map(), refMax: 0, outMax: 0 };
      this.flows.set(flow, s);
    }
    return s;
  }

  private note(s: FlowSide, off: number, what: string): void {
    if (this.mismatches.length < this.maxMismatches)
      this.mismatches.push({ flow: s.name, offset: off - 1, what });
  }

  /**
   * A capture server segment: seq, payload length (from the headers), TCP flags
   * and the captured payload bytes (possibly fewer than len). A segment longer
   * than segMss (segmentation offload on the capture host: the wire carried
   * MSS-sized segments) is compared as the segments the wire carried.
   */
  ref(
    flow: object,
    name: string,
    isn: number,
    seq: number,
    len: number,
    flags: number,
    bytes: Uint8Array,
    segMss: number,
  ): void {
    if (segMss > 0 && len > segMss) {
      for (let at = 0; at < len; at += segMss) {
        const n = Math.min(segMss, len - at);
        const last = at + n >= len;
        this.ref(
          flow,
          name,
          isn,
          (seq + at) >>> 0,
          n,
          last ? flags : flags & ~F_FIN & ~F_RST,
          bytes.subarray(Math.min(at, bytes.length), Math.min(at + n, bytes.length)),
          0,
        );
      }
      return;
    }
    const s = this.side(flow, name, isn);
    const off = (seq - isn) >>> 0;
    flags &= F_FIN | F_SYN | F_RST;
    const ext = len + (flags & F_SYN ? 1 : 0) + (flags & F_FIN ? 1 : 0);
    if (ext === 0 && !(flags & F_RST)) return; // pure ACK
    if (ext > 0 && off + ext <= s.refMax) {
      this.retxCapture++;
      return;
    }
    s.refMax = Math.max(s.refMax, off + ext);
    const have = Math.min(bytes.length, len);
    const seg = { len, flags, crc: have ? crc32(bytes.subarray(0, have)) : 0, crcLen: have };
    const key = flags & F_RST ? -1 - off : off;
    if (s.refs.has(key)) return;
    this.compared++;
    this.bytesCompared += len;
    const o = s.outs.get(key);
    if (o) {
      s.outs.delete(key);
      this.pair(s, off, seg, o);
    } else s.refs.set(key, seg);
  }

  /** A segment the core transmitted on that flow (bytes: its payload, valid during the call). */
  out(flow: object, name: string, isn: number, seq: number, flags: number, bytes: Uint8Array): void {
    const s = this.side(flow, name, isn);
    const off = (seq - isn) >>> 0;
    const len = bytes.length;
    flags &= F_FIN | F_SYN | F_RST;
    const ext = len + (flags & F_SYN ? 1 : 0) + (flags & F_FIN ? 1 : 0);
    if (ext === 0 && !(flags & F_RST)) return;
    if (ext > 0 && off + ext <= s.outMax) {
      this.retxCore++;
      return;
    }
    s.outMax = Math.max(s.outMax, off + ext);
    const key = flags & F_RST ? -1 - off : off;
    const r = s.refs.get(key);
    if (r) {
      s.refs.delete(key);
      const n = Math.min(r.crcLen, len);
      this.pair(s, off, r, { len, flags, crc: n ? crc32(bytes.subarray(0, n)) : 0, crcLen: n });
    } else s.outs.set(key, { len, flags, crc: len ? crc32(bytes) : 0, crcLen: len });
  }

  private pair(s: FlowSide, off: number, r: Seg, o: Seg): void {
    if (r.len !== o.len) this.note(s, off, `length ${o.len}, capture ${r.len}`);
    else if (r.flags !== o.flags)
      this.note(s, off, `flags ${flagText(o.flags)}, capture ${flagText(r.flags)}`);
    else if (r.crcLen === o.crcLen && r.crc !== o.crc) this.note(s, off, "payload bytes differ");
    else {
      this.matching++;
      this.bytesMatching += r.len;
    }
  }

  finish(): FidelityReport {
    for (const s of this.flows.values()) {
      for (const [k, r] of s.refs) {
        this.missing++;
        this.note(s, k < 0 ? -1 - k : k, `not sent (capture: ${r.len} bytes ${flagText(r.flags)})`);
      }
      for (const [k, o] of s.outs) {
        this.extra++;
        this.note(s, k < 0 ? -1 - k : k, `extra segment (${o.len} bytes ${flagText(o.flags)})`);
      }
      s.refs.clear();
      s.outs.clear();
    }
    return {
      segments_compared: this.compared,
      segments_matching: this.matching,
      bytes_compared: this.bytesCompared,
      bytes_matching: this.bytesMatching,
      segments_pct: this.compared ? Math.round((this.matching / this.compared) * 10000) / 100 : 100,
      segments_missing: this.missing,
      segments_extra: this.extra,
      retransmissions_capture: this.retxCapture,
      retransmissions_core: this.retxCore,
      first_mismatches: this.mismatches,
      excluded: FIDELITY_EXCLUDED,
    };
  }
}

function flagText(f: number): string {
  const t = [f & F_SYN ? "SYN" : "", f & F_FIN ? "FIN" : "", f & F_RST ? "RST" : ""].filter(Boolean);
  return t.length ? `[${t.join(",")}]` : "[data]";
}

/** Table rows for the terminal report. */
export function fidelityRows(f: FidelityReport): [string, string][] {
  const rows: [string, string][] = [
    [
      "fidelity",
      `${f.segments_matching}/${f.segments_compared} segments (${f.segments_pct} %), ${f.bytes_matching}/${f.bytes_compared} payload bytes; missing ${f.segments_missing}, extra ${f.segments_extra}; retransmissions: capture ${f.retransmissions_capture}, core ${f.retransmissions_core}`,
    ],
  ];
  for (const m of f.first_mismatches.slice(0, 5))
    rows.push(["  mismatch", `${m.flow} offset ${m.offset}: ${m.what}`]);
  rows.push(["  excluded", f.excluded]);
  return rows;
}
