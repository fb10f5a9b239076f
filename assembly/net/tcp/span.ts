// Send-span pool: CFG_SPANS entries of 16 bytes in region R_SPAN. A span names
// bytes the app handed to CMD_SENDV ({ptr, len} in linear memory); the stack
// keeps the reference until the bytes are acknowledged (zero-copy, as IX) and
// copies them into TX mbufs only when it builds a segment.
//
// Entry: ptr u32 @0, len u32 @4, next u32 @8 (span index, NONE = end), flags u32 @12
// (SPF_EOR: a record ends with this span's last byte; see CMD_SENDV's SENDV_EOR).
// Free entries are chained through `next`; never-used ones come from a bump
// index so init is O(1).
import { CFG_SPANS, R_SPAN, cfg, regionOffset } from "../../mem/layout";

export const SPAN_ENTRY_BYTES: usize = 16;
export const SP_PTR: usize = 0;
export const SP_LEN: usize = 4;
export const SP_NEXT: usize = 8;
export const SP_FLAGS: usize = 12;
export const SPF_EOR: u32 = 1;
const NONE: u32 = 0xffffffff;

let base: usize = 0;
let cap: u32 = 0;
let bumpNext: u32 = 0;
let freeHead: u32 = NONE;
let used: u32 = 0;

export function spanPoolInit(): void {
  base = regionOffset(R_SPAN);
  cap = cfg(CFG_SPANS);
  bumpNext = 0;
  freeHead = NONE;
  used = 0;
}

@inline export function spanAt(i: u32): usize {
  return base + (<usize>i << 4);
}

/** A span index, or NONE when the pool is empty. */
export function spanAlloc(ptr: u32, len: u32): u32 {
  let i: u32;
  if (freeHead != NONE) {
    i = freeHead;
    freeHead = load<u32>(spanAt(i), SP_NEXT);
  } else if (bumpNext < cap) {
    i = bumpNext++;
  } else return NONE;
  const s = spanAt(i);
  store<u32>(s, ptr, SP_PTR);
  store<u32>(s, len, SP_LEN);
  store<u32>(s, NONE, SP_NEXT);
  store<u32>(s, 0, SP_FLAGS);
  used++;
  return i;
}

export function spanFree(i: u32): void {
  store<u32>(spanAt(i), freeHead, SP_NEXT);
  freeHead = i;
  used--;
}

export function spansUsed(): u32 {
  return used;
}
