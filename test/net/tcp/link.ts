// Two cores back to back through a seeded faulty link (loss, reordering,
// duplication, fixed delay), in virtual time: each step fires due timers, delivers
// the packets that arrived, lets the test's apps act, flushes, and moves the clock
// to the next arrival or timer. Both cores run the TCP engine in capture mode.
import { TcpCore, rng, CLIENT_IP, SERVER_IP, type Event } from "./harness.ts";
import type { CoreConfig } from "../../../host/core/core.ts";

export interface Faults {
  loss?: number;
  reorder?: number;
  dup?: number;
  delayUs?: number;
  seed?: number;
}

interface InFlight {
  at: bigint;
  n: number; // tie-break: send order
  to: TcpCore;
  pkt: Uint8Array;
}

export class Pair {
  a: TcpCore; // client (CLIENT_IP)
  b: TcpCore; // server (SERVER_IP)
  now = 1_000_000n;
  flight: InFlight[] = [];
  rand: () => number;
  sent = 0;
  dropped = 0;
  duplicated = 0;
  reordered = 0;
  private n = 0;
  constructor(
    cfg: Partial<CoreConfig> = {},
    public faults: Faults = {},
    cfgB: Partial<CoreConfig> = cfg,
  ) {
    this.a = new TcpCore(cfg, CLIENT_IP);
    this.b = new TcpCore(cfgB, SERVER_IP);
    this.rand = rng(faults.seed ?? 1);
  }
  private transmit(from: TcpCore, to: TcpCore): void {
    const delay = BigInt(this.faults.delayUs ?? 50);
    for (const pkt of from.outRaw()) {
      this.sent++;
      if (this.rand() < (this.faults.loss ?? 0)) {
        this.dropped++;
        continue;
      }
      const copies = this.rand() < (this.faults.dup ?? 0) ? 2 : 1;
      if (copies === 2) this.duplicated++;
      for (let i = 0; i < copies; i++) {
        let at = this.now + delay;
        if (this.rand() < (this.faults.reorder ?? 0)) {
          at += BigInt(Math.floor(this.rand() * 400) + 60); // lands behind later packets
          this.reordered++;
        }
        this.flight.push({ at, n: this.n++, to, pkt });
      }
    }
  }
  /** One iteration; app(core, events) acts on each core's events. */
  step(app: (c: TcpCore, ev: Event[]) => void): void {
    for (const c of [this.a, this.b]) {
      c.now = this.now;
      c.timers();
    }
    this.flight.sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.n - y.n));
    let k = 0;
    while (k < this.flight.length && this.flight[k].at <= this.now) {
      this.flight[k].to.injectRaw(this.flight[k].pkt);
      k++;
    }
    this.flight.splice(0, k);
    for (const c of [this.a, this.b]) {
      const ev = c.events();
      if (ev.length) app(c, ev);
    }
    this.a.flush();
    this.b.flush();
    this.transmit(this.a, this.b);
    this.transmit(this.b, this.a);
    // Next time anything happens: an arrival or a timer.
    let next = this.now + 1_000_000_000n;
    if (this.flight.length) next = this.flight.reduce((m, f) => (f.at < m ? f.at : m), next);
    for (const c of [this.a, this.b]) {
      const t = c.timerNext();
      if (t < next) next = t;
    }
    if (next <= this.now) next = this.now + 1n;
    this.now = next;
  }
}

export { SERVER_IP, CLIENT_IP };
