// Per-call speed of three core kernels through their exports (JS→WASM call
// included): the Internet checksum's scalar and SIMD paths, the Toeplitz hash's
// table version against the bit-by-bit reference, and hashBatch per frame. The
// tests check these give the same answers (test/wire/checksum.test.ts,
// test/flow/toeplitz.test.ts, test/flow/reta.test.ts); how fast is measured here.
import { createCore } from "../core/core.ts";
import { summarize, type Summary } from "./lib/stats.ts";
import { DESC_W_CAPLEN, DESC_W_LEN, DESC_W_LINKTYPE, DESC_W_OFF, DESC_WORDS } from "../core/abi.gen.ts";

type Fn = (...a: number[]) => number;

export interface KernelsBench {
  /** ns per call by buffer size, scalar and SIMD. */
  checksum: { bytes: number; scalar_ns: Summary; simd_ns: Summary }[];
  toeplitz_table_ns: Summary;
  toeplitz_reference_ns: Summary;
  hash_batch_ns_per_frame: Summary;
}

/** ns per unit of `work(k)` (k units), median of `runs` after a warm-up (tier-up). */
function perUnit(runs: number, units: number, work: (k: number) => void): Summary {
  work(units);
  const xs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    work(units);
    xs.push(Number(process.hrtime.bigint() - t0) / units);
  }
  return summarize(xs);
}

export function benchKernels(runs: number): KernelsBench {
  const core = createCore({ mbufs: 16, flows: 16, ringSlots: 16, stagingBytes: 16 << 20, descSlots: 512 });
  const f = core.exports;
  const buf = core.regions.staging.offset;
  let x = 1; // ref.c's generator (not host/io/prng.ts): the bytes native.ts and the C baselines sum
  for (let i = 0; i < 12_000_000; i++)
    core.u8[buf + i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;

  const checksum = [40, 64, 1500, 9000].map((n) => {
    const call = (name: "inetChecksumScalar" | "inetChecksumSimd") => (k: number) => {
      const fn = f[name];
      for (let i = 0; i < k; i++) fn(buf, n);
    };
    return {
      bytes: n,
      scalar_ns: perUnit(runs, 100_000, call("inetChecksumScalar")),
      simd_ns: perUnit(runs, 100_000, call("inetChecksumSimd")),
    };
  });
  // rssBench(p, count, fast): count IPv4 4-tuples of 12 bytes from p, in one call.
  const toeplitz_table_ns = perUnit(runs, 1_000_000, (k) => f.rssBench(buf, k, 1));
  const toeplitz_reference_ns = perUnit(runs, 100_000, (k) => f.rssBench(buf, k, 0));

  // hashBatch over 512 Ethernet/IPv4/TCP frames (one flow per frame).
  const frames = core.regions.desc.offset;
  let at = buf;
  for (let i = 0; i < 512; i++) {
    const fr = new Uint8Array(54);
    fr.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0], 0);
    fr.set([0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, i >> 8, i & 255, 198, 18, 0, 1], 14);
    fr.set([(1024 + i) >> 8, (1024 + i) & 255, 0, 80], 34);
    core.u8.set(fr, at);
    const w = (frames >>> 2) + i * DESC_WORDS;
    core.u32[w + DESC_W_OFF] = at;
    core.u32[w + DESC_W_CAPLEN] = 54;
    core.u32[w + DESC_W_LEN] = 54;
    core.u32[w + DESC_W_LINKTYPE] = 1;
    at += 64;
  }
  const hash_batch_ns_per_frame = perUnit(runs, 200 * 512, (k) => {
    for (let i = 0; i < k / 512; i++) f.hashBatch(512);
  });
  return { checksum, toeplitz_table_ns, toeplitz_reference_ns, hash_batch_ns_per_frame };
}

export function formatKernels(
  b: KernelsBench,
  row: (name: string, s: Summary, unit: string) => string,
): string[] {
  const lines = ["\nkernels, one call each through the export (JS→WASM call included):"];
  for (const c of b.checksum) {
    lines.push(row(`checksum ${c.bytes} B, scalar`, c.scalar_ns, "ns/call"));
    lines.push(row(`checksum ${c.bytes} B, SIMD`, c.simd_ns, "ns/call"));
  }
  lines.push(row("Toeplitz IPv4 4-tuple, table", b.toeplitz_table_ns, "ns/hash"));
  lines.push(row("Toeplitz IPv4 4-tuple, bitwise reference", b.toeplitz_reference_ns, "ns/hash"));
  lines.push(row("hashBatch, Ethernet/IPv4/TCP, batches of 512", b.hash_batch_ns_per_frame, "ns/frame"));
  return lines;
}
