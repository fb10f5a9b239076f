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
  /** performance.now() past which the meter's tick throws. */
  private deadline = Infinity;
  /** What the last fault threw. */
  readonly err = { error: null as unknown };
  private readonly imports: WebAssembly.Imports;

  constructor(
    private readonly metered: WebAssembly.Module,
    private readonly mod: AppModule,
    private readonly coreU8: Uint8Array,
    private readonly st: Int32Array,
  ) {
    const tick = (): number => {
      if (performance.now() > this.deadline) throw new MeterTimeout("app module past its deadline");
      return FUEL_PER_TICK;
    };
    this.imports = { [METER_MODULE]: { [METER_TICK]: tick } };
  }

  /** A fresh instance (new memory), initialised within startMs; FAULT.none or FAULT.init. */
  start(startMs: number): number {
    this.deadline = performance.now() + startMs;
    const r = startInstance(this.metered, this.mod.memoryBytes, this.mod.options, this.imports);
    this.deadline = Infinity;
    if ("fault" in r) {
      this.err.error = r.error;
      this.m = null;
      return r.fault;
    }
    this.m = r;
    return FAULT.none;
  }

  /** Runs the exported batch with the watchdog's deadline at now + timeoutMs; FAULT.none or the fault. */
  run(now: number, timeoutMs: number): number {
    if (this.m === null) return FAULT.init;
    this.deadline = now + timeoutMs;
    const f = runBatch(this.m, this.coreU8, this.st, this.err);
    this.deadline = Infinity;
    return f;
  }

  /** Drops the instance (after a fault, or at the end). */
  stop(): void {
    this.m = null;
  }
}
