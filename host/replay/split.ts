// `ixwasm split FILE --shards N --out-dir D`: one streaming pass that writes
// shard i of N of the capture's records into a file of its own, so N machines
// each read 1/N of the bytes instead of the whole capture (replay --shard reads
// it all and keeps 1/N). The assignment is the core's, the one --shard uses
// (assembly/flow/shard.ts shardMark: flow group mod N, no IP header → shard 0),
// one core call per 4096 records; per record the host only appends the frame to
// its shard's writer.
//
// Output: D/<name>.shard-<i>-of-<N>.<pcap|pcapng>, the input's kind of file: pcap
// keeps the link type, the snap length and the µs or ns precision (written
// little-endian whatever the input's byte order); pcapng keeps each record's link
// type (one interface per link type) with nanosecond timestamps, which hold any
// resolution's times exactly. Records are byte for byte the input's, in input
// order within each shard. pcapng custom blocks are not packets and are not
// copied (counted in the manifest as `not_copied`).
//
// D/<name>.split.json is the manifest: the source's identity and each file's, for
// `report merge --split` (reports of split files are of different files). A
// corrupt record ends the pass: every record before it is in the shards, the
// manifest says where it stopped, and the command exits non-zero.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { CFG_F_SYMMETRIC, createCore, SCRATCH_BASE } from "../core/core.ts";
import { checkFile, READ_CORE } from "../core/open-capture.ts";
import { TraceError, UsageError } from "../io/errors.ts";
import { TraceReader } from "../io/reader.ts";
import { TraceWriter, type WriteFormat } from "../io/writer.ts";
import { captureId } from "../report/capture-id.ts";
import type { CaptureId } from "../report/replay.ts";
import { Progress } from "./progress.ts";
import { MAX_SHARDS } from "./shard.ts";
import * as ABI from "../core/abi.gen.ts";

const {
  DESC_WORDS,
  DESC_S_FLAGS,
  DESC_W_CAPLEN,
  DESC_W_LEN,
  DESC_W_LINKTYPE,
  DESC_W_NSEC,
  DESC_W_OFF,
  DESC_W_SEC,
} = ABI;

export const SPLIT_SCHEMA = "ixwasm-split/1";

export interface SplitManifest {
  schema: typeof SPLIT_SCHEMA;
  source: { file: string; format: string; linktypes: number[]; records: number } & CaptureId;
  shards: number;
  files: ({ index: number; file: string; records: number } & CaptureId)[];
  /** Records that are not packets (pcapng custom blocks): not written. */
  not_copied: number;
  /** The corrupt record that ended the pass, or null. */
  error: string | null;
}

export interface SplitOptions {
  shards: number;
  outDir: string;
  progress?: boolean;
}

/** The file of shard i: the input's name without its extension, then .shard-i-of-N. */
export function shardFileName(input: string, i: number, n: number, ng: boolean): string {
  const base = basename(input).replace(/\.(pcapng|pcap|cap)$/i, "");
  return `${base}.shard-${i}-of-${n}.${ng ? "pcapng" : "pcap"}`;
}

export function split(path: string, o: SplitOptions): SplitManifest {
  const n = o.shards;
  if (!(Number.isInteger(n) && n >= 1 && n <= MAX_SHARDS))
    throw new UsageError(
      `--shards ${n} is out of range`,
      `use 1..${MAX_SHARDS} (one shard per flow group at most)`,
    );
  checkFile(path);
  const core = createCore({ ...READ_CORE, flows: 0, flags: CFG_F_SYMMETRIC });
  const reader = new TraceReader(path, core); // a file that is no capture throws here, before any output
  const ng = reader.format.startsWith("pcapng");
  const format: WriteFormat = ng ? "pcapng" : reader.format.startsWith("pcap-ns") ? "pcap-ns" : "pcap";
  mkdirSync(o.outDir, { recursive: true });
  const names = Array.from({ length: n }, (_, i) => join(o.outDir, shardFileName(path, i, n, ng)));
  // Written under a temporary name, renamed when complete: a file named as a shard is a whole one.
  const tmp = names.map((f) => `${f}.part`);
  const writers = tmp.map(
    (f) =>
      new TraceWriter(f, { format, linktype: reader.linktypes[0] ?? 1, snaplen: reader.snaplen || 262144 }),
  );
  const mark = core.exports.shardMark;
  const u8 = core.u8;
  const u32 = core.u32;
  const f64 = core.f64;
  const descW = core.regions.desc.offset >>> 2;
  const progress = o.progress ? new Progress() : null;
  let records = 0;
  let notCopied = 0;
  let error: string | null = null;
  try {
    for (;;) {
      const count = reader.next();
      if (count === 0) break;
      for (let first = 0; first < count;) {
        const k = mark(first, count - first, n);
        if (k >>> 0 === 0xffffffff || k <= 0)
          throw new Error("split: the core's shardMark refused the batch");
        for (let j = 0; j < k; j++) {
          const d = descW + (first + j) * DESC_WORDS;
          const lt = u32[d + DESC_W_LINKTYPE];
          if ((lt >>> DESC_S_FLAGS) & ABI.DESC_F_NOT_PACKET) {
            notCopied++;
            continue;
          }
          writers[u8[SCRATCH_BASE + j]].write(
            u8,
            u32[d + DESC_W_OFF],
            u32[d + DESC_W_CAPLEN],
            f64[(d + DESC_W_SEC) >>> 1],
            u32[d + DESC_W_NSEC],
            u32[d + DESC_W_LEN],
            lt & 0xffff,
          );
        }
        first += k;
      }
      records += count;
      progress?.tick(records, 0, 1, reader.offset, reader.fileSize);
    }
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    error = e.message;
  } finally {
    reader.close();
    for (const w of writers) w.close();
    progress?.done();
  }
  tmp.forEach((f, i) => renameSync(f, names[i]));
  const src = captureId(path);
  const manifest: SplitManifest = {
    schema: SPLIT_SCHEMA,
    source: { file: path, format: reader.format, linktypes: reader.linktypes, records, ...src },
    shards: n,
    files: names.map((f, i) => ({ index: i, file: f, records: writers[i].records, ...captureId(f) })),
    not_copied: notCopied,
    error,
  };
  writeFileSync(manifestPath(path, o.outDir), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

export function manifestPath(input: string, outDir: string): string {
  return join(outDir, `${basename(input).replace(/\.(pcapng|pcap|cap)$/i, "")}.split.json`);
}

export function formatSplit(m: SplitManifest, manifest: string): string {
  const lines = [
    `${m.source.file} (${m.source.format}): ${m.source.records.toLocaleString("en-US")} records into ${m.shards} shards`,
    ...m.files.map((f) => `  ${f.index}  ${f.file}  ${f.records.toLocaleString("en-US")} records`),
  ];
  if (m.not_copied)
    lines.push(`  ${m.not_copied} records that are not packets (pcapng custom blocks) not copied`);
  lines.push(`manifest ${manifest}`);
  return lines.join("\n") + "\n";
}
