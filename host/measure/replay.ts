// Replay cost ladder on a large HTTP-like capture, one worker: raw (parse, hash,
// dispatch, count) and track (+ flow lookup and TCP tracking), against a
// plain-JS parse loop (records → Ethernet → IPv4/IPv6 → ports → Toeplitz with
// per-byte tables, the same work as raw) over the same file, side by side.
//
// Two figures per mode: the core's rate (packets / time inside the core calls,
// from the report's per-batch clock) and end to end (file reads and framing
// included). With 625-byte packets the end-to-end rate is bounded by the copy
// from the page cache (see docs/figures.md, ingest).
import { closeSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { replay } from "../replay/replay.ts";
import { loopTrace } from "./lib/bigtrace.ts";
import { fmt, summarize, type Summary } from "./lib/stats.ts";

export interface ReplayBench {
  file: string;
  packets: number;
  bytes: number;
  raw_core_pps: Summary;
  raw_pps: Summary;
  track_core_pps: Summary;
  track_pps: Summary;
  plain_js_pps: Summary;
  raw_ns_per_packet: number;
  track_ns_per_packet: number;
}

// Toeplitz tables for the symmetric key (0x6d5a repeated), as the core uses in replay.
const TABLES: Uint32Array[] = (() => {
  const key = new Uint8Array(40);
  for (let i = 0; i < 40; i += 2) [key[i], key[i + 1]] = [0x6d, 0x5a];
  const bit = (i: number) => (i < 320 ? (key[i >>> 3] >>> (7 - (i & 7))) & 1 : 0);
  const window = (start: number) => {
    let v = 0;
    for (let b = 0; b < 32; b++) v = (v << 1) | bit(start + b);
    return v >>> 0;
  };
  const out: Uint32Array[] = [];
  for (let pos = 0; pos < 36; pos++) {
    const t = new Uint32Array(256);
    for (let v = 0; v < 256; v++) {
      let h = 0;
      for (let b = 0; b < 8; b++) if (v & (0x80 >>> b)) h ^= window(pos * 8 + b);
      t[v] = h >>> 0;
    }
    out.push(t);
  }
  return out;
})();

/** Plain JS: every record parsed to its ports and hashed (Ethernet IPv4/IPv6 TCP/UDP). Returns packets hashed. */
export function plainJsParse(path: string): number {
  const fd = openSync(path, "r");
  const buf = Buffer.allocUnsafe(4 << 20);
  let fill = readSync(fd, buf, 0, buf.length, null);
  let pos = 24;
  let n = 0;
  let acc = 0;
  for (;;) {
    if (fill - pos < 16 || fill - pos < 16 + buf.readUInt32LE(pos + 8)) {
      buf.copy(buf, 0, pos, fill);
      fill -= pos;
      pos = 0;
      const got = readSync(fd, buf, fill, buf.length - fill, null);
      if (got <= 0) break;
      fill += got;
      continue;
    }
    const cap = buf.readUInt32LE(pos + 8);
    const f = pos + 16;
    pos = f + cap;
    if (cap < 14) continue;
    const et = (buf[f + 12] << 8) | buf[f + 13];
    let h = 0;
    if (et === 0x0800 && cap >= 34) {
      const ihl = (buf[f + 14] & 15) << 2;
      const proto = buf[f + 23];
      const l4 = f + 14 + ihl;
      const end = proto === 6 || proto === 17 ? 12 : 8;
      for (let i = 0; i < 8; i++) h ^= TABLES[i][buf[f + 26 + i]];
      if (end === 12 && l4 + 4 <= f + cap) for (let i = 0; i < 4; i++) h ^= TABLES[8 + i][buf[l4 + i]];
    } else if (et === 0x86dd && cap >= 58) {
      for (let i = 0; i < 32; i++) h ^= TABLES[i][buf[f + 22 + i]];
      const nh = buf[f + 20];
      if ((nh === 6 || nh === 17) && cap >= 58)
        for (let i = 0; i < 4; i++) h ^= TABLES[32 + i][buf[f + 54 + i]];
    } else continue;
    acc = (acc + (h & 127)) | 0;
    n++;
  }
  closeSync(fd);
  if (acc === -1) console.log(""); // keep the hash live
  return n;
}

export async function benchReplay(root: string, runs = 5, bytes = 4e8): Promise<ReplayBench> {
  const big = loopTrace(join(root, "traces/http-kernel.pcap"), bytes, "http");
  const rawCore: number[] = [];
  const raw: number[] = [];
  const trCore: number[] = [];
  const tr: number[] = [];
  const js: number[] = [];
  let rawNs = 0;
  let trNs = 0;
  // Warm-up: tier the wasm and JS code up before measuring.
  replay(big.path, { mode: "raw" });
  replay(big.path, { mode: "track" });
  plainJsParse(big.path);
  for (let i = 0; i < runs; i++) {
    const r = replay(big.path, { mode: "raw" });
    rawCore.push(1e9 / r.stages.raw);
    raw.push(r.pps);
    rawNs = r.stages.raw;
    const t = replay(big.path, { mode: "track" });
    trCore.push(1e9 / t.stages.track);
    tr.push(t.pps);
    trNs = t.stages.track;
    const t0 = performance.now();
    const n = plainJsParse(big.path);
    js.push(n / ((performance.now() - t0) / 1000));
  }
  return {
    file: big.path,
    packets: big.packets,
    bytes: big.bytes,
    raw_core_pps: summarize(rawCore),
    raw_pps: summarize(raw),
    track_core_pps: summarize(trCore),
    track_pps: summarize(tr),
    plain_js_pps: summarize(js),
    raw_ns_per_packet: rawNs,
    track_ns_per_packet: trNs,
  };
}

export function formatReplayBench(
  b: ReplayBench,
  row: (name: string, s: Summary, unit: string) => string,
): string[] {
  return [
    `\nreplay, one worker: ${b.file} (${fmt(b.packets)} packets, ${(b.bytes / 1e9).toFixed(2)} GB; traces/http-kernel.pcap repeated)`,
    row("ixwasm raw, in the core", b.raw_core_pps, "packets/s"),
    row("ixwasm raw, end to end", b.raw_pps, "packets/s"),
    row("ixwasm track, in the core", b.track_core_pps, "packets/s"),
    row("ixwasm track, end to end", b.track_pps, "packets/s"),
    row("plain JS parse+hash loop", b.plain_js_pps, "packets/s"),
  ];
}
