// Hierarchical timer wheel (three levels of 256 slots, like IX's), O(1) arm,
// cancel and per-timer advance.
//
// Time is in ticks of 128 µs (TICK_SHIFT 7): level 0 spans 256 ticks (32.8 ms),
// level 1 65,536 ticks (8.4 s), level 2 2^24 ticks (35.8 min); a deadline further
// out parks at the far end of level 2 and is re-placed when its slot cascades.
// Deadlines are kept exactly (u64 µs) and rounded *up* to a tick, so a timer
// never fires early and at most one tick (128 µs) late.
//
// Entries (16 bytes each, region R_TIMER): next u32, prev u32, deadline u64.
// Ids 0..CFG_TCBS-1 are the TCBs' own timers (one per TCB, smoltcp-style: the
// TCB keeps the kind and its deadlines, the wheel only says "look at me then");
// ids CFG_TCBS.. are app timers (CMD_TIMER) with a (cookie, id) payload of 8
// bytes each after the heads. Slot lists are circular doubly linked lists whose
// heads are extra entries after the timers, so unlinking needs no slot search:
// O(1) cancel. One bit per slot says "non-empty", so advancing over idle time
// skips empty slots and empty laps instead of walking every tick.
//
// Firing moves due entries onto the "expired" list; the caller pops them one by
// one (timerPop) and decides what each means. No callbacks, no allocation.
import { CFG_TCBS, CFG_TIMERS, R_TIMER, cfg, regionOffset } from "../mem/layout";

export const TIMER_ENTRY_BYTES: usize = 16;
export const TICK_SHIFT: u64 = 7;
const SLOTS: u32 = 256;
const HEADS: u32 = 3 * SLOTS + 1; // level slots + the expired list
const NONE: u32 = 0xffffffff;
const T_NEXT: usize = 0;
const T_PREV: usize = 4;
const T_DEADLINE: usize = 8;

/** Bytes of region R_TIMER for n timers (n = CFG_TCBS + CFG_TIMERS; mem/plan.ts). */
export function timerWheelBytes(n: u32): usize {
  return (<usize>n + HEADS) * TIMER_ENTRY_BYTES + <usize>cfg(CFG_TIMERS) * 8;
}

let ents: usize = 0;
let payload: usize = 0; // app timers: cookie u32, id u32
let n: u32 = 0; // timer entries (heads follow)
let appBase: u32 = 0; // first app timer id
let appCap: u32 = 0;
let appBump: u32 = 0;
let appFree: u32 = NONE;
let curTick: u64 = 0; // next tick to process
let pending: u32 = 0; // entries linked anywhere (slots or expired)
let started: bool = false;
const bitmap = memory.data(3 * 32, 16); // 3 levels x 256 bits

@inline function ent(i: u32): usize {
  return ents + (<usize>i << 4);
}
@inline function headOf(level: u32, slot: u32): u32 {
  return n + level * SLOTS + slot;
}
@inline function expiredHead(): u32 {
  return n + 3 * SLOTS;
}

export function timerInit(): void {
  ents = regionOffset(R_TIMER);
  appBase = cfg(CFG_TCBS);
  appCap = cfg(CFG_TIMERS);
  n = appBase + appCap;
  payload = ents + (<usize>(n + HEADS) << 4);
  appBump = 0;
  appFree = NONE;
  curTick = 0;
  pending = 0;
  started = false;
  memory.fill(bitmap, 0, 96);
  for (let h: u32 = 0; h < HEADS; h++) {
    const p = ent(n + h);
    store<u32>(p, n + h, T_NEXT);
    store<u32>(p, n + h, T_PREV);
  }
  // Timer entries are marked unlinked lazily: TCB timers are armed only after
  // tcbAlloc, which calls timerReset for its id; app timers on allocation.
}

/** Marks entry id unlinked (call when its owner is created). */
export function timerReset(id: u32): void {
  store<u32>(ent(id), NONE, T_PREV);
}

@inline function setBit(level: u32, slot: u32): void {
  const w = bitmap + (<usize>level << 5) + (<usize>(slot >> 6) << 3);
  store<u64>(w, load<u64>(w) | (<u64>1 << (slot & 63)));
}
@inline function clearBit(level: u32, slot: u32): void {
  const w = bitmap + (<usize>level << 5) + (<usize>(slot >> 6) << 3);
  store<u64>(w, load<u64>(w) & ~(<u64>1 << (slot & 63)));
}

/** First non-empty slot >= from at level, or 256. */
function nextSet(level: u32, from: u32): u32 {
  const b = bitmap + (<usize>level << 5);
  let wi = from >> 6;
  let w = load<u64>(b + (<usize>wi << 3)) & (<u64>0xffffffffffffffff << (from & 63));
  while (true) {
    if (w != 0) return (wi << 6) + <u32>ctz(w);
    wi++;
    if (wi >= 4) return SLOTS;
    w = load<u64>(b + (<usize>wi << 3));
  }
  return SLOTS;
}

@inline function anySet(level: u32): bool {
  const b = bitmap + (<usize>level << 5);
  return (load<u64>(b) | load<u64>(b, 8) | load<u64>(b, 16) | load<u64>(b, 24)) != 0;
}

function linkTail(head: u32, id: u32): void {
  const h = ent(head);
  const last = load<u32>(h, T_PREV);
  store<u32>(ent(id), head, T_NEXT);
  store<u32>(ent(id), last, T_PREV);
  store<u32>(ent(last), id, T_NEXT);
  store<u32>(h, id, T_PREV);
}

function unlink(id: u32): void {
  const e = ent(id);
  const nx = load<u32>(e, T_NEXT);
  const pv = load<u32>(e, T_PREV);
  store<u32>(ent(pv), nx, T_NEXT);
  store<u32>(ent(nx), pv, T_PREV);
  store<u32>(e, NONE, T_PREV);
  // The list became empty when its head now points at itself.
  if (pv == nx && pv >= n) {
    const h = pv - n;
    if (h < 3 * SLOTS) clearBit(h >> 8, h & 255);
  }
}

@inline function ceilTick(us: u64): u64 {
  return (us + ((<u64>1 << TICK_SHIFT) - 1)) >> TICK_SHIFT;
}

// Places a linked-out entry by its deadline relative to curTick.
function place(id: u32): void {
  const t = ceilTick(load<u64>(ent(id), T_DEADLINE));
  if (t < curTick) {
    linkTail(expiredHead(), id);
    return;
  }
  let d = t - curTick;
  let at = t;
  if (d >= <u64>1 << 24) {
    d = (<u64>1 << 24) - 1;
    at = curTick + d;
  }
  let level: u32;
  let slot: u32;
  if (d < 256) {
    level = 0;
    slot = <u32>(at & 255);
  } else if (d < 65536) {
    level = 1;
    slot = <u32>((at >> 8) & 255);
  } else {
    level = 2;
    slot = <u32>((at >> 16) & 255);
  }
  linkTail(headOf(level, slot), id);
  setBit(level, slot);
}

/** Arms (or moves) timer id to fire at deadlineUs. nowUs anchors an idle wheel. */
export function timerArm(id: u32, deadlineUs: u64, nowUs: u64): void {
  if (load<u32>(ent(id), T_PREV) != NONE) {
    unlink(id);
    pending--;
  }
  if (pending == 0 || !started) {
    // An idle wheel jumps to the present instead of walking from an old tick.
    const nt = nowUs >> TICK_SHIFT;
    if (!started || nt > curTick) curTick = nt;
    started = true;
  }
  store<u64>(ent(id), deadlineUs, T_DEADLINE);
  place(id);
  pending++;
}

export function timerCancel(id: u32): void {
  if (load<u32>(ent(id), T_PREV) == NONE) return;
  unlink(id);
  pending--;
}

export function timerArmed(id: u32): bool {
  return load<u32>(ent(id), T_PREV) != NONE;
}

// Moves every entry of a slot list to its proper place (cascade) or to the expired list (level 0).
function drain(level: u32, slot: u32, fire: bool): void {
  const head = headOf(level, slot);
  const h = ent(head);
  let id = load<u32>(h, T_NEXT);
  store<u32>(h, head, T_NEXT);
  store<u32>(h, head, T_PREV);
  clearBit(level, slot);
  while (id != head) {
    const nx = load<u32>(ent(id), T_NEXT);
    if (fire) linkTail(expiredHead(), id);
    else place(id);
    id = nx;
  }
}

/** Moves every timer due at nowUs to the expired list; returns how many are waiting there. */
export function timerAdvance(nowUs: u64): u32 {
  const target = nowUs >> TICK_SHIFT;
  if (!started) {
    curTick = target;
    started = true;
  }
  while (curTick <= target) {
    if (pending == 0) {
      curTick = target + 1;
      break;
    }
    const s0 = <u32>(curTick & 255);
    if (s0 == 0) {
      const s1 = <u32>((curTick >> 8) & 255);
      if (s1 == 0) drain(2, <u32>((curTick >> 16) & 255), false);
      drain(1, s1, false);
    }
    const nx = nextSet(0, s0);
    if (nx < SLOTS) {
      const t = curTick + <u64>(nx - s0);
      if (t > target) {
        curTick = target + 1;
        break;
      }
      curTick = t;
      drain(0, nx, true);
      curTick++;
      continue;
    }
    // Rest of this level-0 lap is empty. If level 0 is empty altogether, skip
    // whole laps up to the next non-empty level-1 slot (or level-2 lap).
    let next = (curTick | 255) + 1;
    if (!anySet(0)) {
      const s1 = <u32>((curTick >> 8) & 255);
      const n1 = s1 + 1 < SLOTS ? nextSet(1, s1 + 1) : SLOTS;
      if (n1 < SLOTS) next = (curTick & ~(<u64>0xffff)) | (<u64>n1 << 8);
      else if (!anySet(1)) {
        const s2 = <u32>((curTick >> 16) & 255);
        const n2 = s2 + 1 < SLOTS ? nextSet(2, s2 + 1) : SLOTS;
        next = n2 < SLOTS ? (curTick & ~(<u64>0xffffff)) | (<u64>n2 << 16) : (curTick | 0xffffff) + 1;
      } else next = (curTick | 0xffff) + 1;
    }
    if (next > target) {
      curTick = target + 1;
      break;
    }
    curTick = next;
  }
  return expiredCount();
}

function expiredCount(): u32 {
  const h = expiredHead();
  return load<u32>(ent(h), T_NEXT) == h ? 0 : 1;
}

/** Next expired timer id (unlinked: re-arm it if needed), or -1. */
export function timerPop(): i32 {
  const h = expiredHead();
  const id = load<u32>(ent(h), T_NEXT);
  if (id == h) return -1;
  unlink(id);
  pending--;
  return <i32>id;
}

/** Earliest time (µs) at which a timer may be due: exact at level 0, the start of the slot above. u64 max when idle. */
export function timerNext(): u64 {
  if (pending == 0) return 0xffffffffffffffff;
  if (expiredCount() != 0) return 0;
  const s0 = <u32>(curTick & 255);
  let nx = nextSet(0, s0);
  if (nx < SLOTS) return (curTick + <u64>(nx - s0)) << TICK_SHIFT;
  if (anySet(0)) return ((curTick | 255) + 1) << TICK_SHIFT; // wrapped into the next lap
  const s1 = <u32>((curTick >> 8) & 255);
  nx = s1 + 1 < SLOTS ? nextSet(1, s1 + 1) : SLOTS;
  if (nx < SLOTS) return ((curTick & ~(<u64>0xffff)) | (<u64>nx << 8)) << TICK_SHIFT;
  if (anySet(1)) return ((curTick | 0xffff) + 1) << TICK_SHIFT;
  const s2 = <u32>((curTick >> 16) & 255);
  nx = s2 + 1 < SLOTS ? nextSet(2, s2 + 1) : SLOTS;
  if (nx < SLOTS) return ((curTick & ~(<u64>0xffffff)) | (<u64>nx << 16)) << TICK_SHIFT;
  return ((curTick | 0xffffff) + 1) << TICK_SHIFT;
}

export function timerPending(): u32 {
  return pending;
}

// ---- app timers (CMD_TIMER -> EV_TIMER) --------------------------------------------

/** Arms an app timer firing EV_TIMER(cookie, a = id) after delayUs; false when all CFG_TIMERS are in use. */
export function timerSetApp(cookie: u32, id: u32, delayUs: u64, nowUs: u64): bool {
  let j: u32;
  if (appFree != NONE) {
    j = appFree;
    appFree = load<u32>(payload + (<usize>j << 3));
  } else if (appBump < appCap) {
    j = appBump++;
  } else return false;
  store<u32>(payload + (<usize>j << 3), cookie);
  store<u32>(payload + (<usize>j << 3) + 4, id);
  timerReset(appBase + j);
  timerArm(appBase + j, nowUs + delayUs, nowUs);
  return true;
}

/** True if timer id is an app timer; then timerAppCookie/Id read its payload. */
@inline export function timerIsApp(id: u32): bool {
  return id >= appBase && id < n;
}
export function timerAppCookie(id: u32): u32 {
  return load<u32>(payload + (<usize>(id - appBase) << 3));
}
export function timerAppId(id: u32): u32 {
  return load<u32>(payload + (<usize>(id - appBase) << 3) + 4);
}
/** Returns an app timer's entry after it fired. */
export function timerAppRelease(id: u32): void {
  const j = id - appBase;
  store<u32>(payload + (<usize>j << 3), appFree);
  appFree = j;
}

/** The deadline timer id is armed for (meaningful while timerArmed(id)). */
export function timerDeadline(id: u32): u64 {
  return load<u64>(ent(id), T_DEADLINE);
}
