// The stack target: one full core (RX ring with posted mbufs → eth → ARP/IPv4/
// IPv6 → ICMP/UDP/TCP → app → commands → TX) fed through its NIC in batches, in
// virtual time, with every invariant the host can see checked after each poll.
// A failed check throws a Finding; the run turns it into a reproducer file.
import { APP_ID as APP_IDS, COUNTER_SLOTS } from "../core/abi.gen.ts";
import {
  COUNTER_BASE,
  createCore,
  testHooks,
  type Core,
  type CoreConfig,
  type TestCoreExports,
} from "../core/core.ts";
import { Nic } from "../runtime/nic.ts";
import { COUNTER_NAMES } from "../report/counters.ts";
import { checkTx, type Endpoints } from "./packet.ts";
import type { AppKind } from "./peer.ts";
import type { Poll } from "./repro.ts";

export class Finding extends Error {
  constructor(
    readonly kind: string,
    detail: string,
  ) {
    super(`${kind}: ${detail}`);
    this.name = "Finding";
  }
}

export const ENDPOINTS: Endpoints = {
  mac: Buffer.from("020000000002", "hex"),
  peerMac: Buffer.from("020000000001", "hex"),
  ip4: Buffer.from([198, 18, 0, 2]),
  peer4: Buffer.from([198, 18, 0, 1]),
  ip6: Buffer.from("20010db8000000000000000000000002", "hex"),
  peer6: Buffer.from("20010db8000000000000000000000001", "hex"),
};

export const APP_PORT: Record<AppKind, number> = { echo: 7, memcached: 11211 };
const APP_ID: Record<AppKind, number> = { echo: APP_IDS.echo, memcached: APP_IDS.memcached };
const C_MBUF_DOUBLE_FREE = COUNTER_NAMES.indexOf("mbuf_double_free");
const C_MBUF_BAD_HANDLE = COUNTER_NAMES.indexOf("mbuf_bad_handle");

/** A small core, so that exhaustion paths (mbufs, TCBs, spans) are reached too. */
export function stackConfig(app: AppKind): Partial<CoreConfig> {
  const ep = ENDPOINTS;
  return {
    mbufs: 1024,
    ringSlots: 256,
    stagingBytes: 0,
    descSlots: 0,
    flows: 1024,
    neighSlots: 64,
    evqSlots: 1024,
    tcbs: 48,
    timers: 128,
    spans: 2048,
    app: APP_ID[app],
    appPort: APP_PORT[app],
    appBytes: app === "memcached" ? 8 << 20 : 1 << 20,
    appUnixBase: 1_700_000_000, // fixed, so a run does not depend on the wall clock
    mslMs: 1000,
    macLo: ep.mac.readUInt32LE(0),
    macHi: ep.mac.readUInt16LE(4),
    ipv4: ep.ip4.readUInt32LE(0),
    ipv6_0: ep.ip6.readUInt32LE(0),
    ipv6_1: ep.ip6.readUInt32LE(4),
    ipv6_2: ep.ip6.readUInt32LE(8),
    ipv6_3: ep.ip6.readUInt32LE(12),
  };
}

export class StackTarget {
  readonly core: Core;
  readonly nic: Nic;
  readonly port: number;
  /** Every frame the core received, the time it got it, and each poll: the reproducer. */
  readonly frames: Buffer[] = [];
  readonly times: number[] = [];
  readonly polls: Poll[] = [];
  private readonly pollFn: (t: number) => number;
  private readonly fn: TestCoreExports;
  private readonly prev = new Float64Array(COUNTER_SLOTS);
  private pending = 0;
  /** Free mbufs once init posted the RX ring: what a drained core must have again. */
  readonly freeBaseline: number;
  readonly tcbBaseline: number;
  frameCount = 0;

  constructor(
    readonly app: AppKind,
    readonly debug: boolean,
  ) {
    // The test core: its invariant checks read the engine's occupancy (tcpTestStat).
    this.core = createCore(stackConfig(app), { debug, test: true });
    this.nic = new Nic(this.core, true); // polled by this class: local rings
    this.fn = testHooks(this.core);
    this.pollFn = this.fn.poll;
    this.port = APP_PORT[app];
    this.freeBaseline = this.fn.mbufFreeCount();
    this.tcbBaseline = this.fn.tcpTestStat(0);
  }

  /** Queues one frame for the next poll; false if the ring or the posted mbufs are full. */
  put(f: Buffer): boolean {
    if (!this.nic.rxPut(f, 0, f.length)) return false;
    this.frames.push(f);
    this.pending++;
    this.frameCount++;
    return true;
  }

  /** Publishes what was put, polls at tNs, checks the invariants; returns the TX frames. */
  step(tNs: number): Buffer[] {
    for (let i = 0; i < this.pending; i++) this.times.push(tNs);
    this.polls.push({ t: tNs, n: this.pending });
    this.pending = 0;
    this.nic.rxCommit();
    try {
      this.pollFn(tNs);
    } catch (e) {
      const err = e as Error;
      throw new Finding(err.name === "RuntimeError" ? "wasm trap" : "core abort", `${err.message}`);
    }
    const out: Buffer[] = [];
    this.nic.txDrain((mem, off, len) => out.push(Buffer.from(mem.subarray(off, off + len))));
    for (const f of out) {
      const bad = checkTx(f, ENDPOINTS);
      if (bad) throw new Finding("malformed TX", `${bad} (frame ${f.toString("hex").slice(0, 160)})`);
    }
    this.checkPool();
    this.checkCounters();
    return out;
  }

  checkPool(): void {
    const bad = this.fn.mbufPoolCheck() >>> 0;
    if (bad) throw new Finding("mbuf pool", `mbufPoolCheck() = ${bad}`);
    const free = this.fn.mbufFreeCount() >>> 0;
    const total = this.fn.mbufTotal() >>> 0;
    if (free > total) throw new Finding("mbuf pool", `free ${free} > total ${total}`);
    const tcbs = this.fn.tcpTestStat(0) >>> 0;
    const halfOpen = this.fn.tcpTestStat(1) >>> 0;
    if (halfOpen > tcbs)
      throw new Finding("TCB table", `half-open count ${halfOpen} above the ${tcbs} TCBs in use`);
  }

  private checkCounters(): void {
    const u32 = this.core.u32;
    const base = COUNTER_BASE >>> 2;
    for (let i = 0; i < COUNTER_SLOTS; i++) {
      const v = u32[base + 2 * i] + u32[base + 2 * i + 1] * 4294967296;
      if (v < this.prev[i])
        throw new Finding("counter went backwards", `${COUNTER_NAMES[i] ?? `#${i}`}: ${this.prev[i]} → ${v}`);
      this.prev[i] = v;
    }
    if (this.prev[C_MBUF_DOUBLE_FREE]) throw new Finding("mbuf pool", "mbuf_double_free counted");
    if (this.prev[C_MBUF_BAD_HANDLE]) throw new Finding("mbuf pool", "mbuf_bad_handle counted");
  }

  /** After the drain: every mbuf back (free or posted in the RX ring as after init), every TCB closed. */
  checkDrained(): void {
    const free = this.fn.mbufFreeCount() >>> 0;
    if (free !== this.freeBaseline)
      throw new Finding(
        "mbuf leak",
        `${this.freeBaseline - free} mbufs not returned after the drain (free ${free})`,
      );
    const tcbs = this.fn.tcpTestStat(0) >>> 0;
    if (tcbs !== this.tcbBaseline)
      throw new Finding("TCB leak", `${tcbs - this.tcbBaseline} TCBs still in use after the drain`);
    const spans = this.fn.tcpTestStat(2) >>> 0;
    if (spans !== 0) throw new Finding("span leak", `${spans} spans still in use after the drain`);
  }

  tcbsInUse(): number {
    return (this.fn.tcpTestStat(0) >>> 0) - this.tcbBaseline;
  }

  counter(name: (typeof COUNTER_NAMES)[number]): number {
    return this.prev[COUNTER_NAMES.indexOf(name)];
  }
}
