// `gen incast`: partition/aggregate. Each client (aggregator) holds one connection
// to every server; in a round it sends all of them a small query at once and each
// answers with --size bytes. The answers converge on the aggregator's link, so their
// segments arrive interleaved, one sender after another at the link rate. The next
// round starts when the last answer is in (or at --rate rounds/s, whichever is later).
// The capture point is the aggregator: its queries leave at t0, answers arrive one
// round trip later and are ACKed (every second segment and the last) right away.
import { C_CLOSED, C_IDLE, Conns } from "./conns.ts";
import { ACK_DELAY_NS, SERVICE_NS, US, wireNs, type GenOptions, type GenStats } from "./common.ts";
import { CLOSE, OPEN, type Synth, type Workload } from "./synth.ts";
import { hash3 } from "../io/prng.ts";

const REQUEST_BYTES = 64;

export class IncastWorkload implements Workload {
  nextStart = 0;
  private readonly conns: Conns;
  /** Per client: bursts still running in its round, start of its round, rounds done. */
  private readonly pending: Int32Array;
  private readonly roundStart: Float64Array;
  private readonly nextRound: Float64Array;
  private readonly rounds: Uint32Array;
  private opened = 0;
  private openNext = 0;
  private stopping = false;
  private closedAt = 0;
  private readonly minGap: number;

  constructor(
    private readonly o: GenOptions,
    private readonly st: GenStats,
  ) {
    // One connection per (client, server): k = client·servers + server (Conns' layout).
    this.conns = new Conns(o.clients * o.servers, o.clients, o.servers, o.port, o.seed);
    this.pending = new Int32Array(o.clients);
    this.roundStart = new Float64Array(o.clients);
    this.nextRound = new Float64Array(o.clients).fill(Infinity);
    this.rounds = new Uint32Array(o.clients);
    this.minGap = o.rate > 0 ? 1e9 / o.rate : 0;
  }

  admit(s: Synth): void {
    const o = this.o;
    const n = this.conns.n;
    let c = 0;
    for (let i = 1; i < o.clients; i++) if (this.nextRound[i] < this.nextRound[c]) c = i;
    const t0 = this.nextRound[c];
    if (this.opened < n && this.openNext <= t0) {
      // Handshakes, 1 µs apart; a client's first round follows its last one.
      this.conns.open(s, this.opened++, this.openNext, o.rttNs, ACK_DELAY_NS);
      this.st.opened();
      this.openNext = this.opened < n ? this.openNext + US : Infinity;
      this.refresh();
      return;
    }
    // A round is due for client c.
    this.nextRound[c] = Infinity;
    if (this.stopping || s.packets >= o.maxPackets || t0 >= o.durationNs) {
      this.stopping = true;
      this.closeClient(s, c, Math.max(t0, s.now));
    } else this.round(s, c, t0);
    this.refresh();
  }

  private round(s: Synth, c: number, t0: number): void {
    const o = this.o;
    const N = o.servers;
    const reqGap = wireNs(REQUEST_BYTES);
    const segGap = wireNs(s.seg);
    this.roundStart[c] = t0;
    this.pending[c] = N;
    this.rounds[c]++;
    for (let i = 0; i < N; i++) {
      const k = c * N + i;
      const b = this.conns.exchange(s, k);
      const phase = hash3(o.seed, k, this.rounds[c]);
      s.setValue(b, 0, REQUEST_BYTES, phase);
      s.setValue(b, 1, o.size, phase + 1);
      this.conns.commit(s, k, b);
      this.st.requests++;
      this.st.messageSize.add(o.size);
      // Query i leaves at t0 + i·reqGap; answer i's segment j arrives at
      // t0 + rtt + service + (j·N + i)·segGap: the senders share the last link.
      const ti = t0 + i * reqGap;
      const r0 = t0 + o.rttNs + SERVICE_NS + i * segGap;
      s.start(b, ti, reqGap, r0 - ti, N * segGap, ACK_DELAY_NS, ACK_DELAY_NS, true);
    }
  }

  private closeClient(s: Synth, c: number, t: number): void {
    const N = this.o.servers;
    for (let i = 0; i < N; i++) this.conns.close(s, c * N + i, t + i * US, this.o.rttNs, ACK_DELAY_NS);
    this.closedAt = t;
  }

  private refresh(): void {
    let m = this.openNext;
    for (let i = 0; i < this.o.clients; i++) if (this.nextRound[i] < m) m = this.nextRound[i];
    this.nextStart = m;
  }

  done(s: Synth, b: number): void {
    const k = s.bTag[b];
    const kind = s.bKind[b];
    const N = this.o.servers;
    const c = Math.floor(k / N);
    if (kind === CLOSE) {
      this.conns.state[k] = C_CLOSED;
      this.st.closed();
      return;
    }
    this.conns.state[k] = C_IDLE;
    if (kind === OPEN) {
      // The client's first round starts once all its connections are up.
      if (++this.pending[c] === N) {
        this.pending[c] = 0;
        this.nextRound[c] = s.now + US;
        this.refresh();
      }
      return;
    }
    if (--this.pending[c] === 0) {
      this.nextRound[c] = Math.max(s.now + US, this.roundStart[c] + this.minGap);
      this.refresh();
    }
  }

  /** Time the last close started (for tests). */
  get closeTime(): number {
    return this.closedAt;
  }
}
