// Native baselines: four core algorithms (checksum, Toeplitz, header parse with
// the hash, flow-table lookup) in WASM (assembly/stats/kernels.ts) and in C
// (bench/native/ref.c, built here with gcc -O2), over the same frames: the
// first 4096 Ethernet IPv4 TCP/UDP frames (20-byte IP header) of a capture,
// repeated. Each figure is CPU time per frame per operation (this process's
// for WASM, the C thread's for C), median of the runs. Each run times one
// kernel in WASM and then in C (a fresh C process per kernel and run, the
// order swapped every other run), so both sides of a ratio see the same load;
// the ratio is the median of the per-run WASM / C ratios. CPU time rather than
// wall time because the machine is shared: time spent waiting for a CPU is
// not the code's cost (it made wall-time ratios swing 0.5-3x under load 9).
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createCore } from "../host/core.ts";
import { DESC_BYTES, TraceReader } from "../host/io/reader.ts";
import { TraceWriter } from "../host/io/writer.ts";
import { READ_CORE } from "../host/commands/common.ts";
import { summarize, type Summary } from "./lib/stats.ts";

export const KERNELS = ["checksum", "toeplitz", "parse", "flow_lookup"] as const;
type Kernel = (typeof KERNELS)[number];
const EXPORT: Record<Kernel, string> = {
  checksum: "kChecksum",
  toeplitz: "kToeplitz",
  parse: "kParse",
  flow_lookup: "kFlowLookup",
};
export const KERNEL_ABOUT: Record<Kernel, string> = {
  checksum: "RFC 1071 checksum of the IP packet",
  toeplitz: "Toeplitz RSS hash of the IPv4 4-tuple (table per byte)",
  parse: "Ethernet → IP → ports, and the hash",
  flow_lookup: "flow key from the frame, hash, flow-table probe",
};

export interface NativeBench {
  frames: number;
  reps: number;
  source: string;
  gcc: string;
  /** wasm_ns, c_ns: CPU ns per frame; ratio: median of the per-run ratios, ratio_runs their spread. */
  kernels: Record<
    Kernel,
    { wasm_ns: Summary; c_ns: Summary; ratio: number; ratio_runs: Summary; about: string }
  >;
}

const root = () =>
  fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../.." : "..", import.meta.url));

/** The suitable frames of `src` (at most max) into a pcap and the C program's input file. */
function inputs(src: string, dir: string, max: number): { pcap: string; bin: string; frames: number } {
  const core = createCore(READ_CORE);
  const r = new TraceReader(src, core);
  const keep: Uint8Array[] = [];
  for (let n = r.next(); n > 0 && keep.length < max; n = r.next())
    for (let i = 0; i < n && keep.length < max; i++) {
      const d = (core.regions.desc.offset + i * DESC_BYTES) >>> 2;
      if ((core.u32[d + 3] & 0xffff) !== 1) continue;
      const f = core.u8.subarray(core.u32[d], core.u32[d] + core.u32[d + 1]);
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

export function benchNative(source: string, runs = 5, minOps = 4_000_000): NativeBench {
  const dir = join(tmpdir(), "ixwasm-native");
  mkdirSync(dir, { recursive: true });
  const gccV = spawnSync("gcc", ["--version"], { encoding: "utf8" });
  if (gccV.status !== 0)
    throw new Error("gcc not found: the native baselines are built at bench time with gcc -O2");
  const exe = join(dir, "ref");
  const b = spawnSync("gcc", ["-O2", "-o", exe, join(root(), "bench/native/ref.c")], { encoding: "utf8" });
  if (b.status !== 0) throw new Error(`gcc failed: ${b.stderr}`);
  const inp = inputs(source, dir, 4096);
  // The core: symmetric RSS key as in replay, flow table of 2^16 entries (ref.c's CAP).
  const core = createCore({
    stagingBytes: 8 << 20,
    descSlots: 4096,
    mbufs: 0,
    ringSlots: 0,
    flows: 1 << 16,
    flags: 1,
  });
  const ex = core.exports as unknown as Record<string, (...a: number[]) => number>;
  const reader = new TraceReader(inp.pcap, core);
  const n = reader.next();
  reader.close();
  const keyPtr = ex.rssKeyPtr() >>> 0;
  // C input: key, count, (caplen, bytes)*.
  const parts: Buffer[] = [Buffer.from(core.u8.slice(keyPtr, keyPtr + 40))];
  const cnt = Buffer.alloc(4);
  cnt.writeUInt32LE(n);
  parts.push(cnt);
  for (let i = 0; i < n; i++) {
    const d = (core.regions.desc.offset + i * DESC_BYTES) >>> 2;
    const len = Buffer.alloc(4);
    len.writeUInt32LE(core.u32[d + 1]);
    parts.push(len, Buffer.from(core.u8.slice(core.u32[d], core.u32[d] + core.u32[d + 1])));
  }
  writeFileSync(inp.bin, Buffer.concat(parts));
  ex.kFlowFill(n);
  const reps = Math.max(1, Math.ceil(minOps / n)); // ~4 M operations per timed call
  // WASM: tier each loop up with many short calls, then time reps passes per call.
  const wasm: Record<string, number[]> = {};
  const cNs: Record<string, number[]> = {};
  for (const k of KERNELS) {
    const f = ex[EXPORT[k]];
    for (let i = 0; i < 300; i++) f(Math.min(n, 64), 1);
    wasm[k] = [];
    cNs[k] = [];
  }
  const timeWasm = (k: Kernel): number => {
    const t0 = process.cpuUsage();
    ex[EXPORT[k]](n, reps);
    const t = process.cpuUsage(t0);
    return ((t.user + t.system) * 1e3) / (n * reps);
  };
  // C: two passes (the first warms caches and branch predictors), the second is kept.
  const timeC = (k: Kernel): number => {
    const c = spawnSync(exe, [inp.bin, String(reps), "2", k], { encoding: "utf8" });
    if (c.status !== 0) throw new Error(`native reference failed: ${c.stderr}`);
    const last = c.stdout.trim().split("\n").pop() ?? "{}";
    return (JSON.parse(last) as Record<string, number>)[k];
  };
  for (let run = 0; run < runs; run++)
    for (const k of KERNELS) {
      if (run % 2 === 0) {
        wasm[k].push(timeWasm(k));
        cNs[k].push(timeC(k));
      } else {
        cNs[k].push(timeC(k));
        wasm[k].push(timeWasm(k));
      }
    }
  const kernels = {} as NativeBench["kernels"];
  for (const k of KERNELS) {
    const ratios = summarize(wasm[k].map((w, i) => w / cNs[k][i]));
    kernels[k] = {
      wasm_ns: summarize(wasm[k]),
      c_ns: summarize(cNs[k]),
      ratio: Math.round(ratios.median * 100) / 100,
      ratio_runs: ratios,
      about: KERNEL_ABOUT[k],
    };
  }
  return { frames: n, reps, source, gcc: gccV.stdout.split("\n")[0], kernels };
}

export function formatNative(b: NativeBench): string[] {
  const lines = [
    `\nnative baselines: ${b.frames} Ethernet IPv4 TCP/UDP frames of ${b.source}, ${b.reps} passes per run; C built with ${b.gcc} -O2; CPU ns per frame, WASM and C alternated per kernel and run`,
    `  ${"kernel".padEnd(12)} ${"WASM ns".padStart(9)} ${"C ns".padStart(9)} ${"WASM/C".padStart(7)}  ${"(min..max)".padEnd(12)} (CV WASM, C)  what`,
  ];
  for (const k of KERNELS) {
    const x = b.kernels[k];
    const spread = `${x.ratio_runs.min.toFixed(2)}..${x.ratio_runs.max.toFixed(2)}`;
    lines.push(
      `  ${k.padEnd(12)} ${x.wasm_ns.median.toFixed(2).padStart(9)} ${x.c_ns.median.toFixed(2).padStart(9)} ${x.ratio.toFixed(2).padStart(7)}  ${spread.padEnd(12)} (${(x.wasm_ns.cv * 100).toFixed(1)} %, ${(x.c_ns.cv * 100).toFixed(1)} %)  ${x.about}`,
    );
  }
  return lines;
}
