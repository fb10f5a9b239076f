// TCP header (RFC 9293 §3.1) and options: MSS (kind 2, RFC 9293 §3.7.1), window
// scale (3, RFC 7323 §2), SACK-permitted (4) and SACK (5) (RFC 2018 §2-3),
// timestamps (8, RFC 7323 §3). Unknown options are skipped by their length
// (RFC 9293 §3.1 "Options": every kind other than 0 and 1 has a length byte).
import { be16, be32, putBe16, putBe32, WIRE_MALFORMED, WIRE_NOSPACE, WIRE_TRUNCATED } from "./bytes";

export const TCP_MIN: usize = 20;
export const TCP_FIN: u32 = 0x001;
export const TCP_SYN: u32 = 0x002;
export const TCP_RST: u32 = 0x004;
export const TCP_PSH: u32 = 0x008;
export const TCP_ACK: u32 = 0x010;
export const TCP_URG: u32 = 0x020;

export const TCPOPT_EOL: u32 = 0;
export const TCPOPT_NOP: u32 = 1;
export const TCPOPT_MSS: u32 = 2;
export const TCPOPT_WS: u32 = 3;
export const TCPOPT_SACK_OK: u32 = 4;
export const TCPOPT_SACK: u32 = 5;
export const TCPOPT_TS: u32 = 8;

@unmanaged export class TcpView {
  @inline get ptr(): usize {
    return changetype<usize>(this);
  }
  @inline get srcPort(): u32 {
    return be16(this.ptr);
  }
  @inline get dstPort(): u32 {
    return be16(this.ptr + 2);
  }
  @inline get seq(): u32 {
    return be32(this.ptr + 4);
  }
  @inline get ack(): u32 {
    return be32(this.ptr + 8);
  }
  /** Header length in bytes from the data offset (RFC 9293 §3.1). */
  @inline get hdrLen(): u32 {
    return (<u32>load<u8>(this.ptr + 12) >> 4) << 2;
  }
  /** The 12 bits after the data offset: reserved bits and flags, as tshark's tcp.flags. */
  @inline get flags(): u32 {
    return be16(this.ptr + 12) & 0x0fff;
  }
  @inline get window(): u32 {
    return be16(this.ptr + 14);
  }
  @inline get checksum(): u32 {
    return be16(this.ptr + 16);
  }
  @inline get urgent(): u32 {
    return be16(this.ptr + 18);
  }
}

/**
 * A 20-byte header without options, checksum 0 (filled with the pseudo-header
 * later): the stack's RSTs, which carry nothing else (RFC 9293 §3.10.7.1).
 * Equal to tcpEmit of the same fields with no options (test/wire/headers.test.ts).
 */
@inline export function tcpEmitPlain(p: usize, sport: u32, dport: u32, seq: u32, ack: u32, flags: u32, window: u32): void {
  putBe16(p, sport);
  putBe16(p + 2, dport);
  putBe32(p + 4, seq);
  putBe32(p + 8, ack);
  putBe16(p + 12, (<u32>(TCP_MIN >> 2) << 12) | (flags & 0x0fff));
  putBe16(p + 14, window);
  store<u32>(p + 16, 0); // checksum, urgent pointer
}

// TcpRepr (80 bytes, host order): sport u16 @0, dport @2, seq u32 @4, ack @8,
// flags u16 @12 (12 bits), window @14, checksum @16, urgent @18, header length u8
// @20, option presence bits u8 @21 (TCPR_HAS_*), mss u16 @22, wscale u8 @24, SACK
// block count u8 @25, unknown options seen u8 @26, option area malformed u8 @27,
// tsval u32 @28, tsecr @32, SACK blocks (left, right) u32 x 2 x 4 @36.
export const TCPR_SPORT: usize = 0;
export const TCPR_DPORT: usize = 2;
export const TCPR_SEQ: usize = 4;
export const TCPR_ACK: usize = 8;
export const TCPR_FLAGS: usize = 12;
export const TCPR_WIN: usize = 14;
export const TCPR_CSUM: usize = 16;
export const TCPR_URG: usize = 18;
export const TCPR_HDRLEN: usize = 20;
export const TCPR_HAS: usize = 21;
export const TCPR_MSS: usize = 22;
export const TCPR_WSCALE: usize = 24;
export const TCPR_NSACK: usize = 25;
export const TCPR_UNKNOWN: usize = 26;
export const TCPR_BADOPT: usize = 27;
export const TCPR_TSVAL: usize = 28;
export const TCPR_TSECR: usize = 32;
export const TCPR_SACK: usize = 36;
export const TCPR_BYTES: usize = 80;
export const TCPR_HAS_MSS: u32 = 1;
export const TCPR_HAS_WS: u32 = 2;
export const TCPR_HAS_SACK_OK: u32 = 4;
export const TCPR_HAS_TS: u32 = 8;
export const TCPR_HAS_SACK: u32 = 16;
export const TCP_MAX_SACK: u32 = 4;

/**
 * Parses the option area (len bytes at p) into the repr at r. Returns the number
 * of options understood. Each step advances at least one byte, and a length byte
 * below 2 or past the area ends the loop (flagged in TCPR_BADOPT), so any input
 * terminates. A known kind with a wrong length is skipped like an unknown one.
 */
export function tcpOptionsParse(p: usize, len: usize, r: usize): i32 {
  let has: u32 = 0;
  let n: i32 = 0;
  let unknown: u32 = 0;
  let bad: u32 = 0;
  let i: usize = 0;
  store<u8>(r + TCPR_NSACK, 0);
  while (i < len) {
    const kind = <u32>load<u8>(p + i);
    if (kind == TCPOPT_EOL) break;
    if (kind == TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= len) {
      bad = 1;
      break;
    }
    const ol = <usize>load<u8>(p + i + 1);
    if (ol < 2 || i + ol > len) {
      bad = 1;
      break;
    }
    const q = p + i;
    if (kind == TCPOPT_MSS && ol == 4) {
      store<u16>(r + TCPR_MSS, <u16>be16(q + 2));
      has |= TCPR_HAS_MSS;
      n++;
    } else if (kind == TCPOPT_WS && ol == 3) {
      store<u8>(r + TCPR_WSCALE, load<u8>(q + 2));
      has |= TCPR_HAS_WS;
      n++;
    } else if (kind == TCPOPT_SACK_OK && ol == 2) {
      has |= TCPR_HAS_SACK_OK;
      n++;
    } else if (kind == TCPOPT_TS && ol == 10) {
      store<u32>(r + TCPR_TSVAL, be32(q + 2));
      store<u32>(r + TCPR_TSECR, be32(q + 6));
      has |= TCPR_HAS_TS;
      n++;
    } else if (kind == TCPOPT_SACK && ol >= 10 && ((ol - 2) & 7) == 0) {
      let nb = <u32>((ol - 2) >> 3);
      if (nb > TCP_MAX_SACK) nb = TCP_MAX_SACK;
      for (let b: u32 = 0; b < nb; b++) {
        store<u32>(r + TCPR_SACK + (<usize>b << 3), be32(q + 2 + (<usize>b << 3)));
        store<u32>(r + TCPR_SACK + (<usize>b << 3) + 4, be32(q + 6 + (<usize>b << 3)));
      }
      store<u8>(r + TCPR_NSACK, <u8>nb);
      has |= TCPR_HAS_SACK;
      n++;
    } else {
      unknown++; // includes an empty SACK (length 2) and wrong-length known kinds
    }
    i += ol;
  }
  store<u8>(r + TCPR_HAS, <u8>has);
  store<u8>(r + TCPR_UNKNOWN, <u8>min<u32>(unknown, 255));
  store<u8>(r + TCPR_BADOPT, <u8>bad);
  return n;
}

/** Parses the TCP header at p (len captured bytes) into r; returns the header length or a WIRE_* error. */
export function tcpParse(p: usize, len: usize, r: usize): i32 {
  if (len < TCP_MIN) return WIRE_TRUNCATED;
  const v = changetype<TcpView>(p);
  const hl = <usize>v.hdrLen;
  if (hl < TCP_MIN) return WIRE_MALFORMED;
  if (hl > len) return WIRE_TRUNCATED;
  store<u16>(r + TCPR_SPORT, <u16>v.srcPort);
  store<u16>(r + TCPR_DPORT, <u16>v.dstPort);
  store<u32>(r + TCPR_SEQ, v.seq);
  store<u32>(r + TCPR_ACK, v.ack);
  store<u16>(r + TCPR_FLAGS, <u16>v.flags);
  store<u16>(r + TCPR_WIN, <u16>v.window);
  store<u16>(r + TCPR_CSUM, <u16>v.checksum);
  store<u16>(r + TCPR_URG, <u16>v.urgent);
  store<u8>(r + TCPR_HDRLEN, <u8>hl);
  tcpOptionsParse(p + TCP_MIN, hl - TCP_MIN, r);
  return <i32>hl;
}

/**
 * Option bytes emit will write, in the layout Linux uses (RFC 7323 Appendix A):
 * MSS; SACK-permitted+timestamps or NOP NOP timestamps; NOP window scale; NOP NOP
 * SACK-permitted (without timestamps); NOP NOP SACK blocks. Always a multiple of 4.
 */
export function tcpOptionsLen(r: usize): u32 {
  const has = <u32>load<u8>(r + TCPR_HAS);
  let n: u32 = 0;
  if (has & TCPR_HAS_MSS) n += 4;
  if (has & TCPR_HAS_TS) n += 12;
  if (has & TCPR_HAS_WS) n += 4;
  if ((has & TCPR_HAS_SACK_OK) && !(has & TCPR_HAS_TS)) n += 4;
  if (has & TCPR_HAS_SACK) n += 4 + (min<u32>(load<u8>(r + TCPR_NSACK), TCP_MAX_SACK) << 3);
  return n;
}

export function tcpBufferLen(r: usize): i32 {
  return <i32>(TCP_MIN + tcpOptionsLen(r));
}

/** Writes header and options (with the repr's checksum; l4ChecksumFill computes it). */
export function tcpEmit(r: usize, p: usize, len: usize): i32 {
  const hl = <usize>tcpBufferLen(r);
  if (hl > 60) return WIRE_MALFORMED; // 4 SACK blocks with timestamps do not fit (RFC 2018 §3)
  if (len < hl) return WIRE_NOSPACE;
  putBe16(p, <u32>load<u16>(r + TCPR_SPORT));
  putBe16(p + 2, <u32>load<u16>(r + TCPR_DPORT));
  putBe32(p + 4, load<u32>(r + TCPR_SEQ));
  putBe32(p + 8, load<u32>(r + TCPR_ACK));
  putBe16(p + 12, (<u32>(hl >> 2) << 12) | (<u32>load<u16>(r + TCPR_FLAGS) & 0x0fff));
  putBe16(p + 14, <u32>load<u16>(r + TCPR_WIN));
  putBe16(p + 16, <u32>load<u16>(r + TCPR_CSUM));
  putBe16(p + 18, <u32>load<u16>(r + TCPR_URG));
  const has = <u32>load<u8>(r + TCPR_HAS);
  let q = p + TCP_MIN;
  if (has & TCPR_HAS_MSS) {
    putBe16(q, (TCPOPT_MSS << 8) | 4);
    putBe16(q + 2, <u32>load<u16>(r + TCPR_MSS));
    q += 4;
  }
  if (has & TCPR_HAS_TS) {
    if (has & TCPR_HAS_SACK_OK) putBe16(q, (TCPOPT_SACK_OK << 8) | 2);
    else putBe16(q, 0x0101);
    putBe16(q + 2, (TCPOPT_TS << 8) | 10);
    putBe32(q + 4, load<u32>(r + TCPR_TSVAL));
    putBe32(q + 8, load<u32>(r + TCPR_TSECR));
    q += 12;
  }
  if (has & TCPR_HAS_WS) {
    putBe32(q, 0x01000000 | (TCPOPT_WS << 16) | (3 << 8) | <u32>load<u8>(r + TCPR_WSCALE));
    q += 4;
  }
  if ((has & TCPR_HAS_SACK_OK) && !(has & TCPR_HAS_TS)) {
    putBe32(q, 0x01010000 | (TCPOPT_SACK_OK << 8) | 2);
    q += 4;
  }
  if (has & TCPR_HAS_SACK) {
    const nb = <usize>min<u32>(load<u8>(r + TCPR_NSACK), TCP_MAX_SACK);
    putBe32(q, 0x01010000 | (TCPOPT_SACK << 8) | (2 + (<u32>nb << 3)));
    q += 4;
    for (let b: usize = 0; b < nb; b++) {
      putBe32(q, load<u32>(r + TCPR_SACK + (b << 3)));
      putBe32(q + 4, load<u32>(r + TCPR_SACK + (b << 3) + 4));
      q += 8;
    }
  }
  return <i32>hl;
}
