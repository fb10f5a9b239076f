// The per-batch steps of the loop that other layers provide, chosen once at init
// (a variant is a function reference, never a per-packet branch; STYLE.md §10).
// Until a layer registers, its step does nothing.
import { CMD_TIMER, CMD_UDP_SEND, D_KIND, D_RET, DESC_SIZE, RET_INVAL, cmdBase, cmdLen } from "../api/abi";
import { udpCommand } from "./udp";

function nothing(): void {}
function nothingAt(_now: u64): void {}
function refuse(cmd: usize): void {
  store<i32>(cmd + D_RET, RET_INVAL);
}

/** The app: sees this iteration's events and the previous commands' results, pushes new commands. */
export let appStep: () => void = nothing;
/** Executes one TCP command descriptor (CMD_ACCEPT..CMD_ABORT). */
export let tcpCommandStep: (cmd: usize) => void = refuse;
/** Executes one CMD_TIMER. */
export let timerCommandStep: (cmd: usize) => void = refuse;
/** Advances timers to now (µs): retransmissions, delayed ACKs, TIME_WAIT, app timers. */
export let timersStep: (now: u64) => void = nothingAt;
/** Sends what the batch left pending (coalesced ACKs, queued data). */
export let flushStep: () => void = nothing;

/** Set between two polls by the host (appWakeUp): the next poll runs the app step even if idle. */
export let appWoken = false;
export function appWakeUp(): void {
  appWoken = true;
}
export function appWakeClear(): void {
  appWoken = false;
}

export function setAppStep(f: () => void): void {
  appStep = f;
}
export function setTcpSteps(command: (cmd: usize) => void, timers: (now: u64) => void, flush: () => void): void {
  tcpCommandStep = command;
  timersStep = timers;
  flushStep = flush;
}
export function setTimerCommandStep(f: (cmd: usize) => void): void {
  timerCommandStep = f;
}

/** Executes the commands the app issued this iteration, in order (IX: batched system calls). */
export function commandsRun(): void {
  const n = cmdLen();
  const base = cmdBase();
  for (let i: u32 = 0; i < n; i++) {
    const c = base + <usize>i * DESC_SIZE;
    const kind = load<u16>(c + D_KIND);
    if (kind == CMD_UDP_SEND) udpCommand(c);
    else if (kind == CMD_TIMER) timerCommandStep(c);
    else tcpCommandStep(c);
  }
}
