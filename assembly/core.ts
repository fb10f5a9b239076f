// ixwasm core: one WASM instance = one dataplane worker (IX: one per core).
//
// poll() is the whole run-to-completion loop, like DPDK's l2fwd main loop: free
// what was sent, fire due timers, take the frames that are there (at most 64,
// never waiting: adaptive batching), run each through Ethernet → ARP / IP →
// ICMP / UDP / TCP → application events, let the app answer with commands,
// execute them, send what the batch left pending, and publish the TX batch.
import { plan } from "./mem/plan";
import { abiCheckValue } from "./abi/layout.gen";
import { CFG_RING_SLOTS, HIST_BASE, R_RX_RING, R_TX_RING, cfg, regionBytes, regionOffset } from "./mem/layout";
import { MB_DATA_LEN, mbufPoolInit } from "./mem/mbuf";
import { ringInit } from "./mem/ring";
import { rssInit } from "./flow/toeplitz";
import { retaInit } from "./flow/reta";
import { flowTableInit } from "./flow/table";
import { cmdLen, evLen, evReset } from "./api/abi";
import { PKT_NOW_US, pkt } from "./net/pkt";
import { ifaceInit } from "./net/iface";
import { netifInit, rxBurst, txFree, txPublish, txReclaim } from "./net/netif";
import { ethInput, rxCount } from "./net/eth";
import { neighInit } from "./net/neigh";
import { setIcmpHandlers, setTcpHandler, setUdpHandler } from "./net/ip";
import { icmp6Input, icmpInput } from "./net/icmp";
import { udpInput, udpListen, udpRelease } from "./net/udp";
import { appStep, appWakeClear, appWoken, commandsRun, flushStep, setAppStep, setTcpSteps, setTimerCommandStep, timersStep } from "./net/stack";
import { CFG_TCBS } from "./mem/layout";
import { tcpListen } from "./net/tcp/engine";
import { tcpFlush, tcpInit, tcpTimers } from "./net/tcp/driver";
import { tcpInput } from "./net/tcp/input";
import { tcpCommand, timerCommand } from "./net/tcp/commands";
import { APP_NONE, appDispatch, appInit, appIsServer, appListenPort, appSelected, appServesUdp } from "./apps/registry";
import { CFG_MODE } from "./mem/layout";
import { MODE_TRACK, replayReset } from "./replay/common";
import { trackInit } from "./replay/track";
import { S_APP, S_COMMANDS, S_FLUSH, S_RX_INPUT, S_TIMERS, S_TX, stageBegin, stageMark, stagePollEnd, stageSample, stageTiming } from "./stats/stages";
import { RX_BURST as BURST } from "./abi/poll.gen"; // abi/table/poll.ts: the host's loops read as many

export const RX_BURST: u32 = BURST; // IX's batch bound
const rxBatch = memory.data(<i32>(RX_BURST * 4), 16);
let resultsPending = false;
let firstPoll = true; // client apps open their connections on their first step

/** One iteration of the dataplane at time nowNs (ns since the run's epoch: trace time or wall time). Returns frames received. */
export function poll(nowNs: f64): u32 {
  const now = <u64>(nowNs / 1000.0);
  store<u64>(pkt() + PKT_NOW_US, now);
  const timed = stageTiming && stageSample(); //  stage timing (stats/stages.ts): per poll or 1 in k, off by default
  if (timed) stageBegin();
  txReclaim(); //                                  1. reclaim frames the host has sent
  timersStep(now); //                              2. retransmissions, delayed ACKs, TIME_WAIT, app timers
  if (timed) stageMark(S_TIMERS);
  // 3. take what is there, ≤ 64, never wait; and no more than the TX ring can take
  //    answers for: an undrained TX ring stops RX, and the back-pressure reaches the producer.
  const n = rxBurst(rxBatch, min<u32>(RX_BURST, txFree()));
  let bytes: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const m = load<usize>(rxBatch + (<usize>i << 2));
    bytes += <u64>load<u16>(m, MB_DATA_LEN);
    ethInput(m); //                                4. eth → ip → tcp/udp/icmp → events
  }
  rxCount(n, bytes);
  histBump(n);
  if (timed) stageMark(S_RX_INPUT);
  const busy = evLen() != 0 || n != 0 || resultsPending || firstPoll || appWoken; // woken: an app module answered
  if (busy) {
    appWakeClear();
    appStep(); //                                  5. the app reads events and results, issues commands
    evReset();
    if (timed) stageMark(S_APP);
    commandsRun(); //                              6. the stack executes them
    resultsPending = cmdLen() != 0; //                the app sees their results at its next step
    firstPoll = false;
    if (timed) stageMark(S_COMMANDS);
  }
  udpRelease();
  flushStep(); //                                  7. coalesced ACKs and queued data
  if (timed) stageMark(S_FLUSH);
  txPublish(); //                                  8. one TX publish per batch
  if (timed) {
    stageMark(S_TX);
    stagePollEnd(n, busy); //                         idle: nothing arrived and the app had nothing to do (a poll that only ran timers counts here too)
  }
  return n;
}

@inline function histBump(n: u32): void {
  const p = HIST_BASE + (<usize>n << 3);
  store<u64>(p, load<u64>(p) + 1);
}

/** Lays out the regions and initialises pools, rings, tables and the stack. Returns 0 on success. */
export function init(): i32 {
  if (plan() == 0) return -1;
  mbufPoolInit();
  if (regionBytes(R_RX_RING) != 0) ringInit(regionOffset(R_RX_RING), cfg(CFG_RING_SLOTS));
  if (regionBytes(R_TX_RING) != 0) ringInit(regionOffset(R_TX_RING), cfg(CFG_RING_SLOTS));
  rssInit();
  retaInit();
  flowTableInit();
  ifaceInit();
  neighInit();
  netifInit();
  setUdpHandler(udpInput);
  setIcmpHandlers(icmpInput, icmp6Input);
  if (cfg(CFG_TCBS) != 0) {
    tcpInit();
    setTcpHandler(tcpInput);
    setTcpSteps(tcpCommand, tcpTimers, tcpFlush);
    setTimerCommandStep(timerCommand);
  }
  replayReset();
  if (cfg(CFG_MODE) == MODE_TRACK && trackInit() < 0) return -3; // replay track: flow records in R_APP
  if (appInit() < 0) return -2;
  const app = appSelected();
  if (app != APP_NONE) setAppStep(appDispatch);
  if (appIsServer()) {
    const port = appListenPort();
    if (cfg(CFG_TCBS) != 0) tcpListen(port);
    if (appServesUdp()) udpListen(port);
  }
  return 0;
}

/** ABI self-description (generated from abi/table.ts): host/core/core.ts compares it with its own copy. */
export function abiCheck(i: i32): u32 {
  return abiCheckValue(i);
}

// Everything else the host calls (pools, rings, hashing, decode, replay, apps) is
// listed in exports.ts, so this file stays the loop and init(). The test hooks are
// in the test core only (test-core.ts).
export * from "./exports";
