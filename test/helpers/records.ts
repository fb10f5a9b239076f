// Reads a whole capture through the real reader into plain records (tests only).
import { createCore, type Core } from "../../host/core/core.ts";
import { DESC_BYTES, TraceReader } from "../../host/io/reader.ts";
import { READ_CORE } from "../../host/core/open-capture.ts";
import {
  DESC_CAPLEN,
  DESC_FLAGS,
  DESC_LEN,
  DESC_LINKTYPE,
  DESC_NSEC,
  DESC_OFF,
  DESC_SEC,
} from "../../host/core/abi.gen.ts";

export interface Rec {
  caplen: number;
  len: number;
  linktype: number;
  flags: number;
  sec: number;
  nsec: number;
  data: Buffer;
}

let shared: Core | null = null;
export function readCore(): Core {
  return (shared ??= createCore(READ_CORE));
}

export function readAll(path: string): { recs: Rec[]; error: Error | null; reader: TraceReader | null } {
  const core = readCore();
  const recs: Rec[] = [];
  let reader: TraceReader | null = null;
  try {
    reader = new TraceReader(path, core);
    const dv = new DataView(core.memory.buffer);
    for (;;) {
      const n = reader.next();
      if (!n) break;
      for (let i = 0; i < n; i++) {
        const d = core.regions.desc.offset + i * DESC_BYTES;
        const off = dv.getUint32(d + DESC_OFF, true);
        const caplen = dv.getUint32(d + DESC_CAPLEN, true);
        recs.push({
          caplen,
          len: dv.getUint32(d + DESC_LEN, true),
          linktype: dv.getUint16(d + DESC_LINKTYPE, true),
          flags: dv.getUint16(d + DESC_FLAGS, true),
          nsec: dv.getUint32(d + DESC_NSEC, true),
          sec: dv.getFloat64(d + DESC_SEC, true),
          data: Buffer.from(core.u8.slice(off, off + caplen)),
        });
      }
    }
    return { recs, error: null, reader };
  } catch (e) {
    return { recs, error: e as Error, reader };
  }
}
