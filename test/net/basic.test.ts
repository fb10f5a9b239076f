import { test } from "uvu";
import * as assert from "uvu/assert";
import { APP_ID } from "../../host/core/abi.gen.ts";
import {
  BROADCAST,
  MAC_A,
  MAC_B,
  SYN,
  arp,
  checksum,
  eth,
  icmpEcho,
  ip4,
  ip6,
  ipv4,
  ipv6,
  pseudo,
  tcp,
  udp,
  withChecksum,
} from "../helpers/frames.ts";
import { STACK_CONFIG, TestStack } from "../helpers/stack.ts";

const A = ip4("198.18.0.1");
const B = ip4("198.18.0.2");

test("ARP request for our address is answered (RFC 826) and the sender learned", () => {
  const s = new TestStack();
  const out = s.send(eth(BROADCAST, MAC_A, 0x0806, arp(1, MAC_A, A, Buffer.alloc(6), B)));
  assert.is(out.length, 1);
  const r = out[0];
  assert.ok(r.subarray(0, 6).equals(MAC_A), "to the requester");
  assert.ok(r.subarray(6, 12).equals(MAC_B), "from us");
  assert.is(r.readUInt16BE(12), 0x0806);
  assert.is(r.readUInt16BE(14 + 6), 2, "reply");
  assert.ok(r.subarray(14 + 8, 14 + 14).equals(MAC_B), "sender hw = us");
  assert.ok(r.subarray(14 + 14, 14 + 18).equals(B), "sender ip = us");
  assert.ok(r.subarray(14 + 18, 14 + 24).equals(MAC_A));
  assert.ok(r.subarray(14 + 24, 14 + 28).equals(A));
  assert.is(s.counters().arp_replies, 1);
});

test("ARP request for another address: counted, not answered", () => {
  const s = new TestStack();
  const out = s.send(eth(BROADCAST, MAC_A, 0x0806, arp(1, MAC_A, A, Buffer.alloc(6), ip4("198.18.0.77"))));
  assert.is(out.length, 0);
  assert.is(s.counters().not_for_us, 1);
});

test("ICMP echo request gets an echo reply with the same id, seq, data and a valid checksum", () => {
  const s = new TestStack();
  const data = Buffer.from("ixwasm ping payload 0123456789");
  const out = s.send(eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 1, icmpEcho(0x1234, 7, data))));
  assert.is(out.length, 1);
  const r = out[0];
  assert.ok(r.subarray(0, 6).equals(MAC_A));
  const ip = r.subarray(14, 34);
  assert.is(checksum(ip), 0, "IPv4 header checksum");
  assert.ok(ip.subarray(12, 16).equals(B) && ip.subarray(16, 20).equals(A));
  const icmp = r.subarray(34);
  assert.is(icmp[0], 0, "echo reply");
  assert.is(icmp.readUInt16BE(4), 0x1234);
  assert.is(icmp.readUInt16BE(6), 7);
  assert.ok(icmp.subarray(8).equals(data));
  assert.is(checksum(icmp), 0, "ICMP checksum");
  assert.is(s.counters().icmp_echo, 1);
});

test("ICMP echo with id 0, seq 0 and no data: the reply's checksum is 0xffff, which a folding receiver accepts (RFC 1624 §3: an update can give 0x0000)", () => {
  const s = new TestStack();
  for (const data of [Buffer.alloc(0), Buffer.alloc(22)]) {
    const out = s.send(eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 1, icmpEcho(0, 0, data))));
    assert.is(out.length, 1);
    const icmp = out[0].subarray(34);
    assert.is(icmp.readUInt16BE(2), 0xffff, `${data.length} B of data`);
    assert.is(checksum(icmp), 0, `${data.length} B of data: ICMP checksum`);
  }
});

test("ICMP echo reply turned around in place: a request with IPv4 options or a VLAN tag gets a plain 20-byte header, the same data", () => {
  // The reply is written into the request's own mbuf (net/icmp.ts): its headers
  // end where the request's did, so a longer request header leaves the reply
  // starting later in the buffer; nothing of the old headers may leak into it.
  const s = new TestStack();
  const data = Buffer.from("0123456789abcdef-in-place");
  const nops = Buffer.from([1, 1, 1, 1, 1, 1, 1, 0]); // 8 bytes: NOPs and an end of list (RFC 791 §3.1)
  const withOptions = eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 1, icmpEcho(0x4242, 9, data), { options: nops }));
  const tagged = Buffer.concat([
    withOptions.subarray(0, 12),
    Buffer.from([0x81, 0x00, 0x00, 0x05]), // 802.1Q, VLAN 5
    withOptions.subarray(12),
  ]);
  for (const [name, frame] of [
    ["IPv4 options", withOptions],
    ["VLAN tag and IPv4 options", tagged],
  ] as const) {
    const out = s.send(frame);
    assert.is(out.length, 1, name);
    const r = out[0];
    assert.is(r.length, 14 + 20 + 8 + data.length, `${name}: untagged, no options`);
    assert.is(r.readUInt16BE(12), 0x0800, name);
    const ip = r.subarray(14, 34);
    assert.is(ip[0], 0x45, `${name}: IHL 5`);
    assert.is(ip.readUInt16BE(2), 20 + 8 + data.length, `${name}: total length`);
    assert.is(checksum(ip), 0, `${name}: IPv4 header checksum`);
    assert.ok(ip.subarray(12, 16).equals(B) && ip.subarray(16, 20).equals(A), `${name}: addresses`);
    const icmp = r.subarray(34);
    assert.is(icmp[0], 0, `${name}: echo reply`);
    assert.is(icmp.readUInt16BE(4), 0x4242);
    assert.ok(icmp.subarray(8).equals(data), `${name}: data`);
    assert.is(checksum(icmp), 0, `${name}: ICMP checksum`);
  }
  assert.is(s.counters().icmp_echo, 2);
});

test("ICMPv6 echo request (RFC 4443 §4.1) gets an echo reply in place, with its pseudo-header checksum", () => {
  const s = new TestStack({ ipv6_0: 0xb80d0120, ipv6_1: 0, ipv6_2: 0, ipv6_3: 0x02000000 }); // 2001:db8::2
  const [src, dst] = [ip6("2001:db8::1"), ip6("2001:db8::2")];
  const data = Buffer.from("ixwasm ping6 payload");
  const req = withChecksum(icmpEcho(0x6666, 3, data, 128), src, dst, 58, 2);
  const out = s.send(eth(MAC_B, MAC_A, 0x86dd, ipv6(src, dst, 58, req)));
  assert.is(out.length, 1);
  const r = out[0];
  assert.is(r.length, 14 + 40 + req.length);
  assert.ok(r.subarray(22, 38).equals(dst) && r.subarray(38, 54).equals(src), "addresses turned around");
  const icmp = r.subarray(54);
  assert.is(icmp[0], 129, "echo reply");
  assert.is(icmp.readUInt16BE(4), 0x6666);
  assert.ok(icmp.subarray(8).equals(data));
  assert.is(checksum(icmp, pseudo(dst, src, 58, icmp.length)), 0, "ICMPv6 checksum with the pseudo-header");
  assert.is(s.counters().icmp_echo, 1);
});

test("bad IPv4 header checksum, fragment, wrong destination, runt: each dropped with its counter", () => {
  const s = new TestStack();
  const good = eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 1, icmpEcho(1, 1, Buffer.alloc(4))));
  const badSum = Buffer.from(good);
  badSum[14 + 10] ^= 0xff;
  const frag = eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 17, udp(A, B, 1, 2, Buffer.alloc(8)), { frag: 0x2000 }));
  const other = eth(MAC_B, MAC_A, 0x0800, ipv4(A, ip4("198.18.0.9"), 1, icmpEcho(1, 1, Buffer.alloc(4))));
  const runt = Buffer.alloc(10);
  const free0 = s.freeMbufs();
  assert.is(s.send(badSum, frag, other, runt).length, 0);
  const c = s.counters();
  assert.is(c.ip_bad_csum, 1);
  assert.is(c.fragments, 1);
  assert.is(c.not_for_us, 1);
  assert.is(c.runt, 1);
  assert.is(c.rx_frames, 4);
  assert.is(s.freeMbufs(), free0, "every dropped frame's mbuf is back (one posted per slot)");
});

test("bad TCP and UDP checksums on the normal input path: dropped and counted; good ones answered (RFC 9293 §3.10.7.4, RFC 768)", () => {
  // The echo app listens on TCP and UDP port 7, so a frame that got past the
  // checksum check would be answered (a SYN-ACK, an echo).
  const s = new TestStack({
    tcbs: 64,
    app: APP_ID.echo,
    appBytes: 1 << 20,
    appPort: 7,
    spans: 1024,
    timers: 64,
  });
  const syn = (sport: number) =>
    eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 6, tcp(A, B, { sport, dport: 7, seq: 1000, flags: SYN })));
  const dgram = (sport: number) =>
    eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 17, udp(A, B, sport, 7, Buffer.from("ping"))));
  // One bit of the transport header or payload changed after the checksum was computed (IP header untouched).
  const badSyn = syn(40001);
  badSyn[14 + 20 + 4] ^= 0x01; // sequence number
  const badDgram = dgram(40002);
  badDgram[badDgram.length - 1] ^= 0x01; // last payload byte
  const free0 = s.freeMbufs();
  assert.is(s.send(badSyn).length, 0, "no SYN-ACK to a SYN with a bad checksum");
  assert.is(s.counters().l4_bad_csum, 1);
  assert.is(s.send(badDgram).length, 0, "no echo of a datagram with a bad checksum");
  assert.is(s.counters().l4_bad_csum, 2);
  assert.is(s.freeMbufs(), free0, "both dropped frames' mbufs are back");
  const synack = s.send(syn(40003));
  assert.is(synack.length, 1, "a good SYN is answered");
  assert.is(synack[0][14 + 20 + 13], 0x12, "SYN-ACK");
  const echo = s.send(dgram(40004));
  assert.is(echo.length, 1, "a good datagram is echoed");
  assert.is(echo[0].subarray(echo[0].length - 4).toString(), "ping");
  // RFC 768: a zero UDP checksum over IPv4 means "not computed", and is accepted.
  const noSum = dgram(40005);
  noSum.writeUInt16BE(0, 14 + 20 + 6);
  assert.is(s.send(noSum).length, 1, "a datagram without a checksum is echoed");
  assert.is(s.counters().l4_bad_csum, 2, "good frames are not counted");
});

test("UDP to a port nobody listens on is counted and freed", () => {
  const s = new TestStack();
  const free0 = s.freeMbufs();
  assert.is(
    s.send(eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 17, udp(A, B, 5000, 9, Buffer.from("hi"))))).length,
    0,
  );
  assert.is(s.counters().udp_no_app, 1);
  assert.is(s.freeMbufs(), free0);
});

test("TX reclaim: after the host drains, mbufs come back on the next poll", () => {
  const s = new TestStack();
  const free0 = s.freeMbufs();
  for (let i = 0; i < 20; i++)
    s.send(eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 1, icmpEcho(1, i, Buffer.alloc(100)))));
  s.poll(0);
  assert.is(s.freeMbufs(), free0);
  assert.is(s.counters().tx_frames, 20);
  assert.is(STACK_CONFIG.mbufs, 1024);
});

test.run();
