// host/measure/tap-reflect-js.ts's turn-around, the TypeScript twin of
// native/tap-reflect.c, on frames built here (host/io/frames.ts): what it answers
// and with which checksums. (Over a real tap, in both modes: test/measure/tap-natives.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { reflect } from "../../host/measure/tap-reflect-js.ts";
import { arp, checksum, eth, icmpEcho, ip4, ipv4, pseudo, udp } from "../../host/io/frames.ts";

const OURS = Buffer.from([0x02, 0x00, 0xc6, 0x12, 0x04, 0x02]);
const PEER = Buffer.from([0x02, 0x00, 0xc6, 0x12, 0x04, 0x01]);
const A = ip4("198.18.4.1");
const B = ip4("198.18.4.2");

/** reflect() on a copy of the frame in a buffer of the size the reflector reads into. */
function turn(frame: Buffer): { n: number; f: Buffer } {
  const f = Buffer.alloc(2048);
  frame.copy(f);
  const n = reflect(f, frame.length);
  return { n, f: f.subarray(0, n) };
}

test("ARP request: a reply from our MAC with the address asked for, to the asker", () => {
  const { n, f } = turn(eth(Buffer.alloc(6, 0xff), PEER, 0x0806, arp(1, PEER, A, Buffer.alloc(6), B)));
  assert.is(n, 42);
  assert.ok(f.subarray(0, 6).equals(PEER) && f.subarray(6, 12).equals(OURS), "MACs");
  const a = f.subarray(14);
  assert.is(a.readUInt16BE(6), 2, "op: reply");
  assert.ok(
    a.subarray(8, 14).equals(OURS) && a.subarray(14, 18).equals(B),
    "sender: us, the address asked for",
  );
  assert.ok(a.subarray(18, 24).equals(PEER) && a.subarray(24, 28).equals(A), "target: the asker");
  assert.is(
    turn(eth(Buffer.alloc(6, 0xff), PEER, 0x0806, arp(2, PEER, A, OURS, B))).n,
    0,
    "a reply is not answered",
  );
});

test("ICMP echo request: a reply with the addresses swapped and valid checksums, also when id, seq and data are all zero", () => {
  for (const [id, seq, data] of [
    [0x1234, 7, Buffer.from("reflected payload")],
    [0, 0, Buffer.alloc(0)],
    [0, 0, Buffer.alloc(22)],
  ] as const) {
    const { n, f } = turn(eth(OURS, PEER, 0x0800, ipv4(A, B, 1, icmpEcho(id, seq, data))));
    assert.is(n, 14 + 20 + 8 + data.length);
    const ip = f.subarray(14, 34);
    assert.is(checksum(ip), 0, "IPv4 header checksum");
    assert.ok(ip.subarray(12, 16).equals(B) && ip.subarray(16, 20).equals(A), "addresses swapped");
    const icmp = f.subarray(34);
    assert.is(icmp[0], 0, "echo reply");
    assert.is(checksum(icmp), 0, `ICMP checksum, id ${id} and ${data.length} B of data`);
    assert.is(icmp.readUInt16BE(4), id);
  }
});

test("UDP: addresses and ports swapped, checksum still valid; anything else dropped", () => {
  const { n, f } = turn(eth(OURS, PEER, 0x0800, ipv4(A, B, 17, udp(A, B, 40000, 7, Buffer.from("hi")))));
  assert.is(n, 14 + 20 + 8 + 2);
  const u = f.subarray(34);
  assert.is(u.readUInt16BE(0), 7);
  assert.is(u.readUInt16BE(2), 40000);
  assert.is(checksum(u, pseudo(B, A, 17, u.length)), 0, "UDP checksum");
  assert.is(turn(eth(OURS, PEER, 0x86dd, Buffer.alloc(40))).n, 0, "IPv6");
  assert.is(
    turn(eth(OURS, PEER, 0x0800, ipv4(A, B, 1, icmpEcho(1, 1, Buffer.alloc(4), 0)))).n,
    0,
    "an echo reply",
  );
  assert.is(turn(Buffer.alloc(10)).n, 0, "a runt");
});

test.run();
