// memcached's item store in linear memory: a fixed hash table (chained), slab-like
// value storage (size classes growing by 1.25, pages handed to classes on demand)
// and one LRU per class, evicting from its tail when no chunk is free. Times are
// memcached's "relative seconds since start"; items are checked for expiry and
// flush_all lazily, when looked up.
//
// Item (ITEM_HDR bytes, then key, then value, then "\r\n" so an ASCII response can
// send value and CRLF as one span):
//   0 lruNext u32, 4 lruPrev u32, 8 hNext u32, 12 exptime u32 (relative, 0 never),
//   16 time u32 (last access, relative), 20 nbytes u32 (value bytes), 24 flags u32,
//   28 refs u16 (output spans still pointing at the value), 30 iflags u8, 31 class u8,
//   32 cas u64, 40 nkey u8, 44 hash u32, 48 key bytes
import { CFG_APP_ITEM_MAX, CFG_APP_UNIX_BASE, cfg } from "../mem/layout";
import { bytesEq } from "./util";

export const ITEM_HDR: usize = 48;
export const KEY_MAX: u32 = 250;
const IF_LINKED: u8 = 1;
const IF_FETCHED: u8 = 2;
const IF_ACTIVE: u8 = 4; // read since it last reached the LRU tail: gets a second chance
const MAX_CLASSES: i32 = 64;
const CLS_BYTES: usize = 32; // chunk u32, head u32, tail u32, free u32, cursor u32, end u32, items u32
const classes = memory.data(<i32>(<usize>MAX_CLASSES * CLS_BYTES), 16);
const UPDATE_INTERVAL: u32 = 60; // seconds between LRU bumps of one item (as memcached)

// Results of store operations (shared by both protocols).
export const ST_STORED: i32 = 0;
export const ST_NOT_STORED: i32 = 1;
export const ST_EXISTS: i32 = 2;
export const ST_NOT_FOUND: i32 = 3;
export const OP_SET: i32 = 1;
export const OP_ADD: i32 = 2;
export const OP_REPLACE: i32 = 3;
export const OP_APPEND: i32 = 4;
export const OP_PREPEND: i32 = 5;
export const OP_CAS: i32 = 6;
export const DELTA_OK: i32 = 0;
export const DELTA_NOT_FOUND: i32 = 1;
export const DELTA_NON_NUMERIC: i32 = 2;
export const DELTA_NOMEM: i32 = 3;
export const DELTA_EXISTS: i32 = 4; // binary incr/decr with a cas that differs
export const ALLOC_TOO_LARGE: i32 = 1;
export const ALLOC_NOMEM: i32 = 2;

let hashBase: usize = 0;
let hashMask: u32 = 0;
let pageBase: usize = 0;
let pageBytes: usize = 0;
let nPages: u32 = 0;
let pagesUsed: u32 = 0;
let nClasses: i32 = 0;
let itemMax: u32 = 0;
export let storeLimitBytes: u64 = 0;

// Clock: memcached's current_time is seconds since process start; process start is
// set back 62 s (ITEM_UPDATE_INTERVAL + 2, as memcached does) so that 0 stays free
// for "never" and early times still compare.
export let relNow: u32 = 0;
let started: i64 = -1;
export let processStarted: i64 = 0;
export let unixNow: i64 = 0;

export let casId: u64 = 0;
let oldestLive: u32 = 0;
let oldestCas: u64 = 0;

// Statistics (the subset `stats` reports).
export let stCurrItems: u64 = 0;
export let stTotalItems: u64 = 0;
export let stBytes: u64 = 0;
export let stEvictions: u64 = 0;
export let stExpiredUnfetched: u64 = 0;
export let stEvictedUnfetched: u64 = 0;
export let stReclaimed: u64 = 0;
export let lastGetExpired: bool = false;
export let lastGetFlushed: bool = false;
export let allocError: i32 = 0;
export let deltaValue: u64 = 0;
export let deltaItem: usize = 0;

@inline function cls(i: i32): usize {
  return classes + <usize>i * CLS_BYTES;
}

/** Lays out the store in [base, base+bytes). Returns 0 or < 0 if too small for one page per class. */
export function storeInit(base: usize, bytes: usize): i32 {
  const lim = cfg(CFG_APP_ITEM_MAX);
  itemMax = lim == 0 ? 1024 * 1024 : lim;
  pageBytes = (ITEM_HDR + <usize>KEY_MAX + <usize>itemMax + 2 + 63) & ~63;
  // hash table: one u32 bucket per ~512 bytes of store
  let buckets: u32 = 1024;
  while (<usize>buckets * 2 * 512 <= bytes && buckets < (1 << 26)) buckets <<= 1;
  hashBase = base;
  hashMask = buckets - 1;
  memory.fill(hashBase, 0, <usize>buckets * 4);
  pageBase = (base + <usize>buckets * 4 + 63) & ~63;
  if (pageBase + pageBytes > base + bytes) return -3;
  nPages = <u32>((base + bytes - pageBase) / pageBytes);
  pagesUsed = 0;
  storeLimitBytes = <u64>nPages * <u64>pageBytes;
  // size classes: 96 bytes up by 1.25 (8-aligned); the last holds one page
  let size: usize = 96;
  nClasses = 0;
  while (nClasses < MAX_CLASSES - 1 && size < pageBytes / 2) {
    initClass(nClasses, size);
    nClasses++;
    size = ((size * 5) / 4 + 7) & ~7;
  }
  initClass(nClasses, pageBytes);
  nClasses++;
  casId = 0;
  oldestLive = 0;
  oldestCas = 0;
  started = -1;
  stCurrItems = stTotalItems = stBytes = stEvictions = stExpiredUnfetched = stEvictedUnfetched = stReclaimed = 0;
  return 0;
}

function initClass(i: i32, chunk: usize): void {
  const c = cls(i);
  memory.fill(c, 0, CLS_BYTES);
  store<u32>(c, <u32>chunk);
}

/** Advances the clock from the loop's microseconds; called once per iteration. */
export function storeClock(nowUs: u64): void {
  const unix = <i64>cfg(CFG_APP_UNIX_BASE) + <i64>(nowUs / 1000000);
  if (started < 0) {
    started = unix;
    processStarted = unix - 62;
  }
  unixNow = unix;
  const rel = unix - processStarted;
  relNow = rel < 1 ? 1 : <u32>rel;
}

/** memcached's expiration rule: 0 never; negative = already expired; up to 30 days relative; beyond, unix time. */
export function realtime(exptime: i64): u32 {
  if (exptime == 0) return 0;
  if (exptime < 0) return 1;
  if (exptime > 60 * 60 * 24 * 30) {
    if (exptime <= processStarted) return 1;
    return <u32>(exptime - processStarted);
  }
  return <u32>(exptime + <i64>relNow);
}

// ---- item accessors ------------------------------------------------------------
@inline export function itemKey(it: usize): usize {
  return it + ITEM_HDR;
}
@inline export function itemNkey(it: usize): u32 {
  return <u32>load<u8>(it, 40);
}
@inline export function itemData(it: usize): usize {
  return it + ITEM_HDR + <usize>load<u8>(it, 40);
}
@inline export function itemNbytes(it: usize): u32 {
  return load<u32>(it, 20);
}
@inline export function itemFlags(it: usize): u32 {
  return load<u32>(it, 24);
}
@inline export function itemCas(it: usize): u64 {
  return load<u64>(it, 32);
}
@inline export function itemExptime(it: usize): u32 {
  return load<u32>(it, 12);
}
@inline function itemTotal(it: usize): u32 {
  return <u32>ITEM_HDR + itemNkey(it) + itemNbytes(it) + 2;
}

export function hashKey(k: usize, n: u32): u32 {
  let h: u32 = 2166136261; // FNV-1a: short keys, no table needed
  for (let i: u32 = 0; i < n; i++) h = (h ^ <u32>load<u8>(k + i)) * 16777619;
  return h ^ (h >>> 15);
}

// ---- LRU and hash --------------------------------------------------------------
function lruUnlink(it: usize): void {
  const c = cls(<i32>load<u8>(it, 31));
  const next = load<u32>(it);
  const prev = load<u32>(it, 4);
  if (prev != 0) store<u32>(<usize>prev, next);
  else store<u32>(c, next, 4);
  if (next != 0) store<u32>(<usize>next, prev, 4);
  else store<u32>(c, prev, 8);
}

function lruPushHead(it: usize): void {
  const c = cls(<i32>load<u8>(it, 31));
  const head = load<u32>(c, 4);
  store<u32>(it, head);
  store<u32>(it, 0, 4);
  if (head != 0) store<u32>(<usize>head, <u32>it, 4);
  else store<u32>(c, <u32>it, 8);
  store<u32>(c, <u32>it, 4);
}

function hashUnlink(it: usize): void {
  let p = hashBase + (<usize>(load<u32>(it, 44) & hashMask) << 2);
  let cur = load<u32>(p);
  while (cur != 0) {
    if (<usize>cur == it) {
      store<u32>(p, load<u32>(it, 8));
      return;
    }
    p = <usize>cur + 8;
    cur = load<u32>(p);
  }
}

function chunkFree(it: usize): void {
  const c = cls(<i32>load<u8>(it, 31));
  store<u8>(it, 0, 30);
  store<u32>(it, load<u32>(c, 12), 8);
  store<u32>(c, <u32>it, 12);
  store<u32>(c, load<u32>(c, 24) - 1, 24);
}

/** Takes an item out of the hash and LRU; its memory is freed now or when the last output span lets go. */
export function itemUnlink(it: usize): void {
  const f = load<u8>(it, 30);
  if ((f & IF_LINKED) == 0) return;
  store<u8>(it, f & ~IF_LINKED, 30);
  hashUnlink(it);
  lruUnlink(it);
  stCurrItems--;
  stBytes -= itemTotal(it);
  if (load<u16>(it, 28) == 0) chunkFree(it);
}

/** Frees an allocated item that was never linked (e.g. a failed store). */
export function itemRelease(it: usize): void {
  if ((load<u8>(it, 30) & IF_LINKED) == 0 && load<u16>(it, 28) == 0) chunkFree(it);
}

export function itemRef(it: usize): void {
  store<u16>(it, load<u16>(it, 28) + 1, 28);
}
export function itemUnref(it: usize): void {
  const r = load<u16>(it, 28) - 1;
  store<u16>(it, r, 28);
  if (r == 0 && (load<u8>(it, 30) & IF_LINKED) == 0) chunkFree(it);
}

function link(it: usize): void {
  store<u64>(it, ++casId, 32);
  store<u32>(it, relNow, 16);
  store<u8>(it, load<u8>(it, 30) | IF_LINKED, 30);
  const b = hashBase + (<usize>(load<u32>(it, 44) & hashMask) << 2);
  store<u32>(it, load<u32>(b), 8);
  store<u32>(b, <u32>it);
  lruPushHead(it);
  stCurrItems++;
  stTotalItems++;
  stBytes += itemTotal(it);
}

function replace(old: usize, it: usize): void {
  itemUnlink(old);
  link(it);
}

function isDead(it: usize): i32 {
  if (oldestLive != 0 && oldestLive <= relNow) {
    if (load<u32>(it, 16) <= oldestLive) return 2;
    const cas = load<u64>(it, 32);
    if (oldestCas != 0 && cas != 0 && cas < oldestCas) return 2;
  }
  const e = load<u32>(it, 12);
  if (e != 0 && e <= relNow) return 1;
  return 0;
}

/** Finds a live item (expired and flushed ones are dropped on the way); bumps it in its LRU. */
export function itemGet(k: usize, n: u32): usize {
  lastGetExpired = false;
  lastGetFlushed = false;
  const h = hashKey(k, n);
  let cur = load<u32>(hashBase + (<usize>(h & hashMask) << 2));
  while (cur != 0) {
    const it = <usize>cur;
    if (load<u32>(it, 44) == h && <u32>load<u8>(it, 40) == n && bytesEq(it + ITEM_HDR, k, n)) {
      const dead = isDead(it);
      if (dead != 0) {
        if (dead == 1) lastGetExpired = true;
        else lastGetFlushed = true;
        itemUnlink(it);
        return 0;
      }
      bump(it);
      return it;
    }
    cur = load<u32>(it, 8);
  }
  return 0;
}

function bump(it: usize): void {
  store<u8>(it, load<u8>(it, 30) | IF_FETCHED | IF_ACTIVE, 30);
  if (load<u32>(it, 16) + UPDATE_INTERVAL < relNow) {
    lruUnlink(it);
    lruPushHead(it);
    store<u32>(it, relNow, 16);
  }
}

/** memcached's size test: value, key, and its item overhead (59 bytes, 4 more with flags) within the limit. */
export function itemSizeOk(nkey: u32, flags: u32, nbytes: u64): bool {
  return nbytes + <u64>nkey + 59 + (flags != 0 ? 4 : 0) <= <u64>itemMax;
}

function classFor(total: usize): i32 {
  for (let i = 0; i < nClasses; i++) if (<usize>load<u32>(cls(i)) >= total) return i;
  return -1;
}

/** Allocates an unlinked item (key copied, value left to fill); 0 with allocError on failure. */
export function itemAlloc(k: usize, nkey: u32, flags: u32, exptime: u32, nbytes: u32): usize {
  allocError = 0;
  if (!itemSizeOk(nkey, flags, nbytes)) {
    allocError = ALLOC_TOO_LARGE;
    return 0;
  }
  const total = ITEM_HDR + <usize>nkey + <usize>nbytes + 2;
  const ci = classFor(total);
  if (ci < 0) {
    allocError = ALLOC_TOO_LARGE;
    return 0;
  }
  const it = chunkAlloc(ci);
  if (it == 0) {
    allocError = ALLOC_NOMEM;
    return 0;
  }
  store<u32>(it, 0);
  store<u32>(it, 0, 4);
  store<u32>(it, 0, 8);
  store<u32>(it, exptime, 12);
  store<u32>(it, relNow, 16);
  store<u32>(it, nbytes, 20);
  store<u32>(it, flags, 24);
  store<u16>(it, 0, 28);
  store<u8>(it, 0, 30);
  store<u8>(it, <u8>ci, 31);
  store<u64>(it, 0, 32);
  store<u8>(it, <u8>nkey, 40);
  store<u32>(it, hashKey(k, nkey), 44);
  memory.copy(it + ITEM_HDR, k, nkey);
  // the CRLF that follows the value in ASCII responses
  store<u16>(it + ITEM_HDR + <usize>nkey + <usize>nbytes, 0x0a0d);
  return it;
}

function chunkAlloc(ci: i32): usize {
  const c = cls(ci);
  const chunk = <usize>load<u32>(c);
  let it = <usize>load<u32>(c, 12);
  if (it != 0) {
    store<u32>(c, load<u32>(it, 8), 12);
  } else {
    let cur = <usize>load<u32>(c, 16);
    if (cur == 0 || cur + chunk > <usize>load<u32>(c, 20)) {
      if (pagesUsed < nPages) {
        cur = pageBase + <usize>pagesUsed * pageBytes;
        pagesUsed++;
        store<u32>(c, <u32>(cur + pageBytes), 20);
      } else {
        cur = 0;
      }
    }
    if (cur != 0) {
      it = cur;
      store<u32>(c, <u32>(cur + chunk), 16);
    } else {
      // evict the first unreferenced, inactive item from the LRU tail (a few tries,
      // as memcached); items read since they were last here move back to the head
      let cand = <usize>load<u32>(c, 8);
      let tries = 0;
      for (let walked = 0; tries < 5 && walked < 64 && cand != 0; walked++) {
        const prev = <usize>load<u32>(cand, 4);
        const fl0 = load<u8>(cand, 30);
        if ((fl0 & IF_ACTIVE) != 0 && isDead(cand) == 0) {
          store<u8>(cand, fl0 & ~IF_ACTIVE, 30);
          lruUnlink(cand);
          lruPushHead(cand);
          cand = prev;
          continue;
        }
        tries++;
        if (load<u16>(cand, 28) == 0) {
          const fl = load<u8>(cand, 30);
          if (isDead(cand) != 0) stReclaimed++;
          else {
            stEvictions++;
            if ((fl & IF_FETCHED) == 0) stEvictedUnfetched++;
          }
          itemUnlink(cand); // frees into the class list
          it = <usize>load<u32>(c, 12);
          store<u32>(c, load<u32>(it, 8), 12);
          break;
        }
        cand = prev;
      }
      if (it == 0) return 0;
    }
  }
  store<u32>(c, load<u32>(c, 24) + 1, 24);
  return it;
}

/** Stores a filled item per op (set/add/replace/append/prepend/cas) with memcached's rules. */
export function storeItem(it: usize, op: i32, reqCas: u64): i32 {
  // a set/add/replace carrying a cas (binary header) is a compare-and-swap
  if (reqCas != 0 && (op == OP_SET || op == OP_ADD || op == OP_REPLACE)) op = OP_CAS;
  const old = itemGet(itemKey(it), itemNkey(it));
  let res = ST_NOT_STORED;
  if (old != 0) {
    const oldCas = itemCas(old);
    if (op == OP_ADD) {
      res = ST_NOT_STORED; // the existing item was bumped by itemGet
    } else if (op == OP_CAS) {
      res = reqCas == oldCas ? ST_STORED : ST_EXISTS;
      if (res == ST_STORED) replace(old, it);
    } else if (reqCas != 0 && reqCas != oldCas) {
      res = ST_EXISTS;
    } else if (op == OP_APPEND || op == OP_PREPEND) {
      const on = itemNbytes(old);
      const nn = itemNbytes(it);
      const nk = itemNkey(it);
      const merged = itemAlloc(itemKey(it), nk, itemFlags(old), itemExptime(old), on + nn);
      if (merged == 0) {
        res = ST_NOT_STORED;
      } else {
        const d = itemData(merged);
        if (op == OP_APPEND) {
          memory.copy(d, itemData(old), on);
          memory.copy(d + on, itemData(it), nn);
        } else {
          memory.copy(d, itemData(it), nn);
          memory.copy(d + nn, itemData(old), on);
        }
        replace(old, merged);
        storedItem = merged;
        res = ST_STORED;
      }
    } else {
      replace(old, it);
      res = ST_STORED;
    }
  } else {
    if (op == OP_CAS) res = ST_NOT_FOUND;
    else if (op == OP_SET || op == OP_ADD) {
      link(it);
      res = ST_STORED;
    } else res = ST_NOT_STORED;
  }
  if (res == ST_STORED && (load<u8>(it, 30) & IF_LINKED) != 0) storedItem = it;
  if ((load<u8>(it, 30) & IF_LINKED) == 0) itemRelease(it);
  return res;
}
/** The item the last storeItem() linked (it, or the merged copy for append/prepend):
 * its cas is the answer's even when it is already expired (an absolute past time). */
export let storedItem: usize = 0;

/** delete: 0 deleted, ST_NOT_FOUND, ST_EXISTS (cas given and different). */
export function itemDelete(k: usize, n: u32, reqCas: u64): i32 {
  const it = itemGet(k, n);
  if (it == 0) return ST_NOT_FOUND;
  if (reqCas != 0 && reqCas != itemCas(it)) return ST_EXISTS;
  itemUnlink(it);
  return 0;
}

/**
 * incr/decr: a decimal value (at most 20 digits + padding) changes by delta; incr wraps
 * at 2^64, decr stops at 0. Written in place, space padded, when it fits and no output
 * span holds the item (as memcached), else as a new item. Sets deltaValue and deltaItem.
 */
export function itemDelta(k: usize, n: u32, incr: bool, delta: u64, reqCas: u64): i32 {
  const it = itemGet(k, n);
  if (it == 0) return DELTA_NOT_FOUND;
  const nb = itemNbytes(it);
  const d = itemData(it);
  if (nb == 0) return DELTA_NON_NUMERIC;
  if (reqCas != 0 && reqCas != itemCas(it)) return DELTA_EXISTS; // after the empty check, as memcached
  // strtoull on "<value>\r\n": leading spaces, digits, then whitespace must follow
  let i: u32 = 0;
  while (i < nb && isSpace(load<u8>(d + i))) i++;
  let neg = false;
  if (i < nb && (load<u8>(d + i) == 43 || load<u8>(d + i) == 45)) {
    neg = load<u8>(d + i) == 45;
    i++;
  }
  const start = i;
  let v: u64 = 0;
  while (i < nb) {
    const c = <u32>load<u8>(d + i) - 48;
    if (c > 9) break;
    if (v > 1844674407370955161 || (v == 1844674407370955161 && c > 5)) return DELTA_NON_NUMERIC;
    v = v * 10 + c;
    i++;
  }
  if (i == start) return DELTA_NON_NUMERIC;
  if (i < nb && !isSpace(load<u8>(d + i))) return DELTA_NON_NUMERIC;
  if (neg) {
    v = 0 - v;
    if (<i64>v < 0) return DELTA_NON_NUMERIC;
  }
  if (incr) v += delta;
  else v = delta > v ? 0 : v - delta;
  deltaValue = v;
  // format into a scratch then place
  const tmp = deltaScratch;
  let len: u32 = 0;
  let t = v;
  do {
    len++;
    t /= 10;
  } while (t != 0);
  t = v;
  for (let j = len; j > 0; j--) {
    store<u8>(tmp + j - 1, <u8>(48 + <u32>(t % 10)));
    t /= 10;
  }
  if (len <= nb && load<u16>(it, 28) == 0) {
    memory.copy(d, tmp, len);
    memory.fill(d + len, 32, nb - len);
    store<u64>(it, ++casId, 32);
    deltaItem = it;
    return DELTA_OK;
  }
  // An output span still points at the old bytes (zero-copy): write a new item, padded
  // to the old length when the number fits, i.e. what memcached's in-place update gives
  // once its earlier answers are written (with one still unwritten it copies unpadded:
  // timing-dependent, so the padded form is the one we keep). Too long: exact length.
  const nl = len <= nb ? nb : len;
  const ni = itemAlloc(k, n, itemFlags(it), itemExptime(it), nl);
  if (ni == 0) return DELTA_NOMEM;
  memory.copy(itemData(ni), tmp, len);
  memory.fill(itemData(ni) + len, 32, nl - len);
  replace(it, ni);
  deltaItem = ni;
  return DELTA_OK;
}
const deltaScratch = memory.data(32, 8);

@inline function isSpace(c: u8): bool {
  return c == 32 || (c >= 9 && c <= 13);
}

/** Creates a decimal item (binary incr/decr's initial value). Returns the item or 0. */
export function itemCreateNumber(k: usize, n: u32, v: u64, exptime: u32): usize {
  let len: u32 = 0;
  let t = v;
  do {
    len++;
    t /= 10;
  } while (t != 0);
  const it = itemAlloc(k, n, 0, exptime, len);
  if (it == 0) return 0;
  const d = itemData(it);
  t = v;
  for (let j = len; j > 0; j--) {
    store<u8>(d + j - 1, <u8>(48 + <u32>(t % 10)));
    t /= 10;
  }
  if (storeItem(it, OP_ADD, 0) != ST_STORED) return 0;
  return it;
}

/** touch: new expiration for a live item; returns it or 0. */
export function itemTouch(k: usize, n: u32, exptime: u32): usize {
  const it = itemGet(k, n);
  if (it == 0) return 0;
  store<u32>(it, exptime, 12);
  return it;
}

/** flush_all [delay]: items last stored/touched up to that second count as gone from then on. */
export function storeFlush(exptime: i64): void {
  const when = exptime > 0 ? realtime(exptime) : relNow;
  oldestLive = when - 1;
  if (oldestLive <= relNow) oldestCas = ++casId;
}
