// pair echo against kernel TCP: the same workload (N connections, each sending a
// 64-byte message and waiting for its echo, M times) through
//  - ixwasm's two cores in one thread (pair --workers 1) and in two worker
//    threads (pair --workers 2): both TCP stacks in WASM, frames moved between
//    them in memory, no kernel;
//  - a C epoll echo pair over kernel TCP on 127.0.0.1 (host/measure/native/echo.c,
//    built here with gcc): client and server one process of one thread each,
//    the kernel's own per-message cost with no interpreter on either side;
//  - Node's `net` on 127.0.0.1, server in a child process: the kernel plus
//    Node's per-message JS (events, Buffers) on both sides.
// Every side gets a warm-up run that is not counted (ixwasm: 200 messages per
// connection in each mode; the C pair: a whole run thrown away, and each
// counted run does 200 untimed round trips per connection first; Node: 200
// messages per connection), and the runs rotate which side goes first.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pairOneThread, pairTwoThreads } from "../pair/pair.ts";
import { summarize, type Summary } from "./lib/stats.ts";
import { ROOT } from "./lib/root.ts";

export interface PairBench {
  conns: number;
  msgs: number;
  size: number;
  /** ixwasm pair, two worker threads. */
  ixwasm_rtps: Summary;
  /** ixwasm pair, both cores in one thread. */
  ixwasm_one_rtps: Summary;
  /** C epoll echo pair over kernel TCP on loopback (host/measure/native/echo.c). */
  c_epoll_rtps: Summary;
  /** The C client's thread CPU µs per round trip (its server is another process). */
  c_epoll_client_cpu_us: Summary;
  /** Node net over kernel TCP on loopback, server in a child process. */
  node_net_rtps: Summary;
  gcc: string;
  ixwasm_p50_us: number;
  ixwasm_p99_us: number;
  ixwasm_one_p50_us: number;
  ixwasm_one_p99_us: number;
}

const SERVER = `
const net = require("node:net");
const s = net.createServer((c) => { c.setNoDelay(true); c.on("data", (d) => c.write(d)); });
s.listen(0, "127.0.0.1", () => process.stdout.write(String(s.address().port) + "\\n"));
`;

async function kernelEcho(conns: number, msgs: number, size: number): Promise<number> {
  const child = spawn(process.execPath, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve) =>
      child.stdout!.once("data", (d) => resolve(Number(String(d).trim()))),
    );
    const msg = Buffer.alloc(size, 0x5a);
    const t0 = performance.now();
    await Promise.all(
      Array.from(
        { length: conns },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = connect(port, "127.0.0.1");
            s.setNoDelay(true);
            let left = msgs;
            let got = 0;
            s.on("connect", () => s.write(msg));
            s.on("data", (d) => {
              got += d.length;
              while (got >= size) {
                got -= size;
                if (--left === 0) {
                  s.end();
                  return resolve();
                }
                s.write(msg);
              }
            });
            s.on("error", reject);
          }),
      ),
    );
    return (conns * msgs) / ((performance.now() - t0) / 1000);
  } finally {
    child.kill();
  }
}

const WARM = 200;

/** Builds host/measure/native/echo.c with gcc into the temp directory; returns the program and gcc's version. */
export function buildEchoPair(): { exe: string; gcc: string } {
  const dir = join(tmpdir(), "ixwasm-native");
  mkdirSync(dir, { recursive: true });
  const gccV = spawnSync("gcc", ["--version"], { encoding: "utf8" });
  if (gccV.status !== 0) throw new Error("gcc not found: the C echo pair is built at bench time with gcc");
  const exe = join(dir, "echo-pair");
  const b = spawnSync("gcc", ["-O3", "-march=native", "-o", exe, join(ROOT, "host/measure/native/echo.c")], {
    encoding: "utf8",
  });
  if (b.status !== 0) throw new Error(`gcc failed on host/measure/native/echo.c: ${b.stderr}`);
  return { exe, gcc: gccV.stdout.split("\n")[0] };
}

export interface EchoPairRun {
  round_trips: number;
  warmup_round_trips: number;
  seconds: number;
  round_trips_per_s: number;
  client_cpu_s: number;
}

/** One run of the C echo pair: conns × msgs timed round trips after conns × warm untimed ones. */
export function runEchoPair(
  exe: string,
  conns: number,
  msgs: number,
  size: number,
  warm = WARM,
): EchoPairRun {
  const r = spawnSync(exe, [String(conns), String(msgs), String(size), String(warm)], {
    encoding: "utf8",
    timeout: 130_000,
  });
  if (r.status !== 0) throw new Error(`C echo pair failed (status ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as EchoPairRun;
}

export async function benchPair(runs = 5, conns = 16, msgs = 5000, size = 64): Promise<PairBench> {
  const echo = buildEchoPair();
  const two: number[] = [];
  const one: number[] = [];
  const c: number[] = [];
  const cCpu: number[] = [];
  const node: number[] = [];
  const lat = { p50: 0, p99: 0, one50: 0, one99: 0 };
  const base = { app: "echo" as const, conns, size, faults: {} };
  // Warm-ups, not counted.
  await pairTwoThreads({ ...base, msgs: WARM, workers: 2, timeoutS: 60 });
  pairOneThread({ ...base, msgs: WARM, workers: 1, timeoutS: 60 });
  runEchoPair(echo.exe, conns, WARM, size);
  await kernelEcho(conns, WARM, size);
  const sides: (() => Promise<void>)[] = [
    async () => {
      const r = await pairTwoThreads({ ...base, msgs, workers: 2, timeoutS: 120 });
      if (!r.completed || r.errors) throw new Error("pair (2 threads) did not complete cleanly");
      two.push(r.round_trips_per_s);
      lat.p50 = r.latency_us.p50;
      lat.p99 = r.latency_us.p99;
    },
    async () => {
      const r = pairOneThread({ ...base, msgs, workers: 1, timeoutS: 120 });
      if (!r.completed || r.errors) throw new Error("pair (1 thread) did not complete cleanly");
      one.push(r.round_trips_per_s);
      lat.one50 = r.latency_us.p50;
      lat.one99 = r.latency_us.p99;
    },
    async () => {
      const r = runEchoPair(echo.exe, conns, msgs, size);
      c.push(r.round_trips_per_s);
      cCpu.push((r.client_cpu_s * 1e6) / r.round_trips);
    },
    async () => {
      node.push(await kernelEcho(conns, msgs, size));
    },
  ];
  for (let i = 0; i < runs; i++) for (let j = 0; j < sides.length; j++) await sides[(i + j) % sides.length]();
  return {
    conns,
    msgs,
    size,
    ixwasm_rtps: summarize(two),
    ixwasm_one_rtps: summarize(one),
    c_epoll_rtps: summarize(c),
    c_epoll_client_cpu_us: summarize(cCpu),
    node_net_rtps: summarize(node),
    gcc: echo.gcc,
    ixwasm_p50_us: lat.p50,
    ixwasm_p99_us: lat.p99,
    ixwasm_one_p50_us: lat.one50,
    ixwasm_one_p99_us: lat.one99,
  };
}
