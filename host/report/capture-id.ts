// A capture's identity in reports (`ixwasm report merge` checks that shards'
// reports are of one capture): its size and the SHA-256 of its first MiB. Hashing
// the whole file would cost a full read per shard, as much as an in-place shard's
// replay reads; the head holds the file header and the first thousands of
// records, and with the size it tells apart any two captures one would mix up in
// practice (two cuts of one recording differ in size; two recordings in their
// first packets' times).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { createHash } from "node:crypto";
import type { CaptureId } from "./replay.ts";

export const HEAD_BYTES = 1 << 20;

export function captureId(path: string): CaptureId {
  const fd = openSync(path, "r");
  try {
    const bytes = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(HEAD_BYTES, bytes));
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n <= 0) break;
      got += n;
    }
    const head_sha256 = createHash("sha256").update(buf.subarray(0, got)).digest("hex");
    return { bytes, head_bytes: got, head_sha256 };
  } finally {
    closeSync(fd);
  }
}
