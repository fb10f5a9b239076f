// memcached statistics: the command counters both protocols bump, and the values
// of the `stats` subset (names and order in mc-text.ts STAT_NAMES, as memcached 1.6
// lists them).
import { STAT_NAMES, STAT_COUNT, T_VERSION_STR, T_VERSION_STR_LEN } from "./mc-text";
import { fmtU64 } from "./util";
import {
  stBytes, stCurrItems, stTotalItems, stEvictions, stExpiredUnfetched, stEvictedUnfetched, stReclaimed,
  storeLimitBytes, unixNow, processStarted, relNow,
} from "./store";
import { stBytesRead, stBytesWritten, stCurrConns, stTotalConns, stRejected, connStatsReset } from "./mc-conn";

export let sCmdGet: u64 = 0;
export let sCmdSet: u64 = 0;
export let sCmdFlush: u64 = 0;
export let sCmdTouch: u64 = 0;
export let sGetHits: u64 = 0;
export let sGetMisses: u64 = 0;
export let sGetExpired: u64 = 0;
export let sGetFlushed: u64 = 0;
export let sDeleteMisses: u64 = 0;
export let sDeleteHits: u64 = 0;
export let sIncrMisses: u64 = 0;
export let sIncrHits: u64 = 0;
export let sDecrMisses: u64 = 0;
export let sDecrHits: u64 = 0;
export let sCasMisses: u64 = 0;
export let sCasHits: u64 = 0;
export let sCasBadval: u64 = 0;
export let sTouchHits: u64 = 0;
export let sTouchMisses: u64 = 0;
export let sTooLarge: u64 = 0;
export let sNoMemory: u64 = 0;

export function statsReset(): void {
  sCmdGet = sCmdSet = sCmdFlush = sCmdTouch = sGetHits = sGetMisses = sGetExpired = sGetFlushed = 0;
  sDeleteMisses = sDeleteHits = sIncrMisses = sIncrHits = sDecrMisses = sDecrHits = 0;
  sCasMisses = sCasHits = sCasBadval = sTouchHits = sTouchMisses = sTooLarge = sNoMemory = 0;
  connStatsReset();
}

export function statGetMiss(expired: bool, flushed: bool): void {
  sGetMisses++;
  statGone(expired, flushed);
}
/** A lookup found its item expired or flushed (touches count these too, not misses). */
export function statGone(expired: bool, flushed: bool): void {
  if (expired) sGetExpired++;
  if (flushed) sGetFlushed++;
}

export function statGetHit(): void {
  sGetHits++;
}
export function statCmdGet(): void {
  sCmdGet++;
}
export function statCmdSet(): void {
  sCmdSet++;
}
export function statCmdFlush(): void {
  sCmdFlush++;
}
export function statCmdTouch(): void {
  sCmdTouch++;
}
export function statTouch(hit: bool): void {
  if (hit) sTouchHits++;
  else sTouchMisses++;
}
export function statDelete(hit: bool): void {
  if (hit) sDeleteHits++;
  else sDeleteMisses++;
}
export function statDelta(incr: bool, hit: bool): void {
  if (incr) {
    if (hit) sIncrHits++;
    else sIncrMisses++;
  } else {
    if (hit) sDecrHits++;
    else sDecrMisses++;
  }
}
/** 0 hit, 1 miss, 2 bad value. */
export function statCas(r: i32): void {
  if (r == 0) sCasHits++;
  else if (r == 1) sCasMisses++;
  else sCasBadval++;
}
export function statTooLarge(): void {
  sTooLarge++;
}
export function statNoMemory(): void {
  sNoMemory++;
}

/** Walks the name blob: pointer to the length byte of stat i. */
export function statName(i: i32): usize {
  let p = STAT_NAMES;
  for (let k = 0; k < i; k++) p += 1 + <usize>load<u8>(p);
  return p;
}

export function statCount(): i32 {
  return STAT_COUNT;
}

/** Writes stat i's value at dst; returns its length. */
export function statValue(i: i32, dst: usize): usize {
  let v: u64 = 0;
  switch (i) {
    case 0: v = 1; break; // pid: one core, no process id
    case 1: v = <u64>relNow; break; // uptime: seconds since the (backdated) start, as memcached
    case 2: v = <u64>unixNow; break;
    case 3:
      memory.copy(dst, T_VERSION_STR, T_VERSION_STR_LEN);
      return T_VERSION_STR_LEN;
    case 4: v = 32; break;
    case 5: v = stCurrConns; break;
    case 6: v = stTotalConns; break;
    case 7: v = stRejected; break;
    case 8: v = sCmdGet; break;
    case 9: v = sCmdSet; break;
    case 10: v = sCmdFlush; break;
    case 11: v = sCmdTouch; break;
    case 12: v = sGetHits; break;
    case 13: v = sGetMisses; break;
    case 14: v = sGetExpired; break;
    case 15: v = sGetFlushed; break;
    case 16: v = sDeleteMisses; break;
    case 17: v = sDeleteHits; break;
    case 18: v = sIncrMisses; break;
    case 19: v = sIncrHits; break;
    case 20: v = sDecrMisses; break;
    case 21: v = sDecrHits; break;
    case 22: v = sCasMisses; break;
    case 23: v = sCasHits; break;
    case 24: v = sCasBadval; break;
    case 25: v = sTouchHits; break;
    case 26: v = sTouchMisses; break;
    case 27: v = sTooLarge; break;
    case 28: v = sNoMemory; break;
    case 29: v = stBytesRead; break;
    case 30: v = stBytesWritten; break;
    case 31: v = storeLimitBytes; break;
    case 32: v = 1; break;
    case 33: v = stBytes; break;
    case 34: v = stCurrItems; break;
    case 35: v = stTotalItems; break;
    case 36: v = stExpiredUnfetched; break;
    case 37: v = stEvictedUnfetched; break;
    case 38: v = stEvictions; break;
    case 39: v = stReclaimed; break;
  }
  return fmtU64(dst, v);
}

// processStarted is read so uptime and time stay consistent in one snapshot.
export function statStarted(): i64 {
  return processStarted;
}
