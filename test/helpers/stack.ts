// A core with the full stack and its NIC, driven frame by frame (tests only).
import { createCore, type Core, type CoreConfig } from "../../host/core/core.ts";
import { Nic } from "../../host/runtime/nic.ts";
import { readCounters } from "../../host/report/counters.ts";
import { MAC_B, ip4, macWords } from "./frames.ts";

export const STACK_CONFIG: Partial<CoreConfig> = {
  mbufs: 1024,
  ringSlots: 256,
  stagingBytes: 0,
  descSlots: 0,
  flows: 1024,
  neighSlots: 64,
  evqSlots: 256,
  ...macWords(MAC_B),
  ipv4: ip4("198.18.0.2").readUInt32LE(0),
};

export class TestStack {
  readonly core: Core;
  readonly nic: Nic;
  readonly poll: (nowNs: number) => number;
  nowNs = 0;

  constructor(config: Partial<CoreConfig> = {}, debug = true) {
    this.core = createCore({ ...STACK_CONFIG, ...config }, { debug });
    this.nic = new Nic(this.core);
    this.poll = this.core.exports.poll as (n: number) => number;
  }

  /** Delivers frames, runs one poll, returns what the core transmitted. */
  send(...frames: Buffer[]): Buffer[] {
    for (const f of frames) if (!this.nic.rxPut(f, 0, f.length)) throw new Error("RX ring full");
    this.nic.rxCommit();
    this.poll(this.nowNs);
    return this.drain();
  }

  drain(): Buffer[] {
    const out: Buffer[] = [];
    this.nic.txDrain((mem, off, len) => out.push(Buffer.from(mem.slice(off, off + len))));
    return out;
  }

  counters() {
    return readCounters(this.core);
  }

  freeMbufs(): number {
    // Every mbuf not free is posted in an RX slot or held by the stack.
    return (this.core.exports.mbufFreeCount as () => number)();
  }
}
