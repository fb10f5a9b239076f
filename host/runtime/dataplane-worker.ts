// One dataplane worker: owns one core (instantiated here on the memory the main
// thread made, so init and the instance's globals live in this thread) and runs
// its loop: poll at the clock the main thread publishes (trace time or wall
// time), spin a bounded number of empty rounds, then sleep on the RX ring's
// sleeping flag until the dispatcher publishes (it notifies only a sleeper:
// wake-ups cost tens of µs on these VMs). The main thread consumes the TX ring.
// A trap in the core is caught and reported; the main thread decides.
import { parentPort, workerData } from "node:worker_threads";
import { createCore, testHooks } from "../core/core.ts";
import { Nic } from "./nic.ts";
import { Backoff, pollLoop } from "./poll-loop.ts";
import {
  DP_POLLS,
  DP_STOP,
  DP_TRAP,
  type DataplaneWorkerData,
  type DataplaneWorkerResult,
} from "./dataplane-proto.ts";
import { serveMigration } from "./control-worker.ts";
import { threadCpuMs } from "./thread-cpu.ts";

const d = workerData as DataplaneWorkerData;
let polls = 0;
let naps = 0;
let trap: string | null = null;
let cpu0 = NaN;
try {
  const slow = d.testSlowPollMs ?? 0;
  const slowNow = () => {
    const t = performance.now();
    while (performance.now() - t < slow); // test-only: a long poll (dataplane.ts testSlowPollMs)
    return t;
  };
  const imports = slow > 0 ? { "performance.now": slowNow } : undefined;
  const core = createCore(d.config, { memory: d.memory, fresh: true, debug: d.debug, test: d.test, imports });
  if (slow > 0) (core.exports.stageTimingSet as (k: number, longMs: number) => void)(1, 0);
  const poll = core.exports.poll as (nowNs: number) => number;
  // Only a test or debug core has testTrap; the dispatcher asks for it only then (trapForTest).
  const testTrap = d.test || d.debug ? testHooks(core).testTrap : () => {};
  const self = new Nic(core);
  Atomics.store(d.ctl, DP_POLLS + d.index, 1); // ready
  cpu0 = threadCpuMs();
  const backoff = new Backoff({ rounds: d.spinRounds }, () => {
    self.rx.sleep(1);
    naps++;
  });
  const round = (): number => {
    if (Atomics.load(d.ctl, DP_TRAP + d.index) !== 0) testTrap();
    if (d.mig) serveMigration(core, self, d.mig, d.index, d.clock[0]); // between polls: nothing of the group is pending
    const n = poll(d.clock[0]);
    polls++;
    Atomics.add(d.ctl, DP_POLLS + d.index, 1);
    return n;
  };
  pollLoop(round, backoff, () => Atomics.load(d.ctl, DP_STOP) === 0);
} catch (e) {
  trap = (e as Error).message ?? String(e);
}
const result: DataplaneWorkerResult = { index: d.index, polls, naps, trap, cpuMs: threadCpuMs() - cpu0 };
parentPort!.postMessage(result);
