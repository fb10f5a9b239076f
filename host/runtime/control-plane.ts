// The dataplane's control plane (IX: the control plane moves flow groups
// between cores; a group migrates only when nothing is pending for it).
//
// migrate(group, to) moves one RETA entry and everything of it a worker holds:
//  1. hold: the dispatcher stops steering the group; its frames are copied into
//     a queue here, in arrival order (other groups keep flowing);
//  2. drain: the frame of the group that may be on its way into the old
//     worker's ring lands first; the ring position is noted, and the old worker
//     exports only once it has polled past it (and once no command result of
//     the group is pending, migrateExport's MIG_AGAIN);
//  3. move: the old worker serialises the group's connections into its staging
//     region (assembly/net/tcp/migrate.ts, chunks when they do not fit), the main
//     thread copies each chunk into the new worker's staging region, the new
//     worker imports it. An importer without room puts it back (nothing lost);
//  4. the old worker's transmitted frames are drained (so per-flow output order
//     holds across the move), the RETA entry is rewritten, and the held frames
//     go to the new worker in order before the group is released.
// The pause is the time the group was held (steps 1-4).
//
// The rebalancer (rebalance: true, CLI --rebalance on) samples per-group frame
// counts (smoothed) and RX ring occupancy every intervalMs, and moves one group
// from the busiest to the idlest worker when they differ from the mean by more
// than `threshold` (hysteresis), choosing the group that best halves the gap,
// and never a group moved within `cooldownTicks`; up to maxMovesPerTick groups
// per tick, as long as the projected loads are still outside the band. It acts
// only when the same worker was the busiest outside the band `persistTicks`
// ticks in a row (a load that flips between workers is noise, not imbalance).
import { performance } from "node:perf_hooks";
import type { Dataplane, Steering, WorkerSlot } from "./dataplane.ts";
import {
  MIG_EXPORT,
  MIG_IMPORT,
  MIG_REQ,
  MIG_RESULT,
  MIG_ARG,
  MIG_SNAP,
  MIG_STRIDE,
} from "./control-worker.ts";
import {
  MH_FLOWS,
  MH_MORE,
  MIG_BAD,
  MIG_HDR,
  MIG_NO_ROOM,
  MIG_NOT_MOVABLE,
  MIG_TOO_BIG,
  RETA_SIZE as GROUPS,
} from "../core/migrate.gen.ts";

export interface ControlPlaneOptions {
  /** Watch load and move groups on its own (--rebalance on). */
  rebalance?: boolean;
  /** Where transmitted frames go; drained before a moved group resumes (per-flow output order). Default: the dataplane's txSink. */
  txSink?: (worker: number, mem: Uint8Array, off: number, len: number) => void;
  intervalMs?: number;
  /** A worker is busy above mean·(1+threshold) and idle below mean·(1−threshold). */
  threshold?: number;
  cooldownTicks?: number;
  /** Ticks in a row the same worker must be busiest outside the band before groups move. */
  persistTicks?: number;
  /** Frames per tick (all workers) below which the rebalancer does nothing. */
  minFrames?: number;
  /** Groups moved per tick at most. */
  maxMovesPerTick?: number;
  /** Longest wait for a worker to answer a request. */
  timeoutMs?: number;
}

export interface MigrationReport {
  group: number;
  from: number;
  to: number;
  ok: boolean;
  error?: string;
  /** Connections moved (TCP; UDP flows hold no state here and need no moving). */
  flows: number;
  /** Connections the importer could not take (lost). */
  lost: number;
  /** Chunk bytes copied between the workers' memories. */
  bytes: number;
  chunks: number;
  /** Frames of the group that arrived while it was held. */
  heldFrames: number;
  /** Time the group was held, µs. */
  pauseUs: number;
}

export interface ControlStats {
  migrations: number;
  refused: number;
  flowsMoved: number;
  flowsLost: number;
  bytesMoved: number;
  heldFrames: number;
  pauseUsTotal: number;
  pauseUsMax: number;
  rebalanceTicks: number;
  errors: string[];
  /** Completed migrations by worker: groups moved off it, and onto it. */
  movedOut: number[];
  movedIn: number[];
}

const tick = () => new Promise<void>((r) => setImmediate(r));

export class ControlPlane implements Steering {
  /** RETA as the control plane last wrote it (mirror of the dispatcher core's table). */
  readonly reta = new Uint8Array(GROUPS);
  readonly reports: MigrationReport[] = [];
  readonly stats: ControlStats = {
    migrations: 0,
    refused: 0,
    flowsMoved: 0,
    flowsLost: 0,
    bytesMoved: 0,
    heldFrames: 0,
    pauseUsTotal: 0,
    pauseUsMax: 0,
    rebalanceTicks: 0,
    errors: [],
    movedOut: [],
    movedIn: [],
  };
  private readonly held: (Buffer[] | null)[] = new Array(GROUPS).fill(null);
  private readonly counts = new Float64Array(GROUPS);
  private readonly rate = new Float64Array(GROUPS);
  private readonly cooldown = new Float64Array(GROUPS);
  private inflightGroup = -1;
  private inflightWorker = -1;
  private chain: Promise<unknown> = Promise.resolve();
  private migrating = 0;
  private streak = 0;
  private streakWorker = -1;
  private timer: NodeJS.Timeout | null = null;
  private readonly opts: Required<Omit<ControlPlaneOptions, "txSink">> & Pick<ControlPlaneOptions, "txSink">;

  constructor(
    readonly dp: Dataplane,
    opts: ControlPlaneOptions = {},
  ) {
    this.opts = {
      rebalance: false,
      intervalMs: 20,
      threshold: 0.25,
      cooldownTicks: 10,
      persistTicks: 3,
      minFrames: 64,
      maxMovesPerTick: 8,
      timeoutMs: 10000,
      ...opts,
      txSink: opts.txSink ?? dp.opts.txSink,
    };
    this.stats.movedOut = new Array<number>(dp.slots.length).fill(0);
    this.stats.movedIn = new Array<number>(dp.slots.length).fill(0);
    const retaPtr = (dp.dispatcher.exports.retaPtr as () => number)() >>> 0;
    this.reta.set(dp.dispatcher.u8.subarray(retaPtr, retaPtr + GROUPS));
    for (const s of dp.slots) {
      if (s.views.regions.staging.bytes < 64 * 1024)
        throw new Error(
          `migration needs a staging region of at least 64 KiB in every worker (worker ${s.index} has ${s.views.regions.staging.bytes} B): set config.stagingBytes`,
        );
    }
    dp.steering = this;
    if (this.opts.rebalance) {
      this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
      this.timer.unref();
    }
  }

  /** A migration is under way (it advances on setImmediate turns: a busy caller should yield often). */
  get moving(): boolean {
    return this.migrating > 0;
  }

  static attach(dp: Dataplane, opts: ControlPlaneOptions = {}): ControlPlane {
    return new ControlPlane(dp, opts);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.dp.steering === this) this.dp.steering = null;
  }

  // ---- Steering (called by Dataplane.dispatch for every IP frame) ----------------
  route(group: number, _worker: number, u8: Uint8Array, off: number, len: number): number {
    const h = this.held[group];
    if (h !== null) {
      h.push(Buffer.from(u8.subarray(off, off + len))); // the staging area is reused by the next batch
      return -1;
    }
    this.counts[group]++;
    const to = this.reta[group];
    this.inflightGroup = group;
    this.inflightWorker = to;
    return to;
  }

  idle(): void {
    this.inflightGroup = -1;
  }

  /** Frames routed to group g since the last rebalancing tick (since the start without the rebalancer). */
  framesOf(g: number): number {
    return this.counts[g];
  }

  /** Flow groups the RETA gives worker w. */
  groupsOf(w: number): number[] {
    const out: number[] = [];
    for (let g = 0; g < GROUPS; g++) if (this.reta[g] === w) out.push(g);
    return out;
  }

  // ---- migration -------------------------------------------------------------
  /** Moves flow group `group` to worker `to` (one migration at a time; calls queue). */
  migrate(group: number, to: number): Promise<MigrationReport> {
    const run = this.chain.then(() => this.migrateNow(group, to));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Worker w's slot once its rings are open: a worker restarted after a trap (onTrap "restart")
   * has none until its new core has run init().
   */
  private async slotReady(w: number): Promise<WorkerSlot> {
    const deadline = Date.now() + this.opts.timeoutMs;
    while (!this.dp.slots[w].nic) {
      if (this.dp.failed) throw new Error(`worker ${w} trapped during a migration`);
      if (Date.now() > deadline)
        throw new Error(`worker ${w} did not restart within ${this.opts.timeoutMs} ms`);
      await tick();
    }
    return this.dp.slots[w];
  }

  private async request(w: number, kind: number, arg: number, snap = 0): Promise<number> {
    const slot = await this.slotReady(w);
    const mig = this.dp.mig;
    const b = w * MIG_STRIDE;
    mig[b + MIG_ARG] = arg;
    mig[b + MIG_SNAP] = snap;
    Atomics.store(mig, b + MIG_REQ, kind);
    slot.nic.rx.publish(0); // wakes a sleeping worker
    const deadline = Date.now() + this.opts.timeoutMs;
    while (Atomics.load(mig, b + MIG_REQ) !== 0) {
      if (this.dp.failed) throw new Error(`worker ${w} trapped during a migration`);
      // A restarted worker's RX ring starts again at 0, so it would wait forever for an export's snapshot.
      if (this.dp.slots[w] !== slot) break;
      if (Date.now() > deadline)
        throw new Error(`worker ${w} did not answer a migration request within ${this.opts.timeoutMs} ms`);
      await tick();
      this.dp.slots[w].nic?.rx.publish(0);
    }
    // A worker that trapped and restarted meanwhile answered from a fresh core: the move cannot go on.
    if (this.dp.slots[w] !== slot) {
      Atomics.store(mig, b + MIG_REQ, 0);
      throw new Error(`worker ${w} restarted during a migration`);
    }
    return mig[b + MIG_RESULT];
  }

  /** Moves every connection of `group` from worker a to b, chunk by chunk; on an import refusal puts the chunk back. */
  private async move(
    group: number,
    a: number,
    b: number,
    snap: number,
  ): Promise<{ flows: number; lost: number; bytes: number; chunks: number; error?: string }> {
    const slotA = await this.slotReady(a);
    const slotB = await this.slotReady(b);
    const A = slotA.views;
    const B = slotB.views;
    const sa = A.regions.staging;
    const sb = B.regions.staging;
    let flows = 0;
    let lost = 0;
    let bytes = 0;
    let chunks = 0;
    for (;;) {
      const r = await this.request(a, MIG_EXPORT, group, snap);
      if (this.dp.slots[b] !== slotB) throw new Error(`worker ${b} restarted during a migration`);
      if (r < 0) return { flows, lost, bytes, chunks, error: exportError(r) };
      const n = A.u32[(sa.offset + MH_FLOWS) >>> 2];
      const more = A.u32[(sa.offset + MH_MORE) >>> 2];
      chunks++;
      if (n > 0) {
        if (r > sb.bytes)
          return { flows, lost, bytes, chunks, error: `chunk of ${r} B exceeds worker ${b}'s staging` };
        B.u8.set(A.u8.subarray(sa.offset, sa.offset + r), sb.offset);
        const k = await this.request(b, MIG_IMPORT, r);
        if (k < 0) {
          // Nothing changed on b: the chunk goes back where it came from (a's staging still holds it).
          const back = await this.request(a, MIG_IMPORT, r);
          if (back < n) lost += n - Math.max(back, 0);
          return { flows, lost, bytes, chunks, error: `worker ${b} refused the import (${importError(k)})` };
        }
        lost += n - k;
        flows += k;
        bytes += r;
      }
      if (!more || r <= MIG_HDR) break;
    }
    return { flows, lost, bytes, chunks };
  }

  private async migrateNow(group: number, to: number): Promise<MigrationReport> {
    const workers = this.dp.slots.length;
    if (!(group >= 0 && group < GROUPS)) throw new Error(`flow group must be 0..${GROUPS - 1}, not ${group}`);
    if (!(to >= 0 && to < workers)) throw new Error(`worker must be 0..${workers - 1}, not ${to}`);
    const from = this.reta[group];
    const report: MigrationReport = {
      group,
      from,
      to,
      ok: true,
      flows: 0,
      lost: 0,
      bytes: 0,
      chunks: 0,
      heldFrames: 0,
      pauseUs: 0,
    };
    if (from === to) return report;
    this.migrating++;
    const t0 = performance.now();
    const held: Buffer[] = [];
    this.held[group] = held;
    try {
      // 2. a frame of the group that is on its way into from's ring gets there first
      while (this.inflightGroup === group && this.inflightWorker === from) await tick();
      const nic = (await this.slotReady(from)).nic;
      nic.rxCommit();
      const snap = nic.rx.head();
      // 3. move the connections
      const m = await this.move(group, from, to, snap);
      report.flows = m.flows;
      report.lost = m.lost;
      report.bytes = m.bytes;
      report.chunks = m.chunks;
      let owner = to;
      if (m.error !== undefined) {
        report.error = m.error;
        if (m.flows > 0) {
          // Earlier chunks are on `to` already: bring them back so the group stays whole on `from`.
          const back = await this.move(group, to, from, (await this.slotReady(to)).nic.rx.head());
          report.lost += back.lost;
        }
        report.ok = false;
        report.flows = 0;
        owner = from;
      }
      // 4. what the old worker sent leaves before anything the new one sends
      if (this.opts.txSink) this.dp.drain(this.opts.txSink);
      if (owner !== from) {
        const set = this.dp.dispatcher.exports.retaSet as (g: number, w: number) => number;
        if (set(group, owner) !== 0) throw new Error(`retaSet(${group}, ${owner}) refused`);
        this.reta[group] = owner;
      }
      await this.release(group, owner, held);
      report.heldFrames = held.length;
    } catch (e) {
      // A worker failed mid-move (trap, timeout): the held frames are dropped and the group unheld, so dispatch goes on.
      this.held[group] = null;
      this.stats.errors.push((e as Error).message);
      this.migrating--;
      throw e;
    }
    report.pauseUs = Math.round((performance.now() - t0) * 1000);
    this.migrating--;
    this.account(report);
    return report;
  }

  /** Sends the held frames to their new owner in arrival order, then lets the group flow again. */
  private async release(group: number, owner: number, held: Buffer[]): Promise<void> {
    let i = 0;
    // Frames keep arriving into `held` while we wait for ring room: loop until it is empty, then unhold in the same tick.
    while (i < held.length) {
      const f = held[i++];
      await this.dp.putFrame(owner, f, 0, f.length);
    }
    this.dp.commit(owner);
    this.held[group] = null;
  }

  private account(r: MigrationReport): void {
    this.reports.push(r);
    if (this.reports.length > 1000) this.reports.shift();
    if (!r.ok) {
      this.stats.refused++;
      if (r.error) this.stats.errors.push(`group ${r.group}: ${r.error}`);
    } else if (r.from !== r.to) {
      this.stats.migrations++;
      this.stats.movedOut[r.from]++;
      this.stats.movedIn[r.to]++;
    }
    this.stats.flowsMoved += r.flows;
    this.stats.flowsLost += r.lost;
    this.stats.bytesMoved += r.bytes;
    this.stats.heldFrames += r.heldFrames;
    this.stats.pauseUsTotal += r.pauseUs;
    this.stats.pauseUsMax = Math.max(this.stats.pauseUsMax, r.pauseUs);
  }

  // ---- rebalancer -----------------------------------------------------------
  /**
   * One rebalancing step (the timer calls it; tests may call it directly).
   * Returns the migrations it started (they run one after another), or null.
   */
  tick(): Promise<MigrationReport[]> | null {
    const workers = this.dp.slots.length;
    this.stats.rebalanceTicks++;
    const now = this.stats.rebalanceTicks;
    const load = new Float64Array(workers);
    let total = 0;
    for (let g = 0; g < GROUPS; g++) {
      this.rate[g] = 0.5 * this.rate[g] + 0.5 * this.counts[g]; // smoothed frames per tick
      this.counts[g] = 0;
      load[this.reta[g]] += this.rate[g];
      total += this.rate[g];
    }
    if (workers < 2 || this.migrating > 0) return null;
    for (let w = 0; w < workers; w++) {
      const occ = this.dp.slots[w].nic?.rx.count() ?? 0; // frames waiting: the worker is behind (none while it restarts)
      load[w] += occ;
      total += occ;
    }
    if (total < this.opts.minFrames) return null;
    const mean = total / workers;
    // Persistence: the same worker must be the busiest outside the band on persistTicks ticks in a row. In a
    // closed loop (pair, tap) per-tick frame counts follow the scheduler, and the busiest worker changes
    // from tick to tick; acting on one tick moved groups back and forth (25-55 moves in a balanced pair run).
    let top = 0;
    for (let w = 1; w < workers; w++) if (load[w] > load[top]) top = w;
    if (load[top] >= mean * (1 + this.opts.threshold)) {
      this.streak = top === this.streakWorker ? this.streak + 1 : 1;
      this.streakWorker = top;
    } else this.streak = 0;
    if (this.streak < this.opts.persistTicks) return null;
    this.streak = 0;
    // Greedy: while the busiest and idlest workers are outside the band, move the busiest's group that best halves their gap.
    const moves: Promise<MigrationReport>[] = [];
    while (moves.length < this.opts.maxMovesPerTick) {
      let busy = 0;
      let idle = 0;
      for (let w = 1; w < workers; w++) {
        if (load[w] > load[busy]) busy = w;
        if (load[w] < load[idle]) idle = w;
      }
      if (load[busy] < mean * (1 + this.opts.threshold) || load[idle] > mean * (1 - this.opts.threshold))
        break;
      const gap = load[busy] - load[idle];
      let best = -1;
      let bestDist = Infinity;
      for (let g = 0; g < GROUPS; g++) {
        if (this.reta[g] !== busy || this.rate[g] <= 0 || this.cooldown[g] > now) continue;
        if (this.rate[g] >= gap) continue; // moving it would only swap the roles
        const d = Math.abs(this.rate[g] - gap / 2);
        if (d < bestDist) {
          bestDist = d;
          best = g;
        }
      }
      if (best < 0) break;
      this.cooldown[best] = now + this.opts.cooldownTicks;
      load[busy] -= this.rate[best];
      load[idle] += this.rate[best];
      const p = this.migrate(best, idle);
      p.catch((e) => this.stats.errors.push((e as Error).message));
      moves.push(p);
    }
    return moves.length ? Promise.all(moves) : null;
  }

  /** What the report prints: migrations, flows moved, pause time. */
  summary(): ControlStats & { pauseUsMean: number } {
    const n = this.stats.migrations + this.stats.refused;
    return {
      ...this.stats,
      errors: [...this.stats.errors],
      movedOut: [...this.stats.movedOut],
      movedIn: [...this.stats.movedIn],
      pauseUsMean: n ? Math.round(this.stats.pauseUsTotal / n) : 0,
    };
  }
}

function exportError(r: number): string {
  if (r === MIG_NOT_MOVABLE)
    return "not movable (send data outside the connection's buffers, or an app without a migration hook)";
  if (r === MIG_TOO_BIG) return "a connection is larger than the staging region";
  return `export failed (${r})`;
}

function importError(k: number): string {
  if (k === MIG_NO_ROOM) return "no room: TCBs, mbufs, spans, flow entries or app slots";
  if (k === MIG_BAD) return "bad chunk";
  return String(k);
}

/** Parses --rebalance on|off. */
export function parseRebalance(v: string | undefined): boolean {
  if (v === undefined || v === "off") return false;
  if (v === "on") return true;
  throw new Error(`--rebalance takes on or off, not "${v}"`);
}
