// Dataplane.settle() is a quiescent point: when it returns, every frame handed
// to a worker has been processed by a poll that has finished, replies published.
// Rounds of 640 UDP datagrams (polls of ≤ 64) are dispatched and settled; the
// echoes are then drained with no further waiting and must all be there. Polls
// are stretched by a test hook, so a settle that returns while the last poll is
// still answering is caught every time, not now and then. (The former settle
// counted two polls from its start: with a ring that needs many polls to empty,
// it returned as soon as the ring looked empty, while the poll that took the
// last frames was still answering them.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Dataplane, stageFrames } from "../../host/runtime/dataplane.ts";
import { MAC_A, MAC_B, eth, ipv4, udp } from "../helpers/frames.ts";
import { A, B, ECHO_SERVER as SERVER } from "../helpers/echo-server.ts";

const ROUNDS = 6;
const PER_ROUND = 640;

for (const workers of [1, 2]) {
  test(`settle() with ${workers} worker(s): every echo of ${ROUNDS} rounds of ${PER_ROUND} datagrams is out when it returns`, async () => {
    // Each poll stretched (test hook): the poll that empties a ring takes about 1 ms
    // between taking its frames and publishing the echoes.
    const dp = await Dataplane.start({ workers, config: SERVER, spinRounds: 200, testSlowPollMs: 0.25 });
    try {
      const frames: Buffer[] = [];
      for (let i = 0; i < PER_ROUND; i++)
        frames.push(
          eth(MAC_B, MAC_A, 0x0800, ipv4(A, B, 17, udp(A, B, 30000 + (i % 32), 7, Buffer.from(`m${i}`)))),
        );
      const short: number[] = [];
      let total = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const n = stageFrames(dp.dispatcher, frames);
        dp.setTime(r * 1e6);
        await dp.dispatch(n);
        await dp.settle();
        let echoes = 0;
        dp.drain((_w, mem, off) => {
          if (mem[off + 12] === 0x08 && mem[off + 13] === 0x00 && mem[off + 23] === 17) echoes++;
        });
        total += echoes;
        if (echoes !== PER_ROUND) short.push(echoes);
      }
      assert.equal(short, [], `rounds with echoes missing right after settle(): ${short.join(", ")}`);
      assert.is(total, ROUNDS * PER_ROUND);
      assert.is(
        dp.stats.dispatched.reduce((a, b) => a + b, 0),
        ROUNDS * PER_ROUND,
      );
    } finally {
      await dp.stop();
    }
  });
}

test.run();
