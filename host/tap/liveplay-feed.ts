// `ixwasm liveplay`'s view of a capture: per TCP session toward the server port,
// the client's requests and the server's responses as turns, and the feed that
// puts them into the liveplay app's memory (assembly/apps/liveplay.ts).
//
// One streaming pass, decoded by the core (decodeBatch, like the serve
// pre-scan in prescan.ts): a client SYN toward the port starts a session, the
// SYN-ACK gives the server's ISN, and every payload byte of both sides lands at
// its stream offset (sequence number − ISN − 1), so retransmissions and
// reordering in the capture do not matter. The session's payload is kept in
// memory (liveplay replays request/response sessions; a capture whose payload
// exceeds MAX_PAYLOAD is refused with one line).
//
// Turns: a server segment acknowledges how many client bytes the server had
// when it sent it (its ACK). Request k is the client bytes between two such
// acknowledged amounts, response k the server bytes sent after the second one
// (RFC 9293 §3.4: ACK = next byte expected). A server that speaks first gives a
// turn with an empty request; client bytes that got no answer give a last turn
// with an empty response. Timing for paced speeds: a turn's think time is the
// gap between the previous response's last byte and the request's first byte.
//
// The end of the capture: a session whose capture holds no FIN or RST from the
// server ends "open" (the capture stopped, or the client reset, while the server
// could still answer). What the live server sends after the last captured
// server byte of such a session was never recorded: it is counted apart (beyond
// the capture's end), not compared and not a mismatch.
import { scanCoreConfig } from "../core/open-capture.ts";
import type { Core } from "../core/core.ts";
import { createCore } from "../core/core.ts";
import { DEAD_NAMES, DESC_SIZE } from "../core/abi.gen.ts";
import * as LP from "../core/liveplay.gen.ts";
import { TraceError, UsageError } from "../io/errors.ts";
import { TraceReader } from "../io/reader.ts";
import {
  SUM_F_FRAG,
  SUM_F_PAYLOAD,
  SUM_F_PORTS,
  SUM_F_TCP,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
} from "../replay/serve/prescan.ts";
import * as ABI from "../core/abi.gen.ts";

// Record-descriptor and decode-summary word offsets (abi/table.ts) as this module's own
// constants: V8 folds these in the per-packet loops, where an imported binding costs a
// load at each use (a read loop of sec + nsec: 1.7 against 3.1 ns a descriptor, medians).
const {
  DESC_WORDS,
  DESC_W_CAPLEN,
  DESC_W_NSEC,
  DESC_W_OFF,
  DESC_W_SEC,
  SUM_S_IPVER,
  SUM_S_L4OFF,
  SUM_WORDS,
  SUM_W_ACK,
  SUM_W_DST,
  SUM_W_FLAGS,
  SUM_W_IPVER,
  SUM_W_L4OFF,
  SUM_W_PAYLOAD,
  SUM_W_SEQ,
  SUM_W_SPORT,
  SUM_W_SRC,
  SUM_W_TCPFLAGS,
} = ABI;

/**
 * A session's key: "src/sport>dst/dport" of the client → server direction, with
 * addresses as the summary's u32 words (summary words at w; reverse: the record
 * goes server → client).
 */
function dirKey(u32: Uint32Array, w: number, v6: boolean, reverse: boolean): string {
  const ports = u32[w + SUM_W_SPORT];
  const sp = ports & 0xffff;
  const dp = ports >>> 16;
  const s = v6
    ? `${u32[w + SUM_W_SRC]}.${u32[w + SUM_W_SRC + 1]}.${u32[w + SUM_W_SRC + 2]}.${u32[w + SUM_W_SRC + 3]}`
    : `${u32[w + SUM_W_SRC]}`;
  const d = v6
    ? `${u32[w + SUM_W_DST]}.${u32[w + SUM_W_DST + 1]}.${u32[w + SUM_W_DST + 2]}.${u32[w + SUM_W_DST + 3]}`
    : `${u32[w + SUM_W_DST]}`;
  return reverse ? `${d}/${dp}>${s}/${sp}` : `${s}/${sp}>${d}/${dp}`;
}

/** Payload bytes of all sessions together that liveplay keeps (both directions). */
export const MAX_PAYLOAD = 1 << 30;

/** How the captured session ended: its F_CLOSE code is its index in CK_NAMES. */
export type CloseKind = (typeof LP.CK_NAMES)[number];
export const CLOSE_CODES = Object.fromEntries(LP.CK_NAMES.map((n, i) => [n, i])) as Record<CloseKind, number>;

export interface Turn {
  /** Client stream offset and length of the request. */
  reqOff: number;
  reqLen: number;
  /** Server stream offset and length of the response. */
  respOff: number;
  respLen: number;
  /** Leading response bytes the capture holds (a snap length or a lost segment stops comparison there). */
  cmpLen: number;
  /** Capture time of the request's first byte (or of the response's first, for an empty request), seconds. */
  reqTs: number;
  /** Capture time of the response's last byte (reqTs for an empty response). */
  endTs: number;
}

export interface Session {
  /** "client:port → server:port" as captured. */
  name: string;
  synTs: number;
  /** When the handshake completed (the SYN-ACK's time). */
  openTs: number;
  client: Buffer;
  server: Buffer;
  turns: Turn[];
  close: CloseKind;
  /** No FIN or RST from the server in the capture: its answers may go on past the last captured byte. */
  openEnd: boolean;
  /** Why it is not played (null: played). */
  skip: string | null;
}

export interface Sessions {
  port: number;
  sessions: Session[];
  /** TCP sessions toward the port not played, by reason. */
  skipped: Record<string, number>;
  packets: number;
  error: string | null;
}

interface Seg {
  off: number;
  len: number;
  data: Buffer;
  /** For a server segment: client bytes it acknowledged. */
  req: number;
  ts: number;
}

interface Building {
  name: string;
  clientIsn: number;
  serverIsn: number;
  synAck: boolean;
  synTs: number;
  openTs: number;
  cseg: Seg[];
  sseg: Seg[];
  close: CloseKind | null;
  /** The server's FIN or RST is in the capture. */
  serverEnded: boolean;
  bytes: number;
}

/** Where the captured bytes of a stream are: its bytes and a captured-or-not map. */
function assemble(segs: Seg[]): { data: Buffer; have: Uint8Array } {
  let len = 0;
  for (const s of segs) len = Math.max(len, s.off + s.len);
  const data = Buffer.alloc(len);
  const have = new Uint8Array(len);
  for (const s of segs) {
    s.data.copy(data, s.off);
    have.fill(1, s.off, s.off + s.data.length);
  }
  return { data, have };
}

/** Splits a session into turns (see the header). */
export function splitTurns(clientLen: number, sseg: Seg[], cseg: Seg[], serverHave: Uint8Array): Turn[] {
  const turns: Turn[] = [];
  let boundary = 0;
  let serverEnd = 0;
  // capture time of the first transmission of client byte `off`
  const firstTs = (off: number): number => {
    let best = Infinity;
    for (const s of cseg) if (s.off <= off && off < s.off + s.len && s.ts < best) best = s.ts;
    return best;
  };
  for (const s of sseg) {
    const end = s.off + s.len;
    if (end <= serverEnd) continue; // the capture's retransmission
    const req = Math.min(s.req, clientLen);
    if (turns.length === 0 || req > boundary) {
      const reqLen = Math.max(0, req - boundary);
      turns.push({
        reqOff: boundary,
        reqLen,
        respOff: serverEnd,
        respLen: 0,
        cmpLen: 0,
        reqTs: reqLen ? Math.min(firstTs(boundary), s.ts) : s.ts,
        endTs: s.ts,
      });
      boundary = Math.max(boundary, req);
    }
    const t = turns[turns.length - 1];
    t.respLen += end - serverEnd;
    t.endTs = s.ts;
    serverEnd = end;
  }
  if (clientLen > boundary) {
    const ts = firstTs(boundary);
    turns.push({
      reqOff: boundary,
      reqLen: clientLen - boundary,
      respOff: serverEnd,
      respLen: 0,
      cmpLen: 0,
      reqTs: ts,
      endTs: ts,
    });
  }
  for (const t of turns) {
    let n = 0;
    while (n < t.respLen && serverHave[t.respOff + n]) n++;
    t.cmpLen = n;
  }
  return turns;
}

/** One pass over the capture: every TCP session whose SYN goes to `port`. */
export function scanSessions(path: string, port: number, core?: Core): Sessions {
  const c = core ?? createCore(scanCoreConfig());
  const decode = c.exports.decodeBatch as (n: number) => number;
  const u8 = c.u8;
  const u32 = c.u32;
  const f64 = c.f64;
  const descW = c.regions.desc.offset >>> 2;
  const sumW = c.regions.decode.offset >>> 2;
  const res: Sessions = { port, sessions: [], skipped: {}, packets: 0, error: null };
  const byKey = new Map<string, Building>();
  const all: Building[] = [];
  let total = 0;
  const reader = new TraceReader(path, c);
  try {
    for (;;) {
      const n = reader.next();
      if (n === 0) break;
      decode(n);
      res.packets += n;
      for (let i = 0; i < n; i++) {
        const w = sumW + i * SUM_WORDS;
        const d = descW + i * DESC_WORDS;
        const fl = u32[w + SUM_W_FLAGS] & 0xffff;
        if ((fl & (SUM_F_TCP | SUM_F_PORTS)) !== (SUM_F_TCP | SUM_F_PORTS) || fl & SUM_F_FRAG) continue;
        const ports = u32[w + SUM_W_SPORT];
        const sp = ports & 0xffff;
        const dp = ports >>> 16;
        if (sp !== port && dp !== port) continue;
        const v6 = ((u32[w + SUM_W_IPVER] >>> SUM_S_IPVER) & 0xff) === 6;
        const tflags = u32[w + SUM_W_TCPFLAGS] & 0xfff;
        const seq = u32[w + SUM_W_SEQ];
        const ack = u32[w + SUM_W_ACK];
        const ts = f64[(d + DESC_W_SEC) >>> 1] + u32[d + DESC_W_NSEC] / 1e9;
        const toServer = dp === port;
        const key = dirKey(u32, w, v6, !toServer); // the client → server direction
        let b = byKey.get(key);
        if (toServer && tflags & TCP_SYN && !(tflags & TCP_ACK)) {
          if (b && b.clientIsn === seq) continue; // the SYN again
          b = {
            name: key,
            clientIsn: seq,
            serverIsn: 0,
            synAck: false,
            synTs: ts,
            openTs: ts,
            cseg: [],
            sseg: [],
            close: null,
            serverEnded: false,
            bytes: 0,
          };
          byKey.set(key, b);
          all.push(b);
          continue;
        }
        if (!b) continue; // no SYN in the capture: counted below as a session without handshake
        if (!toServer && tflags & TCP_SYN) {
          if (tflags & TCP_ACK && ack === (b.clientIsn + 1) >>> 0 && !b.synAck) {
            b.synAck = true;
            b.serverIsn = seq;
            b.openTs = ts;
          }
          continue;
        }
        if (!toServer && !b.synAck) continue;
        const isn = toServer ? b.clientIsn : b.serverIsn;
        const plen = u32[w + SUM_W_FLAGS] & SUM_F_PAYLOAD ? u32[w + SUM_W_PAYLOAD] : 0;
        if (plen) {
          const off = (seq - isn - 1) >>> 0;
          if (off >= 0x80000000) continue; // before the stream's start: not ours
          const frame = u32[d + DESC_W_OFF];
          const l4 = frame + (u32[w + SUM_W_L4OFF] >>> SUM_S_L4OFF);
          const pay = l4 + (u8[l4 + 12] >>> 4) * 4;
          const have = Math.max(0, Math.min(plen, frame + u32[d + DESC_W_CAPLEN] - pay));
          total += have;
          if (total > MAX_PAYLOAD)
            throw new UsageError(
              `${path}: more than ${MAX_PAYLOAD >> 20} MiB of payload toward port ${port}`,
              "cut the capture (editcap, tshark -Y) to the sessions to play",
            );
          const seg: Seg = {
            off,
            len: plen,
            data: Buffer.from(u8.subarray(pay, pay + have)),
            req: tflags & TCP_ACK ? (ack - b.clientIsn - 1) >>> 0 : 0,
            ts,
          };
          if (seg.req >= 0x80000000) seg.req = 0;
          (toServer ? b.cseg : b.sseg).push(seg);
        }
        if (!toServer && tflags & (TCP_FIN | TCP_RST)) b.serverEnded = true;
        if (b.close === null) {
          if (tflags & TCP_RST) b.close = toServer ? "client-rst" : "client-fin";
          else if (tflags & TCP_FIN) b.close = toServer ? "client-fin" : "server-fin";
        }
      }
    }
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    res.error = e.message;
  } finally {
    reader.close();
  }
  const skip = (why: string) => (res.skipped[why] = (res.skipped[why] ?? 0) + 1);
  for (const b of all) {
    const cl = assemble(b.cseg);
    const sv = assemble(b.sseg);
    const s: Session = {
      name: nameOf(b.name, v6Name(b.name)),
      synTs: b.synTs,
      openTs: b.openTs,
      client: cl.data,
      server: sv.data,
      turns: [],
      close: b.close ?? "client-fin",
      openEnd: !b.serverEnded,
      skip: null,
    };
    if (!b.synAck) s.skip = "no SYN-ACK in the capture";
    else if (cl.have.includes(0)) s.skip = "client bytes missing from the capture";
    else s.turns = splitTurns(cl.data.length, b.sseg, b.cseg, sv.have);
    if (s.skip) skip(s.skip);
    res.sessions.push(s);
  }
  return res;
}

function v6Name(k: string): boolean {
  return k.split(">")[0].split("/")[0].includes(".");
}

/** "a.b.c.d:p → e.f.g.h:q" from a dirKey (IPv4 words are little-endian u32 of the wire bytes). */
function nameOf(k: string, v6: boolean): string {
  const side = (s: string) => {
    const [a, p] = s.split("/");
    if (v6) return `[${a}]:${p}`; // word form; rare here: liveplay targets IPv4 servers
    const x = Number(a);
    return `${x & 255}.${(x >>> 8) & 255}.${(x >>> 16) & 255}.${x >>> 24}:${p}`;
  };
  const [c, s] = k.split(">");
  return `${side(c)} → ${side(s)}`;
}

// ---- the feed: what the liveplay app reads (assembly/apps/liveplay.ts) --------------
// Its layout is the ABI table's (abi/table/feeds.ts, host/core/liveplay.gen.ts): LP.*.

export interface FeedOptions {
  concurrency: number;
  timeoutUs: number;
  /** Compare response bytes (else only count them). */
  compare: boolean;
  /** Paced speeds: think times and start times divided by this; 0 = top speed (no pauses). */
  speedFactor: number;
  /** Server address (IPv4, wire order) and port. */
  addr: Buffer;
  port: number;
  /** The core's CFG_EVQ_SLOTS (the app copies one step's command results). */
  evqSlots: number;
}

export interface Feed {
  /** Played sessions, in start order (the app's flow ids). */
  played: Session[];
  /** Turn record index of each played session's first turn. */
  turn0: number[];
  bytes: number;
  flowsOff: number;
  turnsOff: number;
  dataOff: number;
  /** Per played session: data-area offsets of its client and server streams. */
  dataAt: { client: number; server: number }[];
}

const align = (x: number, a: number) => Math.ceil(x / a) * a;

/** The scratch for one step's command results right after the header, then the open-flow slots. */
const SCRATCH_OFF = LP.LP_HDR_BYTES;
const slotsAt = (o: FeedOptions) => align(SCRATCH_OFF + o.evqSlots * DESC_SIZE, 64);

/** Lays the feed out for `played` sessions (sizes only; write() fills a core's app region). */
export function planFeed(played: Session[], o: FeedOptions): Feed {
  const slotsOff = slotsAt(o);
  const flowsOff = align(slotsOff + o.concurrency * 4, 64);
  let turns = 0;
  const turn0: number[] = [];
  for (const s of played) {
    turn0.push(turns);
    turns += s.turns.length;
  }
  const turnsOff = flowsOff + played.length * LP.LP_FLOW_BYTES;
  const dataOff = align(turnsOff + turns * LP.LP_TURN_BYTES, 64);
  let data = 0;
  const dataAt: Feed["dataAt"] = [];
  for (const s of played) {
    dataAt.push({ client: data, server: data + s.client.length });
    data += s.client.length + s.server.length;
  }
  const bytes = align(dataOff + data + 64, 4096);
  if (bytes > 0xc0000000)
    throw new UsageError(
      `the sessions' payload (${data} bytes) does not fit a core`,
      "play fewer flows (--flows N)",
    );
  return { played, turn0, bytes, flowsOff, turnsOff, dataOff, dataAt };
}

/** Writes the header, flow and turn records and the payload into the core's R_APP (before the first poll). */
export function writeFeed(core: Core, feed: Feed, o: FeedOptions): void {
  const base = core.regions.app.offset;
  if (core.regions.app.bytes < feed.bytes) throw new Error("liveplay: app region smaller than the feed");
  const u8 = core.u8;
  const dv = new DataView(core.memory.buffer);
  const put = (off: number, v: number) => dv.setUint32(base + off, v >>> 0, true);
  const first = feed.played.length ? feed.played[0].synTs : 0;
  for (let i = 0; i < feed.played.length; i++) {
    const s = feed.played[i];
    const at = feed.dataAt[i];
    u8.set(s.client, base + feed.dataOff + at.client);
    u8.set(s.server, base + feed.dataOff + at.server);
    const r = feed.flowsOff + i * LP.LP_FLOW_BYTES;
    u8.fill(0, base + r, base + r + LP.LP_FLOW_BYTES);
    put(r + LP.F_TURN0, feed.turn0[i]);
    put(r + LP.F_NTURNS, s.turns.length);
    put(r + LP.F_CLOSE, CLOSE_CODES[s.close]);
    put(r + LP.F_FLAGS, s.openEnd ? LP.FF_OPEN_END : 0);
    put(
      r + LP.F_START_US,
      o.speedFactor ? Math.min(0xffffffff, Math.round(((s.synTs - first) * 1e6) / o.speedFactor)) : 0,
    );
    let prevEnd = s.openTs;
    s.turns.forEach((t, k) => {
      const p = feed.turnsOff + (feed.turn0[i] + k) * LP.LP_TURN_BYTES;
      put(p + LP.T_REQ_OFF, at.client + t.reqOff);
      put(p + LP.T_REQ_LEN, t.reqLen);
      put(p + LP.T_RESP_OFF, at.server + t.respOff);
      put(p + LP.T_RESP_LEN, t.respLen);
      put(p + LP.T_CMP_LEN, t.cmpLen);
      const think = o.speedFactor ? Math.max(0, ((t.reqTs - prevEnd) * 1e6) / o.speedFactor) : 0;
      put(p + LP.T_THINK_US, Math.min(0xffffffff, Math.round(think)));
      put(p + LP.T_LAT_US, LP.LAT_NONE);
      put(p + LP.T_MISS, LP.MISS_NONE);
      prevEnd = Math.max(prevEnd, t.endTs);
    });
  }
  u8.fill(0, base, base + LP.LP_HDR_BYTES);
  put(LP.H_FLOWS, feed.played.length);
  put(LP.H_CONC, o.concurrency);
  put(LP.H_TIMEOUT_US, o.timeoutUs);
  // The scan that enforces deadlines (and paced starts) runs this often.
  put(LP.H_SCAN_US, o.speedFactor ? 1000 : Math.max(1000, Math.min(50_000, Math.floor(o.timeoutUs / 16))));
  put(LP.H_FLAGS, o.compare ? LP.HF_COMPARE : 0);
  put(LP.H_FAMILY, 4); // IPv4: the servers liveplay plays to
  put(LP.H_PORT, o.port);
  put(LP.H_FLOWS_OFF, feed.flowsOff);
  put(LP.H_TURNS_OFF, feed.turnsOff);
  put(LP.H_DATA_OFF, feed.dataOff);
  put(LP.H_SLOTS_OFF, slotsAt(o));
  u8.set(o.addr, base + LP.H_ADDR);
  put(LP.H_SCRATCH_OFF, SCRATCH_OFF);
  put(LP.H_MAGIC, LP.LP_MAGIC); // last: the app starts once it sees this
}

// ---- results: what the app wrote back --------------------------------------------
/** Outcome names by F_RESULT. */
export const RESULT_NAMES = LP.RES_NAMES;
export type ResultName = (typeof RESULT_NAMES)[number];

export interface FeedStatus {
  started: number;
  done: number;
  active: number;
  turns: number;
  mismatches: number;
  timeouts: number;
  errors: number;
  bad: boolean;
  txBytes: number;
  rxBytes: number;
}

export function feedStatus(core: Core): FeedStatus {
  const dv = new DataView(core.memory.buffer);
  const b = core.regions.app.offset;
  const g = (o: number) => dv.getUint32(b + o, true);
  const g64 = (o: number) => Number(dv.getBigUint64(b + o, true));
  return {
    started: g(LP.S_STARTED),
    done: g(LP.S_DONE),
    active: g(LP.S_ACTIVE),
    turns: g(LP.S_TURNS),
    mismatches: g(LP.S_MISMATCH),
    timeouts: g(LP.S_TIMEOUTS),
    errors: g(LP.S_ERRORS),
    bad: g(LP.S_BAD) !== 0,
    txBytes: g64(LP.S_TX),
    rxBytes: g64(LP.S_RX),
  };
}

export interface TurnResult {
  /** µs from the request's start to the response's last byte; null: timed out or not run. */
  latencyUs: number | null;
  timedOut: boolean;
  /** First differing response offset, or null. */
  mismatchAt: number | null;
}

export interface FlowResult {
  result: ResultName;
  /** How the connection ended (the stack's reason), or null if it never had one. */
  dead: string | null;
  turns: TurnResult[];
  mismatches: number;
  timeouts: number;
  extraBytes: number;
  /** Response bytes after the last captured server byte of an open-ended session: counted, not compared. */
  beyondBytes: number;
  closeTimedOut: boolean;
  connectUs: number | null;
}

export function readResults(core: Core, feed: Feed): FlowResult[] {
  const dv = new DataView(core.memory.buffer);
  const b = core.regions.app.offset;
  const g = (o: number) => dv.getUint32(b + o, true);
  const g64 = (o: number) => Number(dv.getBigUint64(b + o, true));
  return feed.played.map((s, i) => {
    const r = feed.flowsOff + i * LP.LP_FLOW_BYTES;
    const turns: TurnResult[] = s.turns.map((_, k) => {
      const p = feed.turnsOff + (feed.turn0[i] + k) * LP.LP_TURN_BYTES;
      const lat = g(p + LP.T_LAT_US);
      const miss = g(p + LP.T_MISS);
      return {
        latencyUs: lat === LP.LAT_NONE || lat === LP.LAT_TIMEOUT ? null : lat,
        timedOut: lat === LP.LAT_TIMEOUT,
        mismatchAt: miss === LP.MISS_NONE ? null : miss,
      };
    });
    const dead = g(r + LP.F_DEAD);
    const tc = g64(r + LP.F_T_CONNECT);
    const to = g64(r + LP.F_T_OPEN);
    return {
      result: RESULT_NAMES[g(r + LP.F_RESULT)] ?? "running",
      dead: dead ? (DEAD_NAMES[dead - 1] ?? `reason ${dead - 1}`) : null,
      turns,
      mismatches: g(r + LP.F_MISMATCH),
      timeouts: g(r + LP.F_TIMEOUTS),
      extraBytes: g(r + LP.F_EXTRA),
      beyondBytes: g(r + LP.F_BEYOND),
      closeTimedOut: (g(r + LP.F_BITS) & LP.B_CLOSE_TIMEOUT) !== 0,
      connectUs: to ? to - tc : null,
    };
  });
}
