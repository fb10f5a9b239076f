// Reproducer files: the frames a core received since it was created, as a
// nanosecond pcap (each frame stamped with the virtual time of the poll that
// took it), plus a JSON sidecar with the poll schedule (polls that took no
// frames cannot be seen in a pcap) and what went wrong. Replay feeds the same
// frames to a fresh core at the same times and checks the same invariants.
import { readFileSync, writeFileSync } from "node:fs";

export interface Poll {
  /** Virtual time of the poll (ns). */
  t: number;
  /** Frames put into the RX ring just before it. */
  n: number;
}

export interface ReproMeta {
  version: 1;
  target: "stack" | "decoder";
  app: string;
  debug: boolean;
  seed: number;
  epoch: number;
  finding: string;
  polls: Poll[];
  /** decoder target: link type and wire length per frame. */
  linktypes?: number[];
  wireLens?: number[];
  command: string;
}

/** Writes frames as a little-endian nanosecond pcap (link type 1 unless given per frame in meta). */
export function writePcap(path: string, frames: Buffer[], times: number[], linktype = 1): void {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b23c4d, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(linktype, 20);
  parts.push(h);
  frames.forEach((f, i) => {
    const r = Buffer.alloc(16);
    const t = times[i] ?? 0;
    r.writeUInt32LE(Math.floor(t / 1e9), 0);
    r.writeUInt32LE(Math.round(t % 1e9), 4);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, f);
  });
  writeFileSync(path, Buffer.concat(parts));
}

/** Reads back a pcap this module wrote (any classic pcap in little-endian order). */
export function readPcap(path: string): { frames: Buffer[]; times: number[] } {
  const b = readFileSync(path);
  const magic = b.readUInt32LE(0);
  if (magic !== 0xa1b23c4d && magic !== 0xa1b2c3d4) throw new Error(`${path}: not a little-endian pcap`);
  const scale = magic === 0xa1b23c4d ? 1 : 1000;
  const frames: Buffer[] = [];
  const times: number[] = [];
  for (let p = 24; p + 16 <= b.length;) {
    const len = b.readUInt32LE(p + 8);
    times.push(b.readUInt32LE(p) * 1e9 + b.readUInt32LE(p + 4) * scale);
    frames.push(Buffer.from(b.subarray(p + 16, p + 16 + len)));
    p += 16 + len;
  }
  return { frames, times };
}

export function writeMeta(path: string, meta: ReproMeta): void {
  writeFileSync(path, JSON.stringify(meta) + "\n");
}

export function readMeta(path: string): ReproMeta {
  return JSON.parse(readFileSync(path, "utf8")) as ReproMeta;
}
