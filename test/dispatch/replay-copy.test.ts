// The replay dispatcher's frame copy (host/dispatch/replay-plane.ts copyFrame):
// every length and alignment gives the source bytes exactly, and nothing
// outside the destination range is written.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { copyFrame } from "../../host/dispatch/replay-plane.ts";

test("copyFrame: lengths 0..300 at every alignment mod 8, byte-exact, nothing else touched", () => {
  const src = new SharedArrayBuffer(4096);
  const dst = new SharedArrayBuffer(4096);
  const s8 = new Uint8Array(src);
  const d8 = new Uint8Array(dst);
  const s64 = new BigInt64Array(src);
  const d64 = new BigInt64Array(dst);
  // Bytes that make NaN bit patterns in 64-bit words (a float copy could change them).
  for (let i = 0; i < s8.length; i++) s8[i] = i % 3 === 0 ? 0xff : (i * 131 + 7) & 0xff;
  let cases = 0;
  for (let a = 0; a < 8; a++)
    for (let len = 0; len <= 300; len++) {
      const so = 64 + a + 8 * (len % 5);
      const d = 1024 + a + 8 * (len % 3);
      d8.fill(0xa5);
      copyFrame(s8, s64, so, d8, d64, d, len);
      for (let i = 0; i < len; i++)
        if (d8[d + i] !== s8[so + i]) assert.unreachable(`a ${a} len ${len} byte ${i}`);
      for (let i = 0; i < d8.length; i++)
        if ((i < d || i >= d + len) && d8[i] !== 0xa5) assert.unreachable(`a ${a} len ${len}: wrote ${i}`);
      cases++;
    }
  assert.is(cases, 8 * 301);
});

test.run();
