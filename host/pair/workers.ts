// `ixwasm pair --server-workers N`: the server side runs on the multi-worker
// Dataplane (host/runtime/dataplane.ts). The main thread holds the client core
// and the dispatcher: each turn it polls the client, copies what the client
// transmitted into the dispatcher's staging (the "wire"), has the dispatcher
// hash the batch (WASM Toeplitz + RETA) and copy each frame into its worker's RX
// ring, then moves what the workers transmitted into the client's RX ring.
// The N server workers each own one core with the server app and answer the
// flows the RETA gives them. With --rebalance on or --migrate-at, a ControlPlane
// moves flow groups between workers (control-plane.ts); with --on-trap restart
// a worker that traps comes back with a fresh memory and its connections are
// lost (the client sees them reset), the others keep going.
//
// Each client→server frame is copied twice (client TX mbuf → staging → worker
// mbuf) because the dispatcher reads descriptors in its own core's memory; the
// server→client direction is copied once (worker TX mbuf → client RX mbuf).
import { createCore, type CoreViews } from "../core/core.ts";
import { DESC_BYTES } from "../io/reader.ts";
import { Dataplane } from "../runtime/dataplane.ts";
import { ControlPlane } from "../runtime/control-plane.ts";
import { Nic } from "../runtime/nic.ts";
import { clientResults } from "../runtime/client-results.ts";
import { FaultInjector } from "../io/faults.ts";
import { threadCpuMs } from "../runtime/thread-cpu.ts";
import { readBatchHistogram, readCounters, type Counters } from "../report/counters.ts";
import { check, finishReport, pairConfigs, type PairOptions } from "./pair.ts";
import type { PairReport, PairWorkerReport, PairWorkersFields } from "../report/pair.ts";
import * as ABI from "../core/abi.gen.ts";

// Record-descriptor word offsets (abi/table.ts) as this module's own constants: V8 folds
// these in the per-packet loops, where an imported binding costs a load at each use
// (a read loop of sec + nsec: 1.7 against 3.1 ns a descriptor, medians).
const { DESC_W_CAPLEN, DESC_W_IFACE, DESC_W_LEN, DESC_W_LINKTYPE, DESC_W_NSEC, DESC_W_OFF, DESC_W_SEC } = ABI;

/** A worker trapped with --on-trap abort (the CLI prints the message and exits 1). */
export class WorkerTrapped extends Error {}

const DROP_COUNTERS: (keyof Counters)[] = [
  "mbuf_exhausted",
  "flow_table_full",
  "ring_full",
  "rx_drop_nombuf",
  "not_for_us",
  "ip_bad_header",
  "ip_bad_csum",
  "l4_bad_csum",
  "proto_unhandled",
  "tcp_bad_csum",
  "tcp_malformed",
  "tcp_no_listener",
  "tcp_tcb_full",
  "tcp_ooo_drops",
  "tcp_tx_nombuf",
  "tcp_rcv_nospace",
  "tcp_span_exhausted",
];

const tick = () => new Promise<void>((r) => setImmediate(r));

/** The run; the report's extra fields are in PairWorkersFields. */
export async function pairServerWorkers(o: PairOptions): Promise<PairReport> {
  check(o);
  const n = o.serverWorkers ?? 1;
  const control = !!o.rebalance || o.migrateAt !== undefined;
  const onTrap = o.onTrap ?? "abort";
  if (o.migrateAt !== undefined && n < 2) throw new Error("--migrate-at needs at least 2 server workers");
  const cfg = pairConfigs(o);
  const client = createCore(cfg.client, { debug: o.debug });
  const cnic = new Nic(client, true); // the client core is polled in this thread: local rings
  const faultsCS = new FaultInjector({ ...o.faults, seed: (o.faults.seed ?? 1) * 2 + 1 });
  const faultsSC = new FaultInjector({ ...o.faults, seed: (o.faults.seed ?? 1) * 2 + 2 });
  const txBy = new Array<number>(n).fill(0);
  // Worker TX the client's RX ring had no room for, in order (a migration drains the old worker whatever the room).
  const pending: Buffer[] = [];
  let pendingHead = 0;
  const toClient = (f: Uint8Array, off: number, len: number) => {
    if (len > 2048) return; // cannot be an mbuf: never happens with a 1500-byte MTU
    if (pendingHead === pending.length && cnic.rxPut(f, off, len)) return;
    pending.push(Buffer.from(f.subarray(off, off + len)));
  };
  const emitSC = (f: Uint8Array) => toClient(f, 0, f.length);
  let nowNs = 0;
  const sink = (w: number, mem: Uint8Array, off: number, len: number) => {
    txBy[w]++;
    if (faultsSC.active) faultsSC.pass(mem.subarray(off, off + len), nowNs, emitSC);
    else toClient(mem, off, len);
  };
  const dp = await Dataplane.start({
    workers: n,
    config: { ...cfg.server, stagingBytes: control ? 1 << 20 : 0 },
    debug: o.debug,
    test: o.trapWorker !== undefined, // --trap-worker: the test core's testTrap
    onTrap,
    spinRounds: 2000,
    txSink: sink,
  });
  const cp = control ? new ControlPlane(dp, { rebalance: !!o.rebalance, txSink: sink }) : null;
  const disp = dp.dispatcher;
  const stage = disp.regions.staging;
  const descBase = disp.regions.desc.offset;
  const maxFrames = Math.min(disp.regions.desc.bytes / DESC_BYTES, Math.floor(stage.bytes / 2056));
  const dbuf = Buffer.from(disp.memory.buffer);
  const cbuf = Buffer.from(client.memory.buffer);
  const du32 = disp.u32;
  const df64 = disp.f64;
  let staged = 0;
  let pos = stage.offset;
  /** One client frame into the dispatcher's staging and its descriptor (the layout stageFrames writes). */
  const stageFrame = (src: Buffer, off: number, len: number) => {
    if (staged >= maxFrames) return; // cannot happen: the client drain is bounded by maxFrames (a duplicate aside)
    src.copy(dbuf, pos, off, off + len);
    const d = (descBase + staged * DESC_BYTES) >>> 2;
    du32[d + DESC_W_OFF] = pos;
    du32[d + DESC_W_CAPLEN] = len;
    du32[d + DESC_W_LEN] = len;
    du32[d + DESC_W_LINKTYPE] = 1; // Ethernet
    du32[d + DESC_W_NSEC] = 0;
    du32[d + DESC_W_IFACE] = 0;
    df64[(d + DESC_W_SEC) >>> 1] = 0;
    pos += (len + 7) & ~7;
    staged++;
  };
  const emitCS = (f: Uint8Array) => stageFrame(Buffer.from(f.buffer, f.byteOffset, f.length), 0, f.length);
  const fromClient = (_mem: Uint8Array, off: number, len: number) => {
    if (faultsCS.active) faultsCS.pass(client.u8.subarray(off, off + len), nowNs, emitCS);
    else stageFrame(cbuf, off, len);
  };
  const drainers = Array.from(
    { length: n },
    (_, w) => (mem: Uint8Array, off: number, len: number) => sink(w, mem, off, len),
  );
  const occSum = new Array<number>(n).fill(0);
  const occMax = new Array<number>(n).fill(0);
  let occSamples = 0;

  const e = client.exports;
  const cpoll = client.exports.poll;
  const roundTrips = () => Number(e.clientRoundTrips());
  const migrations: Promise<unknown>[] = [];
  let migrateDone = o.migrateAt === undefined;
  let trapDone = o.trapWorker === undefined;
  let startRr = 0;
  let trapped: string | null = null;

  const cpu0 = threadCpuMs();
  const t0 = performance.now();
  const deadline = t0 + o.timeoutS * 1000;
  try {
    for (let i = 0; ; i++) {
      nowNs = (performance.now() - t0) * 1e6;
      dp.setTime(nowNs);
      cpoll(nowNs);
      staged = 0;
      pos = stage.offset;
      cnic.txDrain(fromClient, maxFrames - 2);
      if (faultsCS.active) faultsCS.flush(emitCS);
      if (staged > 0) {
        for (let w = 0; w < n; w++) {
          const nic = dp.slots[w].nic;
          if (!nic) continue;
          const c = nic.rx.count();
          occSum[w] += c;
          if (c > occMax[w]) occMax[w] = c;
        }
        occSamples++;
        await dp.dispatch(staged);
      }
      // Worker TX → client RX: what waited first, then each worker in turn (rotating start), as room allows.
      while (pendingHead < pending.length) {
        const f = pending[pendingHead];
        if (!cnic.rxPut(f, 0, f.length)) break;
        pendingHead++;
      }
      if (pendingHead === pending.length) {
        pending.length = 0;
        pendingHead = 0;
        for (let k = 0; k < n; k++) {
          const w = (startRr + k) % n;
          const nic = dp.slots[w].nic;
          if (!nic) continue;
          const room = cnic.rxSpace() - 2;
          if (room <= 0) break;
          nic.txDrain(drainers[w], room);
        }
        startRr = (startRr + 1) % n;
      }
      if (faultsSC.active) faultsSC.flush(emitSC);
      cnic.rxCommit();
      if (dp.failed) {
        trapped = trapMessage(dp);
        break;
      }
      if (!migrateDone || !trapDone) {
        const rt = roundTrips();
        if (!migrateDone && rt >= o.migrateAt!) {
          migrateDone = true;
          // Every flow group moves to the next worker: each connection changes worker once, mid-stream.
          // Groups one at a time, busiest first, so the connections move while they still have requests to go.
          const order = Array.from({ length: 128 }, (_, g) => g).sort(
            (a, b) => cp!.framesOf(b) - cp!.framesOf(a),
          );
          for (const g of order) {
            const m = cp!.migrate(g, (cp!.reta[g] + 1) % n);
            // A move that fails (its worker trapped) is in cp's errors; handled here, or Node ends the process.
            m.catch(() => undefined);
            migrations.push(m);
          }
        }
        if (
          !trapDone &&
          ((o.trapAt !== undefined && rt >= o.trapAt) ||
            (o.trapAfterMs !== undefined && performance.now() - t0 >= o.trapAfterMs))
        ) {
          trapDone = true;
          dp.trapForTest(o.trapWorker!);
        }
      }
      if (e.clientDone() || performance.now() > deadline) break;
      // Lets migrations, the rebalancer's timer and a restarted worker's start-up advance. A turn of the
      // event loop costs ~10 µs here (more under load), so only every 1024 iterations unless a group is moving.
      if ((i & 1023) === 0 || (cp !== null && cp.moving)) await tick();
    }
    if (!trapped) await Promise.allSettled(migrations);
  } catch (err) {
    // A worker that trapped while the dispatcher waited for its full ring (Dataplane.put throws).
    if (!dp.failed) {
      cp?.stop();
      await dp.stop();
      throw err;
    }
    trapped = trapMessage(dp);
  } finally {
    cp?.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  const mainCpuMs = threadCpuMs() - cpu0;
  if (!trapped) {
    // The last frames (the client's final ACKs) go through their workers, so the counters add up.
    await dp.settle(5000).catch(() => undefined);
    dp.drain(sink);
  }
  const results = await dp.stop();
  if (trapped) throw new WorkerTrapped(trapped);

  const views: CoreViews[] = dp.slots.map((s) => s.views);
  const hist = views.map((v) => readBatchHistogram(v));
  const counters = views.map((v) => readCounters(v));
  const merged = {} as Counters;
  for (const c of counters)
    for (const [k, v] of Object.entries(c))
      merged[k as keyof Counters] = (merged[k as keyof Counters] ?? 0) + v;
  const mergedHist = hist[0].map((_, b) => hist.reduce((a, h) => a + h[b], 0));
  const cs = cp?.summary() ?? null;
  const restartsBy = new Array<number>(n).fill(0);
  // Every trap but the last ones not restarted was followed by a restart (onTrap): count per worker.
  if (onTrap === "restart") for (const t of dp.stats.traps) restartsBy[t.worker]++;
  const perWorker: PairWorkerReport[] = views.map((v, w) => {
    const h = hist[w];
    const polls = h.reduce((a, k) => a + k, 0) - h[0];
    const frames = h.reduce((a, k, b) => a + k * b, 0);
    const drops: Record<string, number> = {};
    for (const k of DROP_COUNTERS) if (counters[w][k]) drops[k] = counters[w][k];
    return {
      worker: w,
      packets: dp.stats.dispatched[w],
      tx_frames: txBy[w],
      pps: seconds > 0 ? Math.round(dp.stats.dispatched[w] / seconds) : 0,
      batch_histogram: h,
      mean_batch: polls ? Math.round((frames / polls) * 100) / 100 : 0,
      ring: {
        slots: cfg.server.ringSlots ?? 0,
        mean_occupancy: occSamples ? Math.round((occSum[w] / occSamples) * 100) / 100 : 0,
        max_occupancy: occMax[w],
        dispatcher_waits: dp.stats.waits[w],
        worker_naps: results[w].naps,
      },
      drops,
      migrations: { out: cs?.movedOut[w] ?? 0, in: cs?.movedIn[w] ?? 0 },
      restarts: restartsBy[w],
      cpu_ms: Number.isFinite(results[w].cpuMs) ? results[w].cpuMs : null,
    };
  });

  // Lost flows: connections that ended before their requests were done.
  const lostConns: number[] = [];
  let rtLost = 0;
  const perConn = o.app === "memcached" ? 2 * o.msgs : o.msgs;
  for (let c = 0; c < o.conns; c++) {
    const seq = e.clientConnSeq(c) as number;
    if ((e.clientConnState(c) as number) === 4 && seq < perConn) {
      lostConns.push(c);
      rtLost += perConn - seq;
    }
  }
  const cr = clientResults(client);
  const extra: PairWorkersFields = {
    server_workers: n,
    per_worker: perWorker,
    dispatch: {
      frames: dp.stats.dispatched.reduce((a, b) => a + b, 0),
      ring_waits: dp.stats.ringWaits,
      non_ip: dp.stats.nonIp,
      thread_cpu_ms: Number.isFinite(mainCpuMs) ? mainCpuMs : null,
    },
    control: cs && {
      rebalance: !!o.rebalance,
      migrate_at: o.migrateAt ?? null,
      migrations: cs.migrations,
      refused: cs.refused,
      flows_moved: cs.flowsMoved,
      flows_lost: cs.flowsLost,
      bytes_moved: cs.bytesMoved,
      held_frames: cs.heldFrames,
      pause_us: { total: cs.pauseUsTotal, mean: cs.pauseUsMean, max: cs.pauseUsMax },
      rebalance_ticks: cs.rebalanceTicks,
      errors: cs.errors.slice(0, 20),
    },
    traps: {
      on_trap: onTrap,
      events: dp.stats.traps,
      restarts: dp.stats.restarts,
      lost_flows: lostConns.length,
      lost_connections: lostConns,
      round_trips_lost: rtLost,
    },
  };
  const report = finishReport(
    o,
    cr,
    { counters: readCounters(client), hist: readBatchHistogram(client) },
    { counters: merged, hist: mergedHist },
    seconds,
    { client_to_server: faultsCS.counts, server_to_client: faultsSC.counts },
  );
  report.workers = n;
  return Object.assign(report, extra, {
    // A connection reset by a restarted worker is an error of the client app; these are the others (byte mismatches, failed connects).
    errors_excluding_lost: cr.errors - Number(e.clientDiedEarly() as bigint),
  });
}

function trapMessage(dp: Dataplane): string {
  const t = dp.stats.traps.at(-1)!;
  return `server worker ${t.worker} trapped (${t.message}); --on-trap restart would restart it and count its connections as lost`;
}
