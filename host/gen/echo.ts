// `gen echo`: IX's echo benchmark. Each connection opens, sends M messages of S
// bytes closed-loop (the next one when the echo is back at the client), then closes.
// The capture point is the server: a request arrives one round trip after the echo
// left. The client's ACK of an echo rides on its next request (or on its FIN).
import { C_BUSY, C_CLOSED, C_IDLE, C_NEW, Conns } from "./conns.ts";
import { ACK_DELAY_NS, SERVICE_NS, TimeHeap, US, wireNs, type GenOptions, type GenStats } from "./common.ts";
import { CLOSE, OPEN, type Synth, type Workload } from "./synth.ts";
import { hash3 } from "../io/prng.ts";

export class EchoWorkload implements Workload {
  nextStart = 0;
  private readonly conns: Conns;
  private readonly wake: TimeHeap;
  private readonly sent: Uint32Array;
  private readonly lastStart: Float64Array;
  private readonly minGap: number;
  private stopping = false;

  constructor(
    private readonly o: GenOptions,
    private readonly st: GenStats,
  ) {
    this.conns = new Conns(o.conns, o.clients, o.servers, o.port, o.seed);
    this.wake = new TimeHeap(o.conns);
    this.sent = new Uint32Array(o.conns);
    this.lastStart = new Float64Array(o.conns);
    this.minGap = o.rate > 0 ? 1e9 / o.rate : 0;
    // Clients connect over the first moments, 1 µs apart.
    for (let k = 0; k < o.conns; k++) this.wake.push(k, k * US);
    this.nextStart = this.wake.topTime;
  }

  admit(s: Synth): void {
    const k = this.wake.pop();
    const t = this.wake.key[k];
    const c = this.conns;
    if (!this.stopping && (s.packets >= this.o.maxPackets || t >= this.o.durationNs)) this.stopping = true;
    if (c.state[k] === C_NEW) {
      if (this.stopping)
        c.state[k] = C_CLOSED; // never opened
      else {
        c.open(s, k, t, SERVICE_NS, this.o.rttNs);
        this.st.opened();
      }
    } else if (this.sent[k] < this.o.messages && !this.stopping) {
      const b = c.exchange(s, k);
      const phase = hash3(this.o.seed, k, this.sent[k] + 3);
      s.setValue(b, 0, this.o.size, phase);
      s.setValue(b, 1, this.o.size, phase); // the echo is the same bytes
      c.commit(s, k, b);
      this.sent[k]++;
      this.lastStart[k] = t;
      this.st.requests++;
      this.st.messageSize.add(this.o.size);
      const gap = wireNs(s.seg);
      s.start(b, t, gap, 1 * US, gap, ACK_DELAY_NS, this.o.rttNs, false);
    } else {
      c.close(s, k, t, SERVICE_NS, this.o.rttNs);
    }
    this.nextStart = this.wake.topTime;
  }

  done(s: Synth, b: number): void {
    const k = s.bTag[b];
    const kind = s.bKind[b];
    const c = this.conns;
    if (kind === CLOSE) {
      c.state[k] = C_CLOSED;
      this.st.closed();
      return;
    }
    c.state[k] = kind === OPEN ? C_IDLE : C_BUSY;
    // After the handshake the first request follows the ACK; after an echo the next
    // request arrives one round trip later (the echo travels back, the client answers).
    let t = kind === OPEN ? s.now + 1 * US : s.bR0[b] + (s.bNr[b] - 1) * s.bRGap[b] + this.o.rttNs;
    if (kind !== OPEN && this.minGap > 0) t = Math.max(t, this.lastStart[k] + this.minGap);
    this.wake.push(k, t);
    this.nextStart = this.wake.topTime;
  }
}
