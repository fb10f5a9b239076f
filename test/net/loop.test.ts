// The run-to-completion loop with a real app: crafted client segments in, the
// echo server's segments out, each command executed exactly once.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { APP_ID } from "../../host/core/abi.gen.ts";
import { ACK, FIN, MAC_A, MAC_B, PSH, SYN, eth, ip4, ipv4, tcp, type TcpSeg } from "../helpers/frames.ts";
import { TestStack } from "../helpers/stack.ts";

const A = ip4("198.18.0.1");
const B = ip4("198.18.0.2");
const ECHO = { tcbs: 64, app: APP_ID.echo, appBytes: 1 << 20, appPort: 7, spans: 1024, timers: 64 };

function seg(o: Omit<TcpSeg, "sport" | "dport">): Buffer {
  return eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 6, tcp(A, B, { sport: 40000, dport: 7, ...o })));
}
function parse(f: Buffer) {
  return {
    flags: f[47],
    seq: f.readUInt32BE(38),
    ack: f.readUInt32BE(42),
    data: f.subarray(14 + 20 + ((f[46] >> 4) << 2)),
  };
}

test("echo through the loop: handshake, one echo per request, FIN handshake, mbufs back", () => {
  const s = new TestStack(ECHO);
  const free0 = s.freeMbufs();
  const synack = s.send(seg({ seq: 1000, flags: SYN })).map(parse);
  assert.is(synack.length, 1);
  assert.is(synack[0].flags, SYN | ACK);
  assert.is(synack[0].ack, 1001);
  const isn = synack[0].seq;
  s.nowNs += 1e6;
  assert.is(s.send(seg({ seq: 1001, ack: isn + 1, flags: ACK })).length, 0);
  s.nowNs += 1e6;
  const echo = s
    .send(seg({ seq: 1001, ack: isn + 1, flags: ACK | PSH, data: Buffer.from("hello ixwasm") }))
    .map(parse);
  assert.is(echo.length, 1);
  assert.is(echo[0].data.toString(), "hello ixwasm");
  assert.is(echo[0].seq, isn + 1);
  assert.is(echo[0].ack, 1013);
  // Idle polls must not repeat anything (each command runs once).
  for (let i = 0; i < 5; i++) {
    s.nowNs += 1e6;
    s.poll(s.nowNs);
    assert.is(s.drain().length, 0, `idle poll ${i} sent nothing`);
  }
  s.nowNs += 1e6;
  s.send(seg({ seq: 1013, ack: isn + 13, flags: ACK }));
  // Client closes; the echo server closes after everything is echoed and acknowledged.
  s.nowNs += 1e6;
  const fin = s.send(seg({ seq: 1013, ack: isn + 13, flags: FIN | ACK })).map(parse);
  for (let i = 0; i < 3 && !fin.some((f) => f.flags & FIN); i++) {
    s.nowNs += 1e6;
    s.poll(s.nowNs);
    fin.push(...s.drain().map(parse));
  }
  const theirFin = fin.find((f) => f.flags & FIN);
  assert.ok(theirFin, "server sent FIN");
  assert.is(theirFin!.ack, 1014, "our FIN acknowledged");
  s.nowNs += 1e6;
  s.send(seg({ seq: 1014, ack: theirFin!.seq + 1, flags: ACK }));
  s.nowNs += 1e9;
  s.poll(s.nowNs);
  s.drain();
  s.poll(s.nowNs);
  assert.is(s.freeMbufs(), free0, "every mbuf back in the pool");
  assert.is(
    s.counters().tx_frames,
    3 + (fin.length > 1 ? 1 : 0),
    "SYN-ACK, echo, FIN (+ a separate ACK of our FIN)",
  );
});

test.run();
