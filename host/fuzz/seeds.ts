// Seed frames for the fuzzer: real packets from the public corpus (read in
// place, never copied) and from the project's traces/, taken with the capture
// reader and the core's own decoder. The stack is fed Ethernet frames, so frames
// of other link types are re-framed behind a fresh Ethernet header; the decoder
// target keeps every frame with its original link type.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createCore, type Core } from "../core/core.ts";
import { TraceReader, DESC_BYTES, DESC_F_NOT_PACKET } from "../io/reader.ts";
import { fuzzRng } from "./rng.ts";
import { DESC_CAPLEN, DESC_FLAGS, DESC_LEN, DESC_LINKTYPE, DESC_OFF } from "../core/abi.gen.ts";
import { SUM_BYTES, SUM_F_IP, SUM_FLAGS, SUM_IPVER, SUM_L3OFF } from "../core/abi.gen.ts";

export interface RawFrame {
  frame: Buffer;
  linktype: number;
  /** Original length on the wire (may exceed the captured bytes). */
  wireLen: number;
  source: string;
}

export interface Seeds {
  /** Ethernet frames for the stack. */
  eth: Buffer[];
  /** Frames as captured, any link type, for the decoder. */
  raw: RawFrame[];
  files: string[];
}

/** Capture files of the corpus that are well-formed (MANIFEST format not "corrupt"), plus traces/. */
export function seedFiles(corpus: string | undefined, own: string | undefined): string[] {
  const out: string[] = [];
  if (corpus && existsSync(join(corpus, "MANIFEST.tsv"))) {
    const lines = readFileSync(join(corpus, "MANIFEST.tsv"), "utf8").trim().split("\n");
    const head = lines[0].split("\t");
    const fi = head.indexOf("file");
    const fo = head.indexOf("format");
    for (const l of lines.slice(1)) {
      const c = l.split("\t");
      if (c[fo] !== "corrupt" && existsSync(join(corpus, c[fi]))) out.push(join(corpus, c[fi]));
    }
  }
  if (own && existsSync(own))
    for (const f of readdirSync(own).sort()) if (/\.(pcap|pcapng)$/.test(f)) out.push(join(own, f));
  return out;
}

let readCore: Core | null = null;

/** Reads up to perFile frames of each file (a seeded sample spread over the file). */
export function loadSeeds(files: string[], perFile = 300): Seeds {
  readCore ??= createCore({ stagingBytes: 4 << 20, descSlots: 1024, mbufs: 0, ringSlots: 0, flows: 1024 });
  const core = readCore;
  const decode = core.exports.decodeBatch as (n: number) => number;
  const dv = new DataView(core.memory.buffer);
  const seeds: Seeds = { eth: [], raw: [], files: [] };
  for (const path of files) {
    const rng = fuzzRng(0x5eed); // the same sample whatever the run's seed
    const sample: RawFrame[] = [];
    const eth: Buffer[] = [];
    let seen = 0;
    let reader: TraceReader;
    try {
      reader = new TraceReader(path, core);
    } catch {
      continue;
    }
    try {
      for (let n = reader.next(); n > 0; n = reader.next()) {
        decode(n);
        for (let i = 0; i < n; i++) {
          const d = core.regions.desc.offset + i * DESC_BYTES;
          if (dv.getUint16(d + DESC_FLAGS, true) & DESC_F_NOT_PACKET) continue;
          seen++;
          // Reservoir sampling keeps perFile frames spread over the whole capture.
          const slot = seen <= perFile ? seen - 1 : rng.int(seen);
          if (slot >= perFile) continue;
          const off = dv.getUint32(d + DESC_OFF, true);
          const caplen = dv.getUint32(d + DESC_CAPLEN, true);
          const raw: RawFrame = {
            frame: Buffer.from(core.u8.subarray(off, off + caplen)),
            linktype: dv.getUint16(d + DESC_LINKTYPE, true),
            wireLen: dv.getUint32(d + DESC_LEN, true),
            source: path,
          };
          sample[slot] = raw;
          const s = core.regions.decode.offset + i * SUM_BYTES;
          eth[slot] = toEthernet(
            raw,
            dv.getUint16(s + SUM_FLAGS, true),
            core.u8[s + SUM_IPVER],
            dv.getUint16(s + SUM_L3OFF, true),
          );
        }
      }
    } catch {
      // A capture that ends badly still gave its frames before the fault.
    }
    seeds.raw.push(...sample);
    seeds.eth.push(...eth.filter((e) => e.length >= 14));
    seeds.files.push(path);
  }
  return seeds;
}

/** The frame as Ethernet: as is, or its IP packet behind a new Ethernet header. */
function toEthernet(r: RawFrame, flags: number, ipver: number, l3off: number): Buffer {
  if (r.linktype === 1) return r.frame;
  if (!(flags & SUM_F_IP) || l3off >= r.frame.length) return Buffer.alloc(0);
  const h = Buffer.alloc(14);
  h.writeUInt16BE(ipver === 6 ? 0x86dd : 0x0800, 12);
  return Buffer.concat([h, r.frame.subarray(l3off)]);
}
