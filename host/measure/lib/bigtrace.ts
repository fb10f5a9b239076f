// Large captures for benchmarks, made from the project's own recordings by
// repeating their records (timestamps shifted so time keeps going forward).
// Written to the OS temp dir once and reused while the source is unchanged.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TraceWriter } from "../../io/writer.ts";
import { createCore } from "../../core/core.ts";
import { DESC_BYTES, TraceReader } from "../../io/reader.ts";
import { READ_CORE } from "../../core/open-capture.ts";
import { DESC_CAPLEN, DESC_LEN, DESC_NSEC, DESC_OFF, DESC_SEC } from "../../core/abi.gen.ts";

export function loopTrace(
  source: string,
  minBytes: number,
  tag: string,
): { path: string; packets: number; bytes: number } {
  const path = join(tmpdir(), `ixwasm-bench-${tag}-${Math.round(minBytes / 1e6)}MB.pcap`);
  const meta = path + ".json";
  if (existsSync(path) && existsSync(meta) && statSync(meta).mtimeMs > statSync(source).mtimeMs) {
    return JSON.parse(readFileSync(meta, "utf8"));
  }
  // Read the source once into memory (it is small).
  const core = createCore(READ_CORE);
  const r = new TraceReader(source, core);
  const frames: { data: Buffer; sec: number; nsec: number; len: number }[] = [];
  const dv = new DataView(core.memory.buffer);
  for (;;) {
    const n = r.next();
    if (!n) break;
    for (let i = 0; i < n; i++) {
      const d = core.regions.desc.offset + i * DESC_BYTES;
      const off = dv.getUint32(d + DESC_OFF, true);
      const cap = dv.getUint32(d + DESC_CAPLEN, true);
      frames.push({
        data: Buffer.from(core.u8.slice(off, off + cap)),
        len: dv.getUint32(d + DESC_LEN, true),
        sec: dv.getFloat64(d + DESC_SEC, true),
        nsec: dv.getUint32(d + DESC_NSEC, true),
      });
    }
  }
  const span = frames[frames.length - 1].sec - frames[0].sec + 1;
  // pcap's seconds are 32 bits: a capture that spans years (the corpus's
  // example2.pcap: 2010 to 2015) repeated a few dozen times passes 2^32, so such
  // a loop is written as pcapng (64-bit timestamps) instead, under the same name.
  const perLoop = frames.reduce((a, f) => a + 16 + f.data.length, 0);
  const loops = Math.max(1, Math.ceil((minBytes - 24) / perLoop));
  const lastSec = frames[frames.length - 1].sec + (loops - 1) * span;
  const w = new TraceWriter(path, { format: lastSec > 0xffffffff ? "pcapng" : "pcap" });
  let bytes = 24;
  let packets = 0;
  for (let loop = 0; bytes < minBytes; loop++) {
    for (const f of frames) {
      w.write(f.data, 0, f.data.length, f.sec + loop * span, f.nsec, f.len);
      bytes += 16 + f.data.length;
      packets++;
    }
  }
  w.close();
  const info = { path, packets, bytes };
  writeFileSync(meta, JSON.stringify(info));
  return info;
}
