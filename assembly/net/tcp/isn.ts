// Initial sequence numbers per RFC 6528 §3: ISN = M + F(localip, localport,
// remoteip, remoteport, secretkey), M a 4 µs clock. F is SipHash-2-4 (a keyed
// PRF, 128-bit key CFG_ISN_KEY0..3) over the connection's 40-byte flow key in
// arrival direction (remote -> local), which holds exactly the 4-tuple plus the
// family and protocol. The same PRF gives each connection's timestamp offset
// (RFC 7323 §5.4 recommends per-connection random offsets), with a domain word.
import { CFG_ISN_KEY0, cfg } from "../../mem/layout";

@inline function rotl(x: u64, b: u64): u64 {
  return (x << b) | (x >> (64 - b));
}

// State of one SipHash computation (module globals: no allocation).
let v0: u64 = 0;
let v1: u64 = 0;
let v2: u64 = 0;
let v3: u64 = 0;

@inline function sipRound(): void {
  v0 += v1;
  v1 = rotl(v1, 13);
  v1 ^= v0;
  v0 = rotl(v0, 32);
  v2 += v3;
  v3 = rotl(v3, 16);
  v3 ^= v2;
  v0 += v3;
  v3 = rotl(v3, 21);
  v3 ^= v0;
  v2 += v1;
  v1 = rotl(v1, 17);
  v1 ^= v2;
  v2 = rotl(v2, 32);
}

@inline function absorb(m: u64): void {
  v3 ^= m;
  sipRound();
  sipRound();
  v0 ^= m;
}

/** SipHash-2-4 of the 5 words of a 40-byte flow key followed by one domain word (48 bytes). */
export function sipKey(key: usize, domain: u64): u64 {
  const k0 = <u64>cfg(CFG_ISN_KEY0) | (<u64>cfg(CFG_ISN_KEY0 + 1) << 32);
  const k1 = <u64>cfg(CFG_ISN_KEY0 + 2) | (<u64>cfg(CFG_ISN_KEY0 + 3) << 32);
  v0 = k0 ^ 0x736f6d6570736575;
  v1 = k1 ^ 0x646f72616e646f6d;
  v2 = k0 ^ 0x6c7967656e657261;
  v3 = k1 ^ 0x7465646279746573;
  for (let i: usize = 0; i < 40; i += 8) absorb(load<u64>(key + i));
  absorb(domain);
  absorb(<u64>48 << 56); // length word, no trailing bytes
  v2 ^= 0xff;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  return v0 ^ v1 ^ v2 ^ v3;
}

/** RFC 6528 ISN for the connection whose arrival-direction flow key is at key. */
export function isnFor(key: usize, nowUs: u64): u32 {
  return <u32>sipKey(key, 0x49534e) + <u32>(nowUs >> 2);
}

/** Per-connection timestamp offset (RFC 7323 §5.4). */
export function tsOffsetFor(key: usize): u32 {
  return <u32>sipKey(key, 0x5453);
}
