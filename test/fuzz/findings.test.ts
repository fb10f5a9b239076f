// Regression tests for what the fuzzer found, one per finding, each reduced to
// the frames that show it (see docs/design/fuzz.md, "Findings").
import { test } from "uvu";
import * as assert from "uvu/assert";
import { APP_ID } from "../../host/core/abi.gen.ts";
import { testHooks } from "../../host/core/core.ts";
import {
  ACK,
  BROADCAST,
  MAC_A,
  MAC_B,
  PSH,
  SYN,
  eth,
  icmpEcho,
  withChecksum,
  ip4,
  ip6,
  ipv4,
  ipv6,
  tcp,
  udp,
} from "../helpers/frames.ts";
import { TestStack } from "../helpers/stack.ts";

const A = ip4("198.18.0.1");
const B = ip4("198.18.0.2");
const ECHO = { tcbs: 16, app: APP_ID.echo, appBytes: 1 << 20, appPort: 7, spans: 256, timers: 32 };
const MULTICAST = Buffer.from("e38945000511", "hex"); // group bit set

for (const [name, dmac] of [
  ["broadcast", BROADCAST],
  ["multicast", MULTICAST],
] as const) {
  // IEEE 802 source addresses are individual addresses: a reply must come from
  // the core's own MAC even when the request was sent to a group address.
  test(`${name}-addressed SYN: the SYN-ACK's source MAC is the core's`, () => {
    const s = new TestStack(ECHO);
    const out = s.send(
      eth(dmac, MAC_A, 0x0800, ipv4(A, B, 6, tcp(A, B, { sport: 40000, dport: 7, seq: 1, flags: SYN }))),
    );
    assert.is(out.length, 1);
    assert.is(out[0][47], SYN | ACK);
    assert.is(out[0].subarray(6, 12).toString("hex"), MAC_B.toString("hex"));
  });

  test(`${name}-addressed segment to a closed port: the RST's source MAC is the core's`, () => {
    const s = new TestStack(ECHO);
    const out = s.send(
      eth(dmac, MAC_A, 0x0800, ipv4(A, B, 6, tcp(A, B, { sport: 40000, dport: 9, seq: 1, flags: SYN }))),
    );
    assert.is(out.length, 1);
    assert.is(out[0].subarray(6, 12).toString("hex"), MAC_B.toString("hex"));
  });

  test(`${name}-addressed UDP echo: the reply's source MAC is the core's`, () => {
    const s = new TestStack(ECHO);
    const out = s.send(eth(dmac, MAC_A, 0x0800, ipv4(A, B, 17, udp(A, B, 40000, 7, Buffer.from("hi")))));
    assert.is(out.length, 1);
    assert.is(out[0].subarray(6, 12).toString("hex"), MAC_B.toString("hex"));
  });
}

// The echo app copied only the 40-byte flow key of the 64-byte datagram address
// record, so the payload overwrote the MACs the reply is sent with.
test("UDP echo: the reply goes to the sender's MAC from the core's MAC, whatever the payload", () => {
  const s = new TestStack(ECHO);
  const payload = Buffer.from("0123456789abcdef0123456789");
  const out = s.send(eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 17, udp(A, B, 40000, 7, payload))));
  assert.is(out.length, 1);
  assert.is(out[0].subarray(0, 6).toString("hex"), MAC_A.toString("hex"), "destination MAC");
  assert.is(out[0].subarray(6, 12).toString("hex"), MAC_B.toString("hex"), "source MAC");
  assert.is(out[0].subarray(42).toString(), payload.toString());
});

// RFC 9293 §3.7.1: the data of a segment shrinks by the options it carries, and
// never exceeds what the local link carries (MMS_S). The core filled full-MSS
// segments and then added SACK blocks (IPv4 frame of 1526 bytes), and sent the
// peer's MSS over IPv6 without its own IPv6 limit (IPv6 packets of 1540 bytes).
for (const v6 of [false, true]) {
  test(`IPv${v6 ? 6 : 4} echo of 2800 bytes with SACK blocks pending: no IP packet above 1500 bytes`, () => {
    const s = new TestStack({
      ...ECHO,
      ipv6_0: 0xb80d0120, // 2001:db8::2, words little-endian
      ipv6_1: 0,
      ipv6_2: 0,
      ipv6_3: 0x02000000,
    });
    const [src, dst] = v6 ? [ip6("2001:db8::1"), ip6("2001:db8::2")] : [A, B];
    const frame = (seq: number, ack: number, flags: number, data?: Buffer, options?: Buffer) => {
      const t = tcp(src, dst, { sport: 40000, dport: 7, seq, ack, flags, data, options });
      return v6
        ? eth(MAC_B, MAC_A, 0x86dd, ipv6(src, dst, 6, t))
        : eth(MAC_B, MAC_A, 0x0800, ipv4(src, dst, 6, t));
    };
    const synOpts = Buffer.from([2, 4, 0x05, 0xb4, 4, 2, 1, 1]); // MSS 1460, SACK permitted
    const [synack] = s.send(frame(1000, 0, SYN, undefined, synOpts));
    const l4 = 14 + (v6 ? 40 : 20);
    const isn = synack.readUInt32BE(l4 + 4);
    s.nowNs += 1e6;
    s.send(frame(1001, isn + 1, ACK));
    s.nowNs += 1e6;
    // An out-of-order segment far ahead: the core holds it and SACKs it from now on.
    s.send(frame(1001 + 10000, isn + 1, ACK | PSH, Buffer.alloc(100, 1)));
    s.nowNs += 1e6;
    const out = s.send(
      frame(1001, isn + 1, ACK | PSH, Buffer.alloc(1400, 2)),
      frame(2401, isn + 1, ACK | PSH, Buffer.alloc(1400, 3)),
    );
    const data = out.filter((f) => f.length > 100);
    assert.ok(data.length >= 2, `echoed in ${data.length} segments`);
    for (const f of data) {
      const ipLen = v6 ? 40 + f.readUInt16BE(18) : f.readUInt16BE(16);
      assert.ok(ipLen <= 1500, `IP packet of ${ipLen} bytes`);
    }
    const sacked = data.some(
      (f) => (f[l4 + 12] >> 4) * 4 > 20 && f.subarray(l4 + 20, l4 + (f[l4 + 12] >> 4) * 4).includes(5),
    );
    assert.ok(sacked, "segments carry SACK blocks");
  });
}

// establish() wrote back the flags it read before halfOpenRemove(), so every
// passive connection kept TF_HALFOPEN once ESTABLISHED, and its destruction took
// it off the half-open list a second time: the count went below zero and the
// list's ends were rewritten from the send cursor the links share words with.
test("half-open count: 1 after a SYN, 0 once established, still 0 after the reset", () => {
  const s = new TestStack(ECHO);
  const halfOpen = () => testHooks(s.core).tcpTestStat(1) >>> 0;
  const seg = (seq: number, ack: number, flags: number) =>
    eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 6, tcp(A, B, { sport: 40001, dport: 7, seq, ack, flags })));
  const [synack] = s.send(seg(5000, 0, SYN));
  assert.is(halfOpen(), 1);
  const isn = synack.readUInt32BE(38);
  s.nowNs += 1e6;
  s.send(seg(5001, isn + 1, ACK));
  assert.is(halfOpen(), 0, "established");
  s.nowNs += 1e6;
  s.send(seg(5001, 0, 4 /* RST */));
  assert.is(testHooks(s.core).tcpTestStat(0), 0, "TCB freed");
  assert.is(halfOpen(), 0, "after the reset");
});

// ICMPv6 belongs to IPv6 and ICMP to IPv4: an IPv4 packet of protocol 58 was
// answered with an IPv6 echo reply from "198.18.0.2::" (the IPv4 addresses read as
// 16-byte ones), and an IPv6 packet of next header 1 the other way round.
test("ICMPv6 echo request inside IPv4 (protocol 58): no reply", () => {
  const s = new TestStack(ECHO);
  const req = withChecksum(icmpEcho(1, 1, Buffer.from("ping"), 128), A, B, 58, 2);
  assert.is(s.send(eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 58, req))).length, 0);
});

test("ICMP echo request inside IPv6 (next header 1): no reply", () => {
  const s = new TestStack({ ...ECHO, ipv6_0: 0xb80d0120, ipv6_1: 0, ipv6_2: 0, ipv6_3: 0x02000000 });
  const [src, dst] = [ip6("2001:db8::1"), ip6("2001:db8::2")];
  assert.is(
    s.send(eth(MAC_B, MAC_A, 0x86dd, ipv6(src, dst, 1, icmpEcho(1, 1, Buffer.from("ping"))))).length,
    0,
  );
});

test.run();
