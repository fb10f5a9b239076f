// memcached's binary protocol (24-byte big-endian headers), answering as memcached
// 1.6 does: same status codes and messages, quiet commands silent on success, getq
// and getkq silent on a miss. Header, extras and key are gathered in the input
// buffer; a stored value goes straight into its item.
import {
  C_IN, C_INLEN, C_RSTATE, C_ITEM, C_DOFF, C_DLEN, C_SWALLOW, C_OP, C_NOREPLY, C_REQCAS, C_OPAQUE, C_OPCODE,
  IN_BYTES, inFill, inTake, outReserve, outCommit, outItem, outRoom,
} from "./mc-conn";
import * as T from "./mc-text";
import {
  KEY_MAX, OP_SET, OP_ADD, OP_REPLACE, OP_APPEND, OP_PREPEND, ST_STORED, ST_NOT_STORED, ST_EXISTS, ST_NOT_FOUND,
  ALLOC_TOO_LARGE, DELTA_OK, DELTA_NOT_FOUND, DELTA_NON_NUMERIC, DELTA_EXISTS, allocError, storedItem,
  itemGet, itemAlloc, itemData, itemNbytes, itemFlags, itemCas, itemKey, itemNkey, storeItem, itemDelete, itemDelta,
  itemTouch, itemUnlink, itemCreateNumber, storeFlush, realtime, deltaValue, deltaItem, lastGetExpired, lastGetFlushed,
} from "./store";
import * as S from "./mc-stats";
import { R_PROGRESS, R_NEED, R_STALL, R_CLOSE } from "./protocol-ascii";

const RS_HDR: u32 = 0;
const RS_DATA: u32 = 1;
const RS_SWALLOW: u32 = 2;
const RS_CLOSE_AFTER: u32 = 3; // answered a protocol error: close once it is sent

const HDR: usize = 24;
const STAT_ROOM: usize = 2600; // 40 stats of at most 24 + 20 + 20 bytes, and the terminator
const ST_OK: u16 = 0x00;
const ST_ENOENT: u16 = 0x01;
const ST_EEXISTS: u16 = 0x02;
const ST_E2BIG: u16 = 0x03;
const ST_EINVAL: u16 = 0x04;
const ST_NOT_STORED_B: u16 = 0x05;
const ST_DELTA_BADVAL: u16 = 0x06;
const ST_UNKNOWN: u16 = 0x81;
const ST_ENOMEM: u16 = 0x82;

const OPC_GET: u8 = 0x00;
const OPC_SET: u8 = 0x01;
const OPC_ADD: u8 = 0x02;
const OPC_REPLACE: u8 = 0x03;
const OPC_DELETE: u8 = 0x04;
const OPC_INCR: u8 = 0x05;
const OPC_DECR: u8 = 0x06;
const OPC_QUIT: u8 = 0x07;
const OPC_FLUSH: u8 = 0x08;
const OPC_GETQ: u8 = 0x09;
const OPC_NOOP: u8 = 0x0a;
const OPC_VERSION: u8 = 0x0b;
const OPC_GETK: u8 = 0x0c;
const OPC_GETKQ: u8 = 0x0d;
const OPC_APPEND: u8 = 0x0e;
const OPC_PREPEND: u8 = 0x0f;
const OPC_STAT: u8 = 0x10;
const OPC_SETQ: u8 = 0x11;
const OPC_ADDQ: u8 = 0x12;
const OPC_REPLACEQ: u8 = 0x13;
const OPC_DELETEQ: u8 = 0x14;
const OPC_INCRQ: u8 = 0x15;
const OPC_DECRQ: u8 = 0x16;
const OPC_QUITQ: u8 = 0x17;
const OPC_FLUSHQ: u8 = 0x18;
const OPC_APPENDQ: u8 = 0x19;
const OPC_PREPENDQ: u8 = 0x1a;
const OPC_TOUCH: u8 = 0x1c;
const OPC_GAT: u8 = 0x1d;
const OPC_GATQ: u8 = 0x1e;
const OPC_GATK: u8 = 0x23;
const OPC_GATKQ: u8 = 0x24;
const OPC_SASL_LIST: u8 = 0x20;
const OPC_SASL_AUTH: u8 = 0x21;
const OPC_SASL_STEP: u8 = 0x22;

@inline function be16(p: usize): u32 {
  return <u32>bswap<u16>(load<u16>(p));
}
@inline function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}
@inline function be64(p: usize): u64 {
  return bswap<u64>(load<u64>(p));
}

/** The base command of a quiet one (and whether it was quiet). */
let quiet: bool = false;
function baseOp(op: u8): u8 {
  quiet = true;
  switch (op) {
    case OPC_GETQ: return OPC_GET;
    case OPC_GETKQ: return OPC_GETK;
    case OPC_SETQ: return OPC_SET;
    case OPC_ADDQ: return OPC_ADD;
    case OPC_REPLACEQ: return OPC_REPLACE;
    case OPC_DELETEQ: return OPC_DELETE;
    case OPC_INCRQ: return OPC_INCR;
    case OPC_DECRQ: return OPC_DECR;
    case OPC_QUITQ: return OPC_QUIT;
    case OPC_FLUSHQ: return OPC_FLUSH;
    case OPC_APPENDQ: return OPC_APPEND;
    case OPC_PREPENDQ: return OPC_PREPEND;
    case OPC_GATQ: return OPC_GAT;
    case OPC_GATKQ: return OPC_GATK;
  }
  quiet = false;
  return op;
}

/** Writes a response header at p. */
function hdr(c: usize, p: usize, keylen: u32, extlen: u32, status: u16, bodylen: u32, cas: u64): void {
  store<u8>(p, 0x81);
  store<u8>(p, <u8>load<u32>(c, C_OPCODE), 1);
  store<u16>(p, bswap<u16>(<u16>keylen), 2);
  store<u8>(p, <u8>extlen, 4);
  store<u8>(p, 0, 5);
  store<u16>(p, bswap<u16>(status), 6);
  store<u32>(p, bswap<u32>(bodylen), 8);
  store<u32>(p, load<u32>(c, C_OPAQUE), 12);
  store<u64>(p, bswap<u64>(cas), 16);
}

/** A response with no body (or a small inline body). */
function respond(c: usize, status: u16, cas: u64): void {
  const p = outReserve(c, HDR);
  hdr(c, p, 0, 0, status, 0, cas);
  outCommit(c, p, HDR);
}

function respondError(c: usize, status: u16): void {
  let msg: usize = 0;
  let n: usize = 0;
  switch (status) {
    case ST_ENOENT: msg = T.B_NOT_FOUND; n = T.B_NOT_FOUND_LEN; break;
    case ST_EEXISTS: msg = T.B_EXISTS; n = T.B_EXISTS_LEN; break;
    case ST_E2BIG: msg = T.B_TOO_LARGE; n = T.B_TOO_LARGE_LEN; break;
    case ST_EINVAL: msg = T.B_EINVAL; n = T.B_EINVAL_LEN; break;
    case ST_NOT_STORED_B: msg = T.B_NOT_STORED; n = T.B_NOT_STORED_LEN; break;
    case ST_DELTA_BADVAL: msg = T.B_NON_NUMERIC; n = T.B_NON_NUMERIC_LEN; break;
    case ST_UNKNOWN: msg = T.B_UNKNOWN; n = T.B_UNKNOWN_LEN; break;
    case ST_ENOMEM: msg = T.B_NOMEM; n = T.B_NOMEM_LEN; break;
  }
  const p = outReserve(c, HDR + n);
  hdr(c, p, 0, 0, status, <u32>n, 0);
  memory.copy(p + HDR, msg, n);
  outCommit(c, p, HDR + n);
}

function protocolError(c: usize, status: u16 = ST_EINVAL): i32 {
  respondError(c, status);
  store<u32>(c, 0, C_INLEN);
  store<u32>(c, RS_CLOSE_AFTER, C_RSTATE);
  return R_CLOSE;
}

export function binaryStep(c: usize): i32 {
  const rs = load<u32>(c, C_RSTATE);
  if (rs == RS_DATA) return dataStep(c);
  if (rs == RS_SWALLOW) {
    const left = load<u32>(c, C_SWALLOW);
    const got = inTake(c, 0, left);
    store<u32>(c, left - got, C_SWALLOW);
    if (got < left) return R_NEED;
    store<u32>(c, RS_HDR, C_RSTATE);
    return R_PROGRESS;
  }
  if (rs == RS_CLOSE_AFTER) return R_CLOSE;
  if (!outRoom(c, STAT_ROOM, 4)) return R_STALL; // the longest answer: all stats
  if (!inFill(c, <u32>HDR)) return R_NEED;
  const h = c + C_IN;
  if (load<u8>(h) != 0x80) return R_CLOSE; // bad magic: memcached hangs up
  const opcode = load<u8>(h, 1);
  const keylen = be16(h + 2);
  const extlen = <u32>load<u8>(h, 4);
  const bodylen = be32(h + 8);
  store<u32>(c, <u32>opcode, C_OPCODE);
  store<u32>(c, load<u32>(h, 12), C_OPAQUE);
  const op = baseOp(opcode);
  store<u32>(c, quiet ? 1 : 0, C_NOREPLY);
  // memcached looks at a request once its extras and key are in: until then a bad
  // header goes unanswered (the front is bounded here by the input buffer)
  const front = <u32>HDR + extlen + keylen;
  if (front <= <u32>IN_BYTES && !inFill(c, front)) return R_NEED;
  if (keylen > bodylen || keylen + extlen > bodylen) return unknownClose(c);
  if (keylen > KEY_MAX) return protocolError(c); // checked before the opcode
  const isStore = op == OPC_SET || op == OPC_ADD || op == OPC_REPLACE || op == OPC_APPEND || op == OPC_PREPEND;
  if (op == OPC_SASL_LIST || op == OPC_SASL_AUTH || op == OPC_SASL_STEP) return saslCmd(c, op, keylen, extlen, bodylen);
  if (!isStore && !known(op)) {
    // Unknown command: answer and skip its body. memcached first reads extras and key,
    // then skips the whole body length again (eating into what follows); done the same
    // way so a stream stays in step with it.
    respondError(c, ST_UNKNOWN);
    store<u32>(c, 0, C_INLEN);
    store<u32>(c, bodylen, C_SWALLOW);
    store<u32>(c, RS_SWALLOW, C_RSTATE);
    return R_PROGRESS;
  }
  if (!valid(op, keylen, extlen, bodylen)) return protocolError(c);
  // Only extras and key are taken: stat and touch/gat do not check the body length,
  // and memcached reads what follows their key as the next request.
  store<u32>(c, 0, C_INLEN);
  const ext = h + HDR;
  const key = ext + extlen;
  const cas = be64(h + 16);
  if (isStore) return storeCmd(c, op, key, keylen, ext, extlen, bodylen - extlen - keylen, cas);
  switch (op) {
    case OPC_GET:
    case OPC_GETK:
      return getCmd(c, op == OPC_GETK, key, keylen, false, 0);
    case OPC_TOUCH:
    case OPC_GAT:
    case OPC_GATK:
      return getCmd(c, op == OPC_GATK, key, keylen, true, be32(ext));
    case OPC_DELETE: {
      const r = itemDelete(key, keylen, cas);
      S.statDelete(r == 0);
      if (r == 0) {
        if (!quiet) respond(c, ST_OK, 0);
      } else respondError(c, r == ST_EXISTS ? ST_EEXISTS : ST_ENOENT);
      return R_PROGRESS;
    }
    case OPC_INCR:
    case OPC_DECR:
      return deltaCmd(c, op == OPC_INCR, key, keylen, ext, cas);
    case OPC_QUIT:
      if (!quiet) respond(c, ST_OK, 0);
      return R_CLOSE;
    case OPC_FLUSH:
      S.statCmdFlush();
      storeFlush(extlen == 4 ? <i64>be32(ext) : 0);
      if (!quiet) respond(c, ST_OK, 0);
      return R_PROGRESS;
    case OPC_NOOP:
      respond(c, ST_OK, 0);
      return R_PROGRESS;
    case OPC_VERSION: {
      const n = T.T_VERSION_STR_LEN;
      const p = outReserve(c, HDR + n);
      hdr(c, p, 0, 0, ST_OK, <u32>n, 0);
      memory.copy(p + HDR, T.T_VERSION_STR, n);
      outCommit(c, p, HDR + n);
      return R_PROGRESS;
    }
    case OPC_STAT:
      return statCmd(c, key, keylen);
  }
  return R_PROGRESS;
}

/** Header fields inconsistent (key or extras past the body): memcached answers
 * "Unknown command" and closes. */
function unknownClose(c: usize): i32 {
  respondError(c, ST_UNKNOWN);
  store<u32>(c, 0, C_INLEN);
  store<u32>(c, RS_CLOSE_AFTER, C_RSTATE);
  return R_CLOSE;
}

/** SASL (memcached without -S): well-formed requests answer "Unknown command" and
 * their value is skipped; others are protocol errors. */
function saslCmd(c: usize, op: u8, keylen: u32, extlen: u32, bodylen: u32): i32 {
  const ok = op == OPC_SASL_LIST ? extlen == 0 && keylen == 0 && bodylen == 0 : extlen == 0 && keylen != 0;
  if (!ok) return protocolError(c);
  respondError(c, ST_UNKNOWN);
  store<u32>(c, 0, C_INLEN);
  store<u32>(c, bodylen - keylen, C_SWALLOW);
  store<u32>(c, RS_SWALLOW, C_RSTATE);
  return R_PROGRESS;
}

function known(op: u8): bool {
  return (
    op == OPC_GET || op == OPC_GETK || op == OPC_DELETE || op == OPC_INCR || op == OPC_DECR ||
    op == OPC_QUIT || op == OPC_FLUSH || op == OPC_NOOP || op == OPC_VERSION || op == OPC_STAT ||
    op == OPC_TOUCH || op == OPC_GAT || op == OPC_GATK
  );
}

/** Header shape per command, as memcached checks it (a mismatch is a protocol error). */
function valid(op: u8, keylen: u32, extlen: u32, bodylen: u32): bool {
  switch (op) {
    case OPC_SET:
    case OPC_ADD:
    case OPC_REPLACE:
      return extlen == 8 && keylen != 0 && bodylen >= keylen + 8;
    case OPC_APPEND:
    case OPC_PREPEND:
      return keylen > 0 && extlen == 0;
    case OPC_GET:
    case OPC_GETK:
    case OPC_DELETE:
      return extlen == 0 && bodylen == keylen && keylen > 0;
    case OPC_INCR:
    case OPC_DECR:
      return keylen > 0 && extlen == 20 && bodylen == keylen + 20;
    case OPC_QUIT:
    case OPC_NOOP:
    case OPC_VERSION:
      return extlen == 0 && keylen == 0 && bodylen == 0;
    case OPC_FLUSH:
      return keylen == 0 && bodylen == extlen && (extlen == 0 || extlen == 4);
    case OPC_STAT:
      return extlen == 0;
    case OPC_TOUCH:
    case OPC_GAT:
    case OPC_GATK:
      return extlen == 4 && keylen != 0;
  }
  return true;
}

function getCmd(c: usize, withKey: bool, key: usize, keylen: u32, isTouch: bool, exptime: u32): i32 {
  let it: usize;
  const op = <u8>load<u32>(c, C_OPCODE);
  // touch/gat count as touches only, as memcached 1.6.18
  if (isTouch) {
    S.statCmdTouch();
    it = itemTouch(key, keylen, realtime(<i64>exptime)); // unsigned on the wire: no past times
    S.statTouch(it != 0);
  } else {
    S.statCmdGet();
    it = itemGet(key, keylen);
  }
  if (it == 0) {
    if (isTouch) S.statGone(lastGetExpired, lastGetFlushed);
    else S.statGetMiss(lastGetExpired, lastGetFlushed);
    if (quiet) return R_PROGRESS;
    if (withKey) {
      const p = outReserve(c, HDR + keylen);
      hdr(c, p, keylen, 0, ST_ENOENT, keylen, 0);
      memory.copy(p + HDR, key, keylen);
      outCommit(c, p, HDR + keylen);
    } else respondError(c, ST_ENOENT);
    return R_PROGRESS;
  }
  if (!isTouch) S.statGetHit();
  const nb = op == OPC_TOUCH ? 0 : itemNbytes(it);
  const kl = withKey ? keylen : 0;
  const p = outReserve(c, HDR + 4 + kl);
  hdr(c, p, kl, 4, ST_OK, 4 + kl + nb, itemCas(it));
  store<u32>(p + HDR, bswap<u32>(itemFlags(it)));
  memory.copy(p + HDR + 4, key, kl);
  outCommit(c, p, HDR + 4 + kl);
  outItem(c, it, itemData(it), nb);
  return R_PROGRESS;
}

function storeCmd(c: usize, op: u8, key: usize, keylen: u32, ext: usize, extlen: u32, vlen: u32, cas: u64): i32 {
  const flags = extlen == 8 ? be32(ext) : 0;
  const exptime = extlen == 8 ? <i64>be32(ext + 4) : 0; // unsigned on the wire
  const sop = op == OPC_SET ? OP_SET : op == OPC_ADD ? OP_ADD : op == OPC_REPLACE ? OP_REPLACE : op == OPC_APPEND ? OP_APPEND : OP_PREPEND;
  const it = itemAlloc(key, keylen, flags, realtime(exptime), vlen);
  if (it == 0) {
    if (allocError == ALLOC_TOO_LARGE) {
      S.statTooLarge();
      respondError(c, ST_E2BIG);
    } else {
      S.statNoMemory();
      respondError(c, ST_ENOMEM);
    }
    store<u32>(c, vlen, C_SWALLOW);
    store<u32>(c, RS_SWALLOW, C_RSTATE);
    if (sop == OP_SET) {
      const old = itemGet(key, keylen);
      if (old != 0) itemUnlink(old);
    }
    return R_PROGRESS;
  }
  store<u32>(c, <u32>it, C_ITEM);
  store<u32>(c, 0, C_DOFF);
  store<u32>(c, vlen, C_DLEN);
  store<u32>(c, <u32>sop, C_OP);
  store<u64>(c, cas, C_REQCAS);
  store<u32>(c, RS_DATA, C_RSTATE);
  return R_PROGRESS;
}

function dataStep(c: usize): i32 {
  const it = <usize>load<u32>(c, C_ITEM);
  const off = load<u32>(c, C_DOFF);
  const need = load<u32>(c, C_DLEN);
  const got = inTake(c, itemData(it) + off, need - off);
  store<u32>(c, off + got, C_DOFF);
  if (off + got < need) return R_NEED;
  if (!outRoom(c, 128, 1)) return R_STALL;
  store<u32>(c, RS_HDR, C_RSTATE);
  store<u32>(c, 0, C_ITEM);
  S.statCmdSet();
  const op = <i32>load<u32>(c, C_OP);
  const reqCas = load<u64>(c, C_REQCAS);
  const r = storeItem(it, op, reqCas);
  if (reqCas != 0) S.statCas(r == ST_STORED ? 0 : r == ST_NOT_FOUND ? 1 : 2);
  quiet = load<u32>(c, C_NOREPLY) != 0;
  if (r == ST_STORED) {
    if (!quiet) respond(c, ST_OK, itemCas(storedItem));
  } else if (r == ST_EXISTS) respondError(c, ST_EEXISTS);
  else if (r == ST_NOT_FOUND) respondError(c, ST_ENOENT);
  else if (op == OP_ADD) respondError(c, ST_EEXISTS);
  else if (op == OP_REPLACE) respondError(c, ST_ENOENT);
  else respondError(c, ST_NOT_STORED_B);
  return R_PROGRESS;
}



function deltaCmd(c: usize, incr: boolean, key: usize, keylen: u32, ext: usize, cas: u64): i32 {
  const delta = be64(ext);
  const initial = be64(ext + 8);
  const exptime = be32(ext + 16);
  const r = itemDelta(key, keylen, incr, delta, cas);
  let value: u64 = 0;
  if (r == DELTA_OK) {
    S.statDelta(incr, true);
    value = deltaValue;
    cas = itemCas(deltaItem);
  } else if (r == DELTA_NOT_FOUND) {
    // a miss counts only when no item is created, as memcached's binary incr
    if (exptime == 0xffffffff) {
      S.statDelta(incr, false);
      respondError(c, ST_ENOENT);
      return R_PROGRESS;
    }
    const it = itemCreateNumber(key, keylen, initial, realtime(<i64>exptime));
    if (it == 0) {
      respondError(c, ST_ENOMEM);
      return R_PROGRESS;
    }
    value = initial;
    cas = itemCas(it);
  } else if (r == DELTA_NON_NUMERIC) {
    respondError(c, ST_DELTA_BADVAL);
    return R_PROGRESS;
  } else if (r == DELTA_EXISTS) {
    respondError(c, ST_EEXISTS);
    return R_PROGRESS;
  } else {
    respondError(c, ST_ENOMEM);
    return R_PROGRESS;
  }
  if (quiet) return R_PROGRESS;
  const p = outReserve(c, HDR + 8);
  hdr(c, p, 0, 0, ST_OK, 8, cas);
  store<u64>(p + HDR, bswap<u64>(value));
  outCommit(c, p, HDR + 8);
  return R_PROGRESS;
}

function statCmd(c: usize, key: usize, keylen: u32): i32 {
  if (keylen == 0) {
    const cnt = S.statCount();
    const p = outReserve(c, STAT_ROOM);
    let n: usize = 0;
    for (let i = 0; i < cnt; i++) {
      const name = S.statName(i);
      const nl = <u32>load<u8>(name);
      memory.copy(p + n + HDR, name + 1, nl);
      const vl = <u32>S.statValue(i, p + n + HDR + nl);
      hdr(c, p + n, nl, 0, ST_OK, nl + vl, 0);
      n += HDR + nl + vl;
    }
    hdr(c, p + n, 0, 0, ST_OK, 0, 0);
    outCommit(c, p, n + HDR);
    return R_PROGRESS;
  }
  // memcached matches "reset" and "settings" as prefixes (strncmp), the groups exactly;
  // "conns" is ASCII-only there (Not found)
  if (<usize>keylen >= T.K_RESET_LEN && bytesEqK(key, T.K_RESET, <u32>T.K_RESET_LEN)) {
    S.statsReset();
    respond(c, ST_OK, 0);
    return R_PROGRESS;
  }
  const sizes = isKey(key, keylen, T.K_SIZES, T.K_SIZES_LEN);
  if (sizes || isKey(key, keylen, T.K_SIZES_DISABLE, T.K_SIZES_DISABLE_LEN)) {
    // size histograms are not kept: what memcached says while they are disabled
    // (sizes_disable without the terminating packet, as memcached)
    const kl = <u32>T.K_SIZES_STATUS_LEN;
    const vl = <u32>T.K_DISABLED_LEN;
    const n = HDR + kl + vl + (sizes ? HDR : 0);
    const p = outReserve(c, n);
    hdr(c, p, kl, 0, ST_OK, kl + vl, 0);
    memory.copy(p + HDR, T.K_SIZES_STATUS, kl);
    memory.copy(p + HDR + kl, T.K_DISABLED, vl);
    if (sizes) hdr(c, p + HDR + kl + vl, 0, 0, ST_OK, 0, 0);
    outCommit(c, p, n);
    return R_PROGRESS;
  }
  if (
    (<usize>keylen >= T.K_SETTINGS_LEN && bytesEqK(key, T.K_SETTINGS, <u32>T.K_SETTINGS_LEN)) ||
    isKey(key, keylen, T.K_ITEMS, T.K_ITEMS_LEN) || isKey(key, keylen, T.K_SLABS, T.K_SLABS_LEN)
  ) {
    respond(c, ST_OK, 0); // groups not reported: just the terminating packet (as ASCII's END)
    return R_PROGRESS;
  }
  respondError(c, ST_ENOENT);
  return R_PROGRESS;
}

function isKey(key: usize, keylen: u32, k: usize, kl: usize): bool {
  return <usize>keylen == kl && bytesEqK(key, k, keylen);
}

function bytesEqK(a: usize, b: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

export function binaryInBytes(): usize {
  return IN_BYTES;
}
// keep ST_NOT_STORED referenced for readers of the result mapping above
export const BIN_NOT_STORED: i32 = ST_NOT_STORED;
