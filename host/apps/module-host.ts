// The serving thread's half of an app module (docs/design/app-modules.md): runs the
// module in this thread (metered, module-inline.ts: the default) or starts its worker
// (--app-thread), and from the loop that polls the core (service(), once per round)
// runs or wakes on the module's answer, runs the watchdog, and handles faults: the
// proxy resets the module's connections, the core's invariants are checked, and the
// module is restarted or left down (--on-app-fault).
// Everything is synchronous (Atomics on shared memory): the tap and pair loops
// never yield to the event loop while they run.
import type { Worker } from "node:worker_threads";
import { setAppRunner, type Core } from "../core/core.ts";
import { spawnWorker, workerUrl } from "../runtime/spawn.ts";
import {
  XC_BATCHES,
  XC_FAULT_RESETS,
  XC_FAULTS,
  XC_GARBAGE,
  XC_REJECTED,
  XC_STATE,
} from "../core/app-module.gen.ts";
import { XS_ANSWERED, XS_DOWN, XS_EXPORTED } from "../core/app-module.gen.ts";
import { XC_FLUSH, XC_RESULTS, XS_IDLE } from "../core/app-module.gen.ts";
import type { AppModule } from "./module.ts";
import { FAULT, FAULT_NAMES, MC, MC_WORDS } from "./module-control.ts";
import { InlineModule } from "./module-inline.ts";
import { controlView } from "./module-batch.ts";
import { meterUnavailable } from "./module-meter.ts";

export type OnAppFault = "restart" | "abort";

export interface ModuleHostOptions {
  onFault: OnAppFault;
  /** A batch out for longer than this is a fault (the watchdog's bound), ms. */
  timeoutMs: number;
  /** Restarts allowed within restartWindowMs before the module is left down. */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** How long to wait for a (re)started module to be ready, ms. */
  startTimeoutMs?: number;
  /** Run the module in a worker thread of its own (--app-thread) rather than metered in the serving thread. */
  thread?: boolean;
}

/** An app module and how to serve it (what --app-module and its options give). */
export interface ServedModule extends ModuleHostOptions {
  mod: AppModule;
}

export interface ModuleReport {
  path: string;
  port: number;
  /** Where the module ran: "inline" (the serving thread, metered) or "thread" (a worker of its own), and why when not chosen. */
  run: string;
  /** Batches the proxy exported / the module ran. */
  batches: number;
  faults: Record<(typeof FAULT_NAMES)[number], number>;
  restarts: number;
  /** Connections reset because their module faulted. */
  fault_resets: number;
  /** Commands the proxy refused as invalid. */
  garbage_commands: number;
  /** Connections refused (no slot, or the module down). */
  rejected: number;
  /** After each fault: the core's mbuf pool and TCB table checks (0 = consistent). */
  checks: { fault: string; mbuf_pool: number; tcb_table: number; stalled_ms: number; worker?: number }[];
  /** Why the module is down for good (--on-app-fault abort, or too many restarts), else null. */
  down: string | null;
}

export const DEFAULT_APP_TIMEOUT_MS = 250;
/** How long the module's results may wait in the proxy for an event to travel with. */
const RESULTS_WAIT_MS = 0.2;

export class ModuleHost {
  private worker: Worker | null = null;
  private mc = new Int32Array(new SharedArrayBuffer(MC_WORDS * 4));
  private readonly ctlWord: number;
  private readonly i32: Int32Array;
  private batchSeen = -1;
  /** Since when results have waited in the proxy with no batch out (0: none waiting). */
  private resultsSince = 0;
  private resultsRounds = 0;
  private exportedAt = 0;
  private pending: number = FAULT.none;
  /** How long the faulty batch had been out when the fault was seen (the watchdog's delay), ms. */
  private stalledMs = 0;
  private restartTimes: number[] = [];
  /** The module in this thread (null: in a worker of its own). */
  private readonly inline: InlineModule | null;
  readonly report: ModuleReport;

  constructor(
    private readonly core: Core,
    private readonly mod: AppModule,
    private readonly o: ModuleHostOptions,
  ) {
    const ctl = core.exports.extControl() >>> 0;
    if (ctl === 0) throw new Error("the core does not run the app-module proxy (app external)");
    this.ctlWord = ctl >>> 2;
    this.i32 = core.i32;
    const inline = !o.thread && mod.metered !== null;
    this.inline = inline
      ? new InlineModule(mod.metered!, mod, Buffer.from(core.memory.buffer), controlView(core.memory, ctl))
      : null;
    // the core calls runNow from inside its poll, as soon as its proxy has exported a batch
    if (inline) setAppRunner(core.memory, this.runNow);
    this.report = {
      path: mod.path,
      port: mod.port,
      run: inline ? "inline" : o.thread ? "thread" : `thread (${meterUnavailable() ?? "not metered"})`,
      batches: 0,
      faults: Object.fromEntries(FAULT_NAMES.map((n) => [n, 0])) as ModuleReport["faults"],
      restarts: 0,
      fault_resets: 0,
      garbage_commands: 0,
      rejected: 0,
      checks: [],
      down: null,
    };
  }

  // With the module in this thread, only this thread writes the mailbox (the core's
  // WASM and runBatch): a plain read is exact, and Atomics.load was a builtin call of
  // ~100 instructions, ~15 a round trip (callgrind, performance-log §5).
  private word(w: number): number {
    return this.inline ? this.i32[this.ctlWord + w] : Atomics.load(this.i32, this.ctlWord + w);
  }

  /** Instantiates the module here, or starts its worker and waits (blocking) until it is ready. */
  start(): void {
    if (this.inline) {
      const f = this.inline.start(this.o.startTimeoutMs ?? 10000);
      const e = this.inline.err.error as Error | null;
      if (f !== FAULT.none)
        throw new Error(
          `app module ${this.mod.path} failed to start (${FAULT_NAMES[f]}: ${e?.message ?? e})`,
        );
      return;
    }
    this.mc = new Int32Array(new SharedArrayBuffer(MC_WORDS * 4));
    this.worker = spawnWorker(workerUrl(import.meta.url, "module-worker"), {
      module: this.mod.module,
      options: this.mod.options,
      memoryBytes: this.mod.memoryBytes,
      core: this.core.memory,
      ctl: this.ctlWord << 2,
      mc: this.mc.buffer,
    });
    this.worker.unref();
    // errors reach us through MC.fault; keep the default handler from ending the process
    this.worker.on("error", () => {});
    const limit = performance.now() + (this.o.startTimeoutMs ?? 10000);
    while (Atomics.load(this.mc, MC.ready) === 0 && Atomics.load(this.mc, MC.fault) === 0) {
      if (performance.now() > limit) throw new Error(`app module ${this.mod.path} did not start`);
      Atomics.wait(this.mc, MC.ready, 0, 20);
    }
    const f = Atomics.load(this.mc, MC.fault);
    if (f !== FAULT.none) throw new Error(`app module ${this.mod.path} failed to start (${FAULT_NAMES[f]})`);
  }

  /** The time given (at >= 0), else the clock's (read only on the paths that need it: service runs every round). */
  private clock(at: number): number {
    return at >= 0 ? at : performance.now();
  }

  /**
   * Once per loop round, after poll(): wake, watchdog, faults. True while the module
   * has a batch or a fault is being handled (the loop should poll again soon).
   */
  service(at = -1): boolean {
    const s = this.word(XC_STATE);
    if (this.pending !== FAULT.none) {
      // the proxy resets the connections in its next step; then check and restart
      if (s === XS_DOWN) this.afterFault();
      else this.core.exports.appWakeUp();
      return true;
    }
    const f = this.inline ? FAULT.none : Atomics.load(this.mc, MC.fault); // (only a worker sets it)
    if (f !== FAULT.none) {
      this.fault(f, this.clock(at));
      return true;
    }
    if (s === XS_ANSWERED) {
      this.core.exports.appWakeUp();
      return true;
    }
    if (this.inlineFault !== FAULT.none) {
      const f = this.inlineFault;
      this.inlineFault = FAULT.none;
      this.fault(f, this.clock(at));
      return true;
    }
    if (s === XS_EXPORTED && this.inline) {
      // (the core's runNow call declined it): run it now, the answer is there for the next poll
      const f = this.inline.run(this.o.timeoutMs);
      this.exportedAt = this.inline.firstTick;
      if (f !== FAULT.none) {
        if (process.env.IXWASM_MODULE_DEBUG) console.error(`app module fault ${f}: ${this.inline.err.error}`);
        this.fault(f, performance.now());
      } else this.core.exports.appWakeUp();
      return true;
    }
    if (s === XS_EXPORTED) {
      const now = this.clock(at);
      const b = this.word(XC_BATCHES);
      if (b !== this.batchSeen) {
        this.batchSeen = b;
        this.exportedAt = now;
      } else if (now - this.exportedAt > this.o.timeoutMs) this.fault(FAULT.timeout, now);
      return true;
    }
    if (s === XS_IDLE && this.word(XC_RESULTS) !== 0) {
      // results with no event to carry them: flush them after RESULTS_WAIT_MS
      // (the clock is read every 16th round only: results wait here between most requests)
      if ((++this.resultsRounds & 15) !== 0) return true;
      if (this.resultsSince === 0) this.resultsSince = this.clock(at);
      else if (this.clock(at) - this.resultsSince > RESULTS_WAIT_MS) {
        Atomics.store(this.i32, this.ctlWord + XC_FLUSH, 1);
        this.core.exports.appWakeUp();
        this.resultsSince = 0;
      }
      return true;
    }
    this.resultsSince = 0;
    if (s === XS_DOWN && this.report.down === null) {
      this.fault(FAULT.garbage, this.clock(at)); // the proxy refused the module's output
      return true;
    }
    return false;
  }

  /** A fault runNow met inside the core's poll, for service() to handle (FAULT.none: none). */
  private inlineFault: number = FAULT.none;

  /**
   * The core's appModuleRun import (core.ts setAppRunner): runs the batch just
   * exported, inside the core's poll, so its answer is taken in that same poll.
   * Nothing may be thrown through the core's frames: a fault is kept for service().
   */
  private readonly runNow = (): number => {
    const inl = this.inline;
    if (inl === null || this.pending !== FAULT.none || this.inlineFault !== FAULT.none) return 0;
    const f = inl.run(this.o.timeoutMs);
    if (f === FAULT.none) return 1;
    this.exportedAt = inl.firstTick;
    if (process.env.IXWASM_MODULE_DEBUG) console.error(`app module fault ${f}: ${inl.err.error}`);
    this.inlineFault = f;
    return 0;
  };

  private fault(kind: number, now: number): void {
    this.report.faults[FAULT_NAMES[kind]]++;
    this.stalledMs = kind === FAULT.timeout ? now - this.exportedAt : 0;
    this.pending = kind;
    this.stopWorker();
    if (this.word(XC_STATE) !== XS_DOWN) this.core.exports.extFault();
    this.core.exports.appWakeUp();
  }

  private afterFault(): void {
    const kind = FAULT_NAMES[this.pending];
    this.pending = FAULT.none;
    this.report.checks.push({
      fault: kind,
      mbuf_pool: this.core.exports.mbufPoolCheck() >>> 0,
      tcb_table: this.core.exports.tcbTableCheck() >>> 0,
      stalled_ms: Math.round(this.stalledMs * 10) / 10,
    });
    const now = performance.now();
    const window = this.o.restartWindowMs ?? 10000;
    this.restartTimes = this.restartTimes.filter((t) => now - t < window);
    if (this.o.onFault === "abort") {
      this.report.down = `${kind} (--on-app-fault abort)`;
      return;
    }
    if (this.restartTimes.length >= (this.o.maxRestarts ?? 5)) {
      this.report.down = `${kind}: more than ${this.o.maxRestarts ?? 5} restarts in ${window / 1000} s`;
      return;
    }
    this.restartTimes.push(now);
    try {
      this.start();
    } catch (e) {
      this.report.down = `restart failed: ${(e as Error).message}`;
      return;
    }
    this.report.restarts++;
    this.batchSeen = -1;
    this.core.exports.extRestart();
  }

  private stopWorker(): void {
    this.inline?.stop();
    Atomics.store(this.mc, MC.stop, 1);
    Atomics.notify(this.i32, this.ctlWord + XC_STATE);
    void this.worker?.terminate();
    this.worker = null;
  }

  /** Blocks until the module's batch is answered (or ms pass): for runs that wait on it (serve). */
  waitAnswer(ms: number): void {
    const i = this.ctlWord + XC_STATE;
    if (Atomics.load(this.i32, i) === XS_EXPORTED) Atomics.wait(this.i32, i, XS_EXPORTED, ms);
  }

  /** The figures so far (the proxy's counters read now). */
  snapshot(): ModuleReport {
    const r = this.report;
    r.batches = this.word(XC_BATCHES);
    r.fault_resets = this.word(XC_FAULT_RESETS);
    r.garbage_commands = this.word(XC_GARBAGE);
    r.rejected = this.word(XC_REJECTED);
    void this.word(XC_FAULTS);
    return r;
  }

  /** Ends the worker (the run is over). */
  close(): ModuleReport {
    if (this.inline) setAppRunner(this.core.memory, null);
    this.stopWorker();
    return this.snapshot();
  }
}
