// `ixwasm gen`: runs one workload through the synthesiser and returns what it
// realised (sizes, mix, inter-arrival, connections, packets) next to the model's
// targets, plus the memory the run needed per connection.
import { statSync } from "node:fs";
import { ChurnWorkload, churnPlan } from "./churn.ts";
import { EchoWorkload } from "./echo.ts";
import { IncastWorkload } from "./incast.ts";
import { BYTES_PER_KEY, MemcachedWorkload } from "./memcached.ts";
import { GenStats, keyDigits, type GenOptions } from "./common.ts";
import {
  ETC_IA,
  ETC_SMALL_SHARE,
  USR_KEY_BYTES,
  USR_VALUE_BYTES,
  clampKey,
  etcKeyMean,
  etcValueMean,
} from "./dist.ts";
import { Synth, type Workload } from "./synth.ts";

export { WORKLOADS, type GenOptions, type WorkloadName } from "./common.ts";
export { churnPlan } from "./churn.ts";

interface Summary {
  mean: number;
  p50: number;
  p99: number;
}

export interface GenReport {
  workload: string;
  file: string;
  format: string;
  seed: number;
  packets: number;
  /** Frame bytes (what inspect counts as bytes). */
  bytes: number;
  file_bytes: number;
  /** Capture time of the last packet, seconds after the first. */
  span_s: number;
  connections: number;
  peak_concurrent: number;
  requests: number;
  elapsed_s: number;
  packets_per_s: number;
  /** CPU time of the process while generating (user + system), and packets per CPU second. */
  cpu_s: number;
  packets_per_cpu_s: number;
  /** State held per connection (bytes), and per exchange in flight. */
  memory: {
    bytes_per_connection: number;
    bytes_per_key?: number;
    bytes_per_burst: number;
    peak_bursts: number;
  };
  memcached?: {
    protocol: string;
    gets: number;
    sets: number;
    get_set_ratio: number;
    hit_ratio: number;
    delayed_requests: number;
    key_size: Summary;
    value_size: Summary & { small_share: number };
    inter_arrival_us: Summary;
    targets: {
      key_size_mean: number;
      value_size_mean: number;
      small_share: number;
      get_set_ratio: number;
      inter_arrival_us_mean: number;
    };
  };
  message_size?: Summary;
}

function summary(h: { mean(): number; quantile(q: number): number }, scale = 1): Summary {
  return { mean: h.mean() / scale, p50: h.quantile(0.5) / scale, p99: h.quantile(0.99) / scale };
}

export function generate(o: GenOptions): GenReport {
  const st = new GenStats();
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const synth = new Synth({
    path: o.out,
    format: o.format,
    mss: o.mss,
    seed: o.seed,
    poolHint: Math.min(1 << 16, Math.max(64, o.workload === "incast" ? o.clients * o.servers : o.conns)),
    onProgress: o.onProgress ? (s) => o.onProgress!(s.packets, s.frameBytes) : undefined,
  });
  let w: Workload;
  let perConn = 0;
  const memcached = o.workload === "etc" || o.workload === "usr";
  if (o.workload === "echo") {
    w = new EchoWorkload(o, st);
    perConn = 14 + 4 + 8 + 12; // seqs, port, state, sent count, last start, wake-heap slot
  } else if (memcached) {
    w = new MemcachedWorkload(o, st);
    perConn = 14 + 4; // seqs, port, state, idle-FIFO slot
  } else if (o.workload === "incast") {
    w = new IncastWorkload(o, st);
    perConn = 14;
  } else {
    const plan = churnPlan(o, synth.seg);
    if (typeof plan === "string") throw new Error(plan);
    w = new ChurnWorkload(o, st, plan, synth.seg);
    perConn = 0; // a pure function of the connection number
  }
  synth.run(w);
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const r: GenReport = {
    workload: o.workload,
    file: o.out,
    format: o.format,
    seed: o.seed,
    packets: synth.packets,
    bytes: synth.frameBytes,
    file_bytes: statSync(o.out).size,
    span_s: synth.now / 1e9,
    connections: st.connections,
    peak_concurrent: st.peakConcurrent,
    requests: st.requests,
    elapsed_s: elapsed,
    packets_per_s: elapsed > 0 ? synth.packets / elapsed : 0,
    cpu_s: cpuS,
    packets_per_cpu_s: cpuS > 0 ? synth.packets / cpuS : 0,
    memory: {
      bytes_per_connection: perConn,
      bytes_per_burst: Synth.BYTES_PER_BURST,
      peak_bursts: synth.peakActive,
    },
  };
  if (memcached) {
    const usr = o.workload === "usr";
    const small = st.valueSize.n ? smallShare(st) : 0;
    r.memory.bytes_per_key = BYTES_PER_KEY;
    r.memcached = {
      protocol: o.protocol,
      gets: st.gets,
      sets: st.sets,
      get_set_ratio: st.sets ? st.gets / st.sets : Infinity,
      hit_ratio: st.gets ? st.hits / st.gets : 0,
      delayed_requests: st.delayed,
      key_size: summary(st.keySize),
      value_size: { ...summary(st.valueSize), small_share: small },
      inter_arrival_us: summary(st.interArrivalNs, 1000),
      targets: {
        key_size_mean: usr ? clampKey(USR_KEY_BYTES, keyDigits(o.keys)) : etcKeyMean(keyDigits(o.keys)),
        value_size_mean: usr ? USR_VALUE_BYTES : etcValueMean(),
        small_share: usr ? 1 : ETC_SMALL_SHARE,
        get_set_ratio: o.getRatio / (1 - o.getRatio),
        inter_arrival_us_mean: o.rate > 0 ? 1e6 / o.rate : ETC_IA.sigmaUs / (1 - ETC_IA.xi),
      },
    };
  } else r.message_size = summary(st.messageSize);
  return r;
}

/** Share of SET values below 15 bytes (the table part of the ETC model). */
function smallShare(st: GenStats): number {
  // The histogram is exact below 1024, so the share of values ≤ 14 is exact.
  let below = 0;
  const h = st.valueSize;
  for (let v = 0; v <= 14; v++) below += h.countOf(v);
  return below / h.n;
}

function f(x: number, d = 1): string {
  return Number.isFinite(x) ? x.toFixed(d) : "∞";
}

function si(x: number): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return String(x);
}

/** The report as a short table for the terminal. */
export function formatReport(r: GenReport): string {
  const L: string[] = [];
  const row = (k: string, v: string) => L.push(`${k.padEnd(22)} ${v}`);
  row("file", `${r.file} (${r.format}, ${si(r.file_bytes)}B)`);
  row("workload", `${r.workload}, seed ${r.seed}`);
  row("packets", `${r.packets} (${si(r.bytes)}B of frames, ${f(r.span_s, 3)} s of capture)`);
  row("connections", `${r.connections} (peak ${r.peak_concurrent} open at once)`);
  row("requests", String(r.requests));
  const m = r.memcached;
  if (m) {
    const t = m.targets;
    row(
      "GET:SET",
      `${f(m.get_set_ratio, 2)}:1 (target ${f(t.get_set_ratio, 2)}:1), hit ratio ${f(m.hit_ratio * 100)} %`,
    );
    row(
      "key size (B)",
      `mean ${f(m.key_size.mean, 2)} (target ${f(t.key_size_mean, 2)}), p50 ${m.key_size.p50}, p99 ${m.key_size.p99}`,
    );
    row(
      "value size (B, SETs)",
      `mean ${f(m.value_size.mean, 1)} (target ${f(t.value_size_mean, 1)}), p50 ${m.value_size.p50}, p99 ${f(m.value_size.p99, 0)}, < 15 B ${f(m.value_size.small_share * 100)} % (target ${f(t.small_share * 100)} %)`,
    );
    row(
      "inter-arrival (µs)",
      `mean ${f(m.inter_arrival_us.mean, 2)} (target ${f(t.inter_arrival_us_mean, 2)}), p50 ${f(m.inter_arrival_us.p50, 2)}, p99 ${f(m.inter_arrival_us.p99, 2)}` +
        (m.delayed_requests ? `; ${m.delayed_requests} requests waited for a free connection` : ""),
    );
  } else if (r.message_size) row("response size (B)", `mean ${f(r.message_size.mean, 0)}`);
  row(
    "memory",
    `${r.memory.bytes_per_connection} B/connection` +
      (r.memory.bytes_per_key ? `, ${r.memory.bytes_per_key} B/key` : "") +
      `, ${r.memory.bytes_per_burst} B per exchange in flight (peak ${r.memory.peak_bursts})`,
  );
  row(
    "generation",
    `${f(r.elapsed_s, 2)} s, ${si(Math.round(r.packets_per_s))} packets/s (${si(Math.round(r.packets_per_cpu_s))} per CPU second)`,
  );
  return L.join("\n") + "\n";
}
