// Two cores back to back, in one thread: what one transmits the other receives,
// through an optional fault injector per direction. Used by `ixwasm pair` (one
// thread variant) and by the stack's tests (deterministic: virtual time).
import type { Core } from "../core/core.ts";
import { FaultInjector, type FaultConfig } from "../io/faults.ts";
import { Nic } from "./nic.ts";

export interface LinkStats {
  aToB: number;
  bToA: number;
  rxFull: number;
}

export class Link {
  readonly a: Nic;
  readonly b: Nic;
  readonly faultsAB: FaultInjector;
  readonly faultsBA: FaultInjector;
  readonly stats: LinkStats = { aToB: 0, bToA: 0, rxFull: 0 };
  /** Optional tap on every frame that crosses (after faults): for pcap output and tests. */
  onFrame: ((dir: "ab" | "ba", f: Uint8Array, nowNs: number) => void) | null = null;
  /** Optional test hook before the faults: return false to drop the frame; it may rewrite the bytes in place. */
  filter: ((dir: "ab" | "ba", f: Uint8Array) => boolean) | null = null;

  constructor(a: Core, b: Core, faults: FaultConfig = {}) {
    this.a = new Nic(a, true); // both cores run in this thread (local rings)
    this.b = new Nic(b, true);
    this.faultsAB = new FaultInjector({ ...faults, seed: (faults.seed ?? 1) * 2 + 1 });
    this.faultsBA = new FaultInjector({ ...faults, seed: (faults.seed ?? 1) * 2 + 2 });
  }

  private move(from: Nic, to: Nic, faults: FaultInjector, dir: "ab" | "ba", nowNs: number): number {
    if (!faults.active && !this.filter && !this.onFrame) {
      // The plain wire (pair's bench case): Nic to Nic by words, nothing per frame in JS.
      const full = to.rxFull + to.rxTooLong;
      const drained = from.txMoveTo(to, Math.max(0, to.rxSpace() - 2));
      const refused = to.rxFull + to.rxTooLong - full;
      this.stats.rxFull += refused;
      to.rxCommit();
      return drained - refused;
    }
    let moved = 0;
    const deliver = (f: Uint8Array) => {
      if (to.rxPut(f, 0, f.length)) moved++;
      else this.stats.rxFull++;
      this.onFrame?.(dir, f, nowNs);
    };
    // Back-pressure: only what the receiving RX ring can hold now (a duplicate may still overflow: counted).
    from.txDrain(
      (mem, off, len) => {
        const frame = mem.subarray(off, off + len);
        if (this.filter && !this.filter(dir, frame)) return;
        if (faults.active) faults.pass(frame, nowNs, deliver);
        else {
          if (to.rxPut(mem, off, len)) moved++;
          else this.stats.rxFull++;
          if (this.onFrame) this.onFrame(dir, frame, nowNs);
        }
      },
      Math.max(0, to.rxSpace() - 2),
    );
    if (faults.active) faults.flush(deliver);
    to.rxCommit();
    return moved;
  }

  /** Moves everything both cores have transmitted to the other side. Returns frames moved. */
  pump(nowNs: number): number {
    const ab = this.move(this.a, this.b, this.faultsAB, "ab", nowNs);
    const ba = this.move(this.b, this.a, this.faultsBA, "ba", nowNs);
    this.stats.aToB += ab;
    this.stats.bToA += ba;
    return ab + ba;
  }
}
