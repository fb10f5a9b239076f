// netpipe: the receiver side of NetPIPE's TCP module (NPtcp 3.7.2, Debian
// netpipe-tcp), so `NPtcp -h <core>` runs against the core as IX did (OSDI'14 §5).
//
// What NPtcp's transmitter sends, in order (netpipe.c main, tcp.c), and how the
// receiver answers; Sync = each side writes "SyncMe" and reads the other's 6 bytes:
//   Sync; 100 ping-pongs of `start` bytes (latency estimate); Sync;
//   per block: Sync, a 4-byte big-endian repeat count n (SendRepeat: not answered),
//     then 3 trials of {Sync, n ping-pongs of bufflen bytes};
//   after the last block "QUIT\0" (CleanUp), answered with the same 5 bytes.
// So the receiver's answer is the request's own bytes everywhere except the repeat
// count, which is why a plain echo fails: its echoed count arrives where the client
// waits for data and everything after is off by 4 bytes. Here every byte is
// answered zero-copy except those 4, which are consumed.
//
// The receiver must know each block's size to find the next count. NetPIPE has
// both sides compute the same size schedule; the transmitter never sends it. This
// app computes NPtcp's default schedule (-l 1, -p 3: sizes 1, 2, 3, 4, 6, 8, 12,
// 13, 16, 19, 21, 24, 27, ...) and follows it until the client's QUIT, so the
// client may stop anywhere (-u, its time limit). Decision: -l, -p, -s (streaming),
// -2, -r and -i change what is on the wire and are not supported (a client run
// with them gets a reset at the first mismatch, counted as a protocol error).
import { rsEcho, rsInit, rsRun, rsRecordBytes } from "./reply-server";
import { rqSkip } from "./reply-queue";

const START: u32 = 1; // -l
const PERT: i32 = 3; // -p (DEFPERT)
const TRIALS: u32 = 3;
const LAT_REPS: u32 = 100;
const SYNC = memory.data<u8>([83, 121, 110, 99, 77, 101]); // "SyncMe"
const QUIT = memory.data<u8>([81, 85, 73, 84, 0]); // "QUIT\0"

// Phases.
const PH_CONST: u32 = 0; // matching SYNC or QUIT (cst), answered; then `after`
const PH_LAT: u32 = 1; // latency ping-pongs
const PH_BLOCK: u32 = 2; // a block's Sync, or the client's QUIT
const PH_REPEAT: u32 = 3; // the 4-byte repeat count, consumed
const PH_DATA: u32 = 4; // n ping-pongs of bufflen bytes
const PH_DONE: u32 = 5; // after QUIT: nothing more may come but the FIN

// Protocol state (offsets from p).
const O_PHASE: usize = 0;
const O_POS: usize = 4;
const O_CST: usize = 8; // 0 SYNC, 1 QUIT
const O_AFTER: usize = 12;
const O_REMAIN: usize = 16; // u64: bytes left in PH_LAT / PH_DATA
const O_TRIAL: usize = 24;
const O_NREPEAT: usize = 28;
const O_BUFFLEN: usize = 32;
const O_LEN: usize = 36;
const O_INC: usize = 40;
const O_NQ: usize = 44;
const O_PERT: usize = 48;
const PROTO_BYTES: usize = 56;
export const NETPIPE_CONN_BYTES: usize = rsRecordBytes(PROTO_BYTES);

let cSessions: u64 = 0; // QUIT exchanged
let cBlocks: u64 = 0;
let cTrials: u64 = 0;
let cDataBytes: u64 = 0; // ping-pong payload answered (latency and trials)

export function netpipeInit(): i32 {
  cSessions = cBlocks = cTrials = cDataBytes = 0;
  return rsInit(PROTO_BYTES, 0, npOpen, npParse, npNoUdp);
}

export function netpipeRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  rsRun(prev, nPrev, ev, nEv);
}

function npNoUdp(e: usize): void {}

function npOpen(p: usize): void {
  memory.fill(p, 0, PROTO_BYTES);
  // The schedule's loop head for the first size (netpipe.c: inc = start > 1 ? start/2 : 1).
  store<u32>(p, START, O_LEN);
  store<u32>(p, START > 1 ? START / 2 : 1, O_INC);
  store<u32>(p, START > 1 ? 1 : 0, O_NQ);
  sizeHead(p);
  expect(p, 0, PH_LAT);
}

// ---- NetPIPE's size schedule: `for (len = start; ; len += inc, nq++)` with an inner
// loop over pert in {-p, 0, +p} once inc > p + 1 (only 0 before). ----
@inline function pertSpread(inc: u32): bool {
  return PERT > 0 && <i32>inc > PERT + 1;
}

/** Entering the outer loop body for the current len: grow inc, start the pert loop. */
function sizeHead(p: usize): void {
  const nq = load<u32>(p, O_NQ);
  let inc = load<u32>(p, O_INC);
  if (nq > 2 && (nq & 1) != 0) inc += inc;
  store<u32>(p, inc, O_INC);
  const pert: i32 = pertSpread(inc) ? -PERT : 0;
  store<i32>(p, pert, O_PERT);
  store<u32>(p, <u32>(<i32>load<u32>(p, O_LEN) + pert), O_BUFFLEN);
}

/** The next block's size. */
function sizeNext(p: usize): void {
  const inc = load<u32>(p, O_INC);
  const pert = load<i32>(p, O_PERT) + (pertSpread(inc) ? PERT : PERT + 1);
  if (pert <= PERT) {
    store<i32>(p, pert, O_PERT);
    store<u32>(p, <u32>(<i32>load<u32>(p, O_LEN) + pert), O_BUFFLEN);
    return;
  }
  store<u32>(p, load<u32>(p, O_LEN) + inc, O_LEN);
  store<u32>(p, load<u32>(p, O_NQ) + 1, O_NQ);
  sizeHead(p);
}

// ---- the receiver's state machine ----
function expect(p: usize, cst: u32, after: u32): void {
  store<u32>(p, PH_CONST, O_PHASE);
  store<u32>(p, 0, O_POS);
  store<u32>(p, cst, O_CST);
  store<u32>(p, after, O_AFTER);
}

/** Enters a phase after a constant; PH_LAT/PH_DATA get their byte count. */
function enter(p: usize, ph: u32): void {
  store<u32>(p, ph, O_PHASE);
  store<u32>(p, 0, O_POS);
  if (ph == PH_LAT) {
    store<u64>(p, <u64>LAT_REPS * START, O_REMAIN);
  } else if (ph == PH_DATA) {
    store<u64>(p, <u64>load<u32>(p, O_NREPEAT) * <u64>load<u32>(p, O_BUFFLEN), O_REMAIN);
    if (load<u64>(p, O_REMAIN) == 0) pingPongsDone(p);
  } else if (ph == PH_DONE) {
    cSessions++;
  }
}

function pingPongsDone(p: usize): void {
  if (load<u32>(p, O_PHASE) == PH_LAT) {
    expect(p, 0, PH_BLOCK);
    return;
  }
  cTrials++;
  const t = load<u32>(p, O_TRIAL) + 1;
  store<u32>(p, t, O_TRIAL);
  if (t < TRIALS) {
    expect(p, 0, PH_DATA);
  } else {
    sizeNext(p);
    store<u32>(p, PH_BLOCK, O_PHASE);
  }
}

function npParse(p: usize, q: usize, ptr: usize, len: u32): bool {
  while (len > 0) {
    const ph = load<u32>(p, O_PHASE);
    if (ph == PH_CONST) {
      const cst = load<u32>(p, O_CST);
      const pos = load<u32>(p, O_POS);
      const total: u32 = cst == 0 ? 6 : 5;
      const k = min<u32>(len, total - pos);
      const ref = (cst == 0 ? SYNC : QUIT) + pos;
      for (let j: u32 = 0; j < k; j++) if (load<u8>(ptr + j) != load<u8>(ref + j)) return false;
      if (!rsEcho(q, ptr, k)) return false;
      ptr += k;
      len -= k;
      if (pos + k == total) enter(p, load<u32>(p, O_AFTER));
      else store<u32>(p, pos + k, O_POS);
    } else if (ph == PH_LAT || ph == PH_DATA) {
      const rem = load<u64>(p, O_REMAIN);
      const k = <u32>min<u64>(<u64>len, rem);
      if (!rsEcho(q, ptr, k)) return false;
      cDataBytes += k;
      ptr += k;
      len -= k;
      store<u64>(p, rem - k, O_REMAIN);
      if (rem == <u64>k) pingPongsDone(p);
    } else if (ph == PH_BLOCK) {
      const b = load<u8>(ptr);
      if (b == 83) {
        cBlocks++;
        expect(p, 0, PH_REPEAT); // 'S': the block's Sync
        store<u32>(p, 0, O_TRIAL);
        store<u32>(p, 0, O_NREPEAT);
      } else if (b == 81) {
        expect(p, 1, PH_DONE); // 'Q': the client is done
      } else {
        return false;
      }
    } else if (ph == PH_REPEAT) {
      const pos = load<u32>(p, O_POS);
      const k = min<u32>(len, 4 - pos);
      let n = load<u32>(p, O_NREPEAT);
      for (let j: u32 = 0; j < k; j++) n = (n << 8) | <u32>load<u8>(ptr + j);
      store<u32>(p, n, O_NREPEAT);
      rqSkip(q, k);
      ptr += k;
      len -= k;
      if (pos + k == 4) expect(p, 0, PH_DATA);
      else store<u32>(p, pos + k, O_POS);
    } else {
      return false; // PH_DONE: bytes after QUIT
    }
  }
  return true;
}

/** 0 sessions finished (QUIT), 1 blocks (sizes) started, 2 trials completed, 3 ping-pong bytes answered. */
export function netpipeStat(i: i32): u64 {
  switch (i) {
    case 0: return cSessions;
    case 1: return cBlocks;
    case 2: return cTrials;
    case 3: return cDataBytes;
  }
  return 0;
}
