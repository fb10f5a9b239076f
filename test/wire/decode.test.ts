// decodeBatch / inspectBatch: built-in frames per link type and tunnel, a
// truncation sweep over every byte offset, and the public corpus against tshark's
// truth (test/helpers/corpus.ts finds it), read with a tiny test-only
// record walker (the real reader is host/io).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createCore, type Core } from "../../host/core/core.ts";
import type { DumpRecord } from "../../host/inspect/dump.ts";
import { compareRecords, type Expected } from "../helpers/compare.ts";
import { CORPUS, corpusNote } from "../helpers/corpus.ts";
import { Mulberry32 } from "../../host/io/prng.ts";
import {
  DESC_BYTES,
  DESC_CAPLEN,
  DESC_F_NOT_PACKET,
  DESC_FLAGS,
  DESC_LEN,
  DESC_LINKTYPE,
  DESC_OFF,
} from "../../host/core/abi.gen.ts";
import * as ABI from "../../host/core/abi.gen.ts";

// Summary flags, fields and counter slots: the generated ABI (abi/table.ts), as the core has them.
const F = {
  IP: ABI.SUM_F_IP,
  PORTS: ABI.SUM_F_PORTS,
  TCP: ABI.SUM_F_TCP,
  PAYLOAD: ABI.SUM_F_PAYLOAD,
  FRAG: ABI.SUM_F_FRAG,
  TRUNC: ABI.SUM_F_TRUNC,
  UNKNOWN_LINK: ABI.SUM_F_UNKNOWN_LINK,
  UDP: ABI.SUM_F_UDP,
  NOT_PACKET: ABI.SUM_F_NOT_PACKET,
  ANY_V4: ABI.SUM_F_ANY_V4,
  ANY_V6: ABI.SUM_F_ANY_V6,
  ANY_TCP: ABI.SUM_F_ANY_TCP,
  ANY_UDP: ABI.SUM_F_ANY_UDP,
};
const slot = (name: (typeof ABI.COUNTER_NAMES)[number]) => ABI.COUNTER_NAMES.indexOf(name);
const C = {
  RX_FRAMES: slot("rx_frames"),
  IPV4: slot("ipv4"),
  IPV6: slot("ipv6"),
  TCP: slot("tcp"),
  UNKNOWN_LINK: slot("unknown_link"),
};
const C_NOT_PACKET = slot("not_packet");
const { COUNTER_BASE, COUNTER_SLOTS } = ABI;

interface Rec {
  data: Uint8Array;
  len: number;
  linktype: number;
  notPacket?: boolean;
}

interface Summary {
  flags: number;
  ipver: number;
  proto: number;
  sport: number;
  dport: number;
  tcpflags: number;
  seq: number;
  ack: number;
  payload: number;
  l3: number;
  l4: number;
  tcpIpver: number;
  tcpL3: number;
  tcpL4: number;
  src: string | null;
  dst: string | null;
}

function fmt6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((b[i] << 8) | b[i + 1]);
  // RFC 5952 §4.2: the longest run (>= 2) of zero words becomes "::", first one on ties.
  let best = -1,
    bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(w);
  return hex(w.slice(0, best)) + "::" + hex(w.slice(best + bestLen));
}

function addr(core: Core, p: number, ver: number): string {
  if (ver === 4) return Array.from(core.u8.subarray(p, p + 4)).join(".");
  return fmt6(core.u8.subarray(p, p + 16));
}

function readSummary(core: Core, p: number): Summary {
  const u8 = core.u8;
  const dv = new DataView(core.memory.buffer);
  const flags = dv.getUint16(p + ABI.SUM_FLAGS, true);
  const ipver = u8[p + ABI.SUM_IPVER];
  const hasIp = (flags & F.IP) !== 0;
  return {
    flags,
    ipver,
    proto: u8[p + ABI.SUM_PROTO],
    sport: dv.getUint16(p + ABI.SUM_SPORT, true),
    dport: dv.getUint16(p + ABI.SUM_DPORT, true),
    tcpflags: dv.getUint16(p + ABI.SUM_TCPFLAGS, true),
    seq: dv.getUint32(p + ABI.SUM_SEQ, true),
    ack: dv.getUint32(p + ABI.SUM_ACK, true),
    payload: dv.getUint32(p + ABI.SUM_PAYLOAD, true),
    l3: dv.getUint16(p + ABI.SUM_L3OFF, true),
    l4: dv.getUint16(p + ABI.SUM_L4OFF, true),
    tcpIpver: u8[p + ABI.SUM_TCP_IPVER],
    tcpL3: dv.getUint16(p + ABI.SUM_TCP_L3OFF, true),
    tcpL4: dv.getUint16(p + ABI.SUM_TCP_L4OFF, true),
    src: hasIp ? addr(core, p + ABI.SUM_SRC, ipver) : null,
    dst: hasIp ? addr(core, p + ABI.SUM_DST, ipver) : null,
  };
}

/** Places records in staging, fills descriptors. Returns how many fit. */
function load(core: Core, recs: Rec[], start: number): number {
  const st = core.regions.staging;
  const slots = core.config.descSlots;
  let off = st.offset;
  let n = 0;
  const d32 = core.u32;
  const d16 = core.u16;
  for (let i = start; i < recs.length && n < slots; i++) {
    const r = recs[i];
    if (off + r.data.length > st.offset + st.bytes) break;
    core.u8.set(r.data, off);
    const d = core.regions.desc.offset + n * DESC_BYTES;
    d32[(d + DESC_OFF) >> 2] = off;
    d32[(d + DESC_CAPLEN) >> 2] = r.data.length;
    d32[(d + DESC_LEN) >> 2] = r.len;
    d16[(d + DESC_LINKTYPE) >> 1] = r.linktype;
    d16[(d + DESC_FLAGS) >> 1] = r.notPacket ? DESC_F_NOT_PACKET : 0;
    off += r.data.length;
    n++;
  }
  return n;
}

function decodeAll(core: Core, recs: Rec[]): Summary[] {
  const out: Summary[] = [];
  for (let i = 0; i < recs.length;) {
    const n = load(core, recs, i);
    assert.ok(n > 0, "record does not fit in staging");
    (core.exports.decodeBatch as (n: number) => number)(n);
    for (let k = 0; k < n; k++) out.push(readSummary(core, core.regions.decode.offset + k * ABI.SUM_BYTES));
    i += n;
  }
  return out;
}

function counters(core: Core): bigint[] {
  return Array.from(new BigUint64Array(core.memory.buffer, COUNTER_BASE, 32));
}

function inspectAll(core: Core, recs: Rec[]): bigint[] {
  new BigUint64Array(core.memory.buffer, COUNTER_BASE, COUNTER_SLOTS).fill(0n);
  for (let i = 0; i < recs.length;) {
    const n = load(core, recs, i);
    (core.exports.inspectBatch as (n: number) => void)(n);
    i += n;
  }
  return counters(core);
}

const hex = (s: string) =>
  Uint8Array.from(
    s
      .replace(/\s+/g, "")
      .match(/../g)!
      .map((x) => parseInt(x, 16)),
  );

// ---- built-in frames -------------------------------------------------------------
// A real Linux SYN (TCP/IPv4, Ethernet), captured on a veth: MSS 1460, SACK-permitted,
// timestamps, window scale 7.
const SYN4 = hex(`
  0a580a800002 0a580a800001 0800
  4500 003c 8e32 4000 4006 9787 0a800001 0a800002
  b27e 0050 4b1d6f64 00000000 a002 faf0 917b 0000
  020405b4 0402080a 1d6b1bd6 00000000 01030307`);
// TCP/IPv6 data segment with 5 bytes of payload ("hello").
const DATA6 = hex(`
  020000000002 020000000001 86dd
  6000 0000 0025 0640 20010db8000000000000000000000001 20010db8000000000000000000000002
  c350 1f90 00000064 000000c8 8018 01f6 f163 0000 0101080a 00000001 00000002
  68656c6c6f`);

let core: Core;
test.before(() => {
  core = createCore({ stagingBytes: 8 << 20, descSlots: 4096 });
});

test("Ethernet TCP/IPv4 SYN: outermost IP, ports, flags, seq, payload 0", () => {
  const [s] = decodeAll(core, [{ data: SYN4, len: SYN4.length, linktype: 1 }]);
  assert.is(s.flags & (F.IP | F.PORTS | F.TCP | F.PAYLOAD), F.IP | F.PORTS | F.TCP | F.PAYLOAD);
  assert.is(s.flags & F.TRUNC, 0);
  assert.is(s.src, "10.128.0.1");
  assert.is(s.dst, "10.128.0.2");
  assert.equal([s.ipver, s.proto, s.sport, s.dport, s.tcpflags], [4, 6, 45694, 80, 2]);
  assert.is(s.seq, 0x4b1d6f64);
  assert.is(s.payload, 0);
  assert.equal([s.l3, s.l4, s.tcpIpver, s.tcpL3, s.tcpL4], [14, 34, 4, 14, 34]);
});

test("TCP/IPv6 data: RFC 5952 addresses, payload from payload length", () => {
  const [s] = decodeAll(core, [{ data: DATA6, len: DATA6.length, linktype: 1 }]);
  assert.is(s.src, "2001:db8::1");
  assert.is(s.dst, "2001:db8::2");
  assert.equal(
    [s.ipver, s.proto, s.sport, s.dport, s.tcpflags, s.seq, s.ack, s.payload],
    [6, 6, 50000, 8080, 0x18, 100, 200, 5],
  );
});

test("link types: raw 101/12/14, 228, 229, SLL, SLL2, NULL both orders, LOOP, unknown", () => {
  const ip4 = SYN4.subarray(14);
  const ip6 = DATA6.subarray(14);
  const sll = (p: number) => {
    const h = new Uint8Array(16);
    h[14] = p >> 8;
    h[15] = p & 255;
    return h;
  };
  const sll2 = (p: number) => {
    const h = new Uint8Array(20);
    h[0] = p >> 8;
    h[1] = p & 255;
    return h;
  };
  const cat = (a: Uint8Array, b: Uint8Array) => Uint8Array.from([...a, ...b]);
  const recs: Rec[] = [
    { data: ip4, len: ip4.length, linktype: 101 },
    { data: ip6, len: ip6.length, linktype: 12 },
    { data: ip4, len: ip4.length, linktype: 14 },
    { data: ip4, len: ip4.length, linktype: 228 },
    { data: ip6, len: ip6.length, linktype: 229 },
    { data: cat(sll(0x0800), ip4), len: 16 + ip4.length, linktype: 113 },
    { data: cat(sll2(0x86dd), ip6), len: 20 + ip6.length, linktype: 276 },
    { data: cat(hex("02000000"), ip4), len: 4 + ip4.length, linktype: 0 },
    { data: cat(hex("0000001e"), ip6), len: 4 + ip6.length, linktype: 0 },
    { data: cat(hex("00000018"), ip6), len: 4 + ip6.length, linktype: 108 },
    { data: ip4, len: ip4.length, linktype: 147 },
    { data: new Uint8Array(0), len: 0, linktype: 1, notPacket: true },
  ];
  const s = decodeAll(core, recs);
  const vers = s.map((x) => (x.flags & F.IP ? x.ipver : 0));
  assert.equal(vers, [4, 6, 4, 4, 6, 4, 6, 4, 6, 6, 0, 0]);
  for (let i = 0; i < 10; i++) assert.ok(s[i].flags & F.TCP, `record ${i} has TCP`);
  assert.is(s[10].flags, F.UNKNOWN_LINK);
  assert.is(s[11].flags, F.NOT_PACKET);
  const c = inspectAll(core, recs);
  assert.equal([c[C.IPV4], c[C.IPV6], c[C.TCP], c[C.UNKNOWN_LINK], c[C_NOT_PACKET]], [5n, 5n, 10n, 1n, 1n]);
  assert.is(c[C.RX_FRAMES], 12n, "non-packet records are frames for tshark too");
});

test("VLAN, QinQ, MPLS (IP and pseudowire with control word), PPPoE", () => {
  const eth = SYN4.subarray(0, 12);
  const ip4 = SYN4.subarray(14);
  const inner = SYN4; // a full Ethernet frame for pseudowires
  const cat = (...a: Uint8Array[]) => Uint8Array.from(a.flatMap((x) => [...x]));
  const recs: Rec[] = [
    { data: cat(eth, hex("8100 0064 0800"), ip4), len: 0, linktype: 1 },
    { data: cat(eth, hex("88a8 0064 8100 00c8 0800"), ip4), len: 0, linktype: 1 },
    { data: cat(eth, hex("9100 0064 8100 00c8 0800"), ip4), len: 0, linktype: 1 },
    { data: cat(eth, hex("8847 00010040 00020140"), ip4), len: 0, linktype: 1 },
    { data: cat(eth, hex("8847 00010140 00000000"), inner), len: 0, linktype: 1 }, // PW with CW
    { data: cat(eth, hex("8847 00010140"), inner), len: 0, linktype: 1 }, // PW without CW
    { data: cat(eth, hex("88a8 0064 8100 00c8 8864 1100 0001 0030 0021"), ip4), len: 0, linktype: 1 },
  ];
  for (const r of recs) r.len = r.data.length;
  const s = decodeAll(core, recs);
  s.forEach((x, i) => {
    assert.ok(x.flags & F.TCP, `record ${i}: TCP found`);
    assert.is(x.src, "10.128.0.1", `record ${i}: src`);
    assert.is(x.sport, 45694);
  });
});

test("GRE/ERSPAN II and III, IP-in-IP, ICMP error: outer fields, ANY flags for the inner ones", () => {
  const ip4 = SYN4.subarray(14);
  const cat = (...a: Uint8Array[]) => Uint8Array.from(a.flatMap((x) => [...x]));
  const outer = (proto: number, payloadLen: number) => {
    const h = hex("4500 0000 0001 0000 4000 0000 c0000201 c0000202");
    h[9] = proto;
    h[2] = (20 + payloadLen) >> 8;
    h[3] = (20 + payloadLen) & 255;
    return h;
  };
  const eth = hex("020000000002 020000000001 0800");
  const erspan2 = cat(hex("1000 88be 00000001"), hex("10640001 00000000"), SYN4);
  const erspan3 = cat(hex("0000 22eb"), hex("20640001 00000000 00000000"), DATA6);
  const ipip = ip4;
  const icmp = cat(hex("0303 0000 00000000"), ip4.subarray(0, 28));
  const recs: Rec[] = [
    { data: cat(eth, outer(47, erspan2.length), erspan2), len: 0, linktype: 1 },
    { data: cat(eth, outer(47, erspan3.length), erspan3), len: 0, linktype: 1 },
    { data: cat(eth, outer(4, ipip.length), ipip), len: 0, linktype: 1 },
    { data: cat(eth, outer(1, icmp.length), icmp), len: 0, linktype: 1 },
  ];
  for (const r of recs) r.len = r.data.length;
  const s = decodeAll(core, recs);
  assert.equal(
    s.map((x) => [x.src, x.proto, x.flags & (F.PORTS | F.TCP)]),
    [
      ["192.0.2.1", 47, 0],
      ["192.0.2.1", 47, 0],
      ["192.0.2.1", 4, 0],
      ["192.0.2.1", 1, 0],
    ],
  );
  assert.ok(s[0].flags & F.ANY_TCP);
  assert.ok(s[1].flags & F.ANY_V6 && s[1].flags & F.ANY_TCP);
  assert.ok(s[2].flags & F.ANY_TCP);
  assert.ok(s[3].flags & F.ANY_TCP);
  // Flow hook: the first TCP header sits inside the tunnel.
  assert.equal([s[0].tcpIpver, s[0].tcpL3, s[0].tcpL4], [4, 14 + 20 + 8 + 8 + 14, 14 + 20 + 8 + 8 + 14 + 20]);
  assert.equal([s[1].tcpIpver, s[1].tcpL4], [6, 14 + 20 + 4 + 12 + 14 + 40]);
  assert.is(s[3].tcpIpver, 0, "TCP quoted in an ICMP error is not a flow");
});

test("fragments: first fragment has transport, later ones do not", () => {
  const a = Uint8Array.from(SYN4);
  a[14 + 6] = 0x20; // MF, offset 0
  a[14 + 7] = 0x00;
  const b = Uint8Array.from(SYN4);
  b[14 + 6] = 0x00;
  b[14 + 7] = 0x03; // offset 24 bytes
  const s = decodeAll(core, [
    { data: a, len: a.length, linktype: 1 },
    { data: b, len: b.length, linktype: 1 },
  ]);
  assert.ok(s[0].flags & F.FRAG && s[0].flags & F.TCP);
  assert.ok(s[1].flags & F.FRAG);
  assert.is(s[1].flags & (F.PORTS | F.TCP | F.ANY_TCP), 0);
  assert.is(s[1].src, "10.128.0.1");
});

test("IPv6 extension headers, IPv4 options, TSO length 0, UDP, VXLAN, ICMPv6 error", () => {
  const cat = (...a: Uint8Array[]) => Uint8Array.from(a.flatMap((x) => [...x]));
  const eth6 = hex("020000000002 020000000001 86dd");
  const eth4 = hex("020000000002 020000000001 0800");
  const addrs6 = hex("20010db8000000000000000000000001 20010db8000000000000000000000002");
  const ip6 = (plen: number, nh: number) =>
    cat(hex("60000000"), Uint8Array.of(plen >> 8, plen & 255, nh, 64), addrs6);
  const tcp6 = DATA6.subarray(14 + 40); // 32-byte header + 5 bytes
  const hbh = hex("3c00 0104 00000000"); // -> dstopts, PadN
  const dst = hex("2b00 0104 00000000"); // -> routing
  const rt = hex("3300 0000 00000000"); // -> AH, type 0, segments left 0
  const ah = hex("2c04 0000 00000100 00000001 000000000000000000000000"); // -> fragment, 24 bytes
  const frag = (off: number, m: number) =>
    cat(hex("0600"), Uint8Array.of(off >> 5, ((off << 3) & 0xf8) | m), hex("12345678"));
  const ext = (f: Uint8Array) => cat(hbh, dst, rt, ah, f);
  const first = ext(frag(0, 1));
  const later = ext(frag(1, 0));
  const atomic = ext(frag(0, 0));
  const tcp4 = hex("c350 1f90 00000064 000000c8 5018 01f6 0000 0000 abcdef");
  const ip4opt = hex("4600 002f 0001 0000 4006 0000 c0000201 c0000202 94040000");
  const tso = Uint8Array.from(SYN4);
  tso[14 + 2] = 0;
  tso[14 + 3] = 0;
  const udp4 = hex(
    "450000391c2e000040118dccc0a8000208080808 d43100350025df47 abcd01000001000000000000076578616d706c6503636f6d0000010001",
  );
  const vx = cat(hex("08000000 00000100"), SYN4); // VXLAN flags I, VNI 1; inner Ethernet
  const vxip = cat(
    hex("4500"),
    Uint8Array.of(0, 20 + 8 + vx.length),
    hex("0001 0000 4011 0000 c0000201 c0000202"),
  );
  const vxudp = cat(hex("c000 12b5"), Uint8Array.of(0, 8 + vx.length), hex("0000"));
  const icmp6 = cat(hex("0104 0000 00000000"), DATA6.subarray(14, 14 + 48));
  const recs: Rec[] = [
    { data: cat(eth6, ip6(first.length + tcp6.length, 0), first, tcp6), len: 0, linktype: 1 },
    { data: cat(eth6, ip6(later.length + 40, 0), later, new Uint8Array(40)), len: 0, linktype: 1 },
    { data: cat(eth6, ip6(atomic.length + tcp6.length, 0), atomic, tcp6), len: 0, linktype: 1 },
    { data: cat(eth4, ip4opt, tcp4), len: 0, linktype: 1 },
    { data: cat(tso, new Uint8Array(10)), len: 0, linktype: 1 },
    { data: cat(eth4, udp4), len: 0, linktype: 1 },
    { data: cat(eth4, vxip, vxudp, vx), len: 0, linktype: 1 }, // 49152 -> 4789
    { data: cat(eth6, ip6(icmp6.length, 58), icmp6), len: 0, linktype: 1 },
  ];
  for (const r of recs) r.len = r.data.length;
  const s = decodeAll(core, recs);
  const pick = (x: Summary) => [x.proto, x.flags & (F.PORTS | F.TCP | F.FRAG | F.UDP), x.sport, x.payload];
  assert.equal(pick(s[0]), [6, F.PORTS | F.TCP | F.FRAG, 50000, 5], "first fragment after HBH/DST/RT/AH");
  assert.equal(pick(s[1]), [6, F.FRAG, 0, 0], "later fragment: no transport");
  assert.is(s[1].flags & F.ANY_TCP, 0);
  assert.equal(pick(s[2]), [6, F.PORTS | F.TCP, 50000, 5], "atomic fragment is not a fragment (RFC 6946)");
  assert.equal(pick(s[3]), [6, F.PORTS | F.TCP, 50000, 3], "IPv4 with options");
  assert.equal(pick(s[4]), [6, F.PORTS | F.TCP, 45694, 10], "IPv4 total length 0 (TSO): from the frame");
  assert.equal(pick(s[5]), [17, F.PORTS | F.UDP, 54321, 29], "UDP payload = length - 8");
  assert.equal(
    [s[6].proto, s[6].sport, s[6].dport, s[6].l4],
    [17, 45694, 80, 34],
    "VXLAN: tshark's inner TCP ports",
  );
  assert.ok(s[6].flags & F.ANY_TCP && s[6].tcpIpver === 4);
  assert.equal([s[7].proto, s[7].flags & (F.PORTS | F.ANY_TCP)], [58, F.ANY_TCP], "ICMPv6 error quotes TCP");
});

test("truncation at every byte offset: flagged, nothing read past caplen", () => {
  for (const [name, frame] of [
    ["SYN4", SYN4],
    ["DATA6", DATA6],
  ] as const) {
    const hdrEnd = name === "SYN4" ? 14 + 20 + 40 : 14 + 40 + 32;
    for (let cut = 0; cut <= frame.length; cut++) {
      // Place the cut frame flush against 0xa5 guard bytes whose values would
      // change the result if read (a version nibble 0xa, a data offset of 40 bytes).
      const data = new Uint8Array(cut + 64).fill(0xa5);
      data.set(frame.subarray(0, cut));
      const n = load(core, [{ data, len: frame.length, linktype: 1 }], 0);
      assert.is(n, 1);
      const d = core.regions.desc.offset;
      core.u32[(d >> 2) + 1] = cut; // caplen excludes the guard
      (core.exports.decodeBatch as (n: number) => number)(1);
      const s = readSummary(core, core.regions.decode.offset);
      const full = (
        core.exports.wireDecodeFrame as (f: number, c: number, l: number, lt: number, o: number) => number
      )(core.u32[d >> 2], frame.length, frame.length, 1, core.regions.decode.offset + 64);
      if (cut < hdrEnd) assert.ok(s.flags & F.TRUNC, `${name} cut at ${cut} flagged`);
      else assert.is(s.flags, full, `${name} cut at ${cut} (payload only) decodes as whole`);
      if (cut >= 14 + (name === "SYN4" ? 20 : 40)) assert.ok(s.flags & F.IP, `${name} cut ${cut}: IP`);
      // Same result with the guard changed: proof the bytes past caplen were not read.
      data.fill(0x00, cut);
      load(core, [{ data, len: frame.length, linktype: 1 }], 0);
      core.u32[(d >> 2) + 1] = cut;
      (core.exports.decodeBatch as (n: number) => number)(1);
      assert.equal(
        readSummary(core, core.regions.decode.offset),
        s,
        `${name} cut ${cut}: guard bytes unread`,
      );
    }
  }
});

test("seeded fuzz: mutated and cut frames on every link type, guard bytes never read, no trap at memory end", () => {
  const r = new Mulberry32(0x1234567);
  const rnd = (n: number) => r.int(n);
  const eth = SYN4.subarray(0, 12);
  const cat = (...a: Uint8Array[]) => Uint8Array.from(a.flatMap((x) => [...x]));
  const seeds: [Uint8Array, number][] = [
    [SYN4, 1],
    [DATA6, 1],
    [cat(eth, hex("88a8 0064 8100 00c8 8864 1100 0001 0030 0021"), SYN4.subarray(14)), 1],
    [cat(eth, hex("8847 00010140 00000000"), SYN4), 1],
    [
      cat(
        eth,
        hex(
          "0800 4500 0064 0001 0000 4000 2f00 00000000 c0000201 c0000202 1000 88be 00000001 10640001 00000000",
        ),
        SYN4,
      ),
      1,
    ],
    [SYN4.subarray(14), 101],
    [DATA6.subarray(14), 229],
    [cat(new Uint8Array(16).fill(0x08, 14, 15), SYN4.subarray(14)), 113],
    [cat(hex("86dd"), new Uint8Array(18), DATA6.subarray(14)), 276],
    [cat(hex("02000000"), SYN4.subarray(14)), 0],
  ];
  const dec = core.exports.wireDecodeFrame as (
    f: number,
    c: number,
    l: number,
    lt: number,
    o: number,
  ) => number;
  const st = core.regions.staging.offset;
  const out = core.regions.decode.offset;
  const snap = () => Array.from(core.u8.subarray(out, out + 64));
  for (let i = 0; i < 3000; i++) {
    const [base, lt] = seeds[rnd(seeds.length)];
    const f = Uint8Array.from(base);
    for (let k = rnd(4); k > 0; k--) f[rnd(f.length)] ^= 1 << rnd(8); // bit flips
    if (rnd(3) === 0) f[rnd(f.length)] = rnd(256); // a random byte (lengths, versions, flags)
    const cut = rnd(f.length + 1);
    core.u8.set(f.subarray(0, cut), st);
    core.u8.fill(0x00, st + cut, st + cut + 128);
    const a = dec(st, cut, f.length, lt, out);
    const sa = snap();
    core.u8.fill(0xff, st + cut, st + cut + 128);
    const b = dec(st, cut, f.length, lt, out);
    assert.is(b, a, `fuzz ${i}: flags independent of bytes past caplen`);
    assert.equal(snap(), sa, `fuzz ${i}: summary independent of bytes past caplen`);
    // Flush against the end of linear memory: any read past caplen would trap.
    const end = core.memory.buffer.byteLength;
    core.u8.set(f.subarray(0, cut), end - cut);
    assert.is(dec(end - cut, cut, f.length, lt, out), a, `fuzz ${i}: same at the end of memory`);
  }
});

test("debug build (-O0, assertions on) decodes exactly like the release build", () => {
  let dbg: Core;
  try {
    dbg = createCore({ stagingBytes: 8 << 20, descSlots: 4096 }, { debug: true });
  } catch (e) {
    console.log(`note: debug core not loadable (${(e as Error).message}); release only`);
    return;
  }
  const frames: Rec[] = [SYN4, DATA6].flatMap((f) =>
    Array.from({ length: f.length + 1 }, (_, cut) => ({
      data: f.subarray(0, cut),
      len: f.length,
      linktype: 1,
    })),
  );
  assert.equal(decodeAll(dbg, frames), decodeAll(core, frames));
});

// ---- corpus ------------------------------------------------------------------------
const corpus = CORPUS;

/** Test-only walker for classic pcap and pcapng (EPB, SPB, obsolete PB, custom blocks). */
function readCapture(path: string): Rec[] | null {
  const b = readFileSync(path);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const recs: Rec[] = [];
  const m = dv.getUint32(0, true);
  if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) {
    const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
    const lt = dv.getUint32(20, le) & 0xffff;
    for (let o = 24; o + 16 <= b.length;) {
      const cap = dv.getUint32(o + 8, le);
      const len = dv.getUint32(o + 12, le);
      if (cap > 262144 || o + 16 + cap > b.length) break;
      recs.push({ data: b.subarray(o + 16, o + 16 + cap), len, linktype: lt });
      o += 16 + cap;
    }
    return recs;
  }
  if (m !== 0x0a0d0d0a) return null;
  let le = true;
  let ifs: { lt: number; snap: number }[] = [];
  for (let o = 0; o + 12 <= b.length;) {
    let type = dv.getUint32(o, le);
    if (type === 0x0a0d0d0a || dv.getUint32(o, true) === 0x0a0d0d0a) {
      le = dv.getUint32(o + 8, true) === 0x1a2b3c4d;
      type = 0x0a0d0d0a;
      ifs = [];
    }
    const bl = dv.getUint32(o + 4, le);
    if (bl < 12 || o + bl > b.length) break;
    if (type === 1) ifs.push({ lt: dv.getUint16(o + 8, le), snap: dv.getUint32(o + 12, le) });
    else if (type === 6 || type === 2) {
      const ifc = type === 6 ? dv.getUint32(o + 8, le) : dv.getUint16(o + 8, le);
      const cap = dv.getUint32(o + 20, le);
      recs.push({
        data: b.subarray(o + 28, o + 28 + cap),
        len: dv.getUint32(o + 24, le),
        linktype: ifs[ifc].lt,
      });
    } else if (type === 3) {
      const len = dv.getUint32(o + 8, le);
      const cap = Math.min(len, ifs[0].snap || len, bl - 16);
      recs.push({ data: b.subarray(o + 12, o + 12 + cap), len, linktype: ifs[0].lt });
    } else if (type === 0xbad || type === 0x40000bad)
      recs.push({ data: b.subarray(0, 0), len: 0, linktype: 0, notPacket: true });
    o += bl;
  }
  return recs;
}

/** A decode summary as a dump record: a field the core did not decode is null, as in dump. */
function asRecord(o: Summary, n: number): DumpRecord {
  const tcp = (o.flags & F.TCP) !== 0;
  const ports = (o.flags & F.PORTS) !== 0;
  return {
    n,
    ts: null,
    caplen: 0,
    len: 0,
    src: o.src,
    dst: o.dst,
    proto: o.flags & F.IP ? o.proto : null,
    sport: ports ? o.sport : null,
    dport: ports ? o.dport : null,
    flags: tcp ? o.tcpflags : null,
    seq: tcp ? o.seq : null,
    ack: tcp ? o.ack : null,
    payload: o.flags & F.PAYLOAD ? o.payload : null,
    frag: false,
  };
}

if (corpusNote("the decode of every corpus capture against tshark's truth"))
  test("corpus: per-packet decode agrees with tshark truth; inspect counts with MANIFEST", () => {
    const manifest = new Map<string, string[]>();
    for (const line of readFileSync(join(corpus, "MANIFEST.tsv"), "utf8").split("\n").slice(1)) {
      const c = line.split("\t");
      if (c.length > 10) manifest.set(c[0], c);
    }
    const failures: string[] = [];
    let files = 0;
    let packets = 0;
    for (const t of readdirSync(join(corpus, "truth")).sort()) {
      const name = t.replace(/\.jsonl$/, "");
      const recs = readCapture(join(corpus, name));
      if (!recs) continue;
      const truth = readFileSync(join(corpus, "truth", t), "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Expected);
      const ours = decodeAll(core, recs).map((o, i) => asRecord(o, truth[i]?.n ?? i + 1));
      const bad = compareRecords(truth, ours, 5, true);
      const m = manifest.get(name);
      if (m && m[4] !== "corrupt") {
        const c = inspectAll(core, recs);
        const want = [m[7], m[9], m[10]].map((x) => BigInt(x));
        const got = [c[C.TCP], c[C.IPV4], c[C.IPV6]];
        if (want.join() !== got.join())
          bad.push(`inspect tcp/ipv4/ipv6 ${got.join("/")} != tshark ${want.join("/")}`);
      }
      files++;
      packets += recs.length;
      if (bad.length) failures.push(`${name}: ${bad.slice(0, 3).join("; ")}`);
    }
    console.log(`note: corpus: ${files - failures.length}/${files} captures agree (${packets} packets)`);
    if (process.env.IXWASM_TEST_VERBOSE || failures.length) for (const f of failures) console.log("  " + f);
    assert.ok(files > 0);
    assert.equal(failures, []);
  });

test.run();
