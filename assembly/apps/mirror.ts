// mirror: replay serve mode's server. It sends, on each connection, exactly the
// bytes the capture's server sent, each recorded segment as one SENDV once the
// client bytes that segment acknowledged have arrived here, and closes when the
// recorded server closed. The host (host/replay/serve/mirror-feed.ts) produces the
// recorded segments into a feed ring at the start of R_APP, in capture order.
//
// Why each chunk is a record (SENDV_EOR): the stack fills segments up to the MSS
// from whatever is queued (RFC 9293 §3.8.6.2.1 without Nagle). A chunk queued
// while the window or cwnd holds the previous one back would otherwise leave in
// one segment with it: python's http.server ends every 64 KiB write in a short
// segment that would be merged with the next write's first bytes. A record end
// is a boundary no segment crosses; the window still decides when bytes leave.
// One chunk is offered per step; the host polls again while `work` (below)
// says a chunk is ready.
//
// Why the congestion window is lifted: the capture's server already ran its
// congestion control, and the feed releases bytes no earlier than it sent them.
// The capture's client ACKs acknowledge those bytes: if our own slow start
// (RFC 5681, IW of RFC 3390) held them back, the ACKs would cover data not yet
// sent and be discarded (RFC 9293 §3.10.7.4). So before each SENDV the
// connection's cwnd is set above any window the client can offer.
//
// R_APP layout (abi/table/feeds.ts: the host's host/core/mirror.gen.ts has the same names):
//   FEED_HEAD  feed head (u32, bytes produced, host); FEED_TAIL feed tail (u32, bytes consumed, app)
//   W_*        status words the host reads after each poll; W_KEY: key scratch for the host's tcpPreset
//   FEED_OFF   feed ring (FEED_BYTES)
//   then       flow records (FLOW_BYTES each, index = the host's flow slot)
//              key → flow hash (u32 flow id + 1, 0 = empty)
//              SENDV span arrays: one per flow stepped in one app step (MAX_DIRTY), not per flow
//              chunk pool (CHUNK_BYTES: end, req, next), block pool (BLK bytes) and block links
// Feed record: FR_HDR-byte header {kind, flow, off, req, len} (FH_*) + payload padded to 8.
//   FR_WRAP: skip to the ring's start. FR_FLOW: payload = the flow key (client's
//   SYN direction). FR_DATA: server stream bytes [off, off+len) that the server
//   sent after `req` client bytes (+1 for the client's FIN) had reached it.
//   FR_FIN / FR_RST: the server closed / reset after `req` client bytes (FIN: off
//   = 1 when it rode on the last data segment, so it leaves with that data).
//   FR_DGRAM: a UDP flow's server datagram, sent after `req` client datagrams
//   of that flow had arrived. FR_DONE: the capture has nothing more for the flow.
//
// Flow slots are reused (issue 10: 1 M concurrent connections must fit in 4 GiB):
// a slot is free again (FS_FREE, which the host reads in the record's state word)
// once the host sent FR_DONE and the connection is not open (it died, or never
// opened); its blocks and chunks go back to the pools and its key leaves the hash.
// A flow's last block is freed too once every stored byte is acknowledged, so an
// idle connection holds no stream memory, only its 192-byte record.
//
// UDP flows (the FR_FLOW key's protocol is 17) need no handshake: each client
// datagram (EV_UDP_RECV, found by its key) counts one; each recorded server
// datagram waits in its own block until its count of client datagrams is in,
// then leaves with CMD_UDP_SEND as an answer to the client's last datagram
// (its 64-byte address record is kept in the flow record). Several may leave
// in one step: UDP keeps datagram boundaries by itself.
import {
  D_A, D_B, D_COOKIE, D_HANDLE, D_KIND, D_RET, DESC_SIZE, SPAN_SIZE,
  EV_TCP_KNOCK, EV_TCP_RECV, EV_TCP_SENT, EV_TCP_DEAD, EV_UDP_RECV, D_C,
  CMD_ACCEPT, CMD_REJECT, CMD_SENDV, CMD_RECV_DONE, CMD_CLOSE, CMD_ABORT, CMD_UDP_SEND, RET_AGAIN, RET_OK, SENDV_EOR, D_FLAGS,
  cmdLen, cmdPush,
} from "../api/abi";
import { CFG_APP_CONNS, cfg, memoryIsFresh } from "../mem/layout";
import { appBase, appBytes } from "../api/env";
import { tcbFromHandle, TCB_CWND, TCB_FLOW } from "../net/tcp/tcb";
import { flowKeyAt } from "../flow/table";
import { flowKeyEqual, flowKeyCopy } from "../flow/key";
// The feed's layout, status words, flow states and sizing (abi/table/feeds.ts; the host has the same names).
import {
  FEED_HEAD, FEED_TAIL, FEED_OFF, FEED_BYTES, W_WORK, W_CMDS, W_ACCEPTED, W_UNKNOWN, W_CHUNKS, W_DUP_BYTES,
  W_GAP_BYTES, W_CLOSES, W_RESETS, W_ERRORS, W_NO_MEM, W_BLOCKS_FREE, W_SENT_HI, W_SENT_LO, W_UDP_SENT,
  W_UDP_UNKNOWN, FR_WRAP, FR_FLOW, FR_DATA, FR_FIN, FR_RST, FR_DGRAM, FR_DONE, FR_HDR, FH_KIND, FH_FLOW, FH_OFF,
  FH_REQ, FH_LEN, FLOW_BYTES, F_STATE, FS_NONE, FS_ANNOUNCED, FS_OPEN, FS_DEAD, FS_UDP, FS_FREE, BLK,
  CHUNK_BYTES, CHUNKS_PER_BLK, IOV_MAX, MAX_DIRTY,
} from "../abi/mirror.gen";

const NONE: u32 = 0xffffffff;
const UDP_MAX: u32 = 1472; // what CMD_UDP_SEND takes (assembly/net/udp.ts)
const BIG_CWND: u32 = 1 << 30;

// Flow record fields after F_STATE: the app's own (the last ends at FLOW_BYTES).
const F_HANDLE = 4;
const F_RCVD = 8; // client stream bytes received (+1 once the client's FIN is in)
const F_END = 12; // server stream bytes stored
const F_SENT = 16; // bytes the stack accepted (SENDV)
const F_ACKED = 20;
const F_HEAD = 24; // first block (holds stream offset F_HEAD_AT)
const F_TAIL = 28;
const F_HEAD_AT = 32;
const F_CH_HEAD = 36;
const F_CH_TAIL = 40;
const F_FIN = 44; // 0, FIN_QUEUED, RST_QUEUED, FIN_DONE
const F_FIN_REQ = 48;
const F_OFFERED = 52; // bytes of the SENDV awaiting its result
const F_BLOCKED = 56; // the stack took less than offered: wait for EV_TCP_SENT
const F_DIRTY = 60;
const F_KEY = 64; // 40 bytes
const F_TAIL_AT = 104;
const F_FIN_PIGGY = 108; // the recorded FIN rode on the last data segment: CLOSE with its SENDV
const F_DONE = 112; // FR_DONE came: free the slot when the connection dies
const F_UDPA = 128; // UDP: the address record of the client's last datagram (64 bytes, net/udp.ts)
// UDP chunks: +0 block, +4 req (client datagrams), +8 next, +12 length.

const FIN_QUEUED: u32 = 1;
const RST_QUEUED: u32 = 2;
const FIN_DONE: u32 = 3;

let flows: u32 = 0;
let flowBase: usize = 0;
let hashBase: usize = 0;
let hashMask: u32 = 0;
let chunkBase: usize = 0;
let chunkFree: u32 = NONE;
let blkBase: usize = 0;
let blkNext: usize = 0;
let blkFree: u32 = NONE;
let blkFreeCount: u32 = 0;
// Chunks and blocks never used yet, [fresh, count): taken in index order once the
// free list is empty, which is the order a list linked at init would give, without
// touching ~2 MB of fresh pages at init (9 ms per serving core at load).
let chunkFresh: u32 = 0;
let chunkCount: u32 = 0;
let blkFresh: u32 = 0; // < nb while blkFreeCount > 0 (it counts these too)
let iovBase: usize = 0; // IOV_MAX spans per flow stepped in this step (the k-th dirty flow's array)
const dirty = memory.data(<i32>(MAX_DIRTY * 4), 16);
let nDirty: u32 = 0;
let dirtyOverflow = false;
// Connections accepted in this step: data that came with their handshake's ACK
// reaches the app as EV_TCP_RECV only at the next step, so they count as work.
let nAccepts: u32 = 0;

// Counters (mirrorStat).
let cAccepted: u64 = 0;
let cUnknown: u64 = 0;
let cChunks: u64 = 0;
let cDupBytes: u64 = 0;
let cGapBytes: u64 = 0;
let cSentBytes: u64 = 0;
let cCloses: u64 = 0;
let cResets: u64 = 0;
let cErrors: u64 = 0;
let cNoMem: u64 = 0;
let cUdpSent: u64 = 0;
let cUdpUnknown: u64 = 0;

@inline function flowAt(i: u32): usize {
  return flowBase + <usize>i * FLOW_BYTES;
}
@inline function chunkAt(i: u32): usize {
  return chunkBase + <usize>i * CHUNK_BYTES;
}
@inline function blkAt(i: u32): usize {
  return blkBase + <usize>i * BLK;
}
@inline function nextBlk(i: u32): u32 {
  return load<u32>(blkNext + (<usize>i << 2));
}
@inline function setNextBlk(i: u32, n: u32): void {
  store<u32>(blkNext + (<usize>i << 2), n);
}

/** Flow slots: CFG_APP_CONNS (the host sets it to the pre-scan's served flows). */
export function mirrorInit(): i32 {
  const base = appBase();
  const bytes = appBytes();
  const n = cfg(CFG_APP_CONNS);
  if (n == 0) return -2;
  let hs: u32 = 1;
  while (hs < n * 2) hs <<= 1;
  // SENDV reads its span array when the stack runs the command, right after this
  // step (assembly/apps/registry.ts), so one array per flow stepped in a step is enough.
  const iovBytes = <usize>MAX_DIRTY * IOV_MAX * SPAN_SIZE;
  const fixed = FEED_OFF + FEED_BYTES + <usize>n * FLOW_BYTES + <usize>hs * 4 + iovBytes;
  if (bytes < fixed + 64 * (<usize>BLK + 4 + <usize>CHUNKS_PER_BLK * CHUNK_BYTES)) return -2;
  memory.fill(base, 0, FEED_OFF);
  flows = n;
  flowBase = base + FEED_OFF + FEED_BYTES;
  // A fresh memory is zero already (FS_NONE, empty hash): at 1 M slots the fills
  // would touch ~220 MB of pages nobody uses yet.
  const fresh = memoryIsFresh();
  if (!fresh) memory.fill(flowBase, 0, <usize>n * FLOW_BYTES);
  hashBase = flowBase + <usize>n * FLOW_BYTES;
  hashMask = hs - 1;
  if (!fresh) memory.fill(hashBase, 0, <usize>hs * 4);
  iovBase = hashBase + <usize>hs * 4;
  const rest = bytes - fixed;
  const nb = <u32>(rest / (<usize>BLK + 4 + <usize>CHUNKS_PER_BLK * CHUNK_BYTES));
  chunkBase = iovBase + iovBytes;
  const nc = nb * CHUNKS_PER_BLK;
  blkNext = chunkBase + <usize>nc * CHUNK_BYTES;
  blkBase = (blkNext + <usize>nb * 4 + 63) & ~63;
  chunkFree = NONE;
  chunkFresh = 0;
  chunkCount = nc;
  blkFree = NONE;
  blkFresh = 0;
  blkFreeCount = nb;
  cAccepted = cUnknown = cChunks = cDupBytes = cGapBytes = cSentBytes = cCloses = cResets = cErrors = cNoMem = 0;
  cUdpSent = cUdpUnknown = 0;
  writeStatus(0);
  return 0;
}

function hashOf(key: usize): u32 {
  // FNV-1a over the 40 key bytes, 8 at a time folded: only a table index.
  let h: u64 = 0xcbf29ce484222325;
  for (let i: usize = 0; i < 40; i += 8) h = (h ^ load<u64>(key + i)) * 0x100000001b3;
  return <u32>(h ^ (h >> 32));
}

function hashFind(key: usize): u32 {
  let i = hashOf(key) & hashMask;
  for (;;) {
    const v = load<u32>(hashBase + (<usize>i << 2));
    if (v == 0) return NONE;
    if (flowKeyEqual(flowAt(v - 1) + F_KEY, key)) return v - 1;
    i = (i + 1) & hashMask;
  }
  return NONE;
}

/** Key → flow f; a later flow on the same key (port reuse) takes the entry over. */
function hashPut(f: u32): void {
  const key = flowAt(f) + F_KEY;
  let i = hashOf(key) & hashMask;
  for (;;) {
    const p = hashBase + (<usize>i << 2);
    const v = load<u32>(p);
    if (v == 0 || flowKeyEqual(flowAt(v - 1) + F_KEY, key)) {
      store<u32>(p, f + 1);
      return;
    }
    i = (i + 1) & hashMask;
  }
}

function markDirty(f: u32): void {
  const r = flowAt(f);
  if (load<u32>(r, F_DIRTY) != 0) return;
  if (nDirty >= MAX_DIRTY) {
    dirtyOverflow = true;
    return;
  }
  store<u32>(r, 1, F_DIRTY);
  store<u32>(dirty + (<usize>nDirty << 2), f);
  nDirty++;
}

@inline function validFlow(f: u32): bool {
  return f < flows && load<u32>(flowAt(f), F_STATE) == FS_OPEN;
}

export function mirrorRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  nDirty = 0;
  dirtyOverflow = false;
  nAccepts = 0;
  // 1. results of the previous step's commands
  for (let k: u32 = 0; k < nPrev; k++) {
    const d = prev + <usize>k * DESC_SIZE;
    const kind = load<u16>(d, D_KIND);
    const f = load<u32>(d, D_COOKIE);
    const ret = load<i32>(d, D_RET);
    if (kind == CMD_SENDV) {
      if (!validFlow(f)) continue;
      const r = flowAt(f);
      const offered = load<u32>(r, F_OFFERED);
      store<u32>(r, 0, F_OFFERED);
      if (ret >= 0) {
        store<u32>(r, load<u32>(r, F_SENT) + <u32>ret, F_SENT);
        cSentBytes += <u64>ret;
        popSentChunks(r);
        if (<u32>ret < offered) store<u32>(r, 1, F_BLOCKED);
        markDirty(f);
      } else if (ret == RET_AGAIN) {
        markDirty(f);
      } else {
        cErrors++;
      }
    } else if (kind == CMD_ACCEPT) {
      if (ret < 0 && f < flows) {
        cErrors++;
        store<u32>(flowAt(f), FS_DEAD, F_STATE);
      }
    } else if (kind == CMD_UDP_SEND) {
      // The stack copied the datagram when it ran the command: its block is free again.
      blkPut(<u32>((<usize>load<u32>(d, D_A) - blkBase) / <usize>BLK));
      if (ret == RET_OK) cUdpSent++;
      else cErrors++;
    }
  }
  // 2. the feed: recorded server segments, in capture order
  feedDrain();
  // 3. this step's events
  for (let k: u32 = 0; k < nEv; k++) {
    const e = ev + <usize>k * DESC_SIZE;
    const kind = load<u16>(e, D_KIND);
    const h = load<u32>(e, D_HANDLE);
    const f = load<u32>(e, D_COOKIE);
    if (kind == EV_TCP_RECV) {
      if (!validFlow(f)) continue;
      const r = flowAt(f);
      const len = load<u32>(e, D_B);
      // A FIN counts one in sequence space: the capture's ACKs of it say +1.
      store<u32>(r, load<u32>(r, F_RCVD) + (len == 0 ? 1 : len), F_RCVD);
      if (len != 0) cmdPush(CMD_RECV_DONE, h, f, len, 0, 0, 0);
      markDirty(f);
    } else if (kind == EV_TCP_SENT) {
      if (!validFlow(f)) continue;
      const r = flowAt(f);
      const acked = load<u32>(r, F_ACKED) + load<u32>(e, D_A);
      store<u32>(r, acked, F_ACKED);
      freeAcked(r, acked);
      store<u32>(r, 0, F_BLOCKED);
      markDirty(f);
    } else if (kind == EV_TCP_KNOCK) {
      knock(h);
    } else if (kind == EV_TCP_DEAD) {
      if (f < flows && load<u32>(flowAt(f), F_STATE) == FS_OPEN) {
        flowRelease(f);
        if (load<u32>(flowAt(f), F_DONE) != 0) flowFree(f);
      }
    } else if (kind == EV_UDP_RECV) {
      const a = <usize>load<u32>(e, D_C);
      const u = hashFind(a);
      if (u == NONE || load<u32>(flowAt(u), F_STATE) != FS_UDP) {
        cUdpUnknown++;
        continue;
      }
      const r = flowAt(u);
      memory.copy(r + F_UDPA, a, 64);
      store<u32>(r, load<u32>(r, F_RCVD) + 1, F_RCVD);
      markDirty(u);
    }
  }
  // 4. at most one chunk per flow to the stack (see the header)
  let work: u32 = 0;
  for (let k: u32 = 0; k < nDirty; k++) {
    const f = load<u32>(dirty + (<usize>k << 2));
    const r = flowAt(f);
    store<u32>(r, 0, F_DIRTY);
    const st = load<u32>(r, F_STATE);
    if (st == FS_UDP) {
      if (udpStep(f, r)) work++;
      continue;
    }
    if (st != FS_OPEN) continue;
    if (step(f, r, iovBase + <usize>k * IOV_MAX * SPAN_SIZE)) work++;
  }
  if (dirtyOverflow) work++; // flows left unvisited: ask for another step
  writeStatus(work + nAccepts);
}

/** Status words for the host (read after each poll: no export call needed). */
function writeStatus(work: u32): void {
  const s = appBase() + W_WORK; // each word at its offset from W_WORK (the differences fold)
  store<u32>(s, work);
  store<u32>(s, cmdLen(), W_CMDS - W_WORK);
  store<u32>(s, <u32>cAccepted, W_ACCEPTED - W_WORK);
  store<u32>(s, <u32>cUnknown, W_UNKNOWN - W_WORK);
  store<u32>(s, <u32>cChunks, W_CHUNKS - W_WORK);
  store<u32>(s, <u32>cDupBytes, W_DUP_BYTES - W_WORK);
  store<u32>(s, <u32>cGapBytes, W_GAP_BYTES - W_WORK);
  store<u32>(s, <u32>cCloses, W_CLOSES - W_WORK);
  store<u32>(s, <u32>cResets, W_RESETS - W_WORK);
  store<u32>(s, <u32>cErrors, W_ERRORS - W_WORK);
  store<u32>(s, <u32>cNoMem, W_NO_MEM - W_WORK);
  store<u32>(s, blkFreeCount, W_BLOCKS_FREE - W_WORK);
  store<u32>(s, <u32>(cSentBytes / 4294967296), W_SENT_HI - W_WORK);
  store<u32>(s, <u32>cSentBytes, W_SENT_LO - W_WORK);
  store<u32>(s, <u32>cUdpSent, W_UDP_SENT - W_WORK);
  store<u32>(s, <u32>cUdpUnknown, W_UDP_UNKNOWN - W_WORK);
}


function knock(h: u32): void {
  const t = tcbFromHandle(h);
  let f: u32 = NONE;
  if (t != 0) {
    const key = flowKeyAt(<i32>load<u32>(t, TCB_FLOW));
    if (key != 0) f = hashFind(key);
  }
  if (f == NONE || load<u32>(flowAt(f), F_STATE) != FS_ANNOUNCED) {
    cUnknown++;
    cmdPush(CMD_REJECT, h, 0, 0, 0, 0, 0);
    return;
  }
  const r = flowAt(f);
  store<u32>(r, FS_OPEN, F_STATE);
  store<u32>(r, h, F_HANDLE);
  cAccepted++;
  nAccepts++;
  cmdPush(CMD_ACCEPT, h, f, 0, 0, 0, 0);
  markDirty(f);
}

/** One flow: the next chunk if its client bytes are in, else the FIN / RST once due. True if more is ready. */
function step(f: u32, r: usize, iov: usize): bool {
  if (load<u32>(r, F_OFFERED) != 0) return moreDue(r, load<u32>(r, F_RCVD), false);
  if (load<u32>(r, F_FIN) == FIN_DONE && load<u32>(r, F_CH_HEAD) == NONE) return false;
  if (load<u32>(r, F_BLOCKED) != 0) return false;
  const rcvd = load<u32>(r, F_RCVD);
  const ch = load<u32>(r, F_CH_HEAD);
  const h = load<u32>(r, F_HANDLE);
  if (ch != NONE) {
    const c = chunkAt(ch);
    if (<i32>(rcvd - load<u32>(c, 4)) < 0) return false; // waits for the client bytes it answered
    const sent = load<u32>(r, F_SENT);
    const end = load<u32>(c);
    const n = spans(r, iov, sent, end - sent);
    const t = tcbFromHandle(h);
    if (t != 0 && load<u32>(t, TCB_CWND) < BIG_CWND) store<u32>(t, BIG_CWND, TCB_CWND);
    let total: u32 = 0;
    for (let i: u32 = 0; i < n; i++) total += load<u32>(iov + <usize>i * SPAN_SIZE, 4);
    const d = cmdPush(CMD_SENDV, h, f, <u32>iov, n, 0, 0);
    if (d == 0) return true; // queue full: next step
    store<u16>(d, SENDV_EOR, D_FLAGS);
    store<u32>(r, total, F_OFFERED);
    // The capture's FIN came on this very segment: close in the same step so it leaves with the data.
    if (load<u32>(c, 8) == NONE && sent + total == end && load<u32>(r, F_FIN) == FIN_QUEUED &&
        load<u32>(r, F_FIN_PIGGY) != 0 && <i32>(rcvd - load<u32>(r, F_FIN_REQ)) >= 0) {
      store<u32>(r, FIN_DONE, F_FIN);
      cCloses++;
      cmdPush(CMD_CLOSE, h, f, 0, 0, 0, 0);
    }
    return moreDue(r, rcvd, sent + total != end);
  }
  const fin = load<u32>(r, F_FIN);
  if ((fin == FIN_QUEUED || fin == RST_QUEUED) && <i32>(rcvd - load<u32>(r, F_FIN_REQ)) >= 0) {
    store<u32>(r, FIN_DONE, F_FIN);
    if (fin == FIN_QUEUED) {
      cCloses++;
      cmdPush(CMD_CLOSE, h, f, 0, 0, 0, 0);
    } else {
      cResets++;
      cmdPush(CMD_ABORT, h, f, 0, 0, 0, 0);
    }
  }
  return false;
}

/** A UDP flow: every recorded datagram whose client datagrams are in. True if the command queue was full. */
function udpStep(f: u32, r: usize): bool {
  const rcvd = load<u32>(r, F_RCVD);
  if (rcvd == 0) return false; // no client datagram yet: nothing to answer
  let ch = load<u32>(r, F_CH_HEAD);
  let full = false;
  while (ch != NONE) {
    const c = chunkAt(ch);
    if (<i32>(rcvd - load<u32>(c, 4)) < 0) break;
    if (cmdPush(CMD_UDP_SEND, 0, f, <u32>blkAt(load<u32>(c)), load<u32>(c, 12), <u32>(r + F_UDPA), 0) == 0) {
      full = true;
      break;
    }
    const next = load<u32>(c, 8);
    store<u32>(c, chunkFree, 8);
    chunkFree = ch;
    ch = next;
  }
  store<u32>(r, ch, F_CH_HEAD);
  if (ch == NONE) store<u32>(r, NONE, F_CH_TAIL);
  return full;
}

/** Whether a chunk can be taken (freed, or never used). */
@inline function chunkAvail(): bool {
  return chunkFree != NONE || chunkFresh < chunkCount;
}

/** A chunk: the last freed, else the next never used (check chunkAvail first). */
function chunkTake(): u32 {
  if (chunkFree == NONE) return chunkFresh++;
  const ci = chunkFree;
  chunkFree = load<u32>(chunkAt(ci), 8);
  return ci;
}

/** A block: the last freed, else the next never used (check blkFreeCount first). */
function blkTake(): u32 {
  blkFreeCount--;
  if (blkFree == NONE) return blkFresh++;
  const b = blkFree;
  blkFree = nextBlk(b);
  return b;
}

function blkPut(b: u32): void {
  setNextBlk(b, blkFree);
  blkFree = b;
  blkFreeCount++;
}

/** FR_DGRAM: one recorded server datagram into a block of its own, queued behind the flow's others. */
function feedDatagram(f: u32, r: usize, p: usize, len: u32): bool {
  if (len > UDP_MAX) {
    cErrors++;
    return true;
  }
  if (blkFreeCount == 0 || !chunkAvail()) {
    cNoMem++;
    return false;
  }
  const b = blkTake();
  memory.copy(blkAt(b), p + FR_HDR, len);
  const ci = chunkTake();
  const c = chunkAt(ci);
  store<u32>(c, b);
  store<u32>(c, load<u32>(p, FH_REQ), 4);
  store<u32>(c, NONE, 8);
  store<u32>(c, len, 12);
  const tailCh = load<u32>(r, F_CH_TAIL);
  if (tailCh == NONE) store<u32>(r, ci, F_CH_HEAD);
  else store<u32>(chunkAt(tailCh), ci, 8);
  store<u32>(r, ci, F_CH_TAIL);
  cChunks++;
  markDirty(f);
  return true;
}

/**
 * Whether the flow has more to send right now behind the SENDV in flight: the
 * rest of its chunk, the next chunk once its client bytes are in, or a FIN/RST
 * that is due. That is the `work` that makes the host poll again at once; a
 * SENDV result alone does not (the next poll, whenever it comes, takes it).
 */
function moreDue(r: usize, rcvd: u32, restOfChunk: bool): bool {
  if (restOfChunk) return true;
  const ch = load<u32>(r, F_CH_HEAD);
  const next = ch == NONE ? NONE : load<u32>(chunkAt(ch), 8);
  if (next != NONE) return <i32>(rcvd - load<u32>(chunkAt(next), 4)) >= 0;
  const fin = load<u32>(r, F_FIN);
  return (fin == FIN_QUEUED || fin == RST_QUEUED) && <i32>(rcvd - load<u32>(r, F_FIN_REQ)) >= 0;
}

/** Spans for stream bytes [from, from+len) into the flow's iov array; returns the span count. */
function spans(r: usize, iov: usize, from: u32, len: u32): u32 {
  let b = load<u32>(r, F_HEAD);
  let at = load<u32>(r, F_HEAD_AT);
  while (b != NONE && from - at >= BLK) {
    b = nextBlk(b);
    at += BLK;
  }
  let n: u32 = 0;
  let pos = from - at;
  while (len > 0 && b != NONE && n < <u32>IOV_MAX) {
    const take = min<u32>(BLK - pos, len);
    const s = iov + <usize>n * SPAN_SIZE;
    store<u32>(s, <u32>(blkAt(b) + pos));
    store<u32>(s, take, 4);
    n++;
    len -= take;
    pos = 0;
    b = nextBlk(b);
  }
  return n;
}

function popSentChunks(r: usize): void {
  const sent = load<u32>(r, F_SENT);
  let ch = load<u32>(r, F_CH_HEAD);
  while (ch != NONE && <i32>(sent - load<u32>(chunkAt(ch))) >= 0) {
    const next = load<u32>(chunkAt(ch), 8);
    store<u32>(chunkAt(ch), chunkFree, 8);
    chunkFree = ch;
    ch = next;
  }
  store<u32>(r, ch, F_CH_HEAD);
  if (ch == NONE) store<u32>(r, NONE, F_CH_TAIL);
}

/**
 * Blocks wholly below the acknowledged offset go back to the pool (their bytes
 * left the send queue); the last one too once every stored byte is acknowledged
 * (the next append starts a fresh block: an idle connection holds none).
 */
function freeAcked(r: usize, acked: u32): void {
  let b = load<u32>(r, F_HEAD);
  let at = load<u32>(r, F_HEAD_AT);
  while (b != NONE && b != load<u32>(r, F_TAIL) && <i32>(acked - (at + BLK)) >= 0) {
    const n = nextBlk(b);
    setNextBlk(b, blkFree);
    blkFree = b;
    blkFreeCount++;
    b = n;
    at += BLK;
  }
  if (b != NONE && b == load<u32>(r, F_TAIL) && acked == load<u32>(r, F_END) && load<u32>(r, F_SENT) == acked) {
    setNextBlk(b, blkFree);
    blkFree = b;
    blkFreeCount++;
    b = NONE;
    store<u32>(r, NONE, F_TAIL);
  }
  store<u32>(r, b, F_HEAD);
  store<u32>(r, at, F_HEAD_AT);
}

function flowRelease(f: u32): void {
  const r = flowAt(f);
  let b = load<u32>(r, F_HEAD);
  while (b != NONE) {
    const n = nextBlk(b);
    setNextBlk(b, blkFree);
    blkFree = b;
    blkFreeCount++;
    b = n;
  }
  let ch = load<u32>(r, F_CH_HEAD);
  while (ch != NONE) {
    const n = load<u32>(chunkAt(ch), 8);
    store<u32>(chunkAt(ch), chunkFree, 8);
    chunkFree = ch;
    ch = n;
  }
  store<u32>(r, NONE, F_HEAD);
  store<u32>(r, NONE, F_TAIL);
  store<u32>(r, NONE, F_CH_HEAD);
  store<u32>(r, NONE, F_CH_TAIL);
  store<u32>(r, FS_DEAD, F_STATE);
}

/** The slot is free for another flow: pools back, key out of the hash (the host reads FS_FREE). */
function flowFree(f: u32): void {
  flowRelease(f);
  hashRemove(f);
  store<u32>(flowAt(f), FS_FREE, F_STATE);
}

/** Removes the hash entry of flow f, if it still holds its key (a later flow on the key may have taken it). */
function hashRemove(f: u32): void {
  let i = hashOf(flowAt(f) + F_KEY) & hashMask;
  for (;;) {
    const v = load<u32>(hashBase + (<usize>i << 2));
    if (v == 0) return;
    if (v == f + 1) break;
    i = (i + 1) & hashMask;
  }
  // Backward-shift deletion (linear probing, no tombstones): an entry after the
  // hole moves into it unless its home lies cyclically in (hole, its position].
  let j = i;
  for (;;) {
    j = (j + 1) & hashMask;
    const v = load<u32>(hashBase + (<usize>j << 2));
    if (v == 0) break;
    const home = hashOf(flowAt(v - 1) + F_KEY) & hashMask;
    if (((j - home) & hashMask) >= ((j - i) & hashMask)) {
      store<u32>(hashBase + (<usize>i << 2), v);
      i = j;
    }
  }
  store<u32>(hashBase + (<usize>i << 2), 0);
}

// ---- the feed -------------------------------------------------------------------
function feedDrain(): void {
  const base = appBase();
  const head = atomic.load<u32>(base + FEED_HEAD);
  let tail = load<u32>(base + FEED_TAIL);
  while (tail != head) {
    const p = base + FEED_OFF + <usize>(tail % <u32>FEED_BYTES);
    const kind = load<u32>(p, FH_KIND);
    if (kind == FR_WRAP) {
      tail += <u32>FEED_BYTES - tail % <u32>FEED_BYTES;
      continue;
    }
    const len = load<u32>(p, FH_LEN);
    if (!feedOne(p, kind, len)) break; // out of blocks: leave it for a later step
    tail += <u32>((FR_HDR + <usize>len + 7) & ~7);
  }
  atomic.store<u32>(base + FEED_TAIL, tail);
}

function feedOne(p: usize, kind: u32, len: u32): bool {
  const f = load<u32>(p, FH_FLOW);
  if (f >= flows) {
    cErrors++;
    return true;
  }
  const r = flowAt(f);
  if (kind == FR_DONE) {
    const s = load<u32>(r, F_STATE);
    if (s == FS_OPEN) store<u32>(r, 1, F_DONE);
    else if (s != FS_FREE && s != FS_NONE) flowFree(f);
    else store<u32>(r, FS_FREE, F_STATE);
    return true;
  }
  if (kind == FR_FLOW) {
    memory.fill(r, 0, FLOW_BYTES);
    flowKeyCopy(r + F_KEY, p + FR_HDR);
    store<u32>(r, NONE, F_HEAD);
    store<u32>(r, NONE, F_TAIL);
    store<u32>(r, NONE, F_CH_HEAD);
    store<u32>(r, NONE, F_CH_TAIL);
    store<u32>(r, load<u8>(p + FR_HDR + 1) == 17 ? FS_UDP : FS_ANNOUNCED, F_STATE);
    hashPut(f);
    return true;
  }
  const st = load<u32>(r, F_STATE);
  if (kind == FR_DGRAM) return st == FS_UDP ? feedDatagram(f, r, p, len) : true;
  if (st != FS_ANNOUNCED && st != FS_OPEN) return true; // the connection is gone: nothing to send on
  const req = load<u32>(p, FH_REQ);
  if (kind == FR_FIN || kind == FR_RST) {
    if (load<u32>(r, F_FIN) == 0) {
      store<u32>(r, kind == FR_FIN ? FIN_QUEUED : RST_QUEUED, F_FIN);
      store<u32>(r, req, F_FIN_REQ);
      store<u32>(r, load<u32>(p, FH_OFF), F_FIN_PIGGY); // off = 1: the FIN was on a data segment
    }
    if (st == FS_OPEN) markDirty(f);
    return true;
  }
  // FR_DATA: keep only bytes beyond what is stored (the capture's retransmissions
  // repeat them); a hole (the capture lost a server segment) is sent as zeros.
  const off = load<u32>(p, FH_OFF);
  let end = load<u32>(r, F_END);
  const stop = off + len;
  if (<i32>(stop - end) <= 0) {
    cDupBytes += len;
    return true;
  }
  const need = (stop - end) / BLK + 2; // whole blocks the bytes (and any hole) can touch
  if (blkFreeCount < need || !chunkAvail()) {
    cNoMem++;
    return false;
  }
  if (<i32>(off - end) > 0) {
    cGapBytes += <u64>(off - end);
    end = append(r, end, 0, off - end);
  }
  const skip = <i32>(end - off) > 0 ? end - off : 0;
  end = append(r, end, p + FR_HDR + skip, len - skip);
  store<u32>(r, end, F_END);
  const ci = chunkTake();
  const c = chunkAt(ci);
  store<u32>(c, end);
  store<u32>(c, req, 4);
  store<u32>(c, NONE, 8);
  const tailCh = load<u32>(r, F_CH_TAIL);
  if (tailCh == NONE) store<u32>(r, ci, F_CH_HEAD);
  else store<u32>(chunkAt(tailCh), ci, 8);
  store<u32>(r, ci, F_CH_TAIL);
  cChunks++;
  if (st == FS_OPEN) markDirty(f);
  return true;
}

/** Appends n bytes (src 0: zeros) at stream offset end of flow r; returns the new end. */
function append(r: usize, end: u32, src: usize, n: u32): u32 {
  while (n > 0) {
    let t = load<u32>(r, F_TAIL);
    let tailAt = load<u32>(r, F_TAIL_AT);
    if (t == NONE || end - tailAt >= BLK) {
      const b = blkTake();
      setNextBlk(b, NONE);
      if (t == NONE) {
        store<u32>(r, b, F_HEAD);
        // The first block starts at the first stored offset rounded down: offsets stay block-aligned.
        tailAt = end - end % BLK;
        store<u32>(r, tailAt, F_HEAD_AT);
      } else {
        setNextBlk(t, b);
        tailAt += BLK;
      }
      t = b;
      store<u32>(r, b, F_TAIL);
      store<u32>(r, tailAt, F_TAIL_AT);
    }
    const pos = end - tailAt;
    const take = min<u32>(BLK - pos, n);
    if (src != 0) {
      memory.copy(blkAt(t) + pos, src, take);
      src += take;
    } else memory.fill(blkAt(t) + pos, 0, take);
    end += take;
    n -= take;
  }
  return end;
}
