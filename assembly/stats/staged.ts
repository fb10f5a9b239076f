// Replay raw and track as stage-wise passes over a batch, with the clock read
// between passes (stats/stages.ts): the run-to-completion path interleaves
// parse, lookup and tracking per packet, so a per-packet clock would be needed
// to split it; passes over the batch give each stage its own span instead.
// Same results as replay/raw.ts and replay/track.ts (same verdicts, counters,
// flow table; test/report/stages.test.ts compares them). The un-timed
// functions stay the measured path of the cost ladder.
import { DESC_BYTES, DESC_CAPLEN } from "../mem/desc";
import { R_DESC, regionOffset } from "../mem/layout";
import { C_RP_DROP_FLOW_TABLE_FULL } from "../mem/counters";

import { rpBatchEnd, rpEnd, rpFlags, rpHash, rpL3, rpL4, rpParseDesc, rpProto, rpRestore, rpVerdict } from "../replay/common";
import { tlDir, tlFresh, trackLookup, trackTcp } from "../replay/track";
import { S_DISPATCH, S_LOOKUP, S_PARSE, S_TCP, stageBegin, stageEnd, stageMark } from "./stages";

const CHUNK: u32 = 4096; // descriptors per pass (the reader's batch)
// Per-packet results carried between passes (structure of arrays).
const sWhy = memory.data(<i32>CHUNK * 4, 16); //   i32: 0 processed, > 0 drop reason, -1 other IP (track)
const sHash = memory.data(<i32>CHUNK * 4, 16);
const sFlags = memory.data(<i32>CHUNK * 4, 16); // rpFlags | rpProto << 8
const sL3 = memory.data(<i32>CHUNK * 4, 16);
const sL4 = memory.data(<i32>CHUNK * 4, 16);
const sEnd = memory.data(<i32>CHUNK * 4, 16);
const sEntry = memory.data(<i32>CHUNK * 4, 16); // flow entry | dir << 30 | fresh << 31 (track)

@inline function at(a: usize, j: u32): usize {
  return a + (<usize>j << 2);
}

/** Parse pass over descriptors first..first+count-1 (count <= CHUNK); returns input bytes. */
function parsePass(first: u32, count: u32, loop: u32): u64 {
  let d = regionOffset(R_DESC) + <usize>first * DESC_BYTES;
  let bytes: u64 = 0;
  for (let j: u32 = 0; j < count; j++, d += DESC_BYTES) {
    const caplen = load<u32>(d, DESC_CAPLEN);
    bytes += caplen;
    const why = rpParseDesc(d, loop);
    store<i32>(at(sWhy, j), why);
    store<u32>(at(sHash, j), rpHash);
    store<u32>(at(sFlags, j), rpFlags | (rpProto << 8));
    store<u32>(at(sL3, j), <u32>rpL3);
    store<u32>(at(sL4, j), <u32>rpL4);
    store<u32>(at(sEnd, j), <u32>rpEnd);
  }
  return bytes;
}

@inline function restore(j: u32): void {
  const f = load<u32>(at(sFlags, j));
  rpRestore(load<u32>(at(sHash, j)), f & 0xff, f >> 8, <usize>load<u32>(at(sL3, j)), <usize>load<u32>(at(sL4, j)), <usize>load<u32>(at(sEnd, j)));
}

/** Dispatch pass: verdicts, RETA, per-worker counts, batch counters. Returns packets processed. */
function dispatchPass(first: u32, count: u32, bytes: u64): u32 {
  let d = regionOffset(R_DESC) + <usize>first * DESC_BYTES;
  let done: u32 = 0;
  let other: u64 = 0;
  for (let j: u32 = 0; j < count; j++, d += DESC_BYTES) {
    const why = load<i32>(at(sWhy, j));
    if (why < 0) other++;
    done += rpVerdict(first + j, why, load<u32>(at(sHash, j)), load<u32>(d, DESC_CAPLEN));
  }
  rpBatchEnd(count, bytes, done, other);
  return done;
}

/** replayRawBatch as timed passes: parse+hash, dispatch. */
export function replayRawBatchTimed(first: u32, count: u32, loop: u32): u32 {
  let done: u32 = 0;
  for (let off: u32 = 0; off < count; off += CHUNK) {
    const n = min<u32>(CHUNK, count - off);
    stageBegin();
    const bytes = parsePass(first + off, n, loop);
    stageMark(S_PARSE);
    done += dispatchPass(first + off, n, bytes);
    stageMark(S_DISPATCH);
    stageEnd(n);
  }
  return done;
}

/** replayTrackBatch as timed passes: parse+hash, flow lookup, TCP tracking, dispatch. */
export function replayTrackBatchTimed(first: u32, count: u32, loop: u32): u32 {
  let done: u32 = 0;
  for (let off: u32 = 0; off < count; off += CHUNK) {
    const n = min<u32>(CHUNK, count - off);
    stageBegin();
    const bytes = parsePass(first + off, n, loop);
    stageMark(S_PARSE);
    for (let j: u32 = 0; j < n; j++) {
      if (load<i32>(at(sWhy, j)) != 0) continue;
      restore(j);
      const e = trackLookup();
      if (e < 0) {
        store<i32>(at(sWhy, j), C_RP_DROP_FLOW_TABLE_FULL);
        continue;
      }
      store<u32>(at(sEntry, j), <u32>e | (tlDir << 30) | ((tlFresh ? 1 : 0) << 31));
    }
    stageMark(S_LOOKUP);
    for (let j: u32 = 0; j < n; j++) {
      if (load<i32>(at(sWhy, j)) != 0) continue;
      restore(j);
      const v = load<u32>(at(sEntry, j));
      store<i32>(at(sWhy, j), trackTcp(<i32>(v & 0x3fffffff), (v >> 30) & 1, (v >> 31) != 0));
    }
    stageMark(S_TCP);
    done += dispatchPass(first + off, n, bytes);
    stageMark(S_DISPATCH);
    stageEnd(n);
  }
  return done;
}

/**
 * Cost-ladder rung between raw and track: parse+hash, flow lookup/insert,
 * dispatch, per packet run to completion like the other modes, no TCP
 * tracking and no timers (needs track's configuration: flow table, records).
 */
export function replayLookupBatch(first: u32, count: u32, loop: u32): u32 {
  let d = regionOffset(R_DESC) + <usize>first * DESC_BYTES;
  let done: u32 = 0;
  let bytes: u64 = 0;
  for (let i = first; i < first + count; i++, d += DESC_BYTES) {
    const caplen = load<u32>(d, DESC_CAPLEN);
    bytes += caplen;
    let why = rpParseDesc(d, loop);
    if (why == 0 && trackLookup() < 0) why = C_RP_DROP_FLOW_TABLE_FULL;
    done += rpVerdict(i, why, rpHash, caplen);
  }
  rpBatchEnd(count, bytes, done, 0);
  return done;
}
