// The fuzzer's frames over the host's one builder (host/io/frames.ts, written
// apart from the core's wire code: a checker that shares the code it checks
// finds nothing): build TCP segments for the stateful peers, read the core's,
// and judge every frame the core transmits.
import {
  ETH_ARP,
  ETH_IPV4,
  ETH_IPV6,
  PROTO_ICMP,
  PROTO_TCP,
  PROTO_UDP,
  be16,
  be32,
  eth,
  fold,
  framePseudo,
  ipv4,
  ipv6,
  l4CsumOffset,
  layers,
  parseTcp,
  sumRange,
  tcp,
  type Layers,
} from "../io/frames.ts";

export {
  ETH_IPV4,
  ETH_IPV6,
  PROTO_TCP,
  PROTO_UDP,
  be16,
  be32,
  fixChecksums,
  layers,
  put16,
  put32,
  type Layers,
} from "../io/frames.ts";
export {
  FIN as TCP_FIN,
  SYN as TCP_SYN,
  RST as TCP_RST,
  PSH as TCP_PSH,
  ACK as TCP_ACK,
  URG as TCP_URG,
} from "../io/frames.ts";
import { ACK as TCP_ACK, FIN as TCP_FIN, RST as TCP_RST, SYN as TCP_SYN } from "../io/frames.ts";

/** The addresses a fuzzed core answers as, and its peer's. */
export interface Endpoints {
  mac: Buffer;
  peerMac: Buffer;
  ip4: Buffer;
  peer4: Buffer;
  ip6: Buffer;
  peer6: Buffer;
}

export interface SegSpec {
  v6: boolean;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  options?: Uint8Array;
  data?: Uint8Array;
  /** Source address (default: the peer's). */
  peer?: Uint8Array;
}

/** An Ethernet frame carrying one TCP segment from the peer to the core, checksums filled (IPv4: DF, id 0). */
export function tcpFrame(ep: Endpoints, s: SegSpec): Buffer {
  const src = s.peer ?? (s.v6 ? ep.peer6 : ep.peer4);
  const dst = s.v6 ? ep.ip6 : ep.ip4;
  const seg = tcp(src, dst, { ...s, options: s.options, data: s.data });
  const pkt = s.v6 ? ipv6(src, dst, PROTO_TCP, seg) : ipv4(src, dst, PROTO_TCP, seg, { id: 0 });
  return eth(ep.mac, ep.peerMac, s.v6 ? ETH_IPV6 : ETH_IPV4, pkt);
}

/** A TCP segment the core sent, as the peers need it. */
export interface TxSeg {
  v6: boolean;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win: number;
  dataLen: number;
  data: Uint8Array;
  /** Destination address (the peer the core answers). */
  peer: Uint8Array;
}

export function parseTxTcp(f: Uint8Array): TxSeg | null {
  const L = layers(f);
  if (L.proto !== PROTO_TCP || L.l4 < 0) return null;
  const t = parseTcp(f, L.l4);
  return {
    v6: L.ipver === 6,
    sport: t.sport,
    dport: t.dport,
    seq: t.seq,
    ack: t.ack,
    flags: t.flags,
    win: t.win,
    dataLen: L.ipEnd - L.l4 - t.hdrLen,
    data: f.subarray(L.l4 + t.hdrLen, L.ipEnd),
    peer: L.ipver === 6 ? f.subarray(L.l3 + 24, L.l3 + 40) : f.subarray(L.l3 + 16, L.l3 + 20),
  };
}

/**
 * Judges one frame the core transmitted. Returns what is wrong, or null. The
 * core must only emit frames a strict receiver accepts: sane lengths, correct
 * checksums, its own source addresses, well-formed TCP options.
 */
export function checkTx(f: Uint8Array, ep: Endpoints): string | null {
  if (f.length < 14) return `runt TX frame of ${f.length} bytes`;
  if (f.length > 1514) return `TX frame of ${f.length} bytes exceeds the 1514-byte MTU frame`;
  for (let i = 0; i < 6; i++) if (f[6 + i] !== ep.mac[i]) return "TX source MAC is not the core's";
  const L = layers(f);
  if (L.ethertype === ETH_ARP) {
    if (f.length < 42) return "short ARP frame";
    if (be16(f, 14) !== 1 || be16(f, 16) !== ETH_IPV4 || f[18] !== 6 || f[19] !== 4)
      return "ARP with bad hardware/protocol fields";
    const op = be16(f, 20);
    if (op !== 1 && op !== 2) return `ARP opcode ${op}`;
    return null;
  }
  if (L.ethertype === ETH_IPV4) {
    const h = L.l3;
    if (L.ipver !== 4 || L.l4 < 0) return "IPv4 header malformed";
    const ihl = (f[h] & 15) * 4;
    const tot = be16(f, h + 2);
    if (tot < ihl || h + tot > f.length) return `IPv4 total length ${tot} vs frame ${f.length}`;
    if (fold(sumRange(f, h, ihl)) !== 0xffff) return "IPv4 header checksum wrong";
    if (L.frag) return "core sent an IPv4 fragment";
    for (let i = 0; i < 4; i++) if (f[h + 12 + i] !== ep.ip4[i]) return "IPv4 source is not the core's";
  } else if (L.ethertype === ETH_IPV6) {
    const h = L.l3;
    if (L.ipver !== 6) return "IPv6 header malformed";
    const pl = be16(f, h + 4);
    if (h + 40 + pl > f.length) return `IPv6 payload length ${pl} vs frame ${f.length}`;
    const own = ep.ip6.every((b, i) => f[h + 8 + i] === b);
    const linkLocal = f[h + 8] === 0xfe && (f[h + 9] & 0xc0) === 0x80;
    if (!own && !linkLocal) return "IPv6 source is not the core's";
    if (L.ext.length) return "core sent IPv6 extension headers";
  } else return `TX EtherType 0x${L.ethertype.toString(16)}`;
  return checkL4(f, L);
}

function checkL4(f: Uint8Array, L: Layers): string | null {
  const len = L.ipEnd - L.l4;
  const co = l4CsumOffset(L.proto);
  if (co < 0) return `TX IP protocol ${L.proto}`;
  if (len < co + 2) return `transport of ${len} bytes is shorter than its header`;
  const ph = L.proto === PROTO_ICMP ? 0 : framePseudo(f, L, L.proto, len);
  const zeroUdp = L.proto === PROTO_UDP && L.ipver === 4 && be16(f, L.l4 + 6) === 0;
  if (!zeroUdp && fold(sumRange(f, L.l4, len, ph)) !== 0xffff) return `protocol ${L.proto} checksum wrong`;
  if (L.proto === PROTO_UDP) {
    if (len < 8 || be16(f, L.l4 + 4) !== len) return `UDP length ${be16(f, L.l4 + 4)} vs ${len}`;
  } else if (L.proto === PROTO_TCP) {
    if (len < 20) return "TCP header truncated";
    const t = L.l4;
    const hl = (f[t + 12] >> 4) * 4;
    if (hl < 20 || hl > len) return `TCP data offset ${hl} vs ${len}`;
    const fl = f[t + 13];
    if (fl & TCP_SYN && fl & (TCP_RST | TCP_FIN)) return `TCP flags 0x${fl.toString(16)}`;
    if (!(fl & (TCP_ACK | TCP_RST | TCP_SYN)))
      return `TCP segment without ACK/SYN/RST (flags 0x${fl.toString(16)})`;
    return checkTcpOptions(f, t + 20, t + hl, fl);
  }
  return null;
}

function checkTcpOptions(f: Uint8Array, p: number, end: number, flags: number): string | null {
  while (p < end) {
    const k = f[p];
    if (k === 0) return null;
    if (k === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) return `TCP option ${k} without a length`;
    const l = f[p + 1];
    if (l < 2 || p + l > end) return `TCP option ${k} has length ${l}`;
    const want: Record<number, number> = { 2: 4, 3: 3, 4: 2, 8: 10 };
    if (want[k] !== undefined && l !== want[k]) return `TCP option ${k} has length ${l}`;
    if (k === 5 && (l - 2) % 8 !== 0) return `SACK option of length ${l}`;
    if ((k === 2 || k === 3 || k === 4) && !(flags & TCP_SYN))
      return `SYN-only option ${k} on a non-SYN segment`;
    if (k === 3 && f[p + 2] > 14) return `window scale ${f[p + 2]} above 14`;
    p += l;
  }
  return null;
}
