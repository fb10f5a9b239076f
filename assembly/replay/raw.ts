// Replay raw mode: parse, hash, dispatch, count. The floor of the cost ladder:
// what every other mode pays before flow lookup (track) or the stack (serve).
// "Dispatch" here assigns each packet to its worker through the RETA and counts
// it there; with one thread the workers are logical (see host/replay/replay.ts).
import { DESC_BYTES, DESC_CAPLEN } from "../mem/desc";
import { R_DESC, regionOffset } from "../mem/layout";
import { rpBatchEnd, rpHash, rpParseDesc, rpVerdict } from "./common";

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
    done += rpVerdict(i, rpParseDesc(d, loop), rpHash, caplen);
  }
  rpBatchEnd(count, bytes, done, 0);
  return done;
}
