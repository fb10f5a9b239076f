// The pair client's request bytes and its check of the answers (assembly/apps/client.ts):
// every request is the pattern pat(conn, request, offset), so a byte that crossed
// connections or requests is caught; and a byte changed anywhere in the answer is
// caught at its own offset, in the 16-byte compare as in the byte loop after it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { pairOneThread, type PairOptions } from "../../host/pair/pair.ts";

const base: PairOptions = {
  app: "echo",
  conns: 3,
  msgs: 3,
  size: 300, // past one 256-byte block of the pattern, not a multiple of 16
  workers: 1,
  faults: {},
  timeoutS: 600,
  clock: "virtual",
};

const tcpOff = (f: Uint8Array) => 14 + (f[14] & 15) * 4;
const isTcp = (f: Uint8Array) => f[12] === 0x08 && f[13] === 0x00 && f[23] === 6;
const payloadOff = (f: Uint8Array) => tcpOff(f) + (f[tcpOff(f) + 12] >> 4) * 4;
const payloadLen = (f: Uint8Array) =>
  ((f[16] << 8) | f[17]) - (f[14] & 15) * 4 - (f[tcpOff(f) + 12] >> 4) * 4;

/** The pattern byte j of request seq on connection i, as the client's comment defines it. */
function pat(i: number, seq: number, j: number): number {
  const x = (Math.imul(i, 0x9e3779b1) ^ Math.imul(seq, 0x85ebca6b) ^ Math.imul(j >>> 8, 0xc2b2ae35)) >>> 0;
  return ((x >>> 13) ^ (x >>> 24) ^ Math.imul(j, 7)) & 0xff;
}

test("each request is pat(conn, request, offset): every (conn, request) once, no two alike", () => {
  const seen = new Set<string>();
  let segments = 0;
  const r = pairOneThread({
    ...base,
    linkFilter: (dir, f) => {
      if (dir !== "ab" || !isTcp(f) || payloadLen(f) === 0) return true;
      segments++;
      const p = f.subarray(payloadOff(f), payloadOff(f) + payloadLen(f));
      assert.is(p.length, base.size, "one request per segment");
      const match: string[] = [];
      for (let i = 0; i < base.conns; i++)
        for (let s = 0; s < base.msgs; s++)
          if (p.every((b, j) => b === pat(i, s, j))) match.push(`${i}/${s}`);
      assert.is(match.length, 1, `segment ${segments} matches ${match.length} patterns`);
      seen.add(match[0]);
      return true;
    },
  });
  assert.ok(r.completed);
  assert.is(r.errors, 0);
  assert.is(segments, base.conns * base.msgs);
  assert.is(seen.size, base.conns * base.msgs);
});

/** Rewrites byte off of f keeping the TCP checksum right (RFC 1624 eqn. 3, on the word holding it). */
function flipByte(f: Uint8Array, off: number): void {
  const c = tcpOff(f) + 16;
  const w = off - ((off - tcpOff(f)) & 1); // the 16-bit word of the segment that holds off
  const old = (f[w] << 8) | f[w + 1];
  f[off] ^= 0x01;
  const now = (f[w] << 8) | f[w + 1];
  let sum = (~((f[c] << 8) | f[c + 1]) & 0xffff) + (~old & 0xffff) + now;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const hc = ~sum & 0xffff;
  f[c] = hc >> 8;
  f[c + 1] = hc & 0xff;
}

for (const offset of [0, 37, 255, 290, 299])
  test(`an answer changed at offset ${offset}: differed, at that offset`, () => {
    let n = 0;
    let original = -1;
    const r = pairOneThread({
      ...base,
      conns: 1,
      linkFilter: (dir, f) => {
        if (dir === "ba" && isTcp(f) && payloadLen(f) > 0 && ++n === 2) {
          original = f[payloadOff(f) + offset];
          flipByte(f, payloadOff(f) + offset);
        }
        return true;
      },
    });
    assert.is(r.responses_differed, 1);
    assert.equal(r.first_difference, { conn: 0, request: 1, offset, expected: original, got: original ^ 1 });
    assert.is(r.round_trips, base.msgs, "the run goes on");
  });

test.run();
