// Benchmark loops for `ixwasm bench` native baselines (host/measure/native.ts): each
// runs one core algorithm over the frames of descriptors 0..count-1, reps
// times, inside WASM (one call per measurement, so the JS call is negligible),
// the same work as host/measure/native/ref.c on the same frames. The frames are
// Ethernet IPv4 TCP/UDP with a 20-byte IP header (the host filters them).
// The loops call the core's own functions the way its fast paths do: the
// Toeplitz and key inputs are read from the wire as in flow/extract.ts and
// replay/track.ts (rssHashV4Wire, flowKeySetV4Wire).
import { DESC_BYTES, DESC_CAPLEN, DESC_OFF } from "../mem/desc";
import { R_DESC, regionOffset } from "../mem/layout";
import { inetChecksum, inetChecksumSimd } from "../wire/checksum";
import { rssHashV4Wire } from "../flow/toeplitz";
import { tupleHash } from "../flow/extract";
import { flowFind, flowInsert } from "../flow/table";
import { flowKeySetV4Wire } from "../flow/key";

const key = memory.data(48, 16);

@inline function frameAt(i: u32): usize {
  return <usize>load<u32>(regionOffset(R_DESC) + <usize>i * DESC_BYTES, DESC_OFF);
}
@inline function caplenAt(i: u32): u32 {
  return load<u32>(regionOffset(R_DESC) + <usize>i * DESC_BYTES, DESC_CAPLEN);
}

/** RFC 1071 checksum of each frame's IP packet (bytes 14..caplen). */
export function kChecksum(count: u32, reps: u32): u32 {
  let acc: u32 = 0;
  for (let r: u32 = 0; r < reps; r++)
    for (let i: u32 = 0; i < count; i++) acc += inetChecksum(frameAt(i) + 14, <usize>(caplenAt(i) - 14));
  return acc;
}

/** Same, with the v128 path for every frame (inetChecksum switches to it at 256 bytes). */
export function kChecksumSimd(count: u32, reps: u32): u32 {
  let acc: u32 = 0;
  for (let r: u32 = 0; r < reps; r++)
    for (let i: u32 = 0; i < count; i++) acc += inetChecksumSimd(frameAt(i) + 14, <usize>(caplenAt(i) - 14));
  return acc;
}

/** Checksum of one len-byte buffer, reps times (inetChecksum: v128 from 256 bytes). */
export function kChecksumBuf(p: usize, len: usize, reps: u32): u32 {
  let acc: u32 = 0;
  for (let r: u32 = 0; r < reps; r++) acc += inetChecksum(p, len);
  return acc;
}

/** Toeplitz RSS hash of each frame's IPv4 4-tuple. */
export function kToeplitz(count: u32, reps: u32): u32 {
  let acc: u32 = 0;
  for (let r: u32 = 0; r < reps; r++)
    for (let i: u32 = 0; i < count; i++) {
      const f = frameAt(i);
      acc ^= rssHashV4Wire(f + 26, f + 30, f + 34);
    }
  return acc;
}

/** Header parse to the ports and the RSS hash (flow/extract.ts tupleHash), Ethernet. */
export function kParse(count: u32, reps: u32): u32 {
  let acc: u32 = 0;
  for (let r: u32 = 0; r < reps; r++)
    for (let i: u32 = 0; i < count; i++) acc ^= tupleHash(frameAt(i), caplenAt(i), 1);
  return acc;
}

@inline function keyOf(i: u32): u32 {
  const f = frameAt(i);
  flowKeySetV4Wire(key, <u32>load<u8>(f + 23), f + 26, f + 30, f + 34);
  return rssHashV4Wire(f + 26, f + 30, f + 34);
}

/** Inserts every frame's flow (setup, not timed). Returns the entries used. */
export function kFlowFill(count: u32): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < count; i++) if (flowInsert(key, keyOf(i)) >= 0) n++;
  return n;
}

/** Flow-table lookup of each frame's flow (key built from the frame, hash given by the tuple). */
export function kFlowLookup(count: u32, reps: u32): u32 {
  let acc: u32 = 0;
  for (let r: u32 = 0; r < reps; r++)
    for (let i: u32 = 0; i < count; i++) acc += <u32>flowFind(key, keyOf(i));
  return acc;
}
