// Known answers for every flag the reader and the decoder report through `dump`
// and `inspect`: ts_invalid (pcap-savefile(5): the fraction is below 10^6 in a
// µs file, below 10^9 in an ns file), no timestamp (pcapng simple packet block),
// not_packet (pcapng custom block), truncated, frag, no IP header (non-IP, unknown
// link type), and ports read after IPv4 options (RFC 791 §3.1: IHL counts them).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { dump, type DumpRecord } from "../../host/inspect/dump.ts";
import { inspect } from "../../host/inspect/inspect.ts";
import { readJsonl } from "../helpers/compare.ts";
import { ACK, MAC_A, MAC_B, PSH, arp, eth, ip4, ipv4, tcp, udp } from "../helpers/frames.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("dump-flags");
const A = ip4("198.18.0.1");
const B = ip4("198.18.0.2");

const tcpFrame = (o: { options?: Buffer; frag?: number } = {}) =>
  eth(
    MAC_B,
    MAC_A,
    0x0800,
    ipv4(
      A,
      B,
      6,
      tcp(A, B, {
        sport: 40000,
        dport: 80,
        seq: 1234,
        ack: 99,
        flags: ACK | PSH,
        data: Buffer.from("hello"),
      }),
      o,
    ),
  );
const udpFrame = (o: { options?: Buffer } = {}) =>
  eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 17, udp(A, B, 5353, 53, Buffer.from("query")), o));

/** Classic pcap, little-endian; nano: the ns magic. Records: [sec, fraction, frame, caplen?]. */
function pcap(name: string, nano: boolean, recs: [number, number, Buffer, number?][], linktype = 1): string {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(linktype, 20);
  const parts: Buffer[] = [h];
  for (const [sec, frac, data, caplen = data.length] of recs) {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(sec, 0);
    r.writeUInt32LE(frac, 4);
    r.writeUInt32LE(caplen, 8);
    r.writeUInt32LE(data.length, 12);
    parts.push(r, data.subarray(0, caplen));
  }
  const p = join(tmp, name);
  writeFileSync(p, Buffer.concat(parts));
  return p;
}

function dumpRecords(path: string): DumpRecord[] {
  let text = "";
  dump(path, { jsonl: true, out: (s) => (text += s) });
  return readJsonl<DumpRecord>(text);
}

/** The flags dump sets only when true (absent otherwise). */
const flagsOf = (r: DumpRecord) => [r.ts_invalid ?? false, r.truncated ?? false, r.not_packet ?? false];

test("ns pcap: a fraction of 999999999 is valid, 10^9 and above are ts_invalid", () => {
  const f = tcpFrame();
  const recs = dumpRecords(
    pcap("ns.pcap", true, [
      [5, 0, f],
      [5, 999999999, f],
      [5, 1000000000, f],
      [5, 0xffffffff, f],
    ]),
  );
  assert.equal(
    recs.map((r) => [r.ts, r.ts_invalid ?? false]),
    [
      ["5.000000000", false],
      ["5.999999999", false],
      [recs[2].ts, true],
      [recs[3].ts, true],
    ],
  );
  // An invalid record's fraction is not carried into the seconds (printed as tshark does).
  assert.ok(recs[2].ts!.startsWith("5."), recs[2].ts!);
  const r = inspect(join(tmp, "ns.pcap"));
  assert.is(r.format, "pcap-ns-le");
  assert.is(r.packets, 4);
});

test("µs pcap: a fraction of 999999 is valid, 10^6 is ts_invalid", () => {
  const f = tcpFrame();
  const recs = dumpRecords(
    pcap("us.pcap", false, [
      [7, 999999, f],
      [7, 1000000, f],
    ]),
  );
  assert.equal(
    recs.map((r) => [r.ts, r.ts_invalid ?? false]),
    [
      ["7.999999000", false],
      [recs[1].ts, true],
    ],
  );
});

test("truncated: a record cut inside the TCP header keeps the addresses and is flagged; the whole one is not", () => {
  const f = tcpFrame();
  const recs = dumpRecords(
    pcap("cut.pcap", false, [
      [1, 0, f],
      [1, 1, f, 14 + 20 + 10],
      [1, 2, f, 14 + 10],
    ]),
  );
  assert.equal(recs.map(flagsOf), [
    [false, false, false],
    [false, true, false],
    [false, true, false],
  ]);
  assert.equal(
    [recs[0].caplen, recs[0].len, recs[0].sport, recs[0].dport, recs[0].seq, recs[0].payload],
    [f.length, f.length, 40000, 80, 1234, 5],
  );
  assert.equal([recs[1].caplen, recs[1].len], [44, f.length]);
  assert.equal([recs[1].src, recs[1].dst, recs[1].proto], ["198.18.0.1", "198.18.0.2", 6]);
  assert.is(recs[2].src, null, "cut inside the IP header: no addresses");
  assert.is(inspect(join(tmp, "cut.pcap")).truncated, 2);
});

test("frag, non-IP and an unknown link type: flagged or without an IP header", () => {
  const frag = tcpFrame({ frag: 0x2000 }); // MF: the first fragment
  const a = eth(MAC_B, MAC_A, 0x0806, arp(1, MAC_A, A, Buffer.alloc(6), B));
  const recs = dumpRecords(
    pcap("misc.pcap", false, [
      [1, 0, frag],
      [1, 1, a],
    ]),
  );
  assert.is(recs[0].frag, true);
  assert.equal([recs[0].src, recs[0].proto], ["198.18.0.1", 6]);
  assert.is(recs[1].frag, false);
  assert.equal([recs[1].src, recs[1].proto, recs[1].truncated ?? false], [null, null, false]);
  const r = inspect(join(tmp, "misc.pcap"));
  assert.equal([r.fragments, r.non_ip], [1, 1]);
  const unk = dumpRecords(pcap("unknown-link.pcap", false, [[1, 0, tcpFrame().subarray(14)]], 147));
  assert.equal([unk[0].src, unk[0].proto], [null, null]);
  assert.is(inspect(join(tmp, "unknown-link.pcap")).unknown_link, 1);
});

// pcapng blocks (the reader's own framing).
function ngBlock(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  b.writeUInt32LE(total, total - 4);
  return b;
}
const pad4 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);

test("pcapng: a simple packet block has no timestamp; a custom block is not_packet, numbered like tshark's frames", () => {
  const f = udpFrame();
  const shb = ngBlock(0x0a0d0d0a, Buffer.from("4d3c2b1a01000000ffffffffffffffff", "hex"));
  const idbBody = Buffer.alloc(8);
  idbBody.writeUInt16LE(1, 0);
  const idb = ngBlock(1, idbBody);
  const epbHead = Buffer.alloc(20);
  epbHead.writeUInt32LE(0, 0);
  epbHead.writeUInt32LE(0, 4);
  epbHead.writeUInt32LE(3000000, 8); // 3 s at the default µs resolution
  epbHead.writeUInt32LE(f.length, 12);
  epbHead.writeUInt32LE(f.length, 16);
  const epb = ngBlock(6, Buffer.concat([epbHead, pad4(f)]));
  const spbHead = Buffer.alloc(4);
  spbHead.writeUInt32LE(f.length, 0);
  const spb = ngBlock(3, Buffer.concat([spbHead, pad4(f)]));
  const custom = ngBlock(0xbad, Buffer.from("\x00\x00\x00\x00abcd", "latin1")); // PEN 0, then data
  const p = join(tmp, "blocks.pcapng");
  writeFileSync(p, Buffer.concat([shb, idb, epb, custom, spb]));
  const recs = dumpRecords(p);
  assert.equal(
    recs.map((r) => [r.n, r.ts, ...flagsOf(r)]),
    [
      [1, "3.000000000", false, false, false],
      [2, null, false, false, true],
      [3, null, false, false, false],
    ],
  );
  assert.equal([recs[2].sport, recs[2].dport], [5353, 53], "the simple block's frame is decoded");
  const r = inspect(p);
  assert.equal([r.packets, r.not_packets, r.udp], [3, 1, 2]);
});

test("IPv4 options before TCP and UDP: dump reads the ports after them, inspect counts them", () => {
  const ra = Buffer.from([0x94, 4, 0, 0]); // Router Alert (RFC 2113): IHL 6
  const long = Buffer.from([1, 1, 0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0]); // IHL 10
  const frames = [
    tcpFrame(),
    tcpFrame({ options: ra }),
    tcpFrame({ options: long }),
    udpFrame({ options: long }),
  ];
  assert.equal(
    frames.map((f) => f[14] & 15),
    [5, 6, 10, 10],
  );
  const recs = dumpRecords(
    pcap(
      "options.pcap",
      false,
      frames.map((f, i) => [1, i, f]),
    ),
  );
  assert.equal(
    recs.map((r) => [r.proto, r.sport, r.dport, r.seq, r.payload]),
    [
      [6, 40000, 80, 1234, 5],
      [6, 40000, 80, 1234, 5],
      [6, 40000, 80, 1234, 5],
      [17, 5353, 53, null, 5],
    ],
  );
  const r = inspect(join(tmp, "options.pcap"));
  assert.equal([r.tcp, r.udp, r.tcp_flows], [3, 1, 1]);
});

test.run();
