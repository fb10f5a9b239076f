// Flow-group migration, the core's half (issue 6): serialise every TCP connection
// of one flow group (RSS hash & 127) into a byte buffer and delete it here, or
// recreate connections from such a buffer. The host's control plane
// (host/runtime/control-plane.ts) moves the bytes between two workers' memories;
// a core never sees another core's memory.
//
// Called between two poll()s, never inside one: the flush list is empty then,
// the event queue is empty, and the only thing that can be pending for a
// connection is the result of a command its app issued in the last poll. IX
// migrates a flow group only when no events are pending for it
// (inc/ix/ethfg.h); here that is "no command of this group awaits its result":
// migrateExport answers MIG_AGAIN until the app has read them.
//
// Chunk format (little-endian), version 1:
//   header (32 B): magic u32 "IXMG", version u16, header bytes u16, group u32,
//                  flows u32, exporter clock u64 (µs), bytes u32 (whole chunk),
//                  more u32 (1: flows of the group are left, export again)
//   then `flows` records, each 8-aligned:
//     0 u32 record bytes        4 u16 rq mbufs       6 u16 ooo mbufs
//     8 u16 send spans         10 u16 cursor span position (0xffff none)
//    12 u32 app record bytes   16 40 B flow key (net/flow/key.ts) of TCB_FLOW
//    56 256 B TCB image (tcb.ts layout; its list links and pool indices are
//           meaningless in another memory and are rebuilt on import)
//   312 mbuf entries (rq first, then ooo), each 24 B + its bytes (8-aligned):
//       old data-area address u32, first byte kept u16 (offset in the data
//       area), bytes kept u16, MB_USER0 u32 (length), MB_USER1 u32 (old data
//       pointer), MB_SEQ u32, MB_FLAGS u32
//       then spans, 8 B each: old pointer u32, length u32
//       then the app's record (its exportConn, apps/registry.ts), padded to 8
//
// What moves: TCB (state, sequence space, windows, congestion and RTT state,
// options, timers as time left), the flow-table entry, the receive queue and
// the out-of-order queue (the bytes the connection still needs), the send
// queue (span list + cursor) and the app's per-connection record. Send spans
// must point into the connection's own received mbufs (zero-copy echo does
// exactly that): their bytes move with the mbufs and the pointers are
// translated. A connection whose send data lives elsewhere (memcached's store,
// a client's message buffers) is not movable and the whole group is refused
// before anything is deleted. App timers (CMD_TIMER) are keyed by cookie and
// do not move. Timers: deadlines are written as time left at export and re-armed
// from the importer's clock, so a pause neither fires them early nor loses them;
// the timestamp offset moves by the same amount so TSval never goes back.
import { CFG_SPANS, cfg } from "../../mem/layout";
import {
  MB_DATA_LEN, MB_DATA_OFF, MB_FLAGS, MB_LINK, MB_SEQ, MB_USER0, MB_USER1, mbufDataBytes,
  mbufAlloc, mbufBuf, mbufFreeCount,
} from "../../mem/mbuf";
import { FLOW_KEY_BYTES } from "../../flow/key";
import { flowCapacity, flowCount, flowInsert, flowKeyAt, flowValue } from "../../flow/table";
import { cmdBase, cmdLen, D_HANDLE, DESC_SIZE } from "../../api/abi";
import {
  NONE, TCB_BYTES, TCB_SACK_BOARD, TCB_COOKIE, TCB_CUR_SPAN, TCB_DELACK_AT, TCB_DIRTY_PREV, TCB_FLAGS, TCB_FLOW,
  TCB_GEN, TCB_HASH, TCB_LAST_SENT_EV, TCB_LINK, TCB_OOO_COUNT, TCB_OOO_HEAD, TCB_RQ_HEAD, TCB_RQ_TAIL,
  TCB_RTT_START, TCB_SQ_HEAD, TCB_SQ_HEAD_OFF, TCB_SQ_TAIL, TCB_TMR_DEADLINE, TCB_TMR_KIND, TCB_TS_OFF,
  tcbAt, tcbCapacity, tcbFromHandle, tcbHandle, tcbHighWater, tcbUsed,
} from "./tcb";
import { SP_LEN, SP_NEXT, SP_PTR, spanAlloc, spanAt, spansUsed } from "./span";
import { armTimer, halfOpenAdd, tcbDestroy, tcbNew, tcpNow, tcpSetNow } from "./engine";
import { TF_APP, TF_APP_GONE, TF_DIRTY, TF_HALFOPEN, TF_SACK_RECOVERY, TF_USED, TK_NONE } from "./state";

// The chunk's header (MH_*), magic, version and the results (MIG_*) the host reads: abi/table/migrate.ts.
import {
  MIG_HDR, MH_MAGIC, MH_VERSION, MH_HDR_BYTES, MH_GROUP, MH_FLOWS, MH_CLOCK, MH_BYTES, MH_MORE, MIG_MAGIC,
  MIG_VERSION, MIG_BAD, MIG_NOT_MOVABLE, MIG_TOO_BIG, MIG_NO_ROOM, MIG_AGAIN, RETA_MASK,
} from "../../abi/migrate.gen";
const REC_HDR: usize = 312;
const MB_ENT: usize = 24;

const XL_MAX: u32 = 4096; // mbufs per connection the translation table holds
const xlOld = memory.data(<i32>(XL_MAX * 4), 16);
const xlNew = memory.data(<i32>(XL_MAX * 4), 16);
let xlCount: u32 = 0;

// The app's half of a move: its per-connection record. The app registry
// (apps/registry.ts) sets these at init; until then, and for apps without hooks,
// no connection that has an app can move. Set from above so that this layer does
// not import the apps.
function notMovable(_cookie: u32): i32 {
  return -1;
}
function exportNothing(_cookie: u32, _out: usize): u32 {
  return 0;
}
function importRefused(_inp: usize, _len: u32, _handle: u32): i32 {
  return -1;
}
function noRoom(): u32 {
  return 0;
}
let appMigrateBytes: (cookie: u32) => i32 = notMovable;
let appExport: (cookie: u32, out: usize) => u32 = exportNothing;
let appImport: (inp: usize, len: u32, handle: u32) => i32 = importRefused;
let appMigrateRoom: () => u32 = noRoom;

export function setMigrateHooks(
  bytes: (cookie: u32) => i32,
  exportConn: (cookie: u32, out: usize) => u32,
  importConn: (inp: usize, len: u32, handle: u32) => i32,
  room: () => u32,
): void {
  appMigrateBytes = bytes;
  appExport = exportConn;
  appImport = importConn;
  appMigrateRoom = room;
}

let lastFlows: u32 = 0;
let lastBytes: u32 = 0;

@inline function inGroup(t: usize, group: u32): bool {
  return (load<u32>(t, TCB_FLAGS) & TF_USED) != 0 && (load<u32>(t, TCB_HASH) & RETA_MASK) == group;
}

@inline function appHolds(t: usize): bool {
  return (load<u32>(t, TCB_FLAGS) & (TF_APP | TF_APP_GONE)) == TF_APP;
}

/** Connections of flow group `group` on this core. */
export function migrateGroupFlows(group: u32): u32 {
  let n: u32 = 0;
  const hw = tcbHighWater();
  for (let s: u32 = 0; s < hw; s++) if (inGroup(tcbAt(s), group)) n++;
  return n;
}

// True if a command of this group was executed in the last poll and its app has not read the result yet.
function groupBusy(group: u32): bool {
  const n = cmdLen();
  const b = cmdBase();
  for (let i: u32 = 0; i < n; i++) {
    const t = tcbFromHandle(load<u32>(b + <usize>i * DESC_SIZE, D_HANDLE));
    if (t != 0 && (load<u32>(t, TCB_HASH) & RETA_MASK) == group) return true;
  }
  return false;
}

// The mbuf (rq or ooo) of t whose data area holds [p, p+len), or 0.
function mbufHolding(t: usize, p: usize, len: u32): usize {
  for (let q: i32 = 0; q < 2; q++) {
    let m = <usize>load<u32>(t + (q == 0 ? TCB_RQ_HEAD : TCB_OOO_HEAD));
    while (m != 0) {
      const b = mbufBuf(m);
      if (p >= b && p + <usize>len <= b + mbufDataBytes) return m;
      m = <usize>load<u32>(m, MB_LINK);
    }
  }
  return 0;
}

function chainLen(m: usize): u32 {
  let n: u32 = 0;
  while (m != 0) {
    n++;
    m = <usize>load<u32>(m, MB_LINK);
  }
  return n;
}

// Bytes of m's data area kept: from the first byte still referenced (unread data or a send span) to the last.
function keptRange(t: usize, m: usize): u64 {
  const b = mbufBuf(m);
  let lo = <usize>load<u32>(m, MB_USER1);
  let hi = lo + <usize>load<u32>(m, MB_USER0);
  let s = load<u32>(t, TCB_SQ_HEAD);
  while (s != NONE) {
    const p = <usize>load<u32>(spanAt(s), SP_PTR);
    const e = p + <usize>load<u32>(spanAt(s), SP_LEN);
    if (p >= b && e <= b + mbufDataBytes) {
      if (p < lo) lo = p;
      if (e > hi) hi = e;
    }
    s = load<u32>(spanAt(s), SP_NEXT);
  }
  if (lo < b) lo = b;
  if (hi > b + mbufDataBytes) hi = b + mbufDataBytes;
  if (hi < lo) hi = lo;
  return (<u64>(lo - b) << 32) | <u64>(hi - lo);
}

/** Bytes connection t takes in a chunk, or a negative MIG_* if it cannot move. */
function recordBytes(t: usize): i32 {
  const nrq = chainLen(<usize>load<u32>(t, TCB_RQ_HEAD));
  const nooo = chainLen(<usize>load<u32>(t, TCB_OOO_HEAD));
  if (nrq + nooo > XL_MAX || nrq > 0xffff || nooo > 0xffff) return MIG_NOT_MOVABLE;
  let bytes: usize = REC_HDR;
  for (let q: i32 = 0; q < 2; q++) {
    let m = <usize>load<u32>(t + (q == 0 ? TCB_RQ_HEAD : TCB_OOO_HEAD));
    while (m != 0) {
      bytes += MB_ENT + ((<usize>(keptRange(t, m) & 0xffffffff) + 7) & ~7);
      m = <usize>load<u32>(m, MB_LINK);
    }
  }
  let nsp: u32 = 0;
  let s = load<u32>(t, TCB_SQ_HEAD);
  while (s != NONE) {
    if (mbufHolding(t, <usize>load<u32>(spanAt(s), SP_PTR), load<u32>(spanAt(s), SP_LEN)) == 0) return MIG_NOT_MOVABLE;
    nsp++;
    s = load<u32>(spanAt(s), SP_NEXT);
  }
  if (nsp >= 0xffff) return MIG_NOT_MOVABLE;
  bytes += <usize>nsp * 8;
  if (appHolds(t)) {
    const ab = appMigrateBytes(load<u32>(t, TCB_COOKIE));
    if (ab < 0) return MIG_NOT_MOVABLE;
    bytes += (<usize>ab + 7) & ~7;
  }
  return <i32>bytes;
}

function writeRecord(t: usize, out: usize): usize {
  let p = out + REC_HDR;
  // mbufs
  let nrq: u32 = 0;
  let nooo: u32 = 0;
  for (let q: i32 = 0; q < 2; q++) {
    let m = <usize>load<u32>(t + (q == 0 ? TCB_RQ_HEAD : TCB_OOO_HEAD));
    while (m != 0) {
      const r = keptRange(t, m);
      const lo = <usize>(r >> 32);
      const n = <usize>(r & 0xffffffff);
      store<u32>(p, <u32>mbufBuf(m));
      store<u16>(p, <u16>lo, 4);
      store<u16>(p, <u16>n, 6);
      store<u32>(p, load<u32>(m, MB_USER0), 8);
      store<u32>(p, load<u32>(m, MB_USER1), 12);
      store<u32>(p, load<u32>(m, MB_SEQ), 16);
      store<u32>(p, load<u32>(m, MB_FLAGS), 20);
      memory.copy(p + MB_ENT, mbufBuf(m) + lo, n);
      p += MB_ENT + ((n + 7) & ~7);
      if (q == 0) nrq++;
      else nooo++;
      m = <usize>load<u32>(m, MB_LINK);
    }
  }
  // send spans and the cursor's position among them
  let nsp: u32 = 0;
  let cur: u32 = 0xffff;
  const half = (load<u32>(t, TCB_FLAGS) & TF_HALFOPEN) != 0; // the cursor words hold list links then
  const cs = load<u32>(t, TCB_CUR_SPAN);
  let s = load<u32>(t, TCB_SQ_HEAD);
  while (s != NONE) {
    if (!half && s == cs) cur = nsp;
    store<u32>(p, load<u32>(spanAt(s), SP_PTR));
    store<u32>(p, load<u32>(spanAt(s), SP_LEN), 4);
    p += 8;
    nsp++;
    s = load<u32>(spanAt(s), SP_NEXT);
  }
  // app record
  let ab: u32 = 0;
  if (appHolds(t)) {
    ab = appExport(load<u32>(t, TCB_COOKIE), p);
    p += (<usize>ab + 7) & ~7;
  }
  store<u32>(out, <u32>(p - out));
  store<u16>(out, <u16>nrq, 4);
  store<u16>(out, <u16>nooo, 6);
  store<u16>(out, <u16>nsp, 8);
  store<u16>(out, <u16>cur, 10);
  store<u32>(out, ab, 12);
  const fi = load<u32>(t, TCB_FLOW);
  if (fi != NONE) memory.copy(out + 16, flowKeyAt(<i32>fi), FLOW_KEY_BYTES);
  else memory.fill(out + 16, 0, FLOW_KEY_BYTES);
  memory.copy(out + 56, t, TCB_BYTES);
  return p - out;
}

/**
 * Serialises connections of flow group `group` into [out, out+cap) and deletes
 * them here (no RST, no EV_TCP_DEAD: they live on elsewhere). Returns the chunk's
 * bytes (header "more" = 1 when connections are left: call again), or MIG_*.
 * The first call checks every connection of the group, so a refusal
 * (MIG_NOT_MOVABLE, MIG_TOO_BIG) leaves the group untouched.
 */
export function migrateExport(group: u32, out: usize, cap: u32, nowUs: f64): i32 {
  if (group > RETA_MASK || cap < <u32>(MIG_HDR + REC_HDR) || out < 0x10000) return MIG_BAD;
  if (<u64>out + <u64>cap > (<u64>memory.size() << 16)) return MIG_BAD;
  tcpSetNow(<u64>nowUs);
  if (groupBusy(group)) return MIG_AGAIN;
  const hw = tcbHighWater();
  const room = <usize>cap - MIG_HDR;
  for (let s: u32 = 0; s < hw; s++) {
    const t = tcbAt(s);
    if (!inGroup(t, group)) continue;
    const b = recordBytes(t);
    if (b < 0) return b;
    if (<usize>b > room) return MIG_TOO_BIG;
  }
  let p = out + MIG_HDR;
  let flows: u32 = 0;
  let more: u32 = 0;
  for (let s: u32 = 0; s < hw; s++) {
    const t = tcbAt(s);
    if (!inGroup(t, group)) continue;
    if (p + <usize>recordBytes(t) > out + <usize>cap) {
      more = 1;
      break;
    }
    p += writeRecord(t, p);
    flows++;
    tcbDestroy(t, -1); // mbufs, spans, flow entry, half-open and flush lists, timer
  }
  store<u32>(out, MIG_MAGIC, MH_MAGIC);
  store<u16>(out, MIG_VERSION, MH_VERSION);
  store<u16>(out, <u16>MIG_HDR, MH_HDR_BYTES);
  store<u32>(out, group, MH_GROUP);
  store<u32>(out, flows, MH_FLOWS);
  store<u64>(out, tcpNow(), MH_CLOCK);
  store<u32>(out, <u32>(p - out), MH_BYTES);
  store<u32>(out, more, MH_MORE);
  lastFlows = flows;
  lastBytes = <u32>(p - out);
  return <i32>(p - out);
}

/** The new address of old address p under the current record's mbuf translation, or 0. For app import hooks. */
export function migrateXlate(p: u32): u32 {
  for (let i: u32 = 0; i < xlCount; i++) {
    const o = load<u32>(xlOld + (<usize>i << 2));
    if (p >= o && <u64>p <= <u64>o + <u64>mbufDataBytes) return load<u32>(xlNew + (<usize>i << 2)) + (p - o);
  }
  return 0;
}

// What a chunk needs of the importer's pools, checked before anything changes.
function hasRoom(inp: usize, flows: u32): bool {
  let mbufs: u64 = 0;
  let spans: u64 = 0;
  let apps: u64 = 0;
  let r = inp + MIG_HDR;
  for (let i: u32 = 0; i < flows; i++) {
    mbufs += <u64>load<u16>(r, 4) + <u64>load<u16>(r, 6);
    spans += <u64>load<u16>(r, 8);
    if (appHolds(r + 56)) apps++;
    r += <usize>load<u32>(r);
  }
  return (
    <u64>tcbCapacity() - <u64>tcbUsed() >= <u64>flows &&
    <u64>flowCapacity() - <u64>flowCount() >= <u64>flows &&
    <u64>mbufFreeCount() >= mbufs + 64 && // leave the RX path some buffers
    <u64>cfg(CFG_SPANS) - <u64>spansUsed() >= spans &&
    <u64>appMigrateRoom() >= apps
  );
}

/**
 * Recreates the connections of a chunk written by migrateExport (on any core).
 * Returns the connections imported, or MIG_BAD / MIG_NO_ROOM (nothing changed).
 */
export function migrateImport(inp: usize, len: u32, nowUs: f64): i32 {
  if (len < <u32>MIG_HDR || inp < 0x10000 || <u64>inp + <u64>len > (<u64>memory.size() << 16)) return MIG_BAD;
  if (load<u32>(inp, MH_MAGIC) != MIG_MAGIC || load<u16>(inp, MH_VERSION) != MIG_VERSION ||
      load<u32>(inp, MH_BYTES) != len) return MIG_BAD;
  const flows = load<u32>(inp, MH_FLOWS);
  // Walk the records once: each must lie inside the chunk.
  let r = inp + <usize>load<u16>(inp, MH_HDR_BYTES);
  for (let i: u32 = 0; i < flows; i++) {
    const rb = <usize>load<u32>(r);
    if (rb < REC_HDR || r + rb > inp + <usize>len) return MIG_BAD;
    r += rb;
  }
  if (!hasRoom(inp, flows)) return MIG_NO_ROOM;
  tcpSetNow(<u64>nowUs);
  const shift = <i64>tcpNow() - <i64>load<u64>(inp, MH_CLOCK); // importer clock minus exporter clock at export
  r = inp + MIG_HDR;
  let done: u32 = 0;
  for (let i: u32 = 0; i < flows; i++) {
    if (importRecord(r, shift)) done++;
    r += <usize>load<u32>(r);
  }
  lastFlows = done;
  lastBytes = len;
  return <i32>done;
}

function importRecord(r: usize, shift: i64): bool {
  const img = r + 56;
  const t = tcbNew(false);
  if (t == 0) return false;
  const gen = load<u32>(t, TCB_GEN);
  memory.copy(t, img, TCB_BYTES);
  store<u32>(t, gen, TCB_GEN);
  // The SACK scoreboard lives in the exporter's pool: a recovery in progress goes on as NewReno.
  let f = load<u32>(t, TCB_FLAGS) & ~(TF_DIRTY | TF_HALFOPEN | TF_SACK_RECOVERY);
  store<u8>(t, 0, TCB_SACK_BOARD);
  store<u32>(t, f | TF_USED, TCB_FLAGS);
  store<u32>(t, 0, TCB_LINK);
  store<u32>(t, 0, TCB_DIRTY_PREV);
  store<u32>(t, 0, TCB_LAST_SENT_EV);
  store<u32>(t, NONE, TCB_FLOW);
  // The image's queue heads name the exporter's mbufs and spans: empty until rebuilt below.
  store<u32>(t, 0, TCB_RQ_HEAD);
  store<u32>(t, 0, TCB_RQ_TAIL);
  store<u32>(t, 0, TCB_OOO_HEAD);
  store<u8>(t, 0, TCB_OOO_COUNT);
  store<u32>(t, NONE, TCB_SQ_HEAD);
  store<u32>(t, NONE, TCB_SQ_TAIL);
  store<u32>(t, NONE, TCB_CUR_SPAN);
  // flow entry
  if (load<u8>(r + 16) != 0) {
    const idx = flowInsert(r + 16, load<u32>(t, TCB_HASH));
    if (idx < 0) {
      tcbDestroy(t, -1);
      return false;
    }
    store<u32>(flowValue(idx), <u32>((t - tcbAt(0)) / TCB_BYTES));
    store<u32>(t, <u32>idx, TCB_FLOW);
  }
  // mbufs: receive queue, then out-of-order queue
  const nrq = <u32>load<u16>(r, 4);
  const nooo = <u32>load<u16>(r, 6);
  let p = r + REC_HDR;
  xlCount = 0;
  let prev: usize = 0;
  for (let k: u32 = 0; k < nrq + nooo; k++) {
    const m = mbufAlloc(); // hasRoom() counted these; exporter and importer share one config, so lo + n fits mbufDataBytes
    const oldBuf = load<u32>(p);
    const lo = <usize>load<u16>(p, 4);
    const n = <usize>load<u16>(p, 6);
    const nb = <u32>mbufBuf(m);
    memory.copy(<usize>nb + lo, p + MB_ENT, n);
    store<u16>(m, <u16>lo, MB_DATA_OFF);
    store<u16>(m, <u16>n, MB_DATA_LEN);
    store<u32>(m, load<u32>(p, 8), MB_USER0);
    store<u32>(m, nb + (load<u32>(p, 12) - oldBuf), MB_USER1);
    store<u32>(m, load<u32>(p, 16), MB_SEQ);
    store<u32>(m, load<u32>(p, 20), MB_FLAGS);
    store<u32>(m, 0, MB_LINK);
    store<u32>(xlOld + (<usize>xlCount << 2), oldBuf);
    store<u32>(xlNew + (<usize>xlCount << 2), nb);
    xlCount++;
    if (k == 0 || k == nrq) {
      store<u32>(t + (k < nrq ? TCB_RQ_HEAD : TCB_OOO_HEAD), <u32>m);
    } else store<u32>(prev, <u32>m, MB_LINK);
    if (k < nrq) store<u32>(t, <u32>m, TCB_RQ_TAIL);
    prev = m;
    p += MB_ENT + ((n + 7) & ~7);
  }
  store<u8>(t, <u8>nooo, TCB_OOO_COUNT);
  // send queue, pointers translated into the new mbufs
  const nsp = <u32>load<u16>(r, 8);
  const cur = <u32>load<u16>(r, 10);
  const half = (load<u32>(img, TCB_FLAGS) & TF_HALFOPEN) != 0;
  let tail: u32 = NONE;
  for (let k: u32 = 0; k < nsp; k++) {
    const s = spanAlloc(migrateXlate(load<u32>(p)), load<u32>(p, 4)); // hasRoom() counted these
    if (tail != NONE) store<u32>(spanAt(tail), s, SP_NEXT);
    else store<u32>(t, s, TCB_SQ_HEAD);
    store<u32>(t, s, TCB_SQ_TAIL);
    tail = s;
    if (!half && k == cur) store<u32>(t, s, TCB_CUR_SPAN);
    p += 8;
  }
  if (nsp == 0) store<u32>(t, 0, TCB_SQ_HEAD_OFF);
  if (half) halfOpenAdd(t);
  // app record: a new cookie, and the app learns the new handle
  const ab = load<u32>(r, 12);
  if (appHolds(t)) {
    const c = appImport(p, ab, tcbHandle(t));
    if (c < 0) {
      // The app could not take it after all: the connection ends quietly (counted by the host as lost).
      store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_APP_GONE, TCB_FLAGS);
      tcbDestroy(t, -1);
      return false;
    }
    store<u32>(t, <u32>c, TCB_COOKIE);
  }
  // timers: same time left as at export
  if (load<u8>(t, TCB_TMR_KIND) != TK_NONE) store<u64>(t, <u64>(<i64>load<u64>(t, TCB_TMR_DEADLINE) + shift), TCB_TMR_DEADLINE);
  const da = load<u64>(t, TCB_DELACK_AT);
  if (da != 0) store<u64>(t, <u64>(<i64>da + shift), TCB_DELACK_AT);
  store<u32>(t, load<u32>(t, TCB_RTT_START) + <u32>shift, TCB_RTT_START);
  store<u32>(t, load<u32>(t, TCB_TS_OFF) - <u32>(shift / 1000), TCB_TS_OFF); // TSval = now ms + offset: unchanged across the move
  armTimer(t);
  return true;
}

/** 0: connections of the last export or import, 1: its bytes. */
export function migrateStat(i: i32): u32 {
  return i == 0 ? lastFlows : i == 1 ? lastBytes : 0;
}
