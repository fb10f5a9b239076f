// Long-lived connections (echo, etc, usr, incast): connection k talks from client
// host (k / servers) mod clients to server host k mod servers, on that client's
// next ephemeral port. 14 bytes of state each: the two next sequence numbers, the
// client port and a state byte (plus whatever the workload keeps).
import { CLOSE, OPEN, XCHG, type Synth } from "./synth.ts";
import { clientIp, ephemeralPort, serverIp } from "./common.ts";
import { hash3 } from "../io/prng.ts";

export const C_NEW = 0;
export const C_OPENING = 1;
export const C_IDLE = 2;
export const C_BUSY = 3;
export const C_CLOSING = 4;
export const C_CLOSED = 5;

export class Conns {
  readonly cseq: Uint32Array;
  readonly sseq: Uint32Array;
  readonly state: Uint8Array;
  /**
   * Client port per connection, set at open: computing it (a hash and three
   * divisions) for every exchange cost 2-7 % of echo and ETC generation.
   */
  private readonly cport: Uint16Array;

  constructor(
    readonly n: number,
    readonly clients: number,
    readonly servers: number,
    readonly port: number,
    readonly seed: number,
  ) {
    this.cseq = new Uint32Array(n);
    this.sseq = new Uint32Array(n);
    this.state = new Uint8Array(n);
    this.cport = new Uint16Array(n);
  }

  server(k: number): number {
    return k % this.servers;
  }

  client(k: number): number {
    return Math.floor(k / this.servers) % this.clients;
  }

  private begin(s: Synth, kind: number, k: number): number {
    const c = this.client(k);
    return s.begin(
      kind,
      k,
      clientIp(c),
      this.cport[k],
      serverIp(this.server(k)),
      this.port,
      this.cseq[k],
      this.sseq[k],
    );
  }

  /** Handshake of connection k: the client's SYN at t0 (RFC 6528-like ISNs from the seed). */
  open(s: Synth, k: number, t0: number, rDelay: number, cDelay: number): void {
    this.cseq[k] = (hash3(this.seed, k, 1) + 1) >>> 0;
    this.sseq[k] = (hash3(this.seed, k, 2) + 1) >>> 0;
    this.state[k] = C_OPENING;
    // Each client host uses a port once, whatever the server (tools that key flows on
    // the client's address and port see one connection each).
    const idx = Math.floor(k / (this.servers * this.clients)) * this.servers + (k % this.servers);
    this.cport[k] = ephemeralPort(this.client(k), idx, this.seed);
    const b = this.begin(s, OPEN, k);
    s.start(b, t0, 0, rDelay, 0, 0, cDelay, true);
  }

  /** A burst for one exchange on k: fill its messages, then commit() with the timing. */
  exchange(s: Synth, k: number): number {
    this.state[k] = C_BUSY;
    return this.begin(s, XCHG, k);
  }

  /** Advances k's sequence numbers past burst b's messages (call before start()). */
  commit(s: Synth, k: number, b: number): void {
    this.cseq[k] = (this.cseq[k] + s.msgLen(b, 0)) >>> 0;
    this.sseq[k] = (this.sseq[k] + s.msgLen(b, 1)) >>> 0;
  }

  close(s: Synth, k: number, t0: number, rDelay: number, cDelay: number): void {
    this.state[k] = C_CLOSING;
    const b = this.begin(s, CLOSE, k);
    s.start(b, t0, 0, rDelay, 0, 0, cDelay, true);
  }
}
