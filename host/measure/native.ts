// Native baselines: four core algorithms (checksum, Toeplitz, header parse with
// the hash, flow-table lookup) in WASM (assembly/stats/kernels.ts) and in C
// (host/measure/native/ref.c), over the same frames: the first 4096 Ethernet IPv4
// TCP/UDP frames (20-byte IP header) of a capture, repeated. The C is built
// twice at bench time: as a user builds for speed, gcc -O3 -march=native (the
// headline ratio; gcc's -fopt-info-vec report says whether the checksum loop
// was vectorised, and the bench prints it), and gcc -O2 (the earlier baseline,
// labelled). Each figure is thread CPU time per frame per operation, on the same
// clock on both sides: CLOCK_THREAD_CPUTIME_ID in C, and in Node the same call
// through koffi (host/measure/lib/threadcpu.ts; Node 20 has no process.threadCpuUsage).
// Each run times one kernel in WASM and in both C builds (a fresh C process per
// kernel and run, the order rotated every run), so all sides of a ratio see the
// same load; a ratio is the median of the per-run ratios. CPU time rather than
// wall time because the machine is shared: time spent waiting for a CPU is
// not the code's cost (it made wall-time ratios swing 0.5-3x under load 9).
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CFG_F_SYMMETRIC, createCore, type CoreExports } from "../core/core.ts";
import { DESC_BYTES, TraceReader } from "../io/reader.ts";
import { TraceWriter } from "../io/writer.ts";
import { READ_CORE } from "../core/open-capture.ts";
import { summarize, type Summary } from "./lib/stats.ts";
import { otherThreadsCpuMs, otherThreadsDeltaMs, threadCpuNs } from "./lib/threadcpu.ts";
import { FROM_DIST, ROOT } from "./lib/root.ts";
import { DESC_W_CAPLEN, DESC_W_LINKTYPE, DESC_W_OFF } from "../core/abi.gen.ts";

export const KERNELS = ["checksum", "checksum_simd", "toeplitz", "parse", "flow_lookup"] as const;
type Kernel = (typeof KERNELS)[number];
const EXPORT: Record<Kernel, "kChecksum" | "kChecksumSimd" | "kToeplitz" | "kParse" | "kFlowLookup"> = {
  checksum: "kChecksum",
  checksum_simd: "kChecksumSimd",
  toeplitz: "kToeplitz",
  parse: "kParse",
  flow_lookup: "kFlowLookup",
};
/** The C loop each WASM loop is compared with (one C checksum: gcc vectorises it at -O3). */
const C_KERNEL: Record<Kernel, string> = {
  checksum: "checksum",
  checksum_simd: "checksum",
  toeplitz: "toeplitz",
  parse: "parse",
  flow_lookup: "flow_lookup",
};
export const KERNEL_ABOUT: Record<Kernel, string> = {
  checksum: "RFC 1071 checksum of the IP packet; WASM as the core calls it (v128 from 256 B, scalar below)",
  checksum_simd: "the same, WASM v128 path for every frame (inetChecksumSimd)",
  toeplitz: "Toeplitz RSS hash of the IPv4 4-tuple (table per byte)",
  parse: "Ethernet → IP → ports, and the hash",
  flow_lookup: "flow key from the frame, hash, flow-table probe",
};

/** The two C builds: the headline one as a user builds for speed, and the earlier -O2 one. */
export const C_BUILDS = {
  fast: ["-O3", "-march=native"],
  o2: ["-O2"],
} as const;
type Build = keyof typeof C_BUILDS;

export interface NativeBench {
  frames: number;
  reps: number;
  source: string;
  gcc: string;
  /** Bytes summed per checksum call (the frames' IP packets). */
  checksum_bytes: Summary;
  /** gcc -fopt-info-vec-optimized on the C checksum loop, per build ("" if it reported nothing). */
  checksum_vectorised: Record<Build, string>;
  /**
   * CPU ms this process's other threads used while the WASM loops were timed
   * (summed over the timed calls). Near 0 in the bench's own child process;
   * a thread left running by earlier work shows here.
   */
  other_threads_cpu_ms: number;
  /** Thread CPU ms the timed WASM calls took, for scale. */
  wasm_timed_cpu_ms: number;
  /** Measured in a child process of its own (benchNativeIsolated). */
  isolated: boolean;
  /**
   * The checksum of one buffer of `bytes` (the bench's pseudo-random bytes), reps times per
   * run: WASM as the core calls it (v128 from 256 bytes) against both C builds, thread CPU
   * ns per call; ratio_runs: per-run WASM / C(-O3 -march=native), ratio_o2_runs: / C(-O2).
   */
  buffers: {
    bytes: number;
    reps: number;
    wasm_ns: Summary;
    c_ns: Summary;
    c_o2_ns: Summary;
    ratio_runs: Summary;
    ratio_o2_runs: Summary;
  }[];
  /** Checksum loops' return values (sum of the checksums over all passes), which must agree. */
  checksum_acc: { wasm: number; wasm_simd: number; c: Record<Build, number> };
  /**
   * wasm_ns, c_ns (gcc -O3 -march=native), c_o2_ns: thread CPU ns per frame;
   * ratio: median of the per-run WASM / C(-O3 -march=native) ratios, ratio_runs their
   * spread; ratio_o2, ratio_o2_runs the same against gcc -O2.
   */
  kernels: Record<
    Kernel,
    {
      wasm_ns: Summary;
      c_ns: Summary;
      c_o2_ns: Summary;
      ratio: number;
      ratio_runs: Summary;
      ratio_o2: number;
      ratio_o2_runs: Summary;
      about: string;
    }
  >;
}

/** What gcc's vectoriser said about the lines of inet_checksum in ref.c. */
function vectorReport(src: string, stderr: string): string {
  const lines = readFileSync(src, "utf8").split("\n");
  const from = lines.findIndex((l) => l.startsWith("static uint32_t inet_checksum(")) + 1;
  let to = from;
  while (to < lines.length && lines[to - 1] !== "}") to++;
  const said = stderr
    .split("\n")
    .map((l) => /ref\.c:(\d+):\d+: optimized: (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m && +m[1] >= from && +m[1] <= to)
    .map((m) => `line ${m[1]}: ${m[2]}`);
  return [...new Set(said)].join("; ");
}

/** Builds ref.c with each flag set; returns the executables and gcc's vectoriser report. */
export function buildRef(dir: string): {
  exe: Record<Build, string>;
  vec: Record<Build, string>;
  gcc: string;
} {
  const gccV = spawnSync("gcc", ["--version"], { encoding: "utf8" });
  if (gccV.status !== 0)
    throw new Error("gcc not found: the native baselines are built at bench time with gcc");
  const src = join(ROOT, "host/measure/native/ref.c");
  const exe = {} as Record<Build, string>;
  const vec = {} as Record<Build, string>;
  for (const b of Object.keys(C_BUILDS) as Build[]) {
    exe[b] = join(dir, `ref-${b}`);
    const r = spawnSync("gcc", [...C_BUILDS[b], "-fopt-info-vec-optimized", "-o", exe[b], src], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`gcc ${C_BUILDS[b].join(" ")} failed: ${r.stderr}`);
    vec[b] = vectorReport(src, r.stderr);
  }
  return { exe, vec, gcc: gccV.stdout.split("\n")[0] };
}

/** The suitable frames of `src` (at most max) into a pcap and the C program's input file. */
function inputs(src: string, dir: string, max: number): { pcap: string; bin: string; frames: number } {
  const core = createCore(READ_CORE);
  const r = new TraceReader(src, core);
  const keep: Uint8Array[] = [];
  for (let n = r.next(); n > 0 && keep.length < max; n = r.next())
    for (let i = 0; i < n && keep.length < max; i++) {
      const d = (core.regions.desc.offset + i * DESC_BYTES) >>> 2;
      if ((core.u32[d + DESC_W_LINKTYPE] & 0xffff) !== 1) continue;
      const f = core.u8.subarray(
        core.u32[d + DESC_W_OFF],
        core.u32[d + DESC_W_OFF] + core.u32[d + DESC_W_CAPLEN],
      );
      if (f.length < 54 || f[12] !== 8 || f[13] !== 0 || f[14] !== 0x45) continue;
      if ((f[23] !== 6 && f[23] !== 17) || ((f[20] << 8) | f[21]) & 0x3fff) continue;
      keep.push(f.slice());
    }
  r.close();
  const pcap = join(dir, "native.pcap");
  const w = new TraceWriter(pcap, { format: "pcap" });
  for (const f of keep) w.write(f, 0, f.length, 0, 0, f.length);
  w.close();
  return { pcap, bin: join(dir, "native.bin"), frames: keep.length };
}

/** Buffer sizes for the per-buffer checksum: a small packet, an Ethernet MTU, a jumbo frame. */
export const BUFFER_BYTES = [64, 1500, 9000];

/** WASM vs both C builds on one buffer of `bytes` at `p` (in WASM memory), sums checked. */
function checksumBuffer(
  ex: CoreExports,
  u8: Uint8Array,
  p: number,
  bytes: number,
  exe: Record<Build, string>,
  runs: number,
  minOps: number,
): NativeBench["buffers"][number] {
  let x = 1; // ref.c's generator (not host/io/prng.ts), so both sides sum the same bytes
  for (let i = 0; i < bytes; i++) u8[p + i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  const reps = Math.max(1, Math.ceil((minOps * 500) / (bytes + 100))); // ~50 ms per timed call
  for (let i = 0; i < 300; i++) ex.kChecksumBuf(p, bytes, 16);
  const w: number[] = [];
  const c: Record<Build, number[]> = { fast: [], o2: [] };
  let accW = 0;
  const accC: Record<Build, number> = { fast: 0, o2: 0 };
  const sides: (() => void)[] = [
    () => {
      const t0 = threadCpuNs();
      accW = ex.kChecksumBuf(p, bytes, reps) >>> 0;
      w.push((threadCpuNs() - t0) / reps);
    },
    ...(Object.keys(C_BUILDS) as Build[]).map((b) => () => {
      const r = spawnSync(exe[b], ["buf", String(bytes), String(reps), "2"], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`native reference (buf) failed: ${r.stderr}`);
      const last = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as Record<string, number>;
      accC[b] = last.acc >>> 0;
      c[b].push(last.buf);
    }),
  ];
  for (let run = 0; run < runs; run++)
    for (let j = 0; j < sides.length; j++) sides[(run + j) % sides.length]();
  for (const b of Object.keys(C_BUILDS) as Build[])
    if (accC[b] !== accW)
      throw new Error(
        `checksum of a ${bytes}-byte buffer: WASM ${accW}, C ${C_BUILDS[b].join(" ")} ${accC[b]}`,
      );
  return {
    bytes,
    reps,
    wasm_ns: summarize(w),
    c_ns: summarize(c.fast),
    c_o2_ns: summarize(c.o2),
    ratio_runs: summarize(w.map((v, i) => v / c.fast[i])),
    ratio_o2_runs: summarize(w.map((v, i) => v / c.o2[i])),
  };
}

export function benchNative(source: string, runs = 5, minOps = 4_000_000): NativeBench {
  const dir = join(tmpdir(), "ixwasm-native");
  mkdirSync(dir, { recursive: true });
  const built = buildRef(dir);
  const inp = inputs(source, dir, 4096);
  // The core: symmetric RSS key as in replay, flow table of 2^16 entries (ref.c's CAP).
  const core = createCore({
    stagingBytes: 8 << 20,
    descSlots: 4096,
    mbufs: 0,
    ringSlots: 0,
    flows: 1 << 16,
    flags: CFG_F_SYMMETRIC,
  });
  const ex = core.exports;
  const reader = new TraceReader(inp.pcap, core);
  const n = reader.next();
  reader.close();
  const keyPtr = ex.rssKeyPtr() >>> 0;
  // C input: key, count, (caplen, bytes)*.
  const parts: Buffer[] = [Buffer.from(core.u8.slice(keyPtr, keyPtr + 40))];
  const cnt = Buffer.alloc(4);
  cnt.writeUInt32LE(n);
  parts.push(cnt);
  const ipBytes: number[] = [];
  for (let i = 0; i < n; i++) {
    const d = (core.regions.desc.offset + i * DESC_BYTES) >>> 2;
    const len = Buffer.alloc(4);
    len.writeUInt32LE(core.u32[d + DESC_W_CAPLEN]);
    ipBytes.push(core.u32[d + DESC_W_CAPLEN] - 14);
    parts.push(
      len,
      Buffer.from(
        core.u8.slice(core.u32[d + DESC_W_OFF], core.u32[d + DESC_W_OFF] + core.u32[d + DESC_W_CAPLEN]),
      ),
    );
  }
  writeFileSync(inp.bin, Buffer.concat(parts));
  ex.kFlowFill(n);
  const reps = Math.max(1, Math.ceil(minOps / n)); // ~4 M operations per timed call
  // WASM: tier each loop up with many short calls, then time reps passes per call.
  const builds = Object.keys(C_BUILDS) as Build[];
  const wasm = {} as Record<Kernel, number[]>;
  const cNs = {} as Record<Kernel, Record<Build, number[]>>;
  for (const k of KERNELS) {
    const f = ex[EXPORT[k]];
    for (let i = 0; i < 300; i++) f(Math.min(n, 64), 1);
    wasm[k] = [];
    cNs[k] = { fast: [], o2: [] };
  }
  const acc = { wasm: 0, wasm_simd: 0, c: { fast: 0, o2: 0 } };
  let others = 0;
  let timed = 0;
  const timeWasm = (k: Kernel): number => {
    const o0 = otherThreadsCpuMs();
    const t0 = threadCpuNs();
    const r = ex[EXPORT[k]](n, reps) >>> 0;
    const t = threadCpuNs() - t0;
    others += otherThreadsDeltaMs(o0, otherThreadsCpuMs());
    timed += t / 1e6;
    if (k === "checksum") acc.wasm = r;
    if (k === "checksum_simd") acc.wasm_simd = r;
    return t / (n * reps);
  };
  // C: two passes (the first warms caches and branch predictors), the second is kept.
  const timeC = (k: Kernel, b: Build): number => {
    const c = spawnSync(built.exe[b], [inp.bin, String(reps), "2", C_KERNEL[k]], { encoding: "utf8" });
    if (c.status !== 0) throw new Error(`native reference failed: ${c.stderr}`);
    const last = JSON.parse(c.stdout.trim().split("\n").pop() ?? "{}") as Record<string, number>;
    if (k === "checksum") acc.c[b] = last.acc >>> 0;
    return last[C_KERNEL[k]];
  };
  for (let run = 0; run < runs; run++)
    for (const k of KERNELS) {
      // Rotate which side goes first, so drift in the load does not favour one.
      const sides: (() => void)[] = [
        () => wasm[k].push(timeWasm(k)),
        () => cNs[k].fast.push(timeC(k, "fast")),
        () => cNs[k].o2.push(timeC(k, "o2")),
      ];
      for (let j = 0; j < sides.length; j++) sides[(run + j) % sides.length]();
    }
  // The same sums on both sides, or the timings compare different work.
  for (const [name, v] of [
    ["WASM v128", acc.wasm_simd],
    ...builds.map((b) => [`C ${C_BUILDS[b].join(" ")}`, acc.c[b]] as const),
  ] as const)
    if (v !== acc.wasm)
      throw new Error(`checksum loops disagree: WASM ${acc.wasm}, ${name} ${v} (${n} frames × ${reps})`);
  const buffers = BUFFER_BYTES.map((bytes) =>
    checksumBuffer(ex, core.u8, core.regions.staging.offset + (4 << 20), bytes, built.exe, runs, minOps),
  );
  const kernels = {} as NativeBench["kernels"];
  for (const k of KERNELS) {
    const ratios = summarize(wasm[k].map((w, i) => w / cNs[k].fast[i]));
    const ratiosO2 = summarize(wasm[k].map((w, i) => w / cNs[k].o2[i]));
    kernels[k] = {
      wasm_ns: summarize(wasm[k]),
      c_ns: summarize(cNs[k].fast),
      c_o2_ns: summarize(cNs[k].o2),
      ratio: Math.round(ratios.median * 100) / 100,
      ratio_runs: ratios,
      ratio_o2: Math.round(ratiosO2.median * 100) / 100,
      ratio_o2_runs: ratiosO2,
      about: KERNEL_ABOUT[k],
    };
  }
  return {
    frames: n,
    reps,
    source,
    gcc: built.gcc,
    checksum_bytes: summarize(ipBytes),
    checksum_vectorised: built.vec,
    other_threads_cpu_ms: others,
    wasm_timed_cpu_ms: timed,
    isolated: false,
    checksum_acc: acc,
    buffers,
    kernels,
  };
}

/**
 * benchNative in a child process of its own (host/measure/native-child.ts), so
 * the WASM side starts from the same state whatever the bench ran before it:
 * no worker thread, heap or compiled code of an earlier section in the
 * process, like the C side's fresh process per run. (Issue 17: timed with
 * process.cpuUsage() in the bench's own process, these ratios rose 1.4-1.5x
 * after `ingest` and `pair`; a thread left running doubles that clock,
 * docs/measurement/performance-log.md.)
 */
export function benchNativeIsolated(source: string, runs = 5, minOps = 4_000_000): NativeBench {
  const child = join(ROOT, FROM_DIST ? "dist/host/measure/native-child.js" : "host/measure/native-child.ts");
  const r = spawnSync(
    process.execPath,
    [...(FROM_DIST ? [] : ["--import", "tsx"]), child, source, String(runs), String(minOps)],
    { encoding: "utf8", cwd: ROOT, maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`native baselines child failed (${r.status}): ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as NativeBench), isolated: true };
}

export function formatNative(b: NativeBench): string[] {
  const cb = b.checksum_bytes;
  const vec = (x: Build) => b.checksum_vectorised[x] || "gcc reported no vectorised loop";
  const lines = [
    `\nnative baselines: ${b.frames} Ethernet IPv4 TCP/UDP frames of ${b.source}, ${b.reps} passes per run; C built with ${b.gcc}, twice: -O3 -march=native (C ns, the headline WASM/C) and -O2 (C -O2 ns); thread CPU ns per frame on both sides (CLOCK_THREAD_CPUTIME_ID), WASM and both C builds rotated per kernel and run`,
    `  C checksum loop, gcc -fopt-info-vec: -O3 -march=native: ${vec("fast")}; -O2: ${vec("o2")}`,
    `  checksum input: ${cb.min}..${cb.max} B per frame (median ${cb.median}); the same sum on every side (${b.checksum_acc.wasm})`,
    `  WASM timed in ${b.isolated ? "a child process of its own" : "the bench's process"}; its other threads used ${b.other_threads_cpu_ms.toFixed(0)} ms of CPU while the WASM loops took ${b.wasm_timed_cpu_ms.toFixed(0)} ms`,
    `  ${"kernel".padEnd(13)} ${"WASM ns".padStart(9)} ${"C ns".padStart(9)} ${"WASM/C".padStart(7)}  ${"(min..max)".padEnd(12)} ${"C -O2 ns".padStart(9)} ${"WASM/C-O2".padStart(9)}  (CV WASM, C)  what`,
  ];
  kernelLines(b, lines);
  lines.push(
    `  checksum of one buffer, thread CPU ns per call; WASM as the core calls it (v128 from 256 B); same sums on every side:`,
  );
  for (const x of b.buffers)
    lines.push(
      `  ${`${x.bytes} B`.padEnd(13)} ${x.wasm_ns.median.toFixed(2).padStart(9)} ${x.c_ns.median.toFixed(2).padStart(9)} ${x.ratio_runs.median.toFixed(2).padStart(7)}  ${`${x.ratio_runs.min.toFixed(2)}..${x.ratio_runs.max.toFixed(2)}`.padEnd(12)} ${x.c_o2_ns.median.toFixed(2).padStart(9)} ${x.ratio_o2_runs.median.toFixed(2).padStart(9)}  (${(x.wasm_ns.cv * 100).toFixed(1)} %, ${(x.c_ns.cv * 100).toFixed(1)} %)  ${x.reps} calls per run`,
    );
  return lines;
}

function kernelLines(b: NativeBench, lines: string[]): void {
  for (const k of KERNELS) {
    const x = b.kernels[k];
    const spread = `${x.ratio_runs.min.toFixed(2)}..${x.ratio_runs.max.toFixed(2)}`;
    lines.push(
      `  ${k.padEnd(13)} ${x.wasm_ns.median.toFixed(2).padStart(9)} ${x.c_ns.median.toFixed(2).padStart(9)} ${x.ratio.toFixed(2).padStart(7)}  ${spread.padEnd(12)} ${x.c_o2_ns.median.toFixed(2).padStart(9)} ${x.ratio_o2.toFixed(2).padStart(9)}  (${(x.wasm_ns.cv * 100).toFixed(1)} %, ${(x.c_ns.cv * 100).toFixed(1)} %)  ${x.about}`,
    );
  }
}
