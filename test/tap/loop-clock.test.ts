// The time the tap loop gives its core (host/tap/loop.ts). Without --stages the
// loop reads the clock after a poll's writes, not between a frame's read(2) and
// its reply's write(2), so a poll gets the time of the last read: it may be as
// old as the read(2) calls made since the previous poll, never older, and it
// never goes back. Here the clock is a fake that only the fake device's reads
// move (1 ms each), so "as old as the reads since the previous poll" is exact.
// No root needed: no tap, a real core, ICMP echo requests from the fake device.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createCore, type Core } from "../../host/core/core.ts";
import { Nic } from "../../host/runtime/nic.ts";
import { TapLoop, newLoopStats, IDLE_POLL_EVERY } from "../../host/tap/loop.ts";
import { tapConfig, type TapOptions } from "../../host/tap/tap.ts";
import { parseCidr } from "../../host/io/netns.ts";
import type { TapDevice } from "../../host/io/tap.ts";
import * as F from "../../host/io/frames.ts";

const MAC = Buffer.from([2, 0, 0xc6, 0x12, 0, 2]);
const PEER = Buffer.from([2, 0, 0xc6, 0x12, 0, 1]);

interface PollSeen {
  staleMs: number;
  readsSincePoll: number;
  givenMs: number;
}

/** Runs `services` queue services over a device whose read number r returns a frame when hasFrame(r). */
function run(hasFrame: (r: number) => boolean, services: number): { seen: PollSeen[]; replies: number } {
  let clock = 1000;
  const real = globalThis.performance;
  Object.defineProperty(globalThis, "performance", {
    value: { now: () => clock },
    configurable: true,
    writable: true,
  });
  try {
    const o = {
      ifname: "x",
      ip: parseCidr("198.18.0.2/24", 4, "ip"),
      mac: MAC,
      queues: 1,
      app: "echo",
      port: 0,
      mtu: 1500,
      conns: 64,
    } as unknown as TapOptions;
    const core = createCore(tapConfig(o));
    const frame = F.eth(
      MAC,
      PEER,
      0x0800,
      F.ipv4(F.ip4("198.18.0.1"), F.ip4("198.18.0.2"), 1, F.icmpEcho(7, 1, new Uint8Array(22))),
    );
    let reads = 0;
    let readsSincePoll = 0;
    let replies = 0;
    const dev = {
      address: () => 0,
      read(_q: number, addr: number): number {
        clock += 1; // a read(2) is the only thing that takes time here
        readsSincePoll++;
        if (!hasFrame(reads++)) return 0;
        core.u8.set(frame, addr);
        return frame.length;
      },
      write(): boolean {
        replies++;
        return true;
      },
      wait: () => 0,
    } as unknown as TapDevice;
    const seen: PollSeen[] = [];
    const poll = core.exports.poll as (ns: number) => number;
    const t0 = clock; // the loop's origin: it is made next, and nothing moves the clock before a read
    const watched: Core = {
      ...core,
      exports: {
        ...core.exports,
        poll: (ns: number) => {
          const givenMs = t0 + ns / 1e6;
          seen.push({ staleMs: clock - givenMs, readsSincePoll, givenMs });
          readsSincePoll = 0;
          return poll(ns);
        },
      },
    };
    const loop = new TapLoop(
      watched,
      new Nic(core, true),
      dev,
      { queues: [0], poll: "busy", spinUs: 0, checkQueues: false },
      newLoopStats(1),
    );
    for (let i = 0; i < services; i++) loop.serveQueue(0);
    return { seen, replies };
  } finally {
    Object.defineProperty(globalThis, "performance", { value: real, configurable: true, writable: true });
  }
}

function checkClock(seen: PollSeen[]): void {
  assert.ok(seen.length > 100, `polls: ${seen.length}`);
  for (let i = 0; i < seen.length; i++) {
    const p = seen[i];
    assert.ok(p.staleMs >= 0, `poll ${i} got a time after the clock's (${p.staleMs} ms)`);
    assert.ok(
      p.staleMs <= p.readsSincePoll,
      `poll ${i}: its time is ${p.staleMs} ms old, older than the ${p.readsSincePoll} reads since the last poll`,
    );
    if (i > 0) assert.ok(p.givenMs >= seen[i - 1].givenMs, `poll ${i}: the core's time went back`);
  }
}

test("a flood (every read a frame): each poll's time is no older than its own service's reads", () => {
  const { seen, replies } = run(() => true, 2000);
  checkClock(seen);
  assert.ok(replies > 10_000, `every frame answered: ${replies} replies`);
  // The clock moved with the run: the last poll's time is near the end, not where a sample left it.
  const last = seen[seen.length - 1];
  assert.ok(last.staleMs <= last.readsSincePoll);
});

test("sparse frames (one in 50 reads): skipped services and the frame's poll stay within the bound", () => {
  const { seen, replies } = run((r) => r % 50 === 0, 20_000);
  checkClock(seen);
  assert.ok(replies >= 390, `replies: ${replies}`);
  // Polls on empty services come once in IDLE_POLL_EVERY: their time is that many reads old at most.
  const maxStale = Math.max(...seen.map((p) => p.staleMs));
  assert.ok(maxStale <= IDLE_POLL_EVERY + 1, `stalest poll ${maxStale} ms`);
});

test.run();
