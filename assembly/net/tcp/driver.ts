// The TCP steps of the core's poll() (assembly/core.ts): initialise, run the
// timers that are due, flush what the batch left pending. They drive output.ts
// and neigh-wait.ts; engine.ts, below them, holds the state they share.
import { TCB_FLAGS, tcbAt, tcbTableInit } from "./tcb";
import { spanPoolInit } from "./span";
import { sackInit } from "./sack";
import { timerAdvance, timerAppCookie, timerAppId, timerAppRelease, timerInit, timerIsApp, timerNext, timerPop } from "../timer";
import { EV_TIMER, evPush } from "../../api/abi";
import { TF_USED } from "./state";
import { armTimer, dirtyPop, engineInit, idleLimitS, tcpNow, tcpSetNow } from "./engine";
import { idleSweep, idleSweepReset, tcbTimerFire, tcpOutput } from "./output";
import { neighWaitReset, neighWaitStep } from "./neigh-wait";

/** Next timer deadline in µs (u64 max when none): what the host may sleep until (pair's virtual clock). */
export function tcpTimerNext(): u64 {
  return timerNext();
}

export function tcpInit(): void {
  tcbTableInit();
  spanPoolInit();
  sackInit();
  timerInit();
  neighWaitReset();
  engineInit();
  idleSweepReset();
}

/** Advances the wheel to `now` and runs what is due: RTO, persist, delayed ACK, TIME-WAIT, presets, app timers (EV_TIMER). */
export function tcpTimers(now: u64): void {
  tcpSetNow(now); // the clock never goes back: tcpNow() may be later than now
  timerAdvance(tcpNow());
  while (true) {
    const id = timerPop();
    if (id < 0) break;
    if (timerIsApp(<u32>id)) {
      evPush(EV_TIMER, 0, timerAppCookie(<u32>id), timerAppId(<u32>id), 0, 0, 0);
      timerAppRelease(<u32>id);
      continue;
    }
    const t = tcbAt(<u32>id);
    if ((load<u32>(t, TCB_FLAGS) & TF_USED) == 0) continue;
    if (tcbTimerFire(t)) armTimer(t);
  }
  neighWaitStep(); // SYNs that waited for a neighbour the cache has just learned
  if (idleLimitS != 0) idleSweep(tcpNow(), idleLimitS);
}

/** Sends what the batch left pending: data the windows allow, ACKs (one per connection), SYNs. */
export function tcpFlush(): void {
  for (let t = dirtyPop(); t != 0; t = dirtyPop()) tcpOutput(t);
}
