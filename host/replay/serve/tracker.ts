// Flows that serve does not serve (no handshake in the capture, no SYN-ACK, ICMP,
// fragments...) go through a second core in track mode (assembly/replay/track.ts):
// it tracks their TCP state and counts them (flows.tracked in the report).
import { createCore, type Core } from "../../core/core.ts";
import { DESC_BYTES } from "../../io/reader.ts";
import { replayCoreConfig } from "../options.ts";
import * as ABI from "../../core/abi.gen.ts";

// Descriptor word offsets as this module's own constants (V8 folds them; see serve.ts).
const { DESC_WORDS, DESC_W_CAPLEN, DESC_W_OFF } = ABI;

/**
 * Flows that are not served, through a track-mode core: their frames and
 * descriptors are copied into its staging area and processed in one call per
 * serve batch (replayTrackBatch), created at the first such packet.
 */
export class Tracker {
  core: Core | null = null;
  /** Time in the track core's batches (ms): a stage of the run's accounting. */
  ms = -0;
  private n = 0;
  private used = 0;
  private buf: Buffer | null = null;
  private batch: ((first: number, count: number, loop: number) => number) | null = null;
  private readonly srcBuf: Buffer;
  constructor(
    private readonly flows: number,
    private readonly src: Core,
  ) {
    this.srcBuf = Buffer.from(src.memory.buffer);
  }

  put(d: number, loop: number): void {
    const s32 = this.src.u32;
    const caplen = s32[d + DESC_W_CAPLEN];
    if (!this.core) {
      this.core = createCore(replayCoreConfig("track", 1, this.flows));
      this.buf = Buffer.from(this.core.memory.buffer);
      this.batch = this.core.exports.replayTrackBatch as (
        first: number,
        count: number,
        loop: number,
      ) => number;
    }
    const c = this.core;
    const st = c.regions.staging;
    if (this.n === c.regions.desc.bytes / DESC_BYTES || this.used + caplen > st.bytes) this.flush(loop);
    const at = st.offset + this.used;
    this.srcBuf.copy(this.buf!, at, s32[d + DESC_W_OFF], s32[d + DESC_W_OFF] + caplen);
    const t = (c.regions.desc.offset >>> 2) + this.n * DESC_WORDS;
    const u = c.u32;
    // The whole descriptor, then its frame's new place in this core's staging.
    for (let j = 0; j < DESC_WORDS; j++) u[t + j] = s32[d + j];
    u[t + DESC_W_OFF] = at;
    this.used += (caplen + 7) & ~7;
    this.n++;
  }

  flush(loop: number): void {
    if (this.n) {
      const t0 = performance.now();
      this.batch!(0, this.n, loop);
      this.ms += performance.now() - t0;
    }
    this.n = 0;
    this.used = 0;
  }
}
