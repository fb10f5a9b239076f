// Large captures for benchmarks, made from the project's own recordings by
// repeating their records (timestamps shifted so time keeps going forward).
// Written to the OS temp dir once and reused while the source is unchanged.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TraceWriter } from "../../host/io/writer.ts";
import { createCore } from "../../host/core.ts";
import { DESC_BYTES, TraceReader } from "../../host/io/reader.ts";
import { READ_CORE } from "../../host/commands/common.ts";
import { DESC_CAPLEN, DESC_LEN, DESC_NSEC, DESC_OFF, DESC_SEC } from "../../host/abi.gen.ts";

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
  const w = new TraceWriter(path, { format: "pcap" });
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
