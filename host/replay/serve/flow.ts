// A served flow's state (one object shape for every flow), and the --loop pass's
// client port: port + k on the way in, back to the capture's port on the way out.
import { TCP_ACK, type FlowInfo } from "./prescan.ts";
import * as ABI from "../../core/abi.gen.ts";

// Decode-summary and descriptor word offsets as this module's own constants: V8 folds
// them in the per-packet code, where an imported binding costs a load at each use.
const {
  DESC_W_CAPLEN,
  DESC_W_OFF,
  SUM_F_TCP,
  SUM_S_L4OFF,
  SUM_W_ACK,
  SUM_W_FLAGS,
  SUM_W_L4OFF,
  SUM_W_TCPFLAGS,
} = ABI;

/**
 * The 40-byte keys of the live flows, by live slot, in one growing array: a
 * Uint8Array of its own per flow (typed array, buffer and backing store, about
 * 220 bytes of heap) was the larger half of what each flow allocated, and at
 * 1 M concurrent flows all of it outlives the young generation, so the
 * collector copied and later marked it once per flow
 * (docs/measurement/performance-log.md §7).
 */
export class FlowKeys {
  bytes = new Uint8Array(64 * FLOW_KEY_BYTES);

  /**
   * Writes slot s's key (assembly/flow/key.ts layout: family, proto, 2 zero
   * bytes, the ports word as in the decode summary, source and destination
   * address at 8 and 24) from the address bytes at u8[sa] and u8[da] (16 for
   * IPv6, else 4); every byte is written, the unused ones 0, since the slot
   * held another flow's key before. Returns the key's offset in `bytes`.
   */
  put(s: number, v6: boolean, proto: number, ports: number, u8: Uint8Array, sa: number, da: number): number {
    const o = s * FLOW_KEY_BYTES;
    if (o + FLOW_KEY_BYTES > this.bytes.length) {
      const b = new Uint8Array(Math.max(o + FLOW_KEY_BYTES, this.bytes.length * 2));
      b.set(this.bytes);
      this.bytes = b;
    }
    const k = this.bytes;
    k[o] = v6 ? 6 : 4;
    k[o + 1] = proto;
    k[o + 2] = k[o + 3] = 0;
    k[o + 4] = ports & 0xff;
    k[o + 5] = (ports >>> 8) & 0xff;
    k[o + 6] = (ports >>> 16) & 0xff;
    k[o + 7] = ports >>> 24;
    const an = v6 ? 16 : 4;
    for (let j = 0; j < 16; j++) {
      k[o + 8 + j] = j < an ? u8[sa + j] : 0;
      k[o + 24 + j] = j < an ? u8[da + j] : 0;
    }
    return o;
  }

  /** A copy of slot s's key. */
  copy(s: number): Uint8Array {
    const o = s * FLOW_KEY_BYTES;
    return this.bytes.slice(o, o + FLOW_KEY_BYTES);
  }
}

export const FLOW_KEY_BYTES = 40;

/**
 * A live flow's serve state. A class with every field set in the constructor:
 * one object shape for all flows, and sentEnd a number from the start (NaN
 * until the core sends), so the per-packet code that reads them stays
 * monomorphic.
 */
export class ServeFlow implements FlowInfo {
  /** FR_DONE sent: its mirror slot may carry another flow now. */
  done = false;
  /** This pass has announced the flow (TCP: its SYN went in; UDP: its first datagram). */
  started = false;
  /** Sequence number just past the last byte (or SYN/FIN) the core has sent on this flow; NaN: nothing yet. */
  sentEnd = NaN;
  /** UDP: client datagrams delivered in this pass. */
  udpReq = 0;
  /** Client packets of this flow held back (mirror: see ServePump.drainDeferred). */
  deferred = 0;
  /** The drain round in which this flow's first held packet still waited. */
  blocked = -1;
  constructor(
    /** The flow's ordinal (its pre-scan record), its live slot (its fidelity id). */
    readonly ord: number,
    readonly slot: number,
    readonly id: number,
    readonly proto: number,
    readonly why: string | null,
    /** Where the key lives while the flow is live (slot's bytes of keys.bytes). */
    private readonly keys: FlowKeys,
    readonly clientIsn: number,
    readonly serverIsn: number,
    readonly mss: number,
    readonly wscale: number,
    readonly sackOk: boolean,
    readonly tsOk: boolean,
    readonly tsVal: number,
    readonly synAckSeen: boolean,
    readonly segMss: number,
  ) {}

  /** A copy of the client direction's 40-byte key (the slot's bytes are reused once the flow is released). */
  get key(): Uint8Array {
    return this.keys.copy(this.slot);
  }
}

/**
 * Whether a client packet (summary w) acknowledges bytes the core has not sent
 * on flow f. NaN sentEnd (nothing sent, no preset) compares as 0: not waiting.
 */
export function acksUnsent(u32: Uint32Array, w: number, f: ServeFlow): boolean {
  return (u32[w + SUM_W_TCPFLAGS] & TCP_ACK) !== 0 && ((u32[w + SUM_W_ACK] - f.sentEnd) | 0) > 0;
}

/** Pass k's client port: port + k (mod 2^16, 0 skipped), as raw and track rewrite it. */
export function passPort(port: number, k: number): number {
  return k === 0 || port === 0 ? port : ((port - 1 + k) % 65535) + 1;
}
/** The inverse: the capture's client port of a port seen in pass k. */
export function capturePort(port: number, k: number): number {
  return k === 0 || port === 0 ? port : ((((port - 1 - k) % 65535) + 65535) % 65535) + 1;
}

/** Rewrites the 16-bit field at p to v and fixes the checksum at c incrementally (RFC 1624 eqn. 3); c < 0: none. */
function rewrite16(m: Uint8Array, p: number, v: number, c: number): void {
  const old = (m[p] << 8) | m[p + 1];
  m[p] = v >>> 8;
  m[p + 1] = v & 0xff;
  if (c < 0) return;
  const hc = (m[c] << 8) | m[c + 1];
  let s = (~hc & 0xffff) + (~old & 0xffff) + v;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  m[c] = (~s >>> 8) & 0xff;
  m[c + 1] = ~s & 0xff;
}

/**
 * Pass k > 0: the client port (source of a client packet, destination of a
 * server one) of the frame of descriptor d (summary w) → port + k, in place.
 */
export function rewritePorts(
  u8: Uint8Array,
  u32: Uint32Array,
  w: number,
  d: number,
  fromClient: boolean,
  k: number,
): void {
  const l4 = u32[d + DESC_W_OFF] + (u32[w + SUM_W_L4OFF] >>> SUM_S_L4OFF);
  const p = fromClient ? l4 : l4 + 2;
  if (p + 2 > u32[d + DESC_W_OFF] + u32[d + DESC_W_CAPLEN]) return;
  const port = passPort((u8[p] << 8) | u8[p + 1], k);
  const tcp = u32[w + SUM_W_FLAGS] & SUM_F_TCP;
  const c = tcp ? l4 + 16 : l4 + 6;
  const cOk = c + 2 <= u32[d + DESC_W_OFF] + u32[d + DESC_W_CAPLEN];
  if (!tcp && cOk && u8[c] === 0 && u8[c + 1] === 0) {
    // UDP without a checksum (IPv4 only): leave it without one.
    u8[p] = port >>> 8;
    u8[p + 1] = port & 0xff;
    return;
  }
  rewrite16(u8, p, port, cOk ? c : -1);
}
