// Capture timestamps as (seconds, nanoseconds) without BigInt on the hot path.

const TWO32 = 4294967296;

/**
 * Splits a 64-bit tick count (hi:lo, u32 each) at `unitsPerSec` (10^n or 2^n) into
 * whole seconds and nanoseconds. Exact for every input: nanosecond ticks of today
 * exceed 2^53, so the division is done in 16-bit chunks when needed.
 */
export function ticksToTime(
  hi: number,
  lo: number,
  unitsPerSec: number,
  out: { sec: number; nsec: number },
): void {
  let sec: number;
  let rem: number;
  if (hi < 0x200000) {
    const t = hi * TWO32 + lo; // < 2^53: exact
    sec = Math.floor(t / unitsPerSec);
    rem = t - sec * unitsPerSec;
  } else {
    // Long division by 16-bit digits: every intermediate stays below 2^53.
    const digits = [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff];
    rem = 0;
    sec = 0;
    for (const d of digits) {
      const cur = rem * 65536 + d;
      const q = Math.floor(cur / unitsPerSec);
      rem = cur - q * unitsPerSec;
      sec = sec * 65536 + q;
    }
  }
  out.sec = sec;
  out.nsec = unitsPerSec === 1e9 ? rem : Math.floor((rem * 1e9) / unitsPerSec);
}

/**
 * Decimal seconds with 9 fraction digits, as `ixwasm dump` prints them.
 * A record whose fraction field was out of range (µs ≥ 10^6, ns ≥ 10^9) is printed
 * the way tshark 4 prints it (the fraction kept as a 32-bit signed nanosecond count,
 * not carried into the seconds), so that dump and tshark agree on such captures;
 * dump marks those records with `ts_invalid`.
 */
export function formatTs(sec: number, nsec: number, rawInvalid: boolean): string {
  if (!rawInvalid) return `${sec}.${String(nsec).padStart(9, "0")}`;
  const ns = nsec | 0;
  const frac = String(Math.abs(ns)).padStart(9, "0").slice(0, 9);
  return `${ns < 0 ? "-" : ""}${sec}.${frac}`;
}

/** sec·10^9 + nsec as a 64-bit (hi, lo) pair, exactly (sec < 2^32). */
export function timeToNsTicks(sec: number, nsec: number, out: { hi: number; lo: number }): void {
  const ah = Math.floor(sec / 65536);
  const al = sec - ah * 65536;
  const x = ah * 1e9; // < 2^46: exact; x·2^16 is split across hi and lo
  const xHi = Math.floor(x / 65536);
  let hi = xHi;
  let lo = (x - xHi * 65536) * 65536;
  const y = al * 1e9 + nsec; // < 2^47: exact
  const yHi = Math.floor(y / TWO32);
  hi += yHi;
  lo += y - yHi * TWO32;
  if (lo >= TWO32) {
    lo -= TWO32;
    hi += 1;
  }
  out.hi = hi;
  out.lo = lo;
}
