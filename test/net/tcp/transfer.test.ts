// Bulk transfers between two cores through a seeded faulty link, verified byte
// for byte, then an orderly close on both sides, TIME-WAIT, and every mbuf,
// span and TCB back where it came from.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CMD, DEAD, EV, RET, ST, TCB, type TcpCore, type Event, rng } from "./harness.ts";
import { Pair, SERVER_IP } from "./link.ts";
import type { CoreConfig } from "../../../host/core/core.ts";

interface Result {
  pair: Pair;
  received: number;
  mismatches: number;
  deadA: number[];
  deadB: number[];
  steps: number;
  virtualS: number;
}

/** Client sends `size` bytes to the server, which checks them and releases them (RECV_DONE) at once or late. */
function transfer(
  size: number,
  cfg: Partial<CoreConfig>,
  faults: ConstructorParameters<typeof Pair>[1],
  holdEvery = 0,
): Result {
  const pair = new Pair({ appBytes: size + (1 << 16), ...cfg }, faults);
  const data = new Uint8Array(size);
  const r = rng(12345);
  for (let i = 0; i < size; i++) data[i] = (r() * 256) | 0;
  const { a, b } = pair;
  const src = a.put(0, data);
  b.listen(5000);
  const addr = a.put(size, SERVER_IP);
  const h = a.cmd(CMD.CONNECT, 0, 1, 4, addr, 5000);
  assert.ok(h >= 0);
  let offered = 0;
  let acked = 0;
  let received = 0;
  let mismatches = 0;
  let held = 0;
  let closedA = false;
  const deadA: number[] = [];
  const deadB: number[] = [];
  let recvCount = 0;
  const offer = () => {
    if (offered < size) {
      const n = a.send(h, src + offered, size - offered);
      assert.ok(n >= 0, `SENDV ${n}`);
      offered += n;
    }
    if (offered === size && acked === size && !closedA) {
      assert.is(a.cmd(CMD.CLOSE, h), RET.OK);
      closedA = true;
    }
  };
  const app = (c: TcpCore, ev: Event[]) => {
    for (const e of ev) {
      if (c === a) {
        if (e.kind === EV.CONNECTED) offer();
        else if (e.kind === EV.SENT) {
          acked += e.a;
          offer();
        } else if (e.kind === EV.DEAD) deadA.push(e.a);
        else if (e.kind === EV.RECV && e.b === 0) {
          /* server closed after us */
        }
      } else {
        if (e.kind === EV.KNOCK) assert.is(c.cmd(CMD.ACCEPT, e.handle, 9), RET.OK);
        else if (e.kind === EV.RECV) {
          if (e.b === 0) {
            assert.is(c.cmd(CMD.CLOSE, e.handle), RET.OK);
            continue;
          }
          const got = c.u8.subarray(e.a, e.a + e.b);
          for (let i = 0; i < e.b; i++) if (got[i] !== data[received + i]) mismatches++;
          received += e.b;
          held += e.b;
          recvCount++;
          // Release at once, or (holdEvery) keep a few segments to exercise the window.
          if (!holdEvery || recvCount % holdEvery === 0) {
            assert.is(c.cmd(CMD.RECV_DONE, e.handle, 0, held), held);
            held = 0;
          }
        } else if (e.kind === EV.DEAD) deadB.push(e.a);
      }
    }
  };
  let steps = 0;
  const t0 = pair.now;
  let end = pair.now;
  while (steps < 2_000_000) {
    const before = pair.now;
    pair.step(app);
    if (process.env.TCP_TRACE && pair.now - before > 300_000n)
      console.log(
        `gap ${Number(pair.now - before) / 1e6}s recv ${received} acked ${acked} A ${a.stat(0)} st ${a.state(h)} B ${b.stat(0)}`,
      );
    steps++;
    end = before;
    if (deadA.length && deadB.length && a.stat(0) === 0 && b.stat(0) === 0) break;
  }
  return { pair, received, mismatches, deadA, deadB, steps, virtualS: Number(end - t0) / 1e6 };
}

function assertClean(c: TcpCore, label: string): void {
  assert.is(c.stat(0), 0, `${label}: TCBs`);
  assert.is(c.stat(2), 0, `${label}: spans`);
  assert.is(c.mbufsFree(), c.mbufBaseline, `${label}: every mbuf back in the pool`);
  assert.is(c.f.mbufPoolCheck(), 0, `${label}: pool consistent`);
}

test("transfer 1 MB over a clean link: byte-exact, orderly close, TIME-WAIT, pools restored", () => {
  const r = transfer(1 << 20, {}, { delayUs: 100 });
  assert.is(r.received, 1 << 20);
  assert.is(r.mismatches, 0);
  assert.equal(r.deadA, [DEAD.CLOSED]);
  assert.equal(r.deadB, [DEAD.CLOSED]);
  assert.is(r.pair.a.counter("tcp_retransmits"), 0);
  assertClean(r.pair.a, "client");
  assertClean(r.pair.b, "server");
});

test("transfer 10 MB under 5% loss + 5% reorder + 1% duplication: byte-exact", () => {
  const r = transfer(10 << 20, {}, { loss: 0.05, reorder: 0.05, dup: 0.01, delayUs: 100, seed: 7 });
  const a = r.pair.a;
  const b = r.pair.b;
  console.log(
    `note: 10 MB lossy: ${r.pair.sent} packets, ${r.pair.dropped} lost, ${r.pair.reordered} reordered, ${r.pair.duplicated} duplicated; ` +
      `retransmits ${a.counter("tcp_retransmits")}, fast ${a.counter("tcp_fast_retransmits")}, RTO ${a.counter("tcp_rto_timeouts")}, ` +
      `dup ACKs ${a.counter("tcp_dup_acks")}, ooo at server ${b.counter("tcp_ooo_segs")}; ${r.virtualS.toFixed(1)} s virtual, ${r.steps} steps`,
  );
  assert.is(r.received, 10 << 20);
  assert.is(r.mismatches, 0);
  assert.equal(r.deadA, [DEAD.CLOSED]);
  assert.equal(r.deadB, [DEAD.CLOSED]);
  assert.ok(a.counter("tcp_fast_retransmits") > 0, "fast retransmit used");
  assert.ok(b.counter("tcp_ooo_segs") > 0, "out-of-order queue used");
  assert.ok(b.counter("tcp_dup_segs") > 0, "duplicates discarded");
  assertClean(a, "client");
  assertClean(b, "server");
});

test("transfer 4 MB with window scaling (4 MiB buffers, shift 7) and a slow reader", () => {
  const cfg = { rcvbuf: 4 << 20, sndbuf: 4 << 20 };
  const r = transfer(4 << 20, cfg, { delayUs: 2000, loss: 0.001, seed: 3 }, 50);
  assert.is(r.received, 4 << 20);
  assert.is(r.mismatches, 0);
  assertClean(r.pair.a, "client");
  assertClean(r.pair.b, "server");
});

test("window scaling: shift 7 negotiated, peak flight above 64 KiB", () => {
  const cfg = { rcvbuf: 4 << 20, sndbuf: 4 << 20, appBytes: 5 << 20 };
  const pair = new Pair(cfg, { delayUs: 5000 });
  const { a, b } = pair;
  b.listen(5000);
  const h = a.cmd(CMD.CONNECT, 0, 1, 4, a.put(0, SERVER_IP), 5000);
  let maxFlight = 0;
  let sh = -1;
  let sent = false;
  for (let i = 0; i < 3000; i++) {
    pair.step((c, ev) => {
      for (const e of ev) {
        if (e.kind === EV.KNOCK) {
          c.cmd(CMD.ACCEPT, e.handle, 1);
          sh = e.handle;
        } else if (e.kind === EV.RECV && e.b) c.cmd(CMD.RECV_DONE, e.handle, 0, e.b);
        else if (e.kind === EV.CONNECTED && !sent) {
          assert.is(a.send(h, a.appBase + 64, 4 << 20), 4 << 20);
          sent = true;
        }
      }
    });
    if (a.tcb(h)) maxFlight = Math.max(maxFlight, (a.field(h, TCB.SND_MAX) - a.field(h, TCB.SND_UNA)) >>> 0);
  }
  assert.is(a.field(h, TCB.RCV_WSCALE, 1), 7);
  assert.is(a.field(h, TCB.SND_WSCALE, 1), 7);
  assert.is(b.field(sh, TCB.RCV_WSCALE, 1), 7);
  assert.ok(maxFlight > 1 << 20, `flight ${maxFlight}`);
  assert.is(a.state(h), ST.ESTABLISHED);
});

test.run();
