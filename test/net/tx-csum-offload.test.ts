// CFG_F_TX_CSUM_OFFLOAD (assembly/net/iface.ts): sent frames keep zero IPv4
// header and TCP checksums (replay serve without --out); without the flag they
// carry checksums that verify (RFC 1071: the sum over the covered bytes is 0xffff).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { APP_ID, CFG_F_TX_CSUM_OFFLOAD } from "../../host/core/abi.gen.ts";
import { ACK, MAC_A, MAC_B, PSH, SYN, eth, ip4, ipv4, sum16, tcp, type TcpSeg } from "../helpers/frames.ts";
import { TestStack } from "../helpers/stack.ts";

const A = ip4("198.18.0.1");
const B = ip4("198.18.0.2");
const ECHO = { tcbs: 64, app: APP_ID.echo, appBytes: 1 << 20, appPort: 7, spans: 1024, timers: 64 };

function seg(o: Omit<TcpSeg, "sport" | "dport">): Buffer {
  return eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 6, tcp(A, B, { sport: 40000, dport: 7, ...o })));
}

/** The frames an echo server sends: SYN-ACK, then the echo of "hello". */
function echoFrames(flags: number): Buffer[] {
  const s = new TestStack({ ...ECHO, flags });
  const synack = s.send(seg({ seq: 1000, flags: SYN }));
  const isn = synack[0].readUInt32BE(38);
  s.nowNs += 1e6;
  s.send(seg({ seq: 1001, ack: isn + 1, flags: ACK }));
  s.nowNs += 1e6;
  const echo = s.send(seg({ seq: 1001, ack: isn + 1, flags: ACK | PSH, data: Buffer.from("hello") }));
  return [...synack, ...echo];
}

test("checksums filled and verifying by default", () => {
  const frames = echoFrames(0);
  assert.is(frames.length, 2);
  for (const f of frames) {
    const ip = f.subarray(14, 34);
    assert.is.not(ip.readUInt16BE(10), 0);
    assert.is(sum16(ip), 0xffff);
    const l4 = f.subarray(34, 14 + ip.readUInt16BE(2));
    assert.is.not(l4.readUInt16BE(16), 0);
    const pseudo = Buffer.concat([
      ip.subarray(12, 20),
      Buffer.from([0, 6, l4.length >> 8, l4.length & 0xff]),
    ]);
    assert.is(sum16(l4, sum16(pseudo)), 0xffff);
  }
  assert.is(frames[1].subarray(54).toString(), "hello");
});

test("offload: the same frames with zero checksums", () => {
  const on = echoFrames(CFG_F_TX_CSUM_OFFLOAD);
  const off = echoFrames(0);
  assert.is(on.length, off.length);
  for (let i = 0; i < on.length; i++) {
    assert.is(on[i].readUInt16BE(24), 0); // IPv4 header checksum
    assert.is(on[i].readUInt16BE(50), 0); // TCP checksum
    // Every other byte alike.
    const b = Buffer.from(off[i]);
    for (const z of [24, 25, 50, 51]) b[z] = 0;
    assert.equal(on[i], b);
  }
  assert.is(on[1].subarray(54).toString(), "hello");
});

test.run();
