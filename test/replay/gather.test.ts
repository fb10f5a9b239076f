// The replay dispatcher's gather (assembly/replay/dispatch.ts replayGatherBatch,
// host/replay/plane.ts): every frame lands in its worker's outbox
// byte-exact, in input order, with a descriptor already pointing at the
// worker's staging; a full outbox stops the call at the first frame that does
// not fit (the worker named) without overwriting a held frame; positions wrap;
// a frame larger than the outbox is refused even when it is empty.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { createCore, type Core } from "../../host/core/core.ts";
import { TraceReader } from "../../host/io/reader.ts";
import { replayCoreConfig } from "../../host/replay/options.ts";
import { outboxBytes } from "../../host/replay/plane.ts";
import { ROOT } from "../helpers/corpus.ts";

const W_STAGE = 0x100000; // a worker's staging address (any value: only written into descriptors)
const N = 2;

type Gather = (first: number, count: number, loop: number, ctl: number) => number;

interface Setup {
  core: Core;
  gather: Gather;
  ctl: number; // u32 index of the control block
  ob: (w: number) => number; // byte address of outbox w
  S: number;
  slots: number;
  n: number; // descriptors framed
  frames: Uint8Array[]; // frame j's bytes (copied out before any gather)
  worker: number[]; // frame j's worker (replayDispatchBatch)
}

function frame(core: Core): number {
  const r = new TraceReader(join(ROOT, "traces/http-kernel.pcap"), core);
  const n = r.next();
  r.close();
  return n;
}

/** A dispatcher core with the first batch of http-kernel framed and outboxes set up; worker: each frame's for --loop pass `loop`. */
function setup(S: number, slots: number, loop = 0): Setup {
  const config = { ...replayCoreConfig("raw", N, 0), appBytes: outboxBytes(N, S, slots) };
  const core = createCore(config);
  const n = frame(core);
  const descW = core.regions.desc.offset >>> 2;
  const frames: Uint8Array[] = [];
  for (let j = 0; j < n; j++) {
    const off = core.u32[descW + j * 8];
    frames.push(core.u8.slice(off, off + core.u32[descW + j * 8 + 1]));
  }
  // The workers from a second core (the pass rewrites ports in place).
  const other = createCore(config);
  assert.is(frame(other), n);
  (other.exports.replayDispatchBatch as Gather)(0, n, loop, 0);
  const vW = other.regions.decode.offset >>> 2;
  const worker = Array.from({ length: n }, (_, j) => other.u32[vW + j] & 0xffff);
  const gc = core.regions.app.offset;
  const outbox0 = gc + ((64 + N * 16 + 63) & ~63);
  const u = core.u32;
  const ctl = gc >>> 2;
  u.fill(0, ctl, outbox0 >>> 2);
  u[ctl] = N;
  u[ctl + 1] = S;
  u[ctl + 2] = slots;
  u[ctl + 3] = W_STAGE;
  u[ctl + 4] = outbox0;
  u[ctl + 5] = S + slots * 32;
  const gather = core.exports.replayGatherBatch as Gather;
  return { core, gather, ctl, ob: (w) => outbox0 + w * (S + slots * 32), S, slots, n, frames, worker };
}

const head = (s: Setup, w: number) => s.core.u32[s.ctl + 16 + w * 4];
const setTail = (s: Setup, w: number, t: number) => (s.core.u32[s.ctl + 16 + w * 4 + 1] = t);

/** Checks worker w's held descriptors tail..head-1: input order, bytes exact (frames: s.frames or as rewritten), the descriptor's other words kept. */
function checkHeld(s: Setup, w: number, tail: number, expect: number[], frames = s.frames): void {
  const u = s.core.u32;
  const descW = s.core.regions.desc.offset >>> 2;
  for (let p = tail, k = 0; p !== head(s, w); p++, k++) {
    const j = expect[k];
    const slotW = (s.ob(w) + s.S + (p & (s.slots - 1)) * 32) >>> 2;
    const off = u[slotW] - W_STAGE;
    assert.ok(off >= 0 && off + frames[j].length <= s.S, `frame ${j} inside the outbox`);
    assert.is(off % 8, 0, `frame ${j} 8-byte aligned`);
    for (let k2 = 1; k2 < 8; k2++) assert.is(u[slotW + k2], u[descW + j * 8 + k2], `frame ${j} word ${k2}`);
    const got = s.core.u8.subarray(s.ob(w) + off, s.ob(w) + off + frames[j].length);
    assert.equal(Buffer.from(got), Buffer.from(frames[j]), `frame ${j} bytes`);
  }
}

test("roomy outboxes: one call places every frame, per worker in input order, byte-exact", () => {
  const s = setup(1 << 20, 4096);
  assert.ok(s.n > 50, `${s.n} frames`);
  assert.is(s.gather(0, s.n, 0, s.core.regions.app.offset), s.n);
  for (let w = 0; w < N; w++) {
    const mine = s.worker.map((x, j) => (x === w ? j : -1)).filter((j) => j >= 0);
    assert.ok(mine.length > 0, `worker ${w} has frames`);
    assert.is(head(s, w), mine.length);
    checkHeld(s, w, 0, mine);
  }
});

/** Frame j's bytes as a roomy gather with --loop pass `loop` leaves them (ports rewritten). */
function rewritten(loop: number): Uint8Array[] {
  const s = setup(1 << 20, 4096, loop);
  assert.is(s.gather(0, s.n, loop, s.core.regions.app.offset), s.n);
  const out: Uint8Array[] = [];
  const pos = [0, 0];
  for (let j = 0; j < s.n; j++) {
    const w = s.worker[j];
    const off = s.core.u32[(s.ob(w) + s.S + pos[w]++ * 32) >>> 2] - W_STAGE;
    out.push(s.core.u8.slice(s.ob(w) + off, s.ob(w) + off + s.frames[j].length));
  }
  return out;
}

for (const loop of [0, 3])
  test(`small outboxes, --loop pass ${loop}: stops at a full one (named), holds never overwritten, positions wrap, a frame parsed once`, () => {
    const S = 4096; // a few frames of http-kernel at a time
    const s = setup(S, 16, loop);
    const frames = rewritten(loop);
    if (loop > 0)
      assert.ok(
        frames.some((f, j) => !Buffer.from(f).equals(Buffer.from(s.frames[j]))),
        "ports rewritten",
      );
    const tails = [0, 0];
    const queue: number[][] = [[], []];
    let done = 0;
    let stops = 0;
    let wraps = 0;
    const lastOff = [-1, -1];
    while (done < s.n) {
      const k = s.gather(done, s.n - done, loop, s.core.regions.app.offset);
      for (let j = done; j < done + k; j++) queue[s.worker[j]].push(j);
      done += k;
      for (let w = 0; w < N; w++) checkHeld(s, w, tails[w], queue[w], frames);
      if (done < s.n) {
        stops++;
        const w = s.core.u32[s.ctl + 6];
        assert.is(w, s.worker[done], "the blocked worker is the next frame's");
        // The worker takes half of what it holds (oldest first).
        const take = Math.max(1, queue[w].length >> 1);
        for (let i = 0; i < take; i++) {
          const p = tails[w] + i;
          const off = s.core.u32[(s.ob(w) + S + (p & 15) * 32) >>> 2] - W_STAGE;
          if (off < lastOff[w]) wraps++;
          lastOff[w] = off;
        }
        tails[w] += take;
        queue[w].splice(0, take);
        setTail(s, w, tails[w]);
      }
    }
    assert.ok(stops > 5, `${stops} stops`);
    assert.ok(wraps > 2, `${wraps} wraps`);
  });

test("a frame larger than the whole outbox is refused while the outbox is empty", () => {
  const s = setup(64, 16); // the first http-kernel frame (a SYN) is over 64 bytes
  assert.ok(s.frames[0].length > 64);
  assert.is(s.gather(0, s.n, 0, s.core.regions.app.offset), 0);
  assert.is(s.core.u32[s.ctl + 6], s.worker[0]);
  assert.is(head(s, s.worker[0]), 0);
});

test.run();
