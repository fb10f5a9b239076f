// Regression tests for what the fuzzer found, one per finding, each reduced to
// the frames that show it (see host/fuzz/README.md, "Findings").
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ACK, BROADCAST, MAC_A, MAC_B, SYN, eth, ip4, ipv4, tcp, udp } from "../helpers/frames.ts";
import { TestStack } from "../helpers/stack.ts";

const A = ip4("198.18.0.1");
const B = ip4("198.18.0.2");
const ECHO = { tcbs: 16, app: 1, appBytes: 1 << 20, appPort: 7, spans: 256, timers: 32 };
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

test.run();
