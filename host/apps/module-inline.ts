// An app module run in the serving thread itself (the default; docs/design/app-modules.md,
// "Where it runs"): the metered module (module-meter.ts) is instantiated here and each
// exported batch runs at once, from the loop that polls the core (ModuleHost.service),
// with no thread hop either way. The batch's deadline is armed before ixapp_run: the
// meter's tick throws MeterTimeout past it, which unwinds the module like a trap and
// is the watchdog's fault.
import type { AppModule } from "./module.ts";
import { FAULT } from "./module-control.ts";
import { MeterTimeout, runBatch, startInstance, type ModuleInstance } from "./module-batch.ts";
import { FUEL_PER_TICK, METER_MODULE, METER_TICK } from "./module-meter.ts";

export class InlineModule {
  private m: ModuleInstance | null = null;
  /** performance.now() past which the meter's tick throws (armed at the batch's first tick). */
  private deadline = Infinity;
  private timeoutMs = Infinity;
  /** Batches run, and the batch the last tick armed the deadline for. */
  private batch = 0;
  private tickBatch = -1;
  /** When the current batch's first tick came (the watchdog's stall is measured from it). */
  firstTick = 0;
  /** What the last fault threw. */
  readonly err = { error: null as unknown };
  private readonly imports: WebAssembly.Imports;

  constructor(
    private readonly metered: WebAssembly.Module,
    private readonly mod: AppModule,
    private readonly core: Buffer,
    private readonly st: Int32Array,
  ) {
    // The deadline is armed at a batch's first tick, not before each batch (a clock read
    // per batch is most of what a small batch costs here): a batch can then run at most
    // FUEL_PER_TICK loop turns before the clock is first read, and the bound is the
    // timeout plus up to twice that.
    const tick = (): number => {
      const now = performance.now();
      if (this.tickBatch !== this.batch) {
        this.tickBatch = this.batch;
        this.firstTick = now;
        this.deadline = now + this.timeoutMs;
      } else if (now > this.deadline) throw new MeterTimeout("app module past its deadline");
      return FUEL_PER_TICK;
    };
    this.imports = { [METER_MODULE]: { [METER_TICK]: tick } };
  }

  /** A fresh instance (new memory), initialised within startMs; FAULT.none or FAULT.init. */
  start(startMs: number): number {
    this.timeoutMs = startMs;
    this.batch++;
    const r = startInstance(this.metered, this.mod.memoryBytes, this.mod.options, this.imports);
    if ("fault" in r) {
      this.err.error = r.error;
      this.m = null;
      return r.fault;
    }
    this.m = r;
    return FAULT.none;
  }

  /** Runs the exported batch, stopped past timeoutMs (from its first tick); FAULT.none or the fault. */
  run(timeoutMs: number): number {
    if (this.m === null) return FAULT.init;
    this.timeoutMs = timeoutMs;
    this.batch++;
    return runBatch(this.m, this.core, this.st, this.err);
  }

  /** Drops the instance (after a fault, or at the end). */
  stop(): void {
    this.m = null;
  }
}
