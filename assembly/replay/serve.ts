// Serve mode's bulk copies (host/replay/serve/serve.ts): the host decides where each
// client frame (an RX mbuf) and each recorded server payload (the mirror's feed
// ring) goes, and queues (dst, src, len) triples in its scratch area; one call
// per poll then moves them all with memory.copy. Copying from JS into or out of
// the core's shared memory costs 0.2-0.7 µs per frame in V8 (element-wise
// relaxed copies); memory.copy costs 20-30 ns.
import { evPush, EV_TIMER } from "../api/abi";
import { COPY_BYTES, CP_DST, CP_SRC, CP_LEN, NO_SRC } from "../abi/copies.gen"; // the host's too (abi/table/serve.ts)

/**
 * Queues an EV_TIMER with this cookie for the app, so that it runs at the next
 * poll although no packet came: serve wakes the mirror app with it when the feed
 * has records and no command is pending. Returns 0 if the event queue is full.
 */
export function serveWake(cookie: u32): usize {
  return evPush(<u16>EV_TIMER, 0, cookie, 0, 0, 0, 0);
}

export function serveCopies(list: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) {
    const e = list + <usize>i * COPY_BYTES;
    const dst = <usize>load<u32>(e, CP_DST);
    const src = load<u32>(e, CP_SRC);
    const len = <usize>load<u32>(e, CP_LEN);
    if (src == NO_SRC) memory.fill(dst, 0, len);
    else memory.copy(dst, <usize>src, len);
  }
}

/**
 * Serve mode's fidelity hash (host/report/fidelity.ts) of the bytes [p, p+len):
 * 32 bits for comparing a recorded server payload with the one the core sent,
 * not a checksum of any protocol. Two lanes of eight bytes a step (a multiply
 * and an xor-shift each; independent, so their latencies overlap), the length
 * mixed in first, the last 0-15 bytes as words of their own. Measured with the
 * call from JS: 9-170 ns for 64-1448 bytes, against 54-686 for the JS hash.
 */
export function serveHash(p: usize, len: u32): u32 {
  const K: u64 = 0x9e3779b97f4a7c15;
  let a: u64 = <u64>len ^ 0xcbf29ce484222325;
  let b: u64 = 0x84222325cbf29ce4;
  const end = p + <usize>len;
  let i = p;
  for (; i + 16 <= end; i += 16) {
    a = (a ^ load<u64>(i)) * K;
    b = (b ^ load<u64>(i, 8)) * K;
    a ^= a >> 29;
    b ^= b >> 29;
  }
  if (i + 8 <= end) {
    a = (a ^ load<u64>(i)) * K;
    a ^= a >> 29;
    i += 8;
  }
  let t: u64 = 0;
  for (let s: u64 = 0; i < end; i++, s += 8) t |= <u64>load<u8>(i) << s;
  let h = (a ^ ((b << 31) | (b >> 33)) ^ t) * K;
  h ^= h >> 32;
  return <u32>h;
}
