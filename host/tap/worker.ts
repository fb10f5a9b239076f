// One tap worker: owns one core (instantiated here on the presized memory the
// main thread made, so init and the instance's globals live in this thread)
// and serves its tap queues with it (loop.ts): frames are read straight
// into this core's mbufs and its replies written on their arrival queue. The
// queue fds were opened by the main thread (fds are per process); this thread
// only reads, writes and polls them. It leaves within MAX_WAIT_MS of the main
// thread setting TW_STOP, and reports an error (a trap in the core, a failed
// syscall binding) instead of dying.
import { parentPort, workerData } from "node:worker_threads";
import { createCore } from "../core/core.ts";
import { TapDevice } from "../io/tap.ts";
import { Nic } from "../runtime/nic.ts";
import { readStageSums, type StageSums } from "../report/stages.ts";
import { ModuleHost } from "../apps/module-host.ts";
import { TapLoop, TW_STOP, type TapWorkerData, type TapWorkerMessage } from "./loop.ts";

const d = workerData as TapWorkerData;
const post = (m: TapWorkerMessage) => parentPort!.postMessage(m);
let error: string | null = null;
let flows: number[] = [];
let stages: StageSums | null = null;
let mh: ModuleHost | null = null;
try {
  const core = createCore(d.config, { memory: d.memory, fresh: true, debug: d.debug });
  const tap = TapDevice.adopt(d.ifname, d.fds);
  const loop = new TapLoop(core, new Nic(core, true), tap, d, d.stats); // the loop polls its core: local rings
  // --app-module: an instance of the module for this worker's core (its own watchdog and restarts)
  mh = d.module ? new ModuleHost(core, d.module.mod, d.module) : null;
  if (mh) {
    mh.start();
    const host = mh;
    loop.afterPoll = () => host.service();
  }
  if (d.announce) (core.exports.arpAnnounce as () => void)(); // written by the first round
  post({ type: "ready", index: d.index });
  const stop = () => Atomics.load(d.ctl, TW_STOP) !== 0;
  while (!stop()) loop.run(performance.now() + 1000, stop);
  if (d.checkQueues) flows = loop.flowKeys();
  if (d.stages) stages = readStageSums(core);
} catch (e) {
  error = `worker ${d.index}: ${(e as Error).message ?? String(e)}`;
}
const module = mh?.close() ?? null;
post({ type: "done", index: d.index, error, flows, stages, module });
