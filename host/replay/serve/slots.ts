// The mirror app's flow slots (its flow records in R_APP): a free list on the
// host. A slot the host released (FR_DONE sent) comes back once the app has freed
// it, i.e. its connection is no longer open in the core (the slot's state word).
import type { MirrorFeed } from "./mirror-feed.ts";

export class MirrorSlots {
  private readonly freeIds: Int32Array;
  private nFree = 0;
  private pendingIds: number[] = [];

  constructor(
    capacity: number,
    private readonly feed: MirrorFeed | null,
    /** Polls until the app has read the feed (it frees slots when it reads their FR_DONE). */
    private readonly settle: () => void,
  ) {
    this.freeIds = new Int32Array(capacity);
    for (let id = capacity - 1; id >= 0; id--) this.freeIds[this.nFree++] = id;
  }

  /** A slot for a new flow: a free one, or one the app has freed since (-1: none). */
  alloc(): number {
    if (this.nFree) return this.freeIds[--this.nFree];
    for (let tries = 0; tries < 2 && !this.nFree && this.pendingIds.length; tries++) {
      if (tries) this.settle(); // the app frees slots when it reads their FR_DONE
      const keep: number[] = [];
      for (const id of this.pendingIds)
        if (this.feed!.slotFree(id)) this.freeIds[this.nFree++] = id;
        else keep.push(id);
      this.pendingIds = keep;
    }
    return this.nFree ? this.freeIds[--this.nFree] : -1;
  }

  /** FR_DONE went for slot id: free once the app says so. */
  released(id: number): void {
    this.pendingIds.push(id);
  }
}
