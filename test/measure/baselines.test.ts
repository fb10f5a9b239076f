// The bench's C baselines build and compute what the WASM side computes: the
// checksum loops of host/measure/native/ref.c (gcc -O3 -march=native and -O2) give the
// same sums as the WASM loops and as RFC 1071 done here in JS on the same
// frames; the C epoll echo pair (host/measure/native/echo.c) completes every round trip.
// No speed is asserted (speeds are the bench's).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { benchNativeIsolated } from "../../host/measure/native.ts";
import { buildEchoPair, runEchoPair } from "../../host/measure/pair.ts";
import { haveTool, oracleTest } from "../helpers/oracle.ts";

const trace = fileURLToPath(new URL("../../traces/http-kernel.pcap", import.meta.url));
const withGcc = oracleTest("gcc", haveTool("gcc"), "apt-get install gcc");

/** RFC 1071 §4.1, one 16-bit big-endian word at a time. */
function rfc1071(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
  if (b.length & 1) s += b[b.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** The frames host/measure/native.ts keeps: Ethernet IPv4, 20-byte header, TCP/UDP, unfragmented, ≥ 54 B. */
function keptFrames(path: string): Uint8Array[] {
  const f = readFileSync(path);
  assert.equal(f.readUInt32LE(0), 0xa1b2c3d4, "little-endian µs pcap");
  assert.equal(f.readUInt32LE(20), 1, "Ethernet");
  const out: Uint8Array[] = [];
  for (let at = 24; at + 16 <= f.length;) {
    const cap = f.readUInt32LE(at + 8);
    const x = f.subarray(at + 16, at + 16 + cap);
    at += 16 + cap;
    if (x.length < 54 || x[12] !== 8 || x[13] !== 0 || x[14] !== 0x45) continue;
    if ((x[23] !== 6 && x[23] !== 17) || ((x[20] << 8) | x[21]) & 0x3fff) continue;
    out.push(x);
  }
  return out;
}

withGcc("C checksum (-O3 -march=native and -O2) equals the WASM loops and RFC 1071 in JS", () => {
  // As the bench runs it: in a child process of its own.
  const b = benchNativeIsolated(trace, 1, 2000);
  assert.ok(b.isolated);
  const frames = keptFrames(trace).slice(0, 4096);
  assert.equal(b.frames, frames.length);
  let one = 0;
  for (const x of frames) one = (one + rfc1071(x.subarray(14))) >>> 0;
  const want = Number((BigInt(one) * BigInt(b.reps)) % 2n ** 32n);
  assert.equal(b.checksum_acc.wasm, want, "WASM inetChecksum");
  assert.equal(b.checksum_acc.wasm_simd, want, "WASM v128 path");
  assert.equal(b.checksum_acc.c.fast, want, "C -O3 -march=native");
  assert.equal(b.checksum_acc.c.o2, want, "C -O2");
  // One buffer per size, summed alike by WASM and both C builds (benchNative throws otherwise).
  assert.equal(
    b.buffers.map((x) => x.bytes),
    [64, 1500, 9000],
  );
  // gcc's vectoriser report on the checksum loop is read from its output (any target has vectors at -O3).
  assert.match(b.checksum_vectorised.fast, /loop vectorized/);
});

withGcc("the C epoll echo pair completes conns × msgs round trips, small and large messages", () => {
  const { exe } = buildEchoPair();
  const small = runEchoPair(exe, 4, 50, 64, 5);
  assert.equal(small.round_trips, 200);
  assert.equal(small.warmup_round_trips, 20);
  assert.ok(small.round_trips_per_s > 0 && small.seconds > 0);
  // 60000-byte messages take several reads and may take several writes on each side.
  const large = runEchoPair(exe, 2, 20, 60000, 1);
  assert.equal(large.round_trips, 40);
  assert.equal(large.warmup_round_trips, 2);
});

test.run();
