// Merges captures that are each in time order into one, by timestamp (a k-way
// merge; equal times keep the order of `parts`, then each part's own order).
// serve --workers N, and raw and track --workers N at paced speeds, write one
// --out part per worker and merge them here: a flow lives in one worker, so its
// frames keep their order.
import { createCore, type Core } from "../core/core.ts";
import { DESC_BYTES, TraceReader } from "./reader.ts";
import { TraceWriter } from "./writer.ts";
import { scanCoreConfig } from "../core/open-capture.ts";
import {
  DESC_W_CAPLEN,
  DESC_W_LEN,
  DESC_W_LINKTYPE,
  DESC_W_NSEC,
  DESC_W_OFF,
  DESC_W_SEC,
} from "../core/abi.gen.ts";

interface Cursor {
  core: Core;
  reader: TraceReader;
  n: number;
  i: number;
}

/** Writes the records of `parts` into `out` in time order; returns the records written (linktype: a pcap file's). */
export function mergeCaptures(parts: string[], out: string, linktype?: number): number {
  const cursors: Cursor[] = parts.map((p) => {
    const core = createCore(scanCoreConfig());
    return { core, reader: new TraceReader(p, core), n: 0, i: 0 };
  });
  const w = new TraceWriter(out, { linktype });
  try {
    const at = (c: Cursor) => (c.i * DESC_BYTES + c.core.regions.desc.offset) >>> 2;
    const secOf = (c: Cursor) => c.core.f64[(at(c) + DESC_W_SEC) >>> 1];
    const nsecOf = (c: Cursor) => c.core.u32[at(c) + DESC_W_NSEC];
    const fill = (c: Cursor): boolean => {
      if (c.i < c.n) return true;
      c.n = c.reader.next();
      c.i = 0;
      return c.n > 0;
    };
    let live = cursors.filter(fill);
    while (live.length) {
      let best = live[0];
      for (let k = 1; k < live.length; k++) {
        const c = live[k];
        const ds = secOf(c) - secOf(best);
        if (ds < 0 || (ds === 0 && nsecOf(c) < nsecOf(best))) best = c;
      }
      const d = at(best);
      const u32 = best.core.u32;
      w.write(
        best.core.u8,
        u32[d + DESC_W_OFF],
        u32[d + DESC_W_CAPLEN],
        secOf(best),
        nsecOf(best),
        u32[d + DESC_W_LEN],
        u32[d + DESC_W_LINKTYPE] & 0xffff,
      );
      best.i++;
      if (!fill(best)) live = live.filter((c) => c !== best);
    }
    return w.records;
  } finally {
    w.close();
    for (const c of cursors) c.reader.close();
  }
}
