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
    readonly key: Uint8Array,
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
