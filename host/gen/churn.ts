// `gen churn`: many concurrent short-lived connections. Connection n opens at
// T(n) = (n + jitter)/rate, makes --requests exchanges spread over its lifetime,
// and closes after lifetime L = (conns − 1)/rate − (a close's duration), so its slot
// n mod conns reopens (on a fresh port) right after: conns connections are open at
// once from t = L on, and rate connections open and close per second.
//
// Everything about connection n (addresses, ISNs, event times) is a function of n
// and the seed, and events of each kind (open, request i, close) happen in n order,
// so the schedule is a merge of requests + 2 counters: an idle connection costs no
// memory at all; only exchanges in flight hold a burst slot.
import {
  SERVICE_NS,
  ACK_DELAY_NS,
  US,
  clientIp,
  serverIp,
  wireNs,
  type GenOptions,
  type GenStats,
} from "./common.ts";
import { hash3, hashUnit } from "../io/prng.ts";
import { CLOSE, OPEN, XCHG, type Synth, type Workload } from "./synth.ts";

/** Ports a client host may use: 1024–65535. */
const PORTS = 64512;

export interface ChurnPlan {
  lifetimeNs: number;
  portsPerSlot: number;
  slotsPerHost: number;
}

/** The lifetime and port plan, or the reason the parameters cannot work. */
export function churnPlan(o: GenOptions, seg: number): ChurnPlan | string {
  const period = 1e9 / o.rate;
  const lifetimeNs = (o.conns - 1) * period - SERVICE_NS - o.rttNs - US;
  const reqSegs = Math.max(1, Math.ceil(o.size / seg));
  const respSegs = Math.max(1, Math.ceil(o.response / seg));
  const gap = wireNs(seg);
  const xchg = (reqSegs - 1) * gap + SERVICE_NS + (respSegs - 1) * gap + o.rttNs;
  const need = Math.max(xchg, SERVICE_NS + o.rttNs) + US;
  if (!(lifetimeNs / (o.requests + 1) > need))
    return (
      `churn: ${o.conns} connections at ${o.rate}/s live ${(Math.max(0, lifetimeNs) / 1e3).toFixed(1)} µs, ` +
      `too short for ${o.requests} request(s) of ${(need / 1e3).toFixed(1)} µs each; lower --rate or raise --conns`
    );
  const slotsPerHost = Math.ceil(o.conns / o.clients);
  const portsPerSlot = Math.floor(PORTS / slotsPerHost);
  if (portsPerSlot < 2)
    return `churn: ${o.clients} client host(s) cannot hold ${o.conns} connections on fresh ports; use --clients ${Math.ceil((o.conns * 2) / PORTS)} or more`;
  return { lifetimeNs, portsPerSlot, slotsPerHost };
}

export class ChurnWorkload implements Workload {
  nextStart = 0;
  /** Next connection number per event kind: 0 open, 1..K requests, K+1 close. */
  private readonly cur: Float64Array;
  private readonly off: Float64Array;
  private readonly kinds: number;
  private stopped = false;
  private readonly period: number;
  private readonly gap: number;

  constructor(
    private readonly o: GenOptions,
    private readonly st: GenStats,
    private readonly plan: ChurnPlan,
    seg: number,
  ) {
    this.kinds = o.requests + 2;
    this.cur = new Float64Array(this.kinds);
    this.off = new Float64Array(this.kinds);
    for (let i = 1; i <= o.requests; i++) this.off[i] = (i * plan.lifetimeNs) / (o.requests + 1);
    this.off[this.kinds - 1] = plan.lifetimeNs;
    this.period = 1e9 / o.rate;
    this.gap = wireNs(seg);
    this.nextStart = this.openTime(0);
  }

  /** Open time of connection n: its own slot of 1/rate, with seeded jitter inside it. */
  private openTime(n: number): number {
    return (n + 0.9 * hashUnit(this.o.seed, n, 11)) * this.period;
  }

  private pick(): number {
    let best = -1;
    let bt = Infinity;
    const opened = this.cur[0];
    for (let e = 0; e < this.kinds; e++) {
      const n = this.cur[e];
      if (e === 0 ? this.stopped : n >= opened) continue;
      const t = this.openTime(n) + this.off[e];
      if (t < bt) {
        bt = t;
        best = e;
      }
    }
    this.nextStart = bt;
    return best;
  }

  admit(s: Synth): void {
    const e = this.pick();
    const t = this.nextStart;
    const o = this.o;
    const n = this.cur[e];
    if (e === 0 && (t >= o.durationNs || s.packets >= o.maxPackets)) {
      this.stopped = true;
      this.pick();
      return;
    }
    this.cur[e]++;
    const k = n % o.conns;
    const gen = Math.floor(n / o.conns);
    const host = k % o.clients;
    const hslot = Math.floor(k / o.clients);
    const cport = 1024 + hslot * this.plan.portsPerSlot + (gen % this.plan.portsPerSlot);
    const cip = clientIp(host);
    const sip = serverIp(hslot % o.servers);
    const isnc = hash3(o.seed, n, 1);
    const isns = hash3(o.seed, n, 2);
    const K = o.requests;
    if (e === 0) {
      const b = s.begin(OPEN, n, cip, cport, sip, o.port, isnc + 1, isns + 1);
      s.start(b, t, 0, SERVICE_NS, 0, 0, o.rttNs, true);
      this.st.opened();
    } else if (e <= K) {
      const i = e - 1;
      const b = s.begin(XCHG, n, cip, cport, sip, o.port, isnc + 1 + i * o.size, isns + 1 + i * o.response);
      const phase = hash3(o.seed, n, e + 16);
      s.setValue(b, 0, o.size, phase);
      s.setValue(b, 1, o.response, phase + 7);
      s.start(b, t, this.gap, SERVICE_NS, this.gap, ACK_DELAY_NS, o.rttNs, true);
      this.st.requests++;
      this.st.messageSize.add(o.response);
    } else {
      const b = s.begin(CLOSE, n, cip, cport, sip, o.port, isnc + 1 + K * o.size, isns + 1 + K * o.response);
      s.start(b, t, 0, SERVICE_NS, 0, 0, o.rttNs, true);
    }
    this.pick();
  }

  done(s: Synth, b: number): void {
    if (s.bKind[b] === CLOSE) this.st.closed();
  }
}
