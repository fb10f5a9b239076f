// The HTML report's serve detail (issue 16 items 5 and 7): per-flow fidelity
// (the worst flows) and, for a few flows, the data of a time-sequence (Stevens)
// chart: the capture's server segments and the core's, the client's ACK number
// and ACK + receive window over time, the mismatched segments marked.
//
// host/replay/serve/serve.ts calls a ServeObserver only when the report asks for one
// (ReplayOptions.serveObserver; the plain run has none: one null test per
// packet), and only in the first --loop pass (the later passes replay the same
// conversations). Memory is bounded: counts per flow (four numbers), points only
// for the charted flows, at most MAX_POINTS per series (the chart says when a
// series was cut).
import { flowName, type FlowInfo, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../replay/serve/prescan.ts";
import { MIS_EXTRA, type FidelityListener } from "./fidelity.ts";
import { UsageError } from "../io/errors.ts";

/** Charts when no --flow names the flows: the flows with most mismatches first. */
export const DEFAULT_CHARTS = 4;
/** The most charts --flow may ask for. */
export const MAX_CHARTS = 16;
/** Points per series of one chart (segments, ACKs, marks each). */
export const MAX_POINTS = 5000;
/** Rows of the worst-flows table. */
export const WORST_FLOWS = 10;

/** The flow serve hands over: its serve state (host/replay/serve/flow.ts ServeFlow). */
export interface ObservedFlow extends FlowInfo {
  /** The flow's ordinal: flows numbered from 0 in the order they start in the capture (the pre-scan's). */
  readonly ord: number;
  /** Its live slot: its fidelity id. */
  readonly slot: number;
}

/** One --flow: an ordinal, or the two ends of a conversation (either direction). */
export type FlowSpec =
  { ord: number } | { a: Uint8Array; ap: number; b: Uint8Array; bp: number; text: string };

export const FLOW_SPEC_HELP =
  "N (the flow's number: flows counted from 0 in the order they start in the capture, as the report's worst-flows table numbers them) or ADDR:PORT-ADDR:PORT (either direction; IPv6 as [addr]:port)";

/** IPv4 dotted quad or IPv6 (with ::) → bytes, or null. */
export function parseAddr(s: string): Uint8Array | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const b = v4.slice(1).map(Number);
    return b.every((x) => x <= 255) ? Uint8Array.from(b) : null;
  }
  if (!/^[0-9a-fA-F:]+$/.test(s) || s.split("::").length > 2) return null;
  const [head, tail] = s.includes("::") ? s.split("::") : [s, null];
  const part = (t: string) => (t === "" ? [] : t.split(":"));
  const h = part(head);
  const t = tail === null ? [] : part(tail);
  const groups = tail === null ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** --flow values (each may be a comma list) → specs; a UsageError names a bad one. */
export function parseFlowSpecs(values: string[]): FlowSpec[] {
  const specs: FlowSpec[] = [];
  for (const v of values.flatMap((x) => x.split(","))) {
    const s = v.trim();
    if (s === "") continue;
    if (/^\d+$/.test(s)) {
      specs.push({ ord: Number(s) });
      continue;
    }
    const m = /^\[?([0-9a-fA-F:.]+?)\]?:(\d+)-\[?([0-9a-fA-F:.]+?)\]?:(\d+)$/.exec(s);
    const a = m && parseAddr(m[1]);
    const b = m && parseAddr(m[3]);
    if (!m || !a || !b || a.length !== b.length || Number(m[2]) > 65535 || Number(m[4]) > 65535)
      throw new UsageError(
        `--flow ${s}: not a flow`,
        "give N or ADDR:PORT-ADDR:PORT, e.g. --flow 3 or --flow 198.18.0.1:40000-198.18.0.2:80",
      );
    specs.push({ a, ap: Number(m[2]), b, bp: Number(m[4]), text: s });
  }
  if (specs.length > MAX_CHARTS)
    throw new UsageError(`--flow: ${specs.length} flows, at most ${MAX_CHARTS}`, "name fewer flows");
  return specs;
}

function sameAddr(key: Uint8Array, at: number, a: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (key[at + i] !== a[i]) return false;
  return true;
}

/** Does the flow key (client → server, host/replay/serve/prescan.ts layout) match the spec's ends? */
function matches(spec: FlowSpec, key: Uint8Array): boolean {
  if ("ord" in spec) return false;
  if ((key[0] === 6) !== (spec.a.length === 16)) return false;
  const sp = key[4] | (key[5] << 8);
  const dp = key[6] | (key[7] << 8);
  return (
    (sp === spec.ap && dp === spec.bp && sameAddr(key, 8, spec.a) && sameAddr(key, 24, spec.b)) ||
    (sp === spec.bp && dp === spec.ap && sameAddr(key, 8, spec.b) && sameAddr(key, 24, spec.a))
  );
}

/** A charted flow's points while the run goes: typed columns, filled up to MAX_POINTS. */
class FlowTrace {
  capT0 = NaN;
  coreT0 = NaN;
  isn = 0;
  /** The client's window shift (RFC 7323 §2.3: only when both SYNs carried the option), -1: not yet known. */
  shift = 0;
  serverWs = 0xff;
  // capture segments, core segments: time (s), start and end offset from the server's ISN
  readonly cap = new Float64Array(3 * MAX_POINTS);
  readonly core = new Float64Array(3 * MAX_POINTS);
  // client packets with ACK: time, ACK offset, ACK + window
  readonly ack = new Float64Array(3 * MAX_POINTS);
  // mismatches: offset, kind
  readonly marks = new Float64Array(2 * MAX_POINTS);
  nCap = 0;
  nCore = 0;
  nAck = 0;
  nMarks = 0;
  /** Points past MAX_POINTS, per series: not kept. */
  cut = { capture: 0, core: 0, ack: 0, marks: 0 };
  name = "";
  /**
   * Per series (capture, core, ACK): the last offset unwrapped. A long flow's
   * sequence numbers wrap at 2^32, the chart's do not; each series apart, so a
   * core that stays behind a hole in the capture is not taken for a wrap.
   */
  readonly last = new Float64Array(3);
  constructor(readonly ord: number) {}

  /** seq → offset from the ISN, continued from the series' last one (RFC 9293 §3.4: comparisons mod 2^32). */
  unwrap(series: number, seq: number): number {
    const off = (seq - this.isn) >>> 0;
    const last = this.last[series];
    const u = last + ((off - (last % 4294967296)) | 0);
    this.last[series] = u;
    return u;
  }
}

export interface WorstFlow {
  flow: number;
  name: string;
  compared: number;
  matching: number;
  /** compared at the same offset, but of another length, flags or payload */
  differing: number;
  missing: number;
  extra: number;
  pct: number;
}

export interface TimeSeqChart {
  flow: number;
  name: string;
  fidelity: { compared: number; matching: number; missing: number; extra: number } | null;
  /** Aligned columns for uPlot: x (s since the flow's first packet), then one column per series (null: no point). */
  x: number[];
  capture: (number | null)[];
  capture_from: (number | null)[];
  core: (number | null)[];
  core_from: (number | null)[];
  ack: (number | null)[];
  window: (number | null)[];
  mismatch: (number | null)[];
  /** Points per series (non-null values above). */
  points: { capture: number; core: number; ack: number; window: number; mismatch: number };
  /** Points past MAX_POINTS per series (not drawn). */
  cut: { capture: number; core: number; ack: number; marks: number };
  /** Whether the core's times are the capture's clock (top speed) or the wall clock since the flow's first packet went in. */
  clock: string;
}

export interface ServeView {
  schema: "ixwasm-serve-view/1";
  /** How the charted flows were chosen. */
  chosen: string;
  max_points: number;
  /** Flows fidelity settled (served, first pass). */
  flows_scored: number;
  worst_flows: WorstFlow[];
  charts: TimeSeqChart[];
  /** --flow specs no flow of the capture matched, and flows they named that are not TCP. */
  unmatched: string[];
}

/**
 * Collects the serve detail of one run. With `specs` null it only counts (the
 * first of the default's two runs, host/measure/cost.ts); else it charts the
 * flows the specs name.
 */
export class ServeObserver {
  // Per flow ordinal: fidelity counts (-1 compared: not settled).
  private cmp = new Int32Array(1024).fill(-1);
  private ok = new Int32Array(1024);
  private miss = new Int32Array(1024);
  private ext = new Int32Array(1024);
  /** The flow's first packet seen: 1 TCP, 2 UDP (a byte per flow, not a Set entry: 1 M flows). */
  private seen = new Uint8Array(1024);
  private scored = 0;
  // Per live slot: the flow's ordinal (-1: none of the first pass), its key (names), its trace.
  private slotOrd = new Int32Array(1024).fill(-1);
  private slotKey: (Uint8Array | undefined)[] = [];
  private slotTrace: (FlowTrace | undefined)[] = [];
  private readonly traces: FlowTrace[] = [];
  private worst: WorstFlow[] = [];
  private readonly specHit: boolean[];
  /** Flows --flow named that have no sequence numbers to chart (UDP). */
  private readonly notTcp: string[] = [];
  /** The fidelity meter's per-flow detail (set on serve's FidelityMeter). */
  readonly listener: FidelityListener;

  constructor(
    private readonly specs: FlowSpec[] | null,
    private readonly chosen: string,
    /**
     * The core's clock against the capture's: top speed, null (the core's clock is
     * the capture's); paced, the wall clock, and how many capture seconds one wall
     * second replays (xK: K, realtime: 1; NaN: pps/mbps, no fixed ratio).
     */
    private readonly paced: { scale: number; speed: string } | null = null,
  ) {
    this.specHit = (specs ?? []).map(() => false);
    this.listener = {
      mismatch: (slot, off, kind) => {
        const tr = slot < this.slotOrd.length && this.slotOrd[slot] >= 0 ? this.slotTrace[slot] : undefined;
        if (!tr) return;
        if (tr.nMarks === MAX_POINTS) tr.cut.marks++;
        else {
          tr.marks[2 * tr.nMarks] = off;
          tr.marks[2 * tr.nMarks++ + 1] = kind;
        }
      },
      settled: (slot, compared, matching, missing, extra) => {
        if (slot >= this.slotOrd.length || this.slotOrd[slot] < 0) return;
        const ord = this.slotOrd[slot];
        this.grow(ord);
        this.cmp[ord] = compared;
        this.ok[ord] = matching;
        this.miss[ord] = missing;
        this.ext[ord] = extra;
        this.scored++;
        this.rank(ord, this.slotKey[slot]!);
        this.slotOrd[slot] = -1;
        this.slotKey[slot] = undefined;
        this.slotTrace[slot] = undefined;
      },
    };
  }

  private grow(ord: number): void {
    if (ord < this.cmp.length) return;
    const n = Math.max(ord + 1, this.cmp.length * 2);
    const g = (a: Int32Array, fill: number) => {
      const b = new Int32Array(n).fill(fill);
      b.set(a);
      return b;
    };
    this.cmp = g(this.cmp, -1);
    this.ok = g(this.ok, 0);
    this.miss = g(this.miss, 0);
    this.ext = g(this.ext, 0);
    const s = new Uint8Array(n);
    s.set(this.seen);
    this.seen = s;
  }

  private bad(ord: number): number {
    return this.cmp[ord] - this.ok[ord] + this.ext[ord];
  }

  /** Keeps the WORST_FLOWS flows with most mismatches (names made only for those). */
  private rank(ord: number, key: Uint8Array): void {
    const bad = this.bad(ord);
    const w = this.worst;
    if (
      bad === 0 ||
      (w.length === WORST_FLOWS &&
        bad <= w[w.length - 1].compared - w[w.length - 1].matching + w[w.length - 1].extra)
    )
      return;
    const c = this.cmp[ord];
    const ok = this.ok[ord];
    const miss = this.miss[ord];
    w.push({
      flow: ord,
      name: flowName(key),
      compared: c,
      matching: ok,
      differing: c - ok - miss,
      missing: miss,
      extra: this.ext[ord],
      pct: c ? Math.round((ok / c) * 10000) / 100 : 100,
    });
    w.sort(
      (x, y) => y.compared - y.matching + y.extra - (x.compared - x.matching + x.extra) || x.flow - y.flow,
    );
    if (w.length > WORST_FLOWS) w.pop();
  }

  /** After a counting run: up to n TCP flows to chart, most mismatches first, then most segments compared. */
  pick(n = DEFAULT_CHARTS): number[] {
    const ords: number[] = [];
    for (let o = 0; o < this.cmp.length; o++) if (this.cmp[o] > 0 && this.seen[o] === 1) ords.push(o);
    ords.sort((a, b) => this.bad(b) - this.bad(a) || this.cmp[b] - this.cmp[a] || a - b);
    return ords.slice(0, n);
  }

  private wanted(f: ObservedFlow): boolean {
    const specs = this.specs;
    if (!specs) return false;
    let hit = false;
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i];
      if ("ord" in s ? s.ord === f.ord : matches(s, f.key)) {
        this.specHit[i] = true;
        hit = true;
      }
    }
    return hit && this.traces.length < MAX_CHARTS;
  }

  private trace(f: ObservedFlow): FlowTrace | undefined {
    return f.slot < this.slotOrd.length && this.slotOrd[f.slot] === f.ord
      ? this.slotTrace[f.slot]
      : undefined;
  }

  /**
   * A client packet of the first pass (summary words at w, descriptor at d of
   * u32; its frame in u8): t its capture time and coreNs the core's clock, in ns.
   * A UDP flow's only registers the flow (its fidelity counts); TCP's are charted.
   */
  client(
    f: ObservedFlow,
    t: number,
    coreNs: number,
    u8: Uint8Array,
    u32: Uint32Array,
    w: number,
    d: number,
  ): void {
    if (f.ord >= this.seen.length) this.grow(f.ord);
    if (this.seen[f.ord] === 0) {
      // The flow's first packet: slot → ordinal, and a trace if it is charted (TCP).
      this.seen[f.ord] = f.proto === 6 ? 1 : 2;
      if (f.slot >= this.slotOrd.length) {
        const b = new Int32Array(Math.max(f.slot + 1, this.slotOrd.length * 2)).fill(-1);
        b.set(this.slotOrd);
        this.slotOrd = b;
      }
      this.slotOrd[f.slot] = f.ord;
      this.slotKey[f.slot] = f.key;
      const want = this.wanted(f);
      if (want && f.proto !== 6) this.notTcp.push(`${f.ord} (${flowName(f.key)}: not TCP)`);
      if (want && f.proto === 6) {
        const tr = new FlowTrace(f.ord);
        tr.capT0 = t;
        tr.coreT0 = coreNs;
        tr.isn = f.serverIsn;
        tr.serverWs = f.wscale;
        tr.name = flowName(f.key);
        this.traces.push(tr);
        this.slotTrace[f.slot] = tr;
      } else this.slotTrace[f.slot] = undefined;
    }
    const tr = f.proto === 6 ? this.trace(f) : undefined;
    if (!tr) return;
    const flags = u32[w + 2] & 0xfff;
    const l4 = u32[d] + (u32[w + 6] >>> 16);
    const caplen = u32[d + 1];
    if (flags & TCP_SYN) {
      // The client's window shift, used only when the server's SYN-ACK carried one too (RFC 7323 §2.2).
      tr.shift = 0;
      const end = Math.min(l4 + (u8[l4 + 12] >>> 4) * 4, u32[d] + caplen);
      for (let p = l4 + 20; p < end;) {
        const k = u8[p];
        if (k === 0) break;
        if (k === 1) {
          p++;
          continue;
        }
        if (k === 3 && p + 2 < end && tr.serverWs !== 0xff) tr.shift = Math.min(14, u8[p + 2]);
        if (p + 1 >= end || u8[p + 1] < 2) break;
        p += u8[p + 1];
      }
    }
    if (!(flags & TCP_ACK) || l4 + 16 > u32[d] + caplen) return;
    if (tr.nAck === MAX_POINTS) {
      tr.cut.ack++;
      return;
    }
    const ack = tr.unwrap(2, u32[w + 4]);
    // The window field of a SYN is never scaled (RFC 7323 §2.2).
    const win = ((u8[l4 + 14] << 8) | u8[l4 + 15]) * (flags & TCP_SYN ? 1 : 2 ** tr.shift);
    const a = 3 * tr.nAck++;
    tr.ack[a] = (t - tr.capT0) / 1e9;
    tr.ack[a + 1] = ack;
    tr.ack[a + 2] = ack + win;
  }

  /** A capture server segment (TCP) at capture time t (ns): seq, payload length and flags as the headers say. */
  ref(f: ObservedFlow, t: number, seq: number, len: number, flags: number): void {
    const tr = this.trace(f);
    if (!tr || (len === 0 && !(flags & (TCP_SYN | TCP_FIN | TCP_RST)))) return; // pure ACKs: not segments here

    if (tr.nCap === MAX_POINTS) {
      tr.cut.capture++;
      return;
    }
    const a = 3 * tr.nCap++;
    const off = tr.unwrap(0, seq);
    tr.cap[a] = (t - tr.capT0) / 1e9;
    tr.cap[a + 1] = off;
    tr.cap[a + 2] = off + len + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
  }

  /** A segment the core sent, at core time coreNs. */
  out(f: ObservedFlow, coreNs: number, seq: number, len: number, flags: number): void {
    const tr = this.trace(f);
    if (!tr || (len === 0 && !(flags & (TCP_SYN | TCP_FIN | TCP_RST)))) return;
    if (tr.nCore === MAX_POINTS) {
      tr.cut.core++;
      return;
    }
    const a = 3 * tr.nCore++;
    const off = tr.unwrap(1, seq);
    tr.core[a] = ((coreNs - tr.coreT0) / 1e9) * (this.paced && this.paced.scale > 0 ? this.paced.scale : 1);
    tr.core[a + 1] = off;
    tr.core[a + 2] = off + len + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
  }

  /** The charts' columns and the worst flows. */
  result(): ServeView {
    const specs = this.specs ?? [];
    return {
      schema: "ixwasm-serve-view/1",
      chosen: this.chosen,
      max_points: MAX_POINTS,
      flows_scored: this.scored,
      worst_flows: this.worst,
      charts: this.traces.map((tr) => this.chart(tr)),
      unmatched: [
        ...specs.filter((_, i) => !this.specHit[i]).map((s) => ("ord" in s ? String(s.ord) : s.text)),
        ...this.notTcp,
      ],
    };
  }

  private chart(tr: FlowTrace): TimeSeqChart {
    // Rows: [x, series, y, from]; series 0 capture, 1 core, 2 ack (with window), 3 mismatch.
    const rows: [number, number, number, number][] = [];
    for (let i = 0; i < tr.nCap; i++) rows.push([tr.cap[3 * i], 0, tr.cap[3 * i + 2], tr.cap[3 * i + 1]]);
    for (let i = 0; i < tr.nCore; i++) rows.push([tr.core[3 * i], 1, tr.core[3 * i + 2], tr.core[3 * i + 1]]);
    for (let i = 0; i < tr.nAck; i++) rows.push([tr.ack[3 * i], 2, tr.ack[3 * i + 1], tr.ack[3 * i + 2]]);
    // A mark sits on the segment it names: the capture's (differing, missing) or the core's (extra).
    const find = (col: Float64Array, n: number, off: number): number => {
      // The meter's offsets are mod 2^32, the chart's unwrapped.
      for (let i = 0; i < n; i++) {
        const a = col[3 * i + 1] % 4294967296;
        const b = a + col[3 * i + 2] - col[3 * i + 1];
        if (a <= off && (off < b || off === a)) return i;
      }
      return -1;
    };
    for (let j = 0; j < tr.nMarks; j++) {
      const off = tr.marks[2 * j];
      const kind = tr.marks[2 * j + 1];
      const order = kind === MIS_EXTRA ? [tr.core, tr.cap] : [tr.cap, tr.core];
      const ns = kind === MIS_EXTRA ? [tr.nCore, tr.nCap] : [tr.nCap, tr.nCore];
      for (let s = 0; s < 2; s++) {
        const i = find(order[s], ns[s], off);
        if (i >= 0) {
          rows.push([order[s][3 * i], 3, order[s][3 * i + 2], kind]);
          break;
        }
      }
    }
    rows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const col = () => new Array<number | null>(rows.length).fill(null);
    const c: TimeSeqChart = {
      flow: tr.ord,
      name: tr.name,
      fidelity:
        tr.ord < this.cmp.length && this.cmp[tr.ord] >= 0
          ? {
              compared: this.cmp[tr.ord],
              matching: this.ok[tr.ord],
              missing: this.miss[tr.ord],
              extra: this.ext[tr.ord],
            }
          : null,
      x: rows.map((r) => Math.round(r[0] * 1e9) / 1e9),
      capture: col(),
      capture_from: col(),
      core: col(),
      core_from: col(),
      ack: col(),
      window: col(),
      mismatch: col(),
      points: { capture: tr.nCap, core: tr.nCore, ack: tr.nAck, window: tr.nAck, mismatch: 0 },
      cut: tr.cut,
      clock: !this.paced
        ? "core times: the core's clock, the capture's (top speed)"
        : this.paced.scale > 0
          ? `core times: the wall clock since the flow's first packet went in, × ${this.paced.scale} (--speed ${this.paced.speed}: capture seconds)`
          : `core times: the wall clock since the flow's first packet went in (--speed ${this.paced.speed}: no fixed ratio to the capture's clock)`,
    };
    rows.forEach((r, i) => {
      if (r[1] === 0) {
        c.capture[i] = r[2];
        c.capture_from[i] = r[3];
      } else if (r[1] === 1) {
        c.core[i] = r[2];
        c.core_from[i] = r[3];
      } else if (r[1] === 2) {
        c.ack[i] = r[2];
        c.window[i] = r[3];
      } else {
        c.mismatch[i] = r[2];
        c.points.mismatch++;
      }
    });
    return c;
  }
}
