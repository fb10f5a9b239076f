// memcached's text protocol, answering byte for byte as memcached 1.6 does (checked
// differentially against /usr/bin/memcached by test/apps/memcached-diff.test.ts).
//
// One call of asciiStep() handles at most one command line (or one value block).
// A line is copied into the connection's input buffer; a value goes straight into
// the item allocated when its command line was parsed (as memcached reads into the
// item), so values up to the item limit are reassembled without a second buffer.
// A get whose answers do not fit the output path stops and resumes at its next key.
import {
  C_IN, C_INLEN, C_RSTATE, C_ITEM, C_DOFF, C_DLEN, C_SWALLOW, C_RESUME, C_OP, C_NOREPLY, C_REQCAS, C_STATE, C_PARTIAL,
  IN_BYTES, ST_CLOSING, inLine, inTake, outReserve, outCommit, outItem, outRoom,
} from "./mc-conn";
import * as T from "./mc-text";
import {
  KEY_MAX, OP_SET, OP_ADD, OP_REPLACE, OP_APPEND, OP_PREPEND, OP_CAS, ST_STORED, ST_NOT_STORED, ST_EXISTS,
  ST_NOT_FOUND, ALLOC_TOO_LARGE, DELTA_OK, DELTA_NOT_FOUND, DELTA_NON_NUMERIC,
  itemGet, itemAlloc, itemRelease, itemData, itemNbytes, itemFlags, itemCas, storeItem, itemDelete, itemDelta,
  itemTouch, itemUnlink, storeFlush, realtime, deltaValue, lastGetExpired, lastGetFlushed,
} from "./store";
import * as S from "./mc-stats";
import { fmtU64, parseU64, parseI64, parsedU64, parsedI64, negSeen, bytesEq } from "./util";

export const R_PROGRESS: i32 = 0;
export const R_NEED: i32 = 1;
export const R_STALL: i32 = 2;
export const R_CLOSE: i32 = 3;

const RS_LINE: u32 = 0;
const RS_DATA: u32 = 1;
const RS_SWALLOW: u32 = 2;

// Room a command needs before it runs: its longest reply (stats) and a few spans.
const ROOM_TEXT: usize = 2048;
const LINE_NO_NL_MAX: u32 = 2048; // memcached closes a non-get line this long without '\n'

const MAX_TOKENS: i32 = 24;
const toks = memory.data(<i32>(<usize>MAX_TOKENS * 8), 8);
let ntok: i32 = 0; // tokens found (memcached's ntokens is this + 1)
let line: usize = 0;

@inline function tp(i: i32): usize {
  return line + <usize>load<u32>(toks + (<usize>i << 3));
}
@inline function tl(i: i32): usize {
  return <usize>load<u32>(toks + (<usize>i << 3), 4);
}
@inline function tis(i: i32, k: usize, kl: usize): bool {
  return tl(i) == kl && bytesEq(tp(i), k, kl);
}

/** Splits the line at spaces; returns its length up to a NUL byte (memcached takes the
 * line as a C string, so a NUL ends it). */
function tokenize(len: usize): usize {
  ntok = 0;
  let i: usize = 0;
  while (true) {
    while (i < len && load<u8>(line + i) == 32) i++;
    if (i >= len) return len;
    if (load<u8>(line + i) == 0) return i;
    const s = i;
    if (ntok == MAX_TOKENS - 1) {
      // the rest of the line is one last token, as memcached leaves it
      while (i < len && load<u8>(line + i) != 0) i++;
      store<u32>(toks + (<usize>ntok << 3), <u32>s);
      store<u32>(toks + (<usize>ntok << 3), <u32>(i - s), 4);
      ntok++;
      return i;
    }
    let b = load<u8>(line + i);
    while (b != 32 && b != 0) {
      i++;
      b = i < len ? load<u8>(line + i) : 32;
    }
    store<u32>(toks + (<usize>ntok << 3), <u32>s);
    store<u32>(toks + (<usize>ntok << 3), <u32>(i - s), 4);
    ntok++;
  }
}

function say(c: usize, s: usize, n: usize): void {
  if (load<u32>(c, C_NOREPLY) != 0) return;
  const p = outReserve(c, n);
  if (p == 0) return; // room was checked before the command ran
  memory.copy(p, s, n);
  outCommit(c, p, n);
}

function noreplyMaybe(c: usize): void {
  store<u32>(c, ntok > 1 && tis(ntok - 1, T.K_NOREPLY, T.K_NOREPLY_LEN) ? 1 : 0, C_NOREPLY);
}

/** Handles one line or one value block. */
export function asciiStep(c: usize): i32 {
  const rs = load<u32>(c, C_RSTATE);
  if (rs == RS_DATA) return dataStep(c);
  if (rs == RS_SWALLOW) {
    const left = load<u32>(c, C_SWALLOW);
    const got = inTake(c, 0, left);
    store<u32>(c, left - got, C_SWALLOW);
    if (got < left) return R_NEED;
    store<u32>(c, RS_LINE, C_RSTATE);
    return R_PROGRESS;
  }
  if (!outRoom(c, ROOM_TEXT, 4)) return R_STALL;
  const resume = load<u32>(c, C_RESUME);
  let partial = load<u32>(c, C_PARTIAL);
  line = c + C_IN;
  if (resume == 0 && !inLine(c)) {
    const n = load<u32>(c, C_INLEN);
    const isGet = startsWithGet(line, n);
    if (n < <u32>IN_BYTES) return n > LINE_NO_NL_MAX && !isGet ? R_CLOSE : R_NEED;
    if (!isGet) return R_CLOSE;
    // A multi-get longer than the buffer (memcached takes those too): answer the
    // keys complete so far, keep the command words and the unfinished key.
    let cut = n;
    while (cut > 0 && load<u8>(line + cut - 1) != 32) cut--;
    if (cut == 0) return R_CLOSE;
    partial = cut;
    store<u32>(c, cut, C_PARTIAL);
  }
  let len: usize;
  if (partial != 0) len = <usize>partial - 1;
  else {
    len = <usize>load<u32>(c, C_INLEN) - 1; // without '\n'
    if (len > 0 && load<u8>(line + len - 1) == 13) len--;
  }
  getPartial = partial != 0;
  const r = command(c, len, resume);
  if (load<u32>(c, C_RESUME) == 0) {
    if (partial != 0) {
      store<u32>(c, 0, C_PARTIAL);
      if (r != R_PROGRESS || getPrefix >= <usize>partial) return R_CLOSE;
      const rem = <usize>load<u32>(c, C_INLEN) - <usize>partial;
      memory.copy(line + getPrefix, line + <usize>partial, rem);
      store<u32>(c, <u32>(getPrefix + rem), C_INLEN);
    } else store<u32>(c, 0, C_INLEN);
  }
  return r;
}

let getPartial: bool = false; // answering the first part of a long multi-get (no END yet)
let getPrefix: usize = 0; // bytes of its command words ("get ", "gets ")

function startsWithGet(p: usize, n: u32): bool {
  let i: usize = 0;
  while (i < <usize>n && load<u8>(p + i) == 32) i++;
  if (i > 100) return false;
  return bytesEq(p + i, T.K_GET, 3) && (load<u8>(p + i + 3) == 32 || (load<u8>(p + i + 3) == 115 && load<u8>(p + i + 4) == 32));
}

function command(c: usize, len: usize, resume: u32): i32 {
  len = tokenize(len);
  store<u32>(c, 0, C_NOREPLY);
  const nt = ntok + 1; // memcached's count, with its terminating empty token
  if (ntok == 0) {
    say(c, T.T_ERROR, T.T_ERROR_LEN);
    return R_PROGRESS;
  }
  const first = load<u8>(tp(0));
  if (first == 103) {
    // get gets gat gats
    if (nt < 3) return error(c);
    if (tis(0, T.K_GET, T.K_GET_LEN)) return getCmd(c, len, resume, false, false);
    if (tis(0, T.K_GETS, T.K_GETS_LEN)) return getCmd(c, len, resume, true, false);
    if (tis(0, T.K_GAT, T.K_GAT_LEN)) return getCmd(c, len, resume, false, true);
    if (tis(0, T.K_GATS, T.K_GATS_LEN)) return getCmd(c, len, resume, true, true);
    return error(c);
  }
  if (tis(0, T.K_SET, T.K_SET_LEN)) return nt == 6 || nt == 7 ? update(c, OP_SET) : error(c);
  if (tis(0, T.K_ADD, T.K_ADD_LEN)) return nt == 6 || nt == 7 ? update(c, OP_ADD) : error(c);
  if (tis(0, T.K_APPEND, T.K_APPEND_LEN)) return nt == 6 || nt == 7 ? update(c, OP_APPEND) : error(c);
  if (tis(0, T.K_PREPEND, T.K_PREPEND_LEN)) return nt == 6 || nt == 7 ? update(c, OP_PREPEND) : error(c);
  if (tis(0, T.K_REPLACE, T.K_REPLACE_LEN)) return nt == 6 || nt == 7 ? update(c, OP_REPLACE) : error(c);
  if (tis(0, T.K_CAS, T.K_CAS_LEN)) return nt == 7 || nt == 8 ? update(c, OP_CAS) : error(c);
  if (tis(0, T.K_INCR, T.K_INCR_LEN)) return nt == 4 || nt == 5 ? delta(c, true) : error(c);
  if (tis(0, T.K_DECR, T.K_DECR_LEN)) return nt == 4 || nt == 5 ? delta(c, false) : error(c);
  if (tis(0, T.K_DELETE, T.K_DELETE_LEN)) return nt >= 3 && nt <= 5 ? del(c) : error(c);
  if (tis(0, T.K_TOUCH, T.K_TOUCH_LEN)) return nt == 4 || nt == 5 ? touch(c) : error(c);
  if (tis(0, T.K_STATS, T.K_STATS_LEN)) return stats(c);
  if (tis(0, T.K_FLUSH_ALL, T.K_FLUSH_ALL_LEN)) return nt >= 2 && nt <= 4 ? flushAll(c) : error(c);
  if (tis(0, T.K_VERSION, T.K_VERSION_LEN)) {
    const p = outReserve(c, T.T_VERSION_LEN + T.T_VERSION_STR_LEN + 2);
    let n = T.T_VERSION_LEN;
    memory.copy(p, T.T_VERSION, n);
    memory.copy(p + n, T.T_VERSION_STR, T.T_VERSION_STR_LEN);
    n += T.T_VERSION_STR_LEN;
    store<u16>(p + n, 0x0a0d);
    outCommit(c, p, n + 2);
    return R_PROGRESS;
  }
  if (tis(0, T.K_QUIT, T.K_QUIT_LEN)) return R_CLOSE;
  // memcached without -A refuses shutdown with this (whatever follows, noreply too)
  if (tis(0, T.K_SHUTDOWN, T.K_SHUTDOWN_LEN)) return fail(c, T.E_SHUTDOWN, T.E_SHUTDOWN_LEN);
  if (tis(0, T.K_VERBOSITY, T.K_VERBOSITY_LEN)) {
    if (nt != 3 && nt != 4) return error(c);
    noreplyMaybe(c);
    // (noreply silences the error too, as memcached's out_string does)
    if (!parseU64(tp(1), tl(1)) || (negSeen && <i64>parsedU64 < 0)) say(c, T.E_FORMAT, T.E_FORMAT_LEN);
    else say(c, T.T_OK, T.T_OK_LEN);
    return R_PROGRESS;
  }
  // memcached hangs up on what looks like an HTTP request
  if (tl(ntok - 1) >= 5 && bytesEq(tp(ntok - 1), T.K_HTTP, 5)) return R_CLOSE;
  return error(c);
}

function error(c: usize): i32 {
  store<u32>(c, 0, C_NOREPLY);
  say(c, T.T_ERROR, T.T_ERROR_LEN);
  return R_PROGRESS;
}

// ---- get / gets / gat / gats ---------------------------------------------------
function getCmd(c: usize, len: usize, resume: u32, withCas: bool, isTouch: bool): i32 {
  let exptime: u32 = 0;
  let keyTok = 1;
  if (isTouch) {
    if (!parseI32(tp(1), tl(1))) {
      say(c, T.E_EXPTIME, T.E_EXPTIME_LEN);
      return R_PROGRESS;
    }
    exptime = realtime(parsedI32);
    keyTok = 2;
  }
  let pos: usize = resume != 0 ? <usize>resume : (keyTok < ntok ? tp(keyTok) - line : len);
  if (keyTok < ntok) getPrefix = tp(keyTok) - line;
  if (resume == 0) {
    // a key too long fails the whole command before anything is answered
    let q = pos;
    while (q < len) {
      while (q < len && load<u8>(line + q) == 32) q++;
      const s = q;
      while (q < len && load<u8>(line + q) != 32) q++;
      if (q - s > <usize>KEY_MAX) {
        say(c, T.E_FORMAT, T.E_FORMAT_LEN);
        return getPartial ? R_CLOSE : R_PROGRESS; // the rest of a long line cannot be parsed
      }
    }
  }
  while (true) {
    while (pos < len && load<u8>(line + pos) == 32) pos++;
    if (pos >= len) break;
    if (!outRoom(c, 320, 3)) {
      store<u32>(c, <u32>pos, C_RESUME);
      return R_STALL;
    }
    const k = line + pos;
    while (pos < len && load<u8>(line + pos) != 32) pos++;
    const kl = <u32>(line + pos - k);
    // gat/gats count as touches only (cmd_touch, touch_hits/misses), as memcached 1.6.18
    let it: usize;
    if (isTouch) {
      S.statCmdTouch();
      it = itemTouch(k, kl, exptime);
      S.statTouch(it != 0);
    } else {
      S.statCmdGet();
      it = itemGet(k, kl);
    }
    if (it == 0) {
      if (isTouch) S.statGone(lastGetExpired, lastGetFlushed);
      else S.statGetMiss(lastGetExpired, lastGetFlushed);
      continue;
    }
    if (!isTouch) S.statGetHit();
    const p = outReserve(c, 320);
    let n = put(p, T.T_VALUE, T.T_VALUE_LEN);
    memory.copy(p + n, k, kl);
    n += kl;
    store<u8>(p + n++, 32);
    n += fmtU64(p + n, itemFlags(it));
    store<u8>(p + n++, 32);
    n += fmtU64(p + n, itemNbytes(it));
    if (withCas) {
      store<u8>(p + n++, 32);
      n += fmtU64(p + n, itemCas(it));
    }
    store<u16>(p + n, 0x0a0d);
    outCommit(c, p, n + 2);
    outItem(c, it, itemData(it), itemNbytes(it) + 2);
  }
  store<u32>(c, 0, C_RESUME);
  if (!getPartial) say(c, T.T_END, T.T_END_LEN);
  return R_PROGRESS;
}

// memcached reads these numbers with strtol (64 bits) into an int32: out-of-range
// values are truncated, not refused (e.g. exptime 4000000000 becomes negative).
let parsedI32: i64 = 0;
function parseI32(p: usize, n: usize): bool {
  if (!parseI64(p, n)) return false;
  parsedI32 = <i64><i32>parsedI64;
  return true;
}

@inline function put(p: usize, s: usize, n: usize): usize {
  memory.copy(p, s, n);
  return n;
}

// ---- set / add / replace / append / prepend / cas -------------------------------
function update(c: usize, op: i32): i32 {
  noreplyMaybe(c);
  const kl = tl(1);
  if (kl > <usize>KEY_MAX) return fail(c, T.E_FORMAT, T.E_FORMAT_LEN);
  // flags: strtoul on 64 bits, then truncated to 32 (as memcached stores them)
  if (!parseU64(tp(2), tl(2)) || (negSeen && <i64>parsedU64 < 0)) return fail(c, T.E_FORMAT, T.E_FORMAT_LEN);
  const flags = <u32>parsedU64;
  if (!parseI32(tp(3), tl(3))) return fail(c, T.E_FORMAT, T.E_FORMAT_LEN);
  const exptime = parsedI32;
  if (!parseI32(tp(4), tl(4))) return fail(c, T.E_FORMAT, T.E_FORMAT_LEN);
  const vlen = <i64>parsedI32;
  if (vlen < 0 || vlen > 0x7fffffff - 2) return fail(c, T.E_FORMAT, T.E_FORMAT_LEN);
  let reqCas: u64 = 0;
  if (op == OP_CAS) {
    if (!parseU64(tp(5), tl(5)) || (negSeen && <i64>parsedU64 < 0)) return fail(c, T.E_FORMAT, T.E_FORMAT_LEN);
    reqCas = parsedU64;
  }
  const it = itemAlloc(tp(1), <u32>kl, flags, realtime(exptime), <u32>vlen);
  if (it == 0) {
    if (getAllocTooLarge()) {
      S.statTooLarge();
      say(c, T.E_TOO_LARGE, T.E_TOO_LARGE_LEN);
    } else {
      S.statNoMemory();
      say(c, T.E_NOMEM, T.E_NOMEM_LEN);
    }
    // the value is swallowed, and a set leaves no stale value behind
    store<u32>(c, <u32>vlen + 2, C_SWALLOW);
    store<u32>(c, RS_SWALLOW, C_RSTATE);
    if (op == OP_SET) {
      const old = itemGet(tp(1), <u32>kl);
      if (old != 0) itemUnlink(old);
    }
    return R_PROGRESS;
  }
  store<u32>(c, <u32>it, C_ITEM);
  store<u32>(c, 0, C_DOFF);
  store<u32>(c, <u32>vlen + 2, C_DLEN);
  store<u32>(c, <u32>op, C_OP);
  store<u64>(c, reqCas, C_REQCAS);
  store<u32>(c, RS_DATA, C_RSTATE);
  return R_PROGRESS;
}

import { allocError } from "./store";
function getAllocTooLarge(): bool {
  return allocError == ALLOC_TOO_LARGE;
}

function fail(c: usize, s: usize, n: usize): i32 {
  say(c, s, n);
  return R_PROGRESS;
}

function dataStep(c: usize): i32 {
  const it = <usize>load<u32>(c, C_ITEM);
  const off = load<u32>(c, C_DOFF);
  const need = load<u32>(c, C_DLEN);
  const got = inTake(c, itemData(it) + off, need - off);
  store<u32>(c, off + got, C_DOFF);
  if (off + got < need) return R_NEED;
  if (!outRoom(c, 64, 1)) return R_STALL;
  store<u32>(c, RS_LINE, C_RSTATE);
  store<u32>(c, 0, C_ITEM);
  S.statCmdSet();
  const end = itemData(it) + <usize>itemNbytes(it);
  if (load<u16>(end) != 0x0a0d) {
    itemRelease(it);
    say(c, T.E_CHUNK, T.E_CHUNK_LEN);
    return R_PROGRESS;
  }
  const op = <i32>load<u32>(c, C_OP);
  const r = storeItem(it, op, load<u64>(c, C_REQCAS));
  if (op == OP_CAS) S.statCas(r == ST_STORED ? 0 : r == ST_NOT_FOUND ? 1 : 2);
  if (r == ST_STORED) say(c, T.T_STORED, T.T_STORED_LEN);
  else if (r == ST_EXISTS) say(c, T.T_EXISTS, T.T_EXISTS_LEN);
  else if (r == ST_NOT_FOUND) say(c, T.T_NOT_FOUND, T.T_NOT_FOUND_LEN);
  else say(c, T.T_NOT_STORED, T.T_NOT_STORED_LEN);
  return R_PROGRESS;
}

// ---- incr / decr / delete / touch / flush_all ------------------------------------
function delta(c: usize, incr: bool): i32 {
  noreplyMaybe(c);
  if (tl(1) > <usize>KEY_MAX) return fail(c, T.E_FORMAT, T.E_FORMAT_LEN);
  if (!parseU64(tp(2), tl(2)) || (negSeen && <i64>parsedU64 < 0)) return fail(c, T.E_DELTA, T.E_DELTA_LEN);
  const r = itemDelta(tp(1), <u32>tl(1), incr, parsedU64, 0);
  if (r == DELTA_OK) {
    S.statDelta(incr, true);
    if (load<u32>(c, C_NOREPLY) != 0) return R_PROGRESS;
    const p = outReserve(c, 24);
    const n = fmtU64(p, deltaValue);
    store<u16>(p + n, 0x0a0d);
    outCommit(c, p, n + 2);
  } else if (r == DELTA_NOT_FOUND) {
    S.statDelta(incr, false);
    say(c, T.T_NOT_FOUND, T.T_NOT_FOUND_LEN);
  } else if (r == DELTA_NON_NUMERIC) {
    say(c, T.E_NON_NUMERIC, T.E_NON_NUMERIC_LEN);
  } else {
    say(c, T.E_NOMEM, T.E_NOMEM_LEN);
  }
  return R_PROGRESS;
}

function del(c: usize): i32 {
  if (ntok > 2) {
    const holdZero = tis(2, T.K_ZERO, 1);
    noreplyMaybe(c);
    const nr = load<u32>(c, C_NOREPLY) != 0;
    const ok = (ntok == 3 && (holdZero || nr)) || (ntok == 4 && holdZero && nr);
    if (!ok) return fail(c, T.E_DELETE, T.E_DELETE_LEN);
  }
  if (tl(1) > <usize>KEY_MAX) return fail(c, T.E_FORMAT, T.E_FORMAT_LEN);
  const r = itemDelete(tp(1), <u32>tl(1), 0);
  S.statDelete(r == 0);
  if (r == 0) say(c, T.T_DELETED, T.T_DELETED_LEN);
  else say(c, T.T_NOT_FOUND, T.T_NOT_FOUND_LEN);
  return R_PROGRESS;
}

function touch(c: usize): i32 {
  noreplyMaybe(c);
  if (tl(1) > <usize>KEY_MAX) return fail(c, T.E_FORMAT, T.E_FORMAT_LEN);
  if (!parseI32(tp(2), tl(2))) return fail(c, T.E_EXPTIME, T.E_EXPTIME_LEN);
  S.statCmdTouch();
  const it = itemTouch(tp(1), <u32>tl(1), realtime(parsedI32));
  S.statTouch(it != 0);
  if (it == 0) S.statGone(lastGetExpired, lastGetFlushed);
  if (it != 0) say(c, T.T_TOUCHED, T.T_TOUCHED_LEN);
  else say(c, T.T_NOT_FOUND, T.T_NOT_FOUND_LEN);
  return R_PROGRESS;
}

function flushAll(c: usize): i32 {
  noreplyMaybe(c);
  S.statCmdFlush();
  let exptime: i64 = 0;
  const nr = load<u32>(c, C_NOREPLY) != 0;
  if (ntok != (nr ? 2 : 1)) {
    if (!parseI32(tp(1), tl(1))) return fail(c, T.E_EXPTIME, T.E_EXPTIME_LEN);
    exptime = parsedI32;
  }
  storeFlush(exptime);
  say(c, T.T_OK, T.T_OK_LEN);
  return R_PROGRESS;
}

// ---- stats -------------------------------------------------------------------------
function stats(c: usize): i32 {
  if (ntok == 1) {
    const p = outReserve(c, ROOM_TEXT);
    let n: usize = 0;
    const cnt = S.statCount();
    for (let i = 0; i < cnt; i++) {
      const name = S.statName(i);
      const nl = <usize>load<u8>(name);
      n += put(p + n, T.T_STAT, T.T_STAT_LEN);
      memory.copy(p + n, name + 1, nl);
      n += nl;
      store<u8>(p + n++, 32);
      n += S.statValue(i, p + n);
      store<u16>(p + n, 0x0a0d);
      n += 2;
    }
    n += put(p + n, T.T_END, T.T_END_LEN);
    outCommit(c, p, n);
    return R_PROGRESS;
  }
  if (tis(1, T.K_RESET, T.K_RESET_LEN)) {
    S.statsReset();
    say(c, T.T_RESET, T.T_RESET_LEN);
    return R_PROGRESS;
  }
  if (tis(1, T.K_DETAIL, T.K_DETAIL_LEN)) return fail(c, T.E_DETAIL, T.E_DETAIL_LEN);
  // size histograms are not kept: what memcached says while they are disabled
  if (tis(1, T.K_SIZES, T.K_SIZES_LEN)) return fail(c, T.T_SIZES_DISABLED, T.T_SIZES_DISABLED_LEN);
  // (memcached answers sizes_disable without END)
  if (tis(1, T.K_SIZES_DISABLE, T.K_SIZES_DISABLE_LEN)) return fail(c, T.T_SIZES_DISABLED, T.T_SIZES_DISABLED_LEN - 5);
  if (
    tis(1, T.K_SETTINGS, T.K_SETTINGS_LEN) || tis(1, T.K_ITEMS, T.K_ITEMS_LEN) ||
    tis(1, T.K_SLABS, T.K_SLABS_LEN) || tis(1, T.K_CONNS, T.K_CONNS_LEN)
  ) {
    // not reported (docs/design/apps.md): an empty list keeps clients that parse it working
    say(c, T.T_END, T.T_END_LEN);
    return R_PROGRESS;
  }
  return error(c);
}

export function asciiClosing(c: usize): void {
  store<u32>(c, ST_CLOSING, C_STATE);
}
