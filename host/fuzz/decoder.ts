// The decoder target: decodeBatch (dump) and inspectBatch (inspect) run on
// mutated frames of every link type, each frame placed flush against the end of
// linear memory, so a read one byte past the captured length traps instead of
// reading a neighbour's bytes.
import { createCore, type Core, type CoreExports } from "../core/core.ts";
import { Finding } from "./stack.ts";
import {
  DESC_W_CAPLEN,
  DESC_W_IFACE,
  DESC_W_LEN,
  DESC_W_LINKTYPE,
  DESC_W_NSEC,
  DESC_W_OFF,
} from "../core/abi.gen.ts";
import {
  SUM_BYTES,
  SUM_F_IP,
  SUM_F_NOT_PACKET,
  SUM_F_PORTS,
  SUM_FLAGS,
  SUM_L3OFF,
  SUM_L4OFF,
} from "../core/abi.gen.ts";

/** Link types the decoder knows, plus ones it does not. */
export const LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147, 0xffff];

export class DecoderTarget {
  readonly core: Core;
  private readonly decodeBatch: CoreExports["decodeBatch"];
  private readonly inspectBatch: CoreExports["inspectBatch"];
  private readonly end: number;
  private readonly desc: number;
  private readonly sum: number;
  frameCount = 0;

  constructor(debug: boolean) {
    // Small regions: the memory's last page is then past every region, free for the frame.
    this.core = createCore(
      { stagingBytes: 0, descSlots: 16, mbufs: 0, ringSlots: 0, flows: 4096 },
      { debug },
    );
    const f = this.core.exports;
    this.decodeBatch = f.decodeBatch;
    this.inspectBatch = f.inspectBatch;
    this.end = this.core.memory.buffer.byteLength;
    const used = Math.max(...Object.values(this.core.regions).map((r) => r.offset + r.bytes));
    if (used + 65536 > this.end)
      throw new Error(`decoder core has no free tail (${used} of ${this.end} bytes used)`);
    this.desc = this.core.regions.desc.offset;
    this.sum = this.core.regions.decode.offset;
  }

  /** Decodes one frame (flush against the end of memory) with both entry points; throws a Finding. */
  run(frame: Uint8Array, linktype: number, wireLen: number, inspect: boolean): void {
    const caplen = frame.length;
    const at = this.end - caplen;
    const u8 = this.core.u8;
    u8.set(frame, at);
    const u32 = this.core.u32;
    const d = this.desc >>> 2;
    u32[d + DESC_W_OFF] = at;
    u32[d + DESC_W_CAPLEN] = caplen;
    u32[d + DESC_W_LEN] = wireLen >>> 0;
    u32[d + DESC_W_LINKTYPE] = linktype & 0xffff;
    u32[d + DESC_W_NSEC] = 0;
    u32[d + DESC_W_IFACE] = 0;
    this.frameCount++;
    try {
      this.decodeBatch(1);
      if (inspect) this.inspectBatch(1);
    } catch (e) {
      const err = e as Error;
      throw new Finding(err.name === "RuntimeError" ? "decoder trap" : "decoder abort", err.message);
    }
    const s = this.sum;
    const dv = new DataView(this.core.memory.buffer, s, SUM_BYTES);
    const flags = dv.getUint16(SUM_FLAGS, true);
    if (flags & SUM_F_NOT_PACKET)
      throw new Finding("decoder summary", "a packet descriptor was decoded as not a packet");
    if (flags & SUM_F_IP && dv.getUint16(SUM_L3OFF, true) >= caplen)
      throw new Finding(
        "decoder summary",
        `IP header offset ${dv.getUint16(SUM_L3OFF, true)} at or past caplen ${caplen}`,
      );
    if (flags & SUM_F_PORTS && dv.getUint16(SUM_L4OFF, true) + 4 > caplen)
      throw new Finding(
        "decoder summary",
        `ports read at ${dv.getUint16(SUM_L4OFF, true)} past caplen ${caplen}`,
      );
  }
}
