// sockperf: the server side of sockperf 3.7 (Debian sockperf) for its ping-pong,
// under-load and throughput clients, over TCP and UDP, on one port (11111).
//
// Every sockperf message starts with a 14-byte header, big-endian (message.h):
//   0 sequence number u64, 8 flags u16 (1 CLIENT, 2 PONG_REQUEST, 4 WARMUP),
//   10 length u32 = the whole message, header included (14 .. 65507).
// Over TCP messages follow each other in the stream; over UDP a datagram holds
// them. The server (server.h, server_receive_then_send) answers a message that
// has CLIENT and PONG_REQUEST set and WARMUP clear with the same bytes, CLIENT
// cleared; other messages are consumed. A plain echo fails because the client
// drops replies that still carry CLIENT (it takes them for its own messages
// looped back) and waits for an answer that never comes.
//
// Zero-copy: the CLIENT bit is cleared in place in the received mbuf and the
// message's own bytes are sent back (TCP: reply queue spans; UDP: CMD_UDP_SEND
// straight from the datagram, which lives until the commands ran, udp.ts).
// A TCP header split across segments is gathered in the connection's state
// (with the spans that held it) before deciding.
import { D_A, D_B, D_C, CMD_UDP_SEND, cmdPush } from "../api/abi";
import { rsEcho, rsInit, rsRun, rsRecordBytes } from "./reply-server";
import { rqSkip } from "./reply-queue";

const HDR: u32 = 14;
const MAX_MSG: u32 = 65507; // sockperf's MAX_PAYLOAD_SIZE: a longer length closes the connection
const F_CLIENT: u32 = 1;
const F_PONG: u32 = 2;
const F_WARMUP: u32 = 4;

// Protocol state (offsets from p).
const O_GOT: usize = 0; // header bytes gathered (0..14)
const O_REMAIN: usize = 4; // bytes of the current message after its header
const O_REPLY: usize = 8; // the current message is answered
const O_NFRAG: usize = 12; // spans holding the gathered header bytes
const O_HDR: usize = 16; // the header bytes (16)
const O_FRAG: usize = 32; // up to 14 spans {ptr, len}
const PROTO_BYTES: usize = O_FRAG + <usize>HDR * 8;
export const SOCKPERF_CONN_BYTES: usize = rsRecordBytes(PROTO_BYTES);

let cMsgs: u64 = 0; // client messages seen (TCP and UDP), warm-up included
let cReplies: u64 = 0;
let cUdpMsgs: u64 = 0;
let cUdpReplies: u64 = 0;
let cUdpBad: u64 = 0; // datagrams with a malformed message (rest of the datagram dropped)
let cUdpSendFull: u64 = 0;

export function sockperfInit(): i32 {
  cMsgs = cReplies = cUdpMsgs = cUdpReplies = cUdpBad = cUdpSendFull = 0;
  return rsInit(PROTO_BYTES, 0, spOpen, spParse, spUdp);
}

export function sockperfRun(prev: usize, nPrev: u32, ev: usize, nEv: u32): void {
  rsRun(prev, nPrev, ev, nEv);
}

function spOpen(p: usize): void {
  memory.fill(p, 0, O_HDR);
}

@inline function be16(p: usize): u32 {
  return (<u32>load<u8>(p) << 8) | <u32>load<u8>(p + 1);
}
@inline function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

/** Whether a message with these flags is answered (server.h: client's, pong request, not warm-up). */
@inline function answered(flags: u32): bool {
  return (flags & (F_CLIENT | F_PONG | F_WARMUP)) == (F_CLIENT | F_PONG);
}

function spParse(p: usize, q: usize, ptr: usize, len: u32): bool {
  while (len > 0) {
    const got = load<u32>(p, O_GOT);
    if (got < HDR) {
      // gather the header (usually whole in one segment)
      const k = min<u32>(len, HDR - got);
      memory.copy(p + O_HDR + got, ptr, k);
      const nf = load<u32>(p, O_NFRAG);
      const f = p + O_FRAG + (<usize>nf << 3);
      store<u32>(f, <u32>ptr);
      store<u32>(f, k, 4);
      store<u32>(p, nf + 1, O_NFRAG);
      ptr += k;
      len -= k;
      store<u32>(p, got + k, O_GOT);
      if (got + k < HDR) continue;
      const h = p + O_HDR;
      const flags = be16(h + 8);
      const mlen = be32(h + 10);
      if (mlen < HDR || mlen > MAX_MSG) return false;
      const reply = answered(flags);
      if ((flags & F_CLIENT) != 0) cMsgs++;
      if (reply) {
        cReplies++;
        // clear CLIENT in the received bytes: header byte 9, in whichever span holds it
        let off: u32 = 0;
        for (let j: u32 = 0; j <= nf; j++) {
          const fj = p + O_FRAG + (<usize>j << 3);
          const fl = load<u32>(fj, 4);
          if (off + fl > 9) {
            const b = <usize>load<u32>(fj) + (9 - off);
            store<u8>(b, load<u8>(b) & ~(<u8>F_CLIENT));
            break;
          }
          off += fl;
        }
      }
      for (let j: u32 = 0; j <= nf; j++) {
        const fj = p + O_FRAG + (<usize>j << 3);
        if (reply) {
          if (!rsEcho(q, <usize>load<u32>(fj), load<u32>(fj, 4))) return false;
        } else {
          rqSkip(q, load<u32>(fj, 4));
        }
      }
      store<u32>(p, 0, O_NFRAG);
      store<u32>(p, reply ? 1 : 0, O_REPLY);
      store<u32>(p, mlen - HDR, O_REMAIN);
      if (mlen == HDR) store<u32>(p, 0, O_GOT);
    } else {
      const rem = load<u32>(p, O_REMAIN);
      const k = min<u32>(len, rem);
      if (load<u32>(p, O_REPLY) != 0) {
        if (!rsEcho(q, ptr, k)) return false;
      } else {
        rqSkip(q, k);
      }
      ptr += k;
      len -= k;
      store<u32>(p, rem - k, O_REMAIN);
      if (rem == k) store<u32>(p, 0, O_GOT);
    }
  }
  return true;
}

/** A datagram: each message in it answered (or not) on its own, from the datagram's bytes. */
function spUdp(e: usize): void {
  const data = <usize>load<u32>(e, D_A);
  const len = load<u32>(e, D_B);
  const addr = load<u32>(e, D_C);
  let off: u32 = 0;
  while (off < len) {
    const m = data + off;
    if (len - off < HDR) {
      cUdpBad++;
      return;
    }
    const mlen = be32(m + 10);
    if (mlen < HDR || mlen > len - off) {
      cUdpBad++;
      return;
    }
    const flags = be16(m + 8);
    if ((flags & F_CLIENT) != 0) cUdpMsgs++;
    if (answered(flags)) {
      store<u8>(m + 9, load<u8>(m + 9) & ~(<u8>F_CLIENT));
      if (cmdPush(CMD_UDP_SEND, 0, 0, <u32>m, mlen, addr, 0) == 0) cUdpSendFull++;
      else cUdpReplies++;
    }
    off += mlen;
  }
}

/** 0 TCP client messages, 1 TCP replies, 2 UDP client messages, 3 UDP replies, 4 malformed datagrams, 5 UDP replies lost to a full command queue. */
export function sockperfStat(i: i32): u64 {
  switch (i) {
    case 0: return cMsgs;
    case 1: return cReplies;
    case 2: return cUdpMsgs;
    case 3: return cUdpReplies;
    case 4: return cUdpBad;
    case 5: return cUdpSendFull;
  }
  return 0;
}
