// The multi-worker dataplane: same answers for 1, 2 and 4 workers, per-flow
// order kept, the non-IP policy, back-pressure, and trap containment.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Dataplane, stageFrames } from "../../host/runtime/dataplane.ts";
import { BROADCAST, MAC_A, MAC_B, arp, eth } from "../helpers/frames.ts";
import { A, B, ECHO_SERVER as SERVER, flowDatagram } from "../helpers/echo-server.ts";

const FLOWS = 64;
const PER_FLOW = 6;

/** Datagrams of 64 flows interleaved round-robin, each payload naming its flow and position. */
function datagrams(): Buffer[] {
  const out: Buffer[] = [];
  for (let k = 0; k < PER_FLOW; k++) for (let f = 0; f < FLOWS; f++) out.push(flowDatagram(f, k));
  return out;
}

/** Replies per client port, in the order they left the workers. */
async function run(
  workers: number,
): Promise<{ byFlow: Map<number, string[]>; dispatched: number[]; waits: number }> {
  const dp = await Dataplane.start({ workers, config: SERVER, spinRounds: 200 });
  try {
    const byFlow = new Map<number, string[]>();
    const collect = () =>
      dp.drain((_w, mem, off, len) => {
        const f = Buffer.from(mem.slice(off, off + len));
        if (f.readUInt16BE(12) !== 0x0800 || f[23] !== 17) return;
        const port = f.readUInt16BE(36);
        const list = byFlow.get(port) ?? [];
        list.push(f.subarray(42).toString());
        byFlow.set(port, list);
      });
    const all = datagrams();
    for (let i = 0; i < all.length; i += 64) {
      const n = stageFrames(dp.dispatcher, all.slice(i, i + 64));
      dp.setTime(i * 1000);
      await dp.dispatch(n);
      collect();
    }
    await dp.settle();
    collect();
    return { byFlow, dispatched: dp.stats.dispatched, waits: dp.stats.ringWaits };
  } finally {
    await dp.stop();
  }
}

test("UDP echo through 1, 2 and 4 workers: the same answers, in per-flow order", async () => {
  const one = await run(1);
  assert.is(one.byFlow.size, FLOWS);
  for (const [port, msgs] of one.byFlow) {
    const f = port - 20000;
    assert.equal(
      msgs,
      Array.from({ length: PER_FLOW }, (_, k) => `flow ${f} msg ${k}`),
      `flow ${f} in order`,
    );
  }
  for (const workers of [2, 4]) {
    const r = await run(workers);
    assert.equal(
      [...r.byFlow.entries()].sort(),
      [...one.byFlow.entries()].sort(),
      `${workers} workers answer like 1`,
    );
    assert.ok(
      r.dispatched.every((n) => n > 0),
      `every worker got flows: ${r.dispatched}`,
    );
    assert.is(
      r.dispatched.reduce((a, b) => a + b, 0),
      FLOWS * PER_FLOW,
    );
  }
});

test("ARP: a request is answered once (worker 0), a reply reaches every worker", async () => {
  const dp = await Dataplane.start({ workers: 2, config: SERVER, spinRounds: 200 });
  try {
    const req = eth(BROADCAST, MAC_A, 0x0806, arp(1, MAC_A, A, Buffer.alloc(6), B));
    const rep = eth(MAC_B, MAC_A, 0x0806, arp(2, MAC_A, A, MAC_B, B));
    await dp.dispatch(stageFrames(dp.dispatcher, [req, rep]));
    await dp.settle();
    const out: number[] = [];
    dp.drain((w, mem, off) => {
      if (mem[off + 12] === 0x08 && mem[off + 13] === 0x06) out.push(w);
    });
    assert.equal(out, [0], "one ARP reply, from worker 0");
    assert.equal(dp.stats.dispatched, [2, 1], "request to worker 0, reply to both");
  } finally {
    await dp.stop();
  }
});

test("back-pressure: a burst larger than a worker's RX ring is delivered whole", async () => {
  const dp = await Dataplane.start({
    workers: 1,
    config: { ...SERVER, ringSlots: 64, mbufs: 4096 },
    spinRounds: 200,
  });
  let replies = 0;
  try {
    const all = datagrams().slice(0, 300);
    const n = stageFrames(dp.dispatcher, all);
    const drainer = setInterval(() => (replies += dp.drain(() => undefined)), 1);
    await dp.dispatch(n);
    await dp.settle();
    clearInterval(drainer);
    replies += dp.drain(() => undefined);
    assert.is(dp.stats.dispatched[0], 300);
    assert.ok(dp.stats.ringWaits > 0, "the dispatcher had to wait");
    assert.is(replies, 300, "no datagram lost");
  } finally {
    await dp.stop();
  }
});

test("trap containment: a worker that traps is reported; with restart it serves again", async () => {
  const dp = await Dataplane.start({
    workers: 2,
    config: SERVER,
    spinRounds: 200,
    onTrap: "restart",
    test: true,
  });
  try {
    dp.trapForTest(1);
    const deadline = Date.now() + 10000;
    while (dp.stats.restarts === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.is(dp.stats.traps.length, 1);
    assert.is(dp.stats.traps[0].worker, 1);
    assert.match(dp.stats.traps[0].message, /unreachable/);
    assert.is(dp.stats.restarts, 1);
    // The restarted worker and the other one both answer.
    await (dp as unknown as { ready(): Promise<void> }).ready();
    const r = await (async () => {
      await dp.dispatch(stageFrames(dp.dispatcher, datagrams().slice(0, FLOWS)));
      await dp.settle();
      const by = new Set<number>();
      dp.drain((w) => by.add(w));
      return by;
    })();
    assert.equal([...r].sort(), [0, 1]);
  } finally {
    await dp.stop();
  }
});

test.run();
