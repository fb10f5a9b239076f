// A flow 4-tuple → small integer index for serve mode's per-packet lookups,
// without strings or objects per packet: open addressing over typed arrays.
// Addresses are the u32 words of the decode summary (assembly/wire/summary-layout.ts:
// 16-byte source at word 8, destination at word 12, IPv4 in the first word), so a
// record's key is read in place; a transmitted frame's addresses are read into
// the same word form (little-endian words of the address bytes) by the caller.
//
// Ports and hashes are kept as int32 inside (ports |= 0, stored bits the same):
// a uint32 above 2^31 is a heap number in V8, and one crossing a call that is
// not inlined was an allocation per lookup.
//
// One entry per direction key (the client's): proto, ports (sport | dport << 16),
// source and destination addresses. The value is the caller's index. The hash is
// symmetric (the two endpoints' hashes added), so a packet of either direction
// probes the same slots: findEither finds a flow from one probe sequence, where
// find + findReverse would touch two random places of a table that, with 1 M
// flows, is far out of cache.

const KW = 11; // words per entry: tag, ports, src[4], dst[4], value (one cache line or two, not three)
const VAL = 10;
const EMPTY = 0;

export class FlowIndex {
  private keys: Uint32Array;
  private mask: number;
  private used = 0;

  constructor(capacity = 1024) {
    let cap = 64;
    while (cap < capacity * 2) cap *= 2;
    this.keys = new Uint32Array(cap * KW);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.used;
  }

  /** Bytes of its arrays. */
  get bytes(): number {
    return this.keys.byteLength;
  }

  /** tag: a non-zero word from the protocol and the address family. */
  private static tag(proto: number, v6: boolean): number {
    return (proto << 8) | (v6 ? 6 : 4);
  }

  /** One endpoint (port, address words at a[o]) mixed into 32 bits. */
  private static ep(port: number, a: Uint32Array, o: number, v6: boolean): number {
    let h = Math.imul(port ^ 0x9e3779b9, 0x85ebca6b) ^ a[o];
    if (v6) {
      h = Math.imul(h ^ (h >>> 15), 0xc2b2ae35) ^ a[o + 1];
      h = Math.imul(h ^ (h >>> 13), 0x85ebca6b) ^ a[o + 2];
      h = Math.imul(h ^ (h >>> 15), 0xc2b2ae35) ^ a[o + 3];
    }
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    return h ^ (h >>> 15);
  }

  /** Symmetric in the two endpoints (their mixes added), then mixed with the tag. */
  private static hash(
    tag: number,
    ports: number,
    a: Uint32Array,
    sa: number,
    da: number,
    v6: boolean,
  ): number {
    let h = (FlowIndex.ep(ports & 0xffff, a, sa, v6) + FlowIndex.ep(ports >>> 16, a, da, v6)) ^ tag;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return h ^ (h >>> 16); // an int32: only its low bits are used (& mask)
  }

  private eq(
    slot: number,
    tag: number,
    ports: number,
    a: Uint32Array,
    sa: number,
    da: number,
    v6: boolean,
  ): boolean {
    const k = this.keys;
    const p = slot * KW;
    if (k[p] !== tag || (k[p + 1] | 0) !== ports || k[p + 2] !== a[sa] || k[p + 6] !== a[da]) return false;
    if (!v6) return true;
    return (
      k[p + 3] === a[sa + 1] &&
      k[p + 4] === a[sa + 2] &&
      k[p + 5] === a[sa + 3] &&
      k[p + 7] === a[da + 1] &&
      k[p + 8] === a[da + 2] &&
      k[p + 9] === a[da + 3]
    );
  }

  /** The value stored for this direction key, or -1. ports = sport | dport << 16. */
  find(proto: number, v6: boolean, ports: number, a: Uint32Array, sa: number, da: number): number {
    const tag = FlowIndex.tag(proto, v6);
    ports |= 0;
    let i = FlowIndex.hash(tag, ports, a, sa, da, v6) & this.mask;
    for (;;) {
      if (this.keys[i * KW] === EMPTY) return -1;
      if (this.eq(i, tag, ports, a, sa, da, v6)) return this.keys[i * KW + VAL] | 0;
      i = (i + 1) & this.mask;
    }
  }

  /**
   * One probe sequence for both directions: the value stored for this key
   * (client → server), -2 - the value stored for its reverse (server → client),
   * or -1 when neither is stored.
   */
  findEither(proto: number, v6: boolean, ports: number, a: Uint32Array, sa: number, da: number): number {
    const tag = FlowIndex.tag(proto, v6);
    ports |= 0;
    const rports = (ports >>> 16) | (ports << 16);
    let i = FlowIndex.hash(tag, ports, a, sa, da, v6) & this.mask;
    for (;;) {
      if (this.keys[i * KW] === EMPTY) return -1;
      if (this.eq(i, tag, ports, a, sa, da, v6)) return this.keys[i * KW + VAL] | 0;
      if (this.eq(i, tag, rports, a, da, sa, v6)) return -2 - (this.keys[i * KW + VAL] | 0);
      i = (i + 1) & this.mask;
    }
  }

  /** The reverse direction's value (server → client of a stored client key), or -1. */
  findReverse(proto: number, v6: boolean, ports: number, a: Uint32Array, sa: number, da: number): number {
    return this.find(proto, v6, (ports >>> 16) | (ports << 16), a, da, sa);
  }

  /** Stores (or replaces) the value of a direction key; returns the value it replaced, or -1. */
  set(
    proto: number,
    v6: boolean,
    ports: number,
    a: Uint32Array,
    sa: number,
    da: number,
    val: number,
  ): number {
    if ((this.used + 1) * 2 > this.mask + 1) this.grow();
    const tag = FlowIndex.tag(proto, v6);
    ports |= 0;
    let i = FlowIndex.hash(tag, ports, a, sa, da, v6) & this.mask;
    for (;;) {
      if (this.keys[i * KW] === EMPTY) break;
      if (this.eq(i, tag, ports, a, sa, da, v6)) {
        const old = this.keys[i * KW + VAL] | 0;
        this.keys[i * KW + VAL] = val;
        return old;
      }
      i = (i + 1) & this.mask;
    }
    const k = this.keys;
    const p = i * KW;
    k[p] = tag;
    k[p + 1] = ports;
    for (let j = 0; j < 4; j++) {
      k[p + 2 + j] = v6 || j === 0 ? a[sa + j] : 0;
      k[p + 6 + j] = v6 || j === 0 ? a[da + j] : 0;
    }
    k[p + VAL] = val;
    this.used++;
    return -1;
  }

  /**
   * Removes a direction key; returns its value, or -1 if absent. Backward-shift
   * deletion (linear probing without tombstones): an entry after the hole moves
   * into it unless its home slot lies cyclically in (hole, its position].
   */
  delete(proto: number, v6: boolean, ports: number, a: Uint32Array, sa: number, da: number): number {
    const tag = FlowIndex.tag(proto, v6);
    ports |= 0;
    const m = this.mask;
    const k = this.keys;
    let i = FlowIndex.hash(tag, ports, a, sa, da, v6) & m;
    for (;;) {
      if (k[i * KW] === EMPTY) return -1;
      if (this.eq(i, tag, ports, a, sa, da, v6)) break;
      i = (i + 1) & m;
    }
    const val = k[i * KW + VAL] | 0;
    let j = i;
    for (;;) {
      j = (j + 1) & m;
      const p = j * KW;
      const t = k[p];
      if (t === EMPTY) break;
      const home = FlowIndex.hash(t, k[p + 1] | 0, k, p + 2, p + 6, (t & 0xff) === 6) & m;
      if (((j - home) & m) >= ((j - i) & m)) {
        k.copyWithin(i * KW, p, p + KW);
        i = j;
      }
    }
    k.fill(EMPTY, i * KW, i * KW + KW);
    this.used--;
    return val;
  }

  private grow(): void {
    const oldK = this.keys;
    const cap = (this.mask + 1) * 2;
    this.keys = new Uint32Array(cap * KW);
    this.mask = cap - 1;
    this.used = 0;
    for (let p = 0; p < oldK.length; p += KW) {
      const tag = oldK[p];
      if (tag === EMPTY) continue;
      this.set(tag >>> 8, (tag & 0xff) === 6, oldK[p + 1], oldK, p + 2, p + 6, oldK[p + VAL] | 0);
    }
  }
}
