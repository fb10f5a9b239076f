// Resource exhaustion (issue 10): a server core with far fewer mbufs than the
// offered load needs, and a server with a small TCB table. Full cores (stack +
// echo app) joined by host/runtime/link.ts, in virtual time so every run is the
// same. What must hold: drops are counted by reason, nothing leaks (the pool
// check passes and the free count returns to its post-init value once the
// connections are closed), the load still completes byte-exact through TCP
// retransmission, and new traffic is served normally once the overload is over.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createCore, testHooks, type Core, type CoreConfig } from "../../host/core/core.ts";
import { Link } from "../../host/runtime/link.ts";
import { Nic } from "../../host/runtime/nic.ts";
import { clientResults } from "../../host/runtime/client-results.ts";
import { pairConfigs, type PairOptions } from "../../host/pair/pair.ts";
import { readCounters, type Counters } from "../../host/report/counters.ts";

type Fn = (...a: number[]) => number;

function opts(conns: number, msgs: number, size: number): PairOptions {
  return { app: "echo", conns, msgs, size, workers: 1, faults: {}, timeoutS: 60 };
}

const fn = (c: Core, name: string) => (c.exports as unknown as Record<string, Fn>)[name];
const freeMbufs = (c: Core) => fn(c, "mbufFreeCount")() >>> 0;
const poolCheck = (c: Core) => fn(c, "mbufPoolCheck")() >>> 0;
const tcbsUsed = (c: Core) => testHooks(c).tcpTestStat(0) >>> 0;
const delta = (a: Counters, b: Counters, k: keyof Counters) => b[k] - a[k];

/** One server, several clients: the clients' frames go to the server, the
 * server's to the client whose MAC they are addressed to (broadcasts to all). */
class Switch {
  private readonly s: Nic;
  private readonly cs: Nic[];
  private readonly macs: string[];
  constructor(server: Core, clients: Core[]) {
    this.s = new Nic(server);
    this.cs = clients.map((c) => new Nic(c));
    this.macs = clients.map((c) => {
      const b = Buffer.alloc(8);
      b.writeUInt32LE(c.u32[20], 0); // CFG macLo, macHi (host/core/core.ts CONFIG_WORDS)
      b.writeUInt32LE(c.u32[21], 4);
      return b.subarray(0, 6).toString("hex");
    });
  }
  pump(): void {
    for (const c of this.cs)
      c.txDrain((m, off, len) => void this.s.rxPut(m, off, len), Math.max(0, this.s.rxSpace() - 2));
    this.s.rxCommit();
    this.s.txDrain((m, off, len) => {
      const dst = Buffer.from(m.subarray(off, off + 6)).toString("hex");
      this.cs.forEach((c, i) => {
        if (dst === "ffffffffffff" || dst === this.macs[i]) c.rxPut(m, off, len);
      });
    });
    for (const c of this.cs) c.rxCommit();
  }
}

interface Run {
  iterations: number;
  done: boolean;
  results: ReturnType<typeof clientResults>;
}

/** Polls client and server, moving frames between them, until the client is done
 * and the server holds no connection (or maxIter). Virtual time: stepNs per iteration. */
function drive(client: Core, server: Core, clock: { ns: number }, maxIter: number, stepNs = 50_000): Run {
  const link = new Link(client, server);
  const cpoll = client.exports.poll as (n: number) => number;
  const spoll = server.exports.poll as (n: number) => number;
  const done = client.exports.clientDone as () => number;
  let i = 0;
  for (; i < maxIter; i++) {
    clock.ns += stepNs;
    cpoll(clock.ns);
    spoll(clock.ns);
    link.pump(clock.ns);
    if (done() && tcbsUsed(server) === 0) break;
  }
  return { iterations: i, done: !!done(), results: clientResults(client) };
}

/** The server's pool once its rings are posted and its first (idle) poll has run. */
function idleBaseline(server: Core, clock: { ns: number }): number {
  (server.exports.poll as (n: number) => number)(clock.ns);
  return freeMbufs(server);
}

// The test core: tcbsUsed reads the engine's occupancy (tcpTestStat).
function serverCore(o: PairOptions, over: Partial<CoreConfig>): Core {
  return createCore({ ...pairConfigs(o).server, ...over }, { test: true });
}
function clientCore(o: PairOptions, over: Partial<CoreConfig> = {}): Core {
  return createCore({ ...pairConfigs(o).client, ...over }, { test: true });
}

test("mbuf pool too small: drops counted by reason, load completes byte-exact, no leak, full recovery", () => {
  const load = opts(300, 4, 1400); // 300 connections, 4 echoes of 1400 B each
  const ringSlots = 128;
  // RX ring posts 128 mbufs; 48 left for TX frames and the echoed data held until acked.
  const server = serverCore(load, { ringSlots, mbufs: ringSlots + 48, mslMs: 200 });
  const clock = { ns: 0 };
  const base = idleBaseline(server, clock);
  assert.is(base, 48, "post-init free count: all but the RX ring's posted mbufs");
  const c0 = readCounters(server);
  const client = clientCore(load, { ringSlots, mslMs: 200 });
  const r = drive(client, server, clock, 4_000_000);
  const c1 = readCounters(server);
  const drops = {
    rx_drop_nombuf: delta(c0, c1, "rx_drop_nombuf"),
    mbuf_exhausted: delta(c0, c1, "mbuf_exhausted"),
    tcp_tx_nombuf: delta(c0, c1, "tcp_tx_nombuf"),
    tcp_rcv_nombuf: delta(c0, c1, "tcp_rcv_nombuf"),
  };
  console.log(
    `note: mbuf exhaustion: ${load.conns} conns x ${load.msgs} x ${load.size} B against 48 spare mbufs:` +
      ` ${JSON.stringify(drops)}, client retransmits ${readCounters(client).tcp_retransmits},` +
      ` ${r.iterations} iterations (${(clock.ns / 1e9).toFixed(2)} s virtual)`,
  );
  // The overload really happened, and every shortfall is counted under a reason.
  assert.ok(drops.mbuf_exhausted > 0, "the pool ran dry");
  assert.ok(drops.rx_drop_nombuf > 0, "received frames dropped for want of an mbuf to post back");
  assert.ok(drops.tcp_rcv_nombuf > 0, "data refused to keep the TX reserve (else the pool deadlocks)");
  assert.ok(drops.tcp_tx_nombuf > 0, "segments not built for want of an mbuf, retried by the timers");
  // TCP turns the drops into retransmissions: every byte still comes back.
  assert.ok(r.done, "client finished");
  assert.is(r.results.errors, 0);
  assert.is(r.results.round_trips, load.conns * load.msgs);
  assert.is(r.results.bytes_verified, load.conns * load.msgs * load.size);
  assert.ok(readCounters(client).tcp_retransmits > 0, "drops were recovered by retransmission");
  // No leak: every connection closed, every mbuf back where it started.
  assert.is(tcbsUsed(server), 0);
  assert.is(poolCheck(server), 0);
  assert.is(freeMbufs(server), base, "free count back to its post-init value");

  // Recovery: a light load afterwards is served with no new drop.
  const light = opts(8, 20, 512);
  const client2 = clientCore(light, { ringSlots, mslMs: 200 });
  const r2 = drive(client2, server, clock, 100_000);
  const c2 = readCounters(server);
  assert.ok(r2.done);
  assert.is(r2.results.errors, 0);
  assert.is(r2.results.bytes_verified, light.conns * light.msgs * light.size);
  assert.is(delta(c1, c2, "rx_drop_nombuf"), 0, "no drop once the load is within the pool");
  assert.is(delta(c1, c2, "mbuf_exhausted"), 0);
  assert.is(readCounters(client2).tcp_retransmits, 0, "no loss at all");
  assert.is(poolCheck(server), 0);
  assert.is(freeMbufs(server), base);
});

test("TCB table full: new connections refused and counted (tcp_tcb_full), the existing ones stay byte-exact", () => {
  // The server holds 16 TCBs. A first client keeps 16 connections busy (many
  // messages each); a second client then tries 32 more while they run.
  const tcbs = 16;
  const busy = opts(16, 4000, 700);
  const server = serverCore(busy, { tcbs, timers: tcbs, mslMs: 200 });
  const clock = { ns: 0 };
  const base = idleBaseline(server, clock);
  const c0 = readCounters(server);
  const first = clientCore(busy, { mslMs: 200 });
  // A different client address so both clients' ports may coincide.
  const extra = opts(32, 1, 100);
  const secondCfg = { ...pairConfigs(extra).client, ipv4: Buffer.from([198, 18, 0, 3]).readUInt32LE(0) };
  secondCfg.macLo = Buffer.from("020000000003", "hex").readUInt32LE(0);
  const second = createCore({ ...secondCfg, mslMs: 200 }, { test: true });
  const cpoll = first.exports.poll as (n: number) => number;
  const c2poll = second.exports.poll as (n: number) => number;
  const spoll = server.exports.poll as (n: number) => number;
  const sw = new Switch(server, [first, second]);
  let peak = 0;
  let started = false;
  let refusedWhileBusy = 0;
  for (let i = 0; i < 400_000; i++) {
    clock.ns += 50_000;
    cpoll(clock.ns);
    // The second client starts once the first holds the whole table.
    if (!started && tcbsUsed(server) === tcbs) started = true;
    if (started) c2poll(clock.ns);
    spoll(clock.ns);
    sw.pump();
    peak = Math.max(peak, tcbsUsed(server));
    if (!(first.exports.clientDone as () => number)()) refusedWhileBusy = readCounters(server).tcp_tcb_full;
    if ((first.exports.clientDone as () => number)() && (second.exports.clientDone as () => number)()) break;
  }
  const c1 = readCounters(server);
  const r1 = clientResults(first);
  const r2 = clientResults(second);
  console.log(
    `note: tcb table full: ${tcbs} TCBs, ${extra.conns} extra connects: tcp_tcb_full=${delta(c0, c1, "tcp_tcb_full")},` +
      ` (${refusedWhileBusy} while the table was held), second client ${r2.round_trips} of ${extra.conns} served later,` +
      ` first client ${r1.round_trips} round trips, ${r1.errors} errors`,
  );
  assert.ok(started);
  assert.is(peak, tcbs, "never more than the table");
  // A SYN that finds the table full is dropped without a SYN-ACK (as a full
  // listen backlog does) and counted; the client's SYN retransmission retries.
  assert.ok(
    refusedWhileBusy >= extra.conns,
    `every one of the ${extra.conns} SYNs refused and counted while full`,
  );
  assert.is(
    readCounters(server).tcp_passive_opens,
    busy.conns + extra.conns,
    "no half-open state for a refused SYN",
  );
  assert.is(r2.errors, 0);
  assert.is(r2.round_trips, extra.conns, "served once the table had room (SYN retransmission)");
  // The established connections never noticed.
  assert.ok(r1.done);
  assert.is(r1.errors, 0);
  assert.is(r1.round_trips, busy.conns * busy.msgs);
  assert.is(r1.bytes_verified, busy.conns * busy.msgs * busy.size);
  // Drain and check for leaks.
  for (let i = 0; i < 100_000 && tcbsUsed(server) > 0; i++) {
    clock.ns += 50_000;
    cpoll(clock.ns);
    c2poll(clock.ns);
    spoll(clock.ns);
    sw.pump();
  }
  assert.is(tcbsUsed(server), 0);
  assert.is(poolCheck(server), 0);
  assert.is(freeMbufs(server), base);
});

test.run();
