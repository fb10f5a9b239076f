// What the workloads share: options, addressing in the benchmarking range
// (RFC 2544: clients in 198.18.0.0/16, servers in 198.19.0.0/16), timing constants,
// a small indexed min-heap of times, and the realised statistics.
import type { WriteFormat } from "../io/writer.ts";
import { Hist } from "./dist.ts";
import { fmix32 } from "../io/prng.ts";

export type WorkloadName = "echo" | "etc" | "usr" | "incast" | "churn";
export const WORKLOADS: WorkloadName[] = ["echo", "etc", "usr", "incast", "churn"];

export interface GenOptions {
  workload: WorkloadName;
  out: string;
  format: WriteFormat;
  seed: number;
  clients: number;
  servers: number;
  conns: number;
  /** Stop starting new work at this time (ns); Infinity when --packets decides. */
  durationNs: number;
  /** Stop starting new work once this many packets are written. */
  maxPackets: number;
  /** Workload rate: requests/s per server (etc/usr), opens/s (churn), rounds/s (incast), messages/s per connection (echo); 0 = the model's. */
  rate: number;
  mss: number;
  rttNs: number;
  port: number;
  // echo
  messages: number;
  size: number;
  // etc/usr
  protocol: "ascii" | "binary";
  zipf: number;
  keys: number;
  getRatio: number;
  // churn
  requests: number;
  response: number;
  onProgress?: (packets: number, bytes: number) => void;
}

/** Hosts per side: a /16 each, without its first and last address. */
export const MAX_HOSTS = 65534;
export const CLIENT_BASE = 0xc6120001; // 198.18.0.1
export const SERVER_BASE = 0xc6130001; // 198.19.0.1

export function clientIp(h: number): number {
  return (CLIENT_BASE + h) >>> 0;
}

export function serverIp(h: number): number {
  return (SERVER_BASE + h) >>> 0;
}

/** Linux's default ephemeral range, 32768–60999. */
export const EPHEMERAL_LO = 32768;
export const EPHEMERAL_N = 28232;

/** A client host's ephemeral port number i (i < EPHEMERAL_N), from a host-dependent start. */
export function ephemeralPort(host: number, i: number, seed: number): number {
  const start = fmix32((host * 0x9e3779b1 + seed) >>> 0) % EPHEMERAL_N;
  return EPHEMERAL_LO + ((start + i) % EPHEMERAL_N);
}

export function ipText(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

// Timing at the capture point (the server's NIC unless a workload says otherwise).
export const US = 1000;
/** Server time from a request's last byte to its response. */
export const SERVICE_NS = 2 * US;
/** Delay of a server's pure ACK for a request still arriving. */
export const ACK_DELAY_NS = 500;
/** Link rate used for the spacing of back-to-back segments. */
export const LINK_BPS = 10e9;

/** Wire time of a frame carrying `payload` bytes (preamble, FCS and gap included). */
export function wireNs(payload: number): number {
  return ((payload + 66 + 24) * 8 * 1e9) / LINK_BPS;
}

/** Min-heap of ids 0..n−1 on times kept in `key` (each id at most once). */
export class TimeHeap {
  readonly key: Float64Array;
  private readonly h: Int32Array;
  size = 0;

  constructor(n: number) {
    this.key = new Float64Array(n);
    this.h = new Int32Array(n);
  }

  get topId(): number {
    return this.h[0];
  }

  get topTime(): number {
    return this.size ? this.key[this.h[0]] : Infinity;
  }

  push(id: number, t: number): void {
    const h = this.h;
    const key = this.key;
    key[id] = t;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (key[h[p]] <= t) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = id;
  }

  pop(): number {
    const h = this.h;
    const key = this.key;
    const top = h[0];
    const last = h[--this.size];
    const n = this.size;
    if (n > 0) {
      const t = key[last];
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && key[h[c + 1]] < key[h[c]]) c++;
        if (key[h[c]] >= t) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

/** Realised statistics, filled while generating. */
export class GenStats {
  connections = 0;
  peakConcurrent = 0;
  concurrent = 0;
  requests = 0;
  gets = 0;
  sets = 0;
  hits = 0;
  /** Requests that found every connection to their server busy and waited for one. */
  delayed = 0;
  keySize = new Hist();
  valueSize = new Hist();
  interArrivalNs = new Hist();
  messageSize = new Hist();

  opened(): void {
    this.connections++;
    if (++this.concurrent > this.peakConcurrent) this.peakConcurrent = this.concurrent;
  }

  closed(): void {
    this.concurrent--;
  }
}

/** Digits of the largest key index: the shortest key that names every key. */
export function keyDigits(keys: number): number {
  return String(Math.max(0, keys - 1)).length;
}
