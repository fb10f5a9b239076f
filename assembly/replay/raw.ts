// Replay raw mode: parse, hash, dispatch, count. The floor of the cost ladder:
// what every other mode pays before flow lookup (track) or the stack (serve).
// "Dispatch" here assigns each packet to its worker through the RETA and counts
// it there; with one thread the workers are logical (see host/commands/replay.ts).
import { DESC_BYTES, DESC_CAPLEN, DESC_FLAGS, DESC_F_NOT_PACKET, DESC_LINKTYPE, DESC_OFF } from "../mem/desc";
import { R_DESC, regionOffset } from "../mem/layout";
import { C_RP_DROP_NOT_PACKET, C_RP_PROCESSED, C_RX_BYTES, C_RX_FRAMES, bump } from "../mem/counters";
import { retaLookup } from "../flow/reta";
import { countWorker, rpHash, rpParse, verdictAt } from "./common";

// Drop counts of one batch, by counter number (C_RP_DROP_* are 69..77), bumped once per batch.
const dropBatch = memory.data(16 * 8, 16);

@inline export function dropNote(reason: i32): void {
  const p = dropBatch + (<usize>(reason - C_RP_DROP_NOT_PACKET) << 3);
  store<u64>(p, load<u64>(p) + 1);
}

export function dropFlush(): void {
  for (let r = 0; r < 9; r++) {
    const p = dropBatch + (<usize>r << 3);
    const v = load<u64>(p);
    if (v != 0) {
      bump(C_RP_DROP_NOT_PACKET + r, v);
      store<u64>(p, 0);
    }
  }
}

/**
 * Raw mode over descriptors first..first+count-1 of R_DESC (loop: the --loop
 * pass, 0 for the first). Writes each one's verdict (common.ts) and returns
 * the number processed.
 */
export function replayRawBatch(first: u32, count: u32, loop: u32): u32 {
  let d = regionOffset(R_DESC) + <usize>first * DESC_BYTES;
  let done: u32 = 0;
  let bytes: u64 = 0;
  for (let i = first; i < first + count; i++, d += DESC_BYTES) {
    const caplen = load<u32>(d, DESC_CAPLEN);
    bytes += caplen;
    let why: i32 = C_RP_DROP_NOT_PACKET;
    if ((load<u16>(d, DESC_FLAGS) & DESC_F_NOT_PACKET) == 0)
      why = rpParse(<usize>load<u32>(d, DESC_OFF), caplen, <u32>load<u16>(d, DESC_LINKTYPE), loop);
    if (why != 0) {
      dropNote(why);
      store<u32>(verdictAt(i), <u32>why << 16);
      continue;
    }
    const w = retaLookup(rpHash);
    countWorker(w, caplen);
    store<u32>(verdictAt(i), w);
    done++;
  }
  bump(C_RX_FRAMES, count);
  bump(C_RX_BYTES, bytes);
  bump(C_RP_PROCESSED, done);
  dropFlush();
  return done;
}
