// Stateful peers: each opens a real connection to the served port (so the
// hostile input reaches ESTABLISHED and the app, not just the listener), then
// mixes valid application requests with out-of-order, overlapping, duplicated,
// reset, SACK- and timestamp-laden and byte-mutated segments. A peer follows the
// core's answers (ACKs, data, FIN) so the connection keeps making progress.
import { mutate, hostileOptions } from "./mutate.ts";
import {
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  put16,
  put32,
  tcpFrame,
  type Endpoints,
  type TxSeg,
} from "./packet.ts";
import { interesting16, interesting32, type Rng } from "./rng.ts";

export type AppKind = "echo" | "memcached";

const seqLe = (a: number, b: number) => ((b - a) | 0) >= 0;

/** Application bytes a client might send: valid requests, edge cases and junk. */
export function appRequest(app: AppKind, rng: Rng): Buffer {
  if (app === "echo" || rng.chance(0.05)) return rng.bytes(rng.range(1, rng.chance(0.1) ? 3000 : 200));
  if (rng.chance(0.3)) return memcachedBinary(rng);
  const key = `k${rng.int(40)}`;
  const n = rng.chance(0.9) ? rng.int(300) : rng.int(5000);
  const val = () => Buffer.concat([rng.bytes(n), Buffer.from("\r\n")]).toString("latin1");
  const cmds = [
    () => `set ${key} ${rng.int(65536)} ${rng.pick([0, 1, -1, 100, 2147483648])} ${n}\r\n${val()}`,
    () => `add ${key} 0 0 ${n}${rng.chance(0.3) ? " noreply" : ""}\r\n${val()}`,
    () => `append ${key} 0 0 ${n}\r\n${val()}`,
    () => `prepend ${key} 0 0 ${n}\r\n${val()}`,
    () => `cas ${key} 0 0 ${n} ${rng.int(100)}\r\n${val()}`,
    () => `get ${key}${rng.chance(0.5) ? " k1 k2 k3" : ""}\r\n`,
    () => `gets ${key}\r\n`,
    () => `delete ${key}\r\n`,
    () => `incr ${key} ${rng.pick(["1", "18446744073709551615", "-1", "x"])}\r\n`,
    () => `decr ${key} ${rng.int(1000)}\r\n`,
    () => `touch ${key} ${rng.int(100)}\r\n`,
    () => rng.pick(["stats\r\n", "version\r\n", "flush_all\r\n", "flush_all 10\r\n", "verbosity 1\r\n"]),
    () => `set ${key} 0 0 ${rng.pick([-1, 4294967295, 1048577, 99999999999])}\r\n`,
    () => `get ${"k".repeat(rng.range(200, 300))}\r\n`,
    () => "x".repeat(rng.range(1, 3000)) + (rng.chance(0.5) ? "\r\n" : ""),
    () =>
      `set ${key} 0 0 ${n}\r\n` + rng.bytes(Math.max(0, n + rng.range(-3, 3))).toString("latin1") + "\r\n",
    () => "\r\n",
  ];
  return Buffer.from(rng.pick(cmds)(), "latin1");
}

function memcachedBinary(rng: Rng): Buffer {
  const op = rng.chance(0.8)
    ? rng.pick([0, 1, 2, 3, 4, 5, 6, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x1c])
    : rng.int(256);
  const key = Buffer.from(`k${rng.int(40)}`);
  const extras = rng.bytes(
    op === 1 || op === 2 || op === 3 ? 8 : op === 5 || op === 6 ? 20 : rng.chance(0.1) ? rng.int(30) : 0,
  );
  const value = rng.bytes(op <= 3 || op === 0x0e || op === 0x0f ? rng.int(400) : 0);
  const h = Buffer.alloc(24);
  h[0] = rng.chance(0.95) ? 0x80 : rng.int(256);
  h[1] = op;
  put16(h, 2, rng.chance(0.9) ? key.length : interesting16(rng));
  h[4] = rng.chance(0.9) ? extras.length : rng.int(256);
  const body = extras.length + key.length + value.length;
  put32(h, 8, rng.chance(0.9) ? body : interesting32(rng));
  put32(h, 12, rng.u32());
  return Buffer.concat([h, extras, key, value]);
}

export class Peer {
  done = false;
  established = false;
  private synSent = 0;
  private iss: number;
  private sndNxt: number;
  /** What the core has acknowledged of ours (its rcv_nxt as last seen). */
  private coreAck: number;
  /** The core's next sequence number as we have received it. */
  private rcvNxt = 0;
  private ts = false;
  private tsVal: number;
  private tsEcr = 0;
  private steps: number;
  private stream: Buffer = Buffer.alloc(0);
  private held: Buffer[] = [];
  private needAck = false;
  private finSent = false;
  private idle = 0;

  constructor(
    readonly ep: Endpoints,
    readonly app: AppKind,
    readonly v6: boolean,
    readonly sport: number,
    readonly dport: number,
    readonly rng: Rng,
  ) {
    this.iss = rng.u32();
    this.sndNxt = this.iss;
    this.coreAck = this.iss;
    this.tsVal = rng.u32();
    this.steps = rng.range(5, 120);
  }

  private seg(seq: number, flags: number, data?: Uint8Array, extraOpts?: Buffer, win = 65535): Buffer {
    let opts = extraOpts ?? Buffer.alloc(0);
    if (this.ts && !(flags & TCP_RST) && this.rng.chance(0.97)) {
      const t = Buffer.alloc(12);
      t[0] = t[1] = 1;
      t[2] = 8;
      t[3] = 10;
      this.tsVal = (this.tsVal + (this.rng.chance(0.02) ? -this.rng.int(1 << 30) : this.rng.int(4))) >>> 0;
      put32(t, 4, this.tsVal);
      put32(t, 8, this.tsEcr);
      opts = Buffer.concat([t, opts]).subarray(0, 40);
    }
    return tcpFrame(this.ep, {
      v6: this.v6,
      sport: this.sport,
      dport: this.dport,
      seq,
      ack: this.rcvNxt,
      flags,
      win,
      options: opts,
      data,
    });
  }

  /** Takes one segment the core sent on this connection. */
  onSegment(s: TxSeg, tsEcr: number | null): void {
    if (s.flags & TCP_RST) {
      this.done = true;
      return;
    }
    if (tsEcr !== null) this.tsEcr = tsEcr;
    if (s.flags & TCP_ACK && seqLe(this.coreAck, s.ack)) this.coreAck = s.ack;
    if (s.flags & TCP_SYN) {
      if (!this.established) {
        this.established = true;
        this.rcvNxt = (s.seq + 1) >>> 0;
        this.sndNxt = (this.iss + 1) >>> 0;
        this.coreAck = this.sndNxt;
        this.needAck = true;
      }
      return;
    }
    const end = (s.seq + s.dataLen + (s.flags & TCP_FIN ? 1 : 0)) >>> 0;
    if (seqLe(s.seq, this.rcvNxt) && !seqLe(end, this.rcvNxt)) this.rcvNxt = end;
    if (s.dataLen || s.flags & TCP_FIN) this.needAck = true;
  }

  /** The next frames this peer sends (maybe none). */
  next(): Buffer[] {
    const rng = this.rng;
    if (this.done) return [];
    if (!this.established) {
      if (this.synSent > 3) {
        this.done = true;
        return [];
      }
      if (this.synSent++ && !rng.chance(0.3)) return [];
      const o: number[] = [2, 4, 5, 0xb4];
      if (rng.chance(0.7)) o.push(4, 2);
      if (rng.chance(0.6)) o.push(1, 3, 3, rng.pick([0, 7, 14, 15]));
      this.ts = rng.chance(0.6);
      let opts: Buffer = Buffer.from(o);
      if (this.ts) opts = Buffer.concat([opts, Buffer.from([8, 10, 0, 0, 0, 1, 0, 0, 0, 0])]);
      if (rng.chance(0.1)) opts = hostileOptions(rng);
      return [this.seg(this.iss, TCP_SYN, undefined, opts)];
    }
    if (this.steps-- <= 0 || (this.finSent && this.idle++ > 20)) {
      this.done = true;
      return [this.seg(this.coreAck, TCP_RST | (rng.chance(0.5) ? TCP_ACK : 0))];
    }
    const out: Buffer[] = [];
    if (this.needAck) {
      this.needAck = false;
      out.push(this.seg(this.sndNxt, TCP_ACK));
    }
    if (this.finSent) return out;
    const r = rng.int(100);
    if (r < 45) {
      if (this.stream.length === 0) this.stream = appRequest(this.app, rng);
      const n = Math.min(this.stream.length, rng.chance(0.3) ? rng.range(1, 8) : rng.range(1, 1400));
      const data = this.stream.subarray(0, n);
      this.stream = this.stream.subarray(n);
      const f = this.seg(this.sndNxt, TCP_ACK | TCP_PSH, data);
      this.sndNxt = (this.sndNxt + n) >>> 0;
      // Hold some back to deliver later: out of order for the core.
      if (rng.chance(0.15)) this.held.push(f);
      else out.push(f);
    } else if (r < 55 && this.held.length) {
      out.push(...this.held.splice(0, rng.range(1, this.held.length)).reverse());
    } else if (r < 62) {
      // Overlapping retransmission of bytes already sent (maybe with different contents).
      const back = rng.range(1, 3000);
      out.push(this.seg((this.sndNxt - back) >>> 0, TCP_ACK, rng.bytes(rng.range(1, back + 10))));
    } else if (r < 68) {
      out.push(this.seg((this.sndNxt + rng.range(1, 70000)) >>> 0, TCP_ACK, rng.bytes(rng.range(1, 1000))));
    } else if (r < 74) {
      // ACK with SACK blocks around the core's stream, or a hostile option area.
      const blocks = Buffer.alloc(2 + 8 * rng.range(1, 3));
      blocks[0] = 5;
      blocks[1] = blocks.length;
      for (let i = 2; i < blocks.length; i += 8) {
        const a = (this.rcvNxt + rng.range(-5000, 5000)) >>> 0;
        put32(blocks, i, a);
        put32(blocks, i + 4, (a + rng.range(-10, 3000)) >>> 0);
      }
      const opts = rng.chance(0.7) ? Buffer.concat([Buffer.from([1, 1]), blocks]) : hostileOptions(rng);
      out.push(this.seg(this.sndNxt, TCP_ACK, undefined, opts, rng.chance(0.2) ? 0 : 65535));
    } else if (r < 78) {
      // A window probe or update: zero window, then open.
      out.push(this.seg(this.sndNxt, TCP_ACK, undefined, undefined, rng.pick([0, 1, 100, 65535])));
    } else if (r < 81) {
      const seq = rng.chance(0.5) ? (this.sndNxt + rng.range(-100, 100000)) >>> 0 : rng.u32();
      out.push(this.seg(seq, TCP_RST | (rng.chance(0.5) ? TCP_ACK : 0)));
    } else if (r < 84) {
      out.push(
        this.seg(rng.chance(0.5) ? this.sndNxt : rng.u32(), TCP_SYN | (rng.chance(0.3) ? TCP_ACK : 0)),
      );
    } else if (r < 87) {
      // ACK of bytes never sent, or a very old ACK.
      const save = this.rcvNxt;
      this.rcvNxt = (this.rcvNxt + rng.pick([1, 1000, 1 << 30, -1, -100000])) >>> 0;
      out.push(this.seg(this.sndNxt, TCP_ACK));
      this.rcvNxt = save;
    } else if (r < 89) {
      out.push(this.seg(this.sndNxt, TCP_ACK | TCP_URG, rng.bytes(rng.range(1, 50))));
    } else if (r < 91) {
      this.finSent = true;
      out.push(this.seg(this.sndNxt, TCP_FIN | TCP_ACK));
      this.sndNxt = (this.sndNxt + 1) >>> 0;
    } else {
      // A valid segment with a byte-level mutation on top.
      const data = this.stream.length
        ? this.stream.subarray(0, 200)
        : appRequest(this.app, rng).subarray(0, 200);
      out.push(mutate(this.seg(this.sndNxt, TCP_ACK | TCP_PSH, data), rng, 0.8));
    }
    return out;
  }

  /** The drain's reset: at the point the core has acknowledged (RFC 5961: exactly rcv_nxt). */
  reset(): Buffer {
    return this.seg(this.coreAck, TCP_RST);
  }
}
