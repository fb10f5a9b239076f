// The host's one poll loop: run rounds (move frames in, poll the core, drain what
// it transmitted) while there is work, and when a round finds none, spin a
// bounded while before napping. The threads that own a core on a live clock run
// it: the pair and dataplane workers, the tap's queues, liveplay. What a round
// does and how a thread naps (a ring's sleeping flag, poll(2) on the tap) are
// theirs. Not here: pair's virtual clock (nothing sleeps; pair.ts says why) and
// serve (the capture's clock says when to poll, host/replay/serve).
//
// Why spin first: a wake-up from a nap costs tens of µs on these VMs (futex or
// poll(2) and a reschedule), more than the next frame usually takes to come
// when traffic flows; after the spin, napping gives the CPU back.

/**
 * How long a loop spins on empty rounds before it naps: a count of rounds, or µs
 * since the last work. With `peer` (a counter the thread that feeds this loop
 * bumps at each round in which it did work), the spin also ends once that
 * counter has stood still for `stillUs` µs of empty rounds: the peer is idle
 * too, or not running at all (preempted on a machine with fewer free CPUs than
 * busy threads), and spinning on for its frames only keeps it off the CPU
 * longer. Time, not rounds: a peer's round with work takes a few µs to tens.
 * With `owed` (true while an answer from the peer is due: this loop sent it
 * frames a moment ago), the peer rule waits: the peer is in the middle of a
 * round whose answer is coming (a round of 16 echoes takes 10-25 µs here), so
 * the 5 µs rule napped in most round trips of a pair run, and every nap cost a
 * 50-70 µs wake-up on these VMs (performance-log.md §10).
 */
export type Spin = ({ rounds: number } | { us: number }) & {
  peer?: () => number;
  stillUs?: number;
  owed?: () => boolean;
};

/** The spin-then-nap policy of one loop, with its count of naps. */
export class Backoff {
  naps = 0;
  private idle = 0;
  /** performance.now() at the first empty round of this spin (time spins only: no clock read while work flows). */
  private idleSince = 0;
  private readonly rounds: number;
  private readonly spinMs: number;
  private readonly peer: (() => number) | null;
  private readonly stillMs: number;
  private readonly owed: (() => boolean) | null;
  private peerSeen = 0;
  /** performance.now() when the peer's counter was last seen to move (NaN: not since the last nap or work). */
  private peerAt = NaN;

  constructor(
    spin: Spin,
    /** Sleep until work may have come (bounded by the caller: timers still need their turns). */
    private readonly nap: () => void,
  ) {
    this.rounds = "rounds" in spin ? spin.rounds : Infinity;
    this.spinMs = "us" in spin ? spin.us / 1000 : Infinity;
    this.peer = spin.peer ?? null;
    this.stillMs = (spin.stillUs ?? Infinity) / 1000;
    this.owed = spin.owed ?? null;
  }

  /** After a round that did `work` (frames moved, events): resets the spin, or naps once it is spent; true if it napped. */
  after(work: number): boolean {
    if (work > 0) {
      this.idle = 0;
      this.peerAt = NaN;
      return false;
    }
    if (this.peer !== null) {
      const p = this.peer();
      const now = performance.now();
      if (p !== this.peerSeen || Number.isNaN(this.peerAt)) {
        this.peerSeen = p;
        this.peerAt = now;
      } else if (now - this.peerAt >= this.stillMs && (this.owed === null || !this.owed()))
        return this.napNow();
    }
    if (this.spinMs !== Infinity) {
      const now = performance.now();
      if (this.idle++ === 0) this.idleSince = now;
      if (now - this.idleSince < this.spinMs) return false;
    } else if (++this.idle <= this.rounds) return false;
    return this.napNow();
  }

  private napNow(): true {
    this.idle = 0;
    this.peerAt = NaN;
    this.naps++;
    this.nap();
    return true;
  }
}

/**
 * Runs `round` until `running()` is false, backing off on empty rounds; returns the rounds run.
 * `round` returns the work it did (0: nothing moved).
 */
export function pollLoop(round: () => number, backoff: Backoff, running: () => boolean): number {
  let rounds = 0;
  while (running()) {
    backoff.after(round());
    rounds++;
  }
  return rounds;
}
