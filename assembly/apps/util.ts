// Small byte helpers shared by the apps: decimal formatting and parsing, byte
// compares against memory.data constants. No allocation.

/** Writes v in decimal at p; returns the number of bytes written (1..20). */
export function fmtU64(p: usize, v: u64): usize {
  let n: usize = 1;
  let t = v;
  while (t >= 10) {
    t /= 10;
    n++;
  }
  let q = p + n;
  do {
    q--;
    store<u8>(q, <u8>(48 + <u32>(v % 10)));
    v /= 10;
  } while (v != 0);
  return n;
}

/** Signed decimal. */
export function fmtI64(p: usize, v: i64): usize {
  if (v < 0) {
    store<u8>(p, 45);
    return 1 + fmtU64(p + 1, <u64>(-v));
  }
  return fmtU64(p, <u64>v);
}

/** Copies n constant bytes (a memory.data string) to p; returns n. */
@inline export function put(p: usize, src: usize, n: usize): usize {
  memory.copy(p, src, n);
  return n;
}

/** True if the n bytes at a equal the n bytes at b. */
export function bytesEq(a: usize, b: usize, n: usize): bool {
  for (let i: usize = 0; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

// Results of the parsers below (a second return value without allocation).
export let parsedU64: u64 = 0;
export let parsedI64: i64 = 0;

/**
 * Parses an unsigned decimal token the way C's strtoull does for a whole token:
 * optional '+' or '-' (a '-' negates modulo 2^64), at least one digit, no other
 * bytes. Fails on overflow. Sets parsedU64; `negSeen` tells whether a '-' was there.
 */
export let negSeen: bool = false;
export function parseU64(p: usize, n: usize): bool {
  negSeen = false;
  if (n == 0) return false;
  let i: usize = 0;
  const c0 = load<u8>(p);
  if (c0 == 43 || c0 == 45) {
    negSeen = c0 == 45;
    i = 1;
  }
  if (i >= n) return false;
  let v: u64 = 0;
  for (; i < n; i++) {
    const d = <u32>load<u8>(p + i) - 48;
    if (d > 9) return false;
    if (v > 1844674407370955161 || (v == 1844674407370955161 && d > 5)) return false;
    v = v * 10 + d;
  }
  parsedU64 = negSeen ? 0 - v : v;
  return true;
}

/** Signed decimal token (strtol on 64 bits: fails outside i64). Sets parsedI64. */
export function parseI64(p: usize, n: usize): bool {
  if (!parseU64(p, n)) return false;
  const v = parsedU64;
  if (negSeen) {
    // 0 - magnitude: the magnitude may be at most 2^63
    const mag = 0 - v;
    if (mag > 0x8000000000000000) return false;
    parsedI64 = <i64>v;
  } else {
    if (v > 0x7fffffffffffffff) return false;
    parsedI64 = <i64>v;
  }
  return true;
}
