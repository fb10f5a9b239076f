// pair echo against kernel TCP: the same workload (N connections, each sending a
// 64-byte message and waiting for its echo, M times) through ixwasm's two cores
// in two worker threads, and through Node's `net` on loopback with the server in
// a child process (so each side has a core, as the two workers do).
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { pairTwoThreads } from "../host/commands/pair.ts";
import { summarize, type Summary } from "./lib/stats.ts";

export interface PairBench {
  conns: number;
  msgs: number;
  size: number;
  ixwasm_rtps: Summary;
  kernel_rtps: Summary;
  ratio: number;
  ixwasm_p50_us: number;
  ixwasm_p99_us: number;
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

export async function benchPair(runs = 5, conns = 16, msgs = 5000, size = 64): Promise<PairBench> {
  const ix: number[] = [];
  const k: number[] = [];
  let p50 = 0;
  let p99 = 0;
  await pairTwoThreads({ app: "echo", conns, msgs: 200, size, workers: 2, faults: {}, timeoutS: 60 }); // warm-up
  for (let i = 0; i < runs; i++) {
    const r = await pairTwoThreads({ app: "echo", conns, msgs, size, workers: 2, faults: {}, timeoutS: 120 });
    if (!r.completed || r.errors) throw new Error("pair run did not complete cleanly");
    ix.push(r.round_trips_per_s);
    p50 = r.latency_us.p50;
    p99 = r.latency_us.p99;
    k.push(await kernelEcho(conns, msgs, size));
  }
  const ixwasm_rtps = summarize(ix);
  const kernel_rtps = summarize(k);
  return {
    conns,
    msgs,
    size,
    ixwasm_rtps,
    kernel_rtps,
    ratio: ixwasm_rtps.median / kernel_rtps.median,
    ixwasm_p50_us: p50,
    ixwasm_p99_us: p99,
  };
}
