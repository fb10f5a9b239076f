// Known-answer tests per wire module: parse a header into its repr, check the
// fields, emit the repr into a buffer pre-filled with 0xa5 (so a byte never
// written shows up) and require emit(parse(b)) == b. Plus TCP option edge cases.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createCore, type Core } from "../../host/core/core.ts";

const hex = (s: string) =>
  Uint8Array.from(
    s
      .replace(/\s+/g, "")
      .match(/../g)!
      .map((x) => parseInt(x, 16)),
  );
const TRUNCATED = -1;
const MALFORMED = -2;
const UNSUPPORTED = -3;
const NOSPACE = -4;

let core: Core;
let dv: DataView;
let BUF = 0; // input bytes
let REPR = 0; // repr record
let OUT = 0; // emit target
type Fn = (...a: number[]) => number;
const fn = (name: string) => (core.exports as unknown as Record<string, Fn>)[name];

test.before(() => {
  core = createCore({ stagingBytes: 1 << 20 }, { test: true }); // the *PlainTest copies are the test core's
  dv = new DataView(core.memory.buffer);
  BUF = core.regions.staging.offset;
  REPR = BUF + 0x10000;
  OUT = BUF + 0x20000;
});

/** Copies b to BUF (followed by 0xa5 guard), clears the repr, parses; returns the result. */
function parse(name: string, b: Uint8Array, len = b.length): number {
  core.u8.fill(0xa5, BUF, BUF + 4096);
  core.u8.set(b, BUF);
  core.u8.fill(0, REPR, REPR + 256);
  return fn(name + "Parse")(BUF, len, REPR);
}

/** Emits the repr into a 0xa5-filled buffer; returns [result, bytes written]. */
function emit(name: string, room = 1500): [number, Uint8Array] {
  core.u8.fill(0xa5, OUT, OUT + 4096);
  const n = fn(name + "Emit")(REPR, OUT, room);
  return [n, core.u8.slice(OUT, OUT + Math.max(n, 0) + 8)];
}

function roundTrip(name: string, b: Uint8Array): void {
  const n = parse(name, b);
  assert.is(n, b.length, `${name} parse length`);
  const [m, out] = emit(name);
  assert.is(m, b.length, `${name} emit length`);
  assert.equal(Array.from(out.subarray(0, m)), Array.from(b), `${name} emit(parse(b)) == b`);
  assert.ok(
    out.subarray(m).every((x) => x === 0xa5),
    `${name} wrote nothing past its length`,
  );
  assert.is(fn(name + "Emit")(REPR, OUT, m - 1), NOSPACE, `${name} emit into a short buffer`);
}

const r8 = (o: number) => core.u8[REPR + o];
const r16 = (o: number) => dv.getUint16(REPR + o, true);
const r32 = (o: number) => dv.getUint32(REPR + o, true);
const bytes = (o: number, n: number) => Array.from(core.u8.subarray(REPR + o, REPR + o + n));

// Real-world shaped headers with correct checksums (computed independently in Python).
const ETH = hex("0a580a800002 0a580a800001 0800");
const ETH_QINQ = hex("ffffffffffff 020000000001 88a8 0064 8100 20c8 0806");
const ARP_REQ = hex("0001 0800 06 04 0001 020000000001 c0a80001 000000000000 c0a80002");
const IP4 = hex("4500003c8e324000400697870a8000010a800002");
const IP4_OPT = hex("460000200000400001024418c0a80001e000001694040000"); // IGMP with Router Alert (RFC 2113)
const IP6 = hex("6000 0000 0025 0640 20010db8000000000000000000000001 20010db8000000000000000000000002");
const ICMP_ECHO = hex("08005435123400016162636465666768");
const UDP = hex("d431 0035 0025 df47");
const TCP_SYN = hex("b27e00504b1d6f6400000000a002faf0917b0000020405b40402080a1d6b1bd60000000001030307");
const TCP_DATA = hex("c3501f9000000064000000c8801801f6f16300000101080a0000000100000002");
const TCP_SACK = hex(
  "0050 c350 00001000 00002000 b010 0200 0000 0000 0101080a 00000003 00000004 0101050a 00003000 00004000",
);
const TCP_SYN_NOTS = hex("0050 c350 00000001 00000000 8002 ffff 0000 0000 02040578 01030308 01010402");

test("Ethernet: plain and QinQ, round trip", () => {
  roundTrip("eth", ETH);
  assert.equal([r16(12), r8(14)], [0x0800, 0]);
  roundTrip("eth", ETH_QINQ);
  assert.equal(
    [r16(12), r8(14), r16(16), r16(18), r16(20), r16(22)],
    [0x0806, 2, 0x88a8, 0x64, 0x8100, 0x20c8],
  );
  assert.is(fn("ethBufferLen")(REPR), 22);
  assert.is(parse("eth", ETH, 13), TRUNCATED);
  assert.is(parse("eth", ETH_QINQ, 19), TRUNCATED);
});

test("ARP request: fields and round trip; other hardware types unsupported", () => {
  roundTrip("arp", ARP_REQ);
  assert.is(r16(0), 1);
  assert.equal(bytes(8, 4), [192, 168, 0, 1]);
  assert.equal(bytes(18, 4), [192, 168, 0, 2]);
  const ieee = Uint8Array.from(ARP_REQ);
  ieee[1] = 6;
  assert.is(parse("arp", ieee), UNSUPPORTED);
  assert.is(parse("arp", ARP_REQ, 27), TRUNCATED);
});

test("IPv4: fields, checksum valid, options, round trip recomputes the checksum", () => {
  roundTrip("ipv4", IP4);
  assert.equal(bytes(0, 8), [10, 128, 0, 1, 10, 128, 0, 2]);
  assert.equal(
    [r8(8), r8(9), r8(11), r16(12), r16(14), r16(16), r8(18), r8(19)],
    [6, 64, 2, 0x8e32, 0, 60, 20, 1],
  );
  roundTrip("ipv4", IP4_OPT);
  assert.equal([r8(8), r8(18), r8(20), ...bytes(24, 4)], [2, 24, 4, 0x94, 0x04, 0, 0]);
  const bad = Uint8Array.from(IP4);
  bad[11] ^= 1;
  assert.is(parse("ipv4", bad), 20);
  assert.is(r8(19), 0, "corrupted checksum detected");
  assert.is(parse("ipv4", IP4, 19), TRUNCATED);
  assert.is(parse("ipv4", IP4_OPT, 23), TRUNCATED, "options cut short");
  const ihl4 = Uint8Array.from(IP4);
  ihl4[0] = 0x44;
  assert.is(parse("ipv4", ihl4), MALFORMED);
  const v6 = Uint8Array.from(IP4);
  v6[0] = 0x65;
  assert.is(parse("ipv4", v6), MALFORMED);
  const shortTotal = Uint8Array.from(IP4);
  shortTotal[3] = 19;
  assert.is(parse("ipv4", shortTotal), MALFORMED);
});

test("IPv6: fields and round trip", () => {
  roundTrip("ipv6", IP6);
  assert.equal([r8(32), r8(33), r8(34), r32(36), r16(40)], [6, 64, 0, 0, 0x25]);
  const tc = hex("6fabcdef 0000 3a01 " + "00".repeat(32));
  roundTrip("ipv6", tc);
  assert.equal([r8(34), r32(36)], [0xfa, 0xbcdef]);
  assert.is(parse("ipv6", IP6, 39), TRUNCATED);
});

test("ICMP echo: fields, round trip, checksum fill", () => {
  roundTrip("icmp", ICMP_ECHO.subarray(0, 8));
  assert.equal([r8(0), r8(1), r16(2), r32(4)], [8, 0, 0x5435, 0x12340001]);
  core.u8.set(ICMP_ECHO, OUT);
  core.u8[OUT + 2] = 0xee;
  assert.is(fn("icmpChecksumFill")(OUT, ICMP_ECHO.length), 0x5435);
  assert.equal(Array.from(core.u8.subarray(OUT, OUT + 16)), Array.from(ICMP_ECHO));
});

test("UDP: fields, round trip, length below 8 is malformed", () => {
  roundTrip("udp", UDP);
  assert.equal([r16(0), r16(2), r16(4), r16(6)], [54321, 53, 37, 0xdf47]);
  assert.is(parse("udp", hex("d431 0035 0007 0000")), MALFORMED);
  assert.is(parse("udp", UDP, 7), TRUNCATED);
});

test("TCP: Linux SYN, data, SACK and no-timestamp SYN option layouts round trip", () => {
  roundTrip("tcp", TCP_SYN);
  assert.equal(
    [r16(0), r16(2), r32(4), r32(8), r16(12), r16(14), r16(16), r8(20)],
    [45694, 80, 0x4b1d6f64, 0, 2, 64240, 0x917b, 40],
  );
  assert.equal([r8(21), r16(22), r8(24), r32(28), r32(32)], [1 | 2 | 4 | 8, 1460, 7, 0x1d6b1bd6, 0]);
  roundTrip("tcp", TCP_DATA);
  assert.equal([r8(21), r32(28), r32(32)], [8, 1, 2]);
  roundTrip("tcp", TCP_SACK);
  assert.equal([r8(21), r8(25), r32(36), r32(40)], [8 | 16, 1, 0x3000, 0x4000]);
  roundTrip("tcp", TCP_SYN_NOTS);
  assert.equal([r8(21), r16(22), r8(24)], [1 | 2 | 4, 1400, 8]);
  assert.is(fn("tcpBufferLen")(REPR), 32);
});

test("TCP: emit from a repr built by hand (four SACK blocks, no timestamps)", () => {
  core.u8.fill(0, REPR, REPR + 128);
  dv.setUint16(REPR + 0, 80, true);
  dv.setUint16(REPR + 2, 1234, true);
  dv.setUint32(REPR + 4, 0xfffffff0, true);
  dv.setUint32(REPR + 8, 7, true);
  dv.setUint16(REPR + 12, 0x10, true);
  dv.setUint16(REPR + 14, 512, true);
  core.u8[REPR + 21] = 16;
  core.u8[REPR + 25] = 4;
  for (let i = 0; i < 8; i++) dv.setUint32(REPR + 36 + 4 * i, 1000 * (i + 1), true);
  const [n, out] = emit("tcp");
  assert.is(n, 20 + 4 + 32);
  assert.equal(Array.from(out.subarray(12, 14)), [0xe0, 0x10], "data offset 14 words, ACK");
  assert.equal(Array.from(out.subarray(20, 24)), [1, 1, 5, 34]);
  assert.equal(Array.from(out.subarray(24, 28)), [0, 0, 0x03, 0xe8]);
  // Re-parse what was emitted: the same blocks come back.
  core.u8.set(out.subarray(0, n), BUF);
  assert.is(fn("tcpParse")(BUF, n, REPR + 128), n);
  assert.equal([core.u8[REPR + 128 + 25], dv.getUint32(REPR + 128 + 36 + 28, true)], [4, 8000]);
  // With timestamps as well, four blocks do not fit in 40 option bytes (RFC 2018 §3).
  core.u8[REPR + 21] = 16 | 8;
  assert.is(fn("tcpEmit")(REPR, OUT, 1500), MALFORMED);
});

/** Parses only an option area; returns [understood, has, badopt, unknown]. */
function opts(o: Uint8Array): number[] {
  core.u8.fill(0xa5, BUF, BUF + 128);
  core.u8.set(o, BUF);
  core.u8.fill(0, REPR, REPR + 128);
  const n = fn("tcpOptionsParse")(BUF, o.length, REPR);
  return [n, r8(21), r8(27), r8(26)];
}

test("TCP options: zero and one length, overruns, EOL, unknown kinds, wrong lengths, empty SACK", () => {
  assert.equal(opts(hex("fe00 020405b4")), [0, 0, 1, 0], "length 0 stops the loop");
  assert.equal(opts(hex("fe01 020405b4")), [0, 0, 1, 0], "length 1 stops the loop");
  assert.equal(opts(hex("02")), [0, 0, 1, 0], "kind without its length byte");
  assert.equal(opts(hex("0101 080a 0000")), [0, 0, 1, 0], "length past the area");
  assert.equal(opts(hex("00 020405b4 000000")), [0, 0, 0, 0], "nothing after EOL");
  assert.equal(opts(hex("fe06 f989 1234 020405b4")), [1, 1, 0, 1], "unknown kind skipped by length");
  assert.equal(opts(hex("0203 05 0101 01")), [0, 0, 0, 1], "MSS with length 3 is skipped");
  assert.equal(opts(hex("0502 0101 080a 00000009 0000000a")), [1, 8, 0, 1], "empty SACK ignored, TS kept");
  assert.equal(opts(new Uint8Array(40).fill(1)), [0, 0, 0, 0], "40 NOPs");
  assert.equal(opts(new Uint8Array(0)), [0, 0, 0, 0]);
  assert.equal(opts(hex("0301 0e")), [0, 0, 1, 0]);
  // Every byte value in every position of a short area terminates.
  for (let v = 0; v < 256; v++)
    for (let pos = 0; pos < 4; pos++) {
      const o = hex("01010101");
      o[pos] = v;
      opts(o);
    }
});

test("TCP header: truncation and bogus data offset", () => {
  assert.is(parse("tcp", TCP_SYN, 19), TRUNCATED);
  assert.is(parse("tcp", TCP_SYN, 39), TRUNCATED, "options cut short");
  const low = Uint8Array.from(TCP_DATA);
  low[12] = 0x40;
  assert.is(parse("tcp", low), MALFORMED);
});

// The stack sends its Ethernet, IPv4, IPv6 and RST headers through fixed-field
// emitters (no Repr to fill per segment): they must write exactly the bytes the
// Repr path parses back and re-emits.
test("the stack's plain emitters: known answers, and each parses and re-emits to the same bytes", () => {
  const put = (b: Uint8Array) => {
    core.u8.set(b, BUF + 0x8000);
    return BUF + 0x8000;
  };
  const out = (n: number) => Array.from(core.u8.subarray(OUT, OUT + n));
  // Ethernet
  core.u8.fill(0xa5, OUT, OUT + 64);
  fn("ethEmitPlainTest")(OUT, put(ETH.subarray(0, 6)), put2(ETH.subarray(6, 12)), 0x0800);
  assert.equal(out(14), Array.from(ETH));
  assert.is(core.u8[OUT + 14], 0xa5, "nothing past the header");
  // IPv4: the stack's header (DF, no options) with the ident, TTL, protocol and addresses of IP4
  core.u8.fill(0xa5, OUT, OUT + 64);
  fn("ipv4EmitPlainTest")(OUT, 40, 0x8e32, 64, 6, put(IP4.subarray(12, 16)), put2(IP4.subarray(16, 20)), 1);
  assert.equal(out(20), Array.from(IP4));
  assert.is(core.u8[OUT + 20], 0xa5);
  roundTrip("ipv4", Uint8Array.from(out(20)));
  fn("ipv4EmitPlainTest")(OUT, 40, 0x8e32, 64, 6, put(IP4.subarray(12, 16)), put2(IP4.subarray(16, 20)), 0);
  assert.equal(
    out(12),
    Array.from(IP4.subarray(0, 12)).map((x, i) => (i === 10 || i === 11 ? 0 : x)),
    "checksum left 0 when not asked",
  );
  // IPv6
  core.u8.fill(0xa5, OUT, OUT + 64);
  fn("ipv6EmitPlainTest")(OUT, 0x25, 6, 64, put(IP6.subarray(8, 24)), put2(IP6.subarray(24, 40)));
  assert.equal(out(40), Array.from(IP6));
  assert.is(core.u8[OUT + 40], 0xa5);
  // TCP RST+ACK, no options, window 0
  const RST = hex("0050 c350 00000001 00000002 5014 0000 0000 0000");
  core.u8.fill(0xa5, OUT, OUT + 64);
  fn("tcpEmitPlainTest")(OUT, 0x50, 0xc350, 1, 2, 0x14, 0);
  assert.equal(out(20), Array.from(RST));
  assert.is(core.u8[OUT + 20], 0xa5);
  roundTrip("tcp", RST);
  assert.equal([r16(0), r16(2), r32(4), r32(8), r16(12), r16(14)], [0x50, 0xc350, 1, 2, 0x14, 0]);
});

/** A second scratch copy (the first may still be in use as another argument). */
function put2(b: Uint8Array): number {
  core.u8.set(b, BUF + 0x9000);
  return BUF + 0x9000;
}

test.run();
