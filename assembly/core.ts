// ixwasm core: the exported entry points of one WASM core instance.
export { plan } from "./mem/plan";
import { plan } from "./mem/plan";
import { ABI_VERSION, CFG_BASE, REGION_BASE, COUNTER_BASE, HIST_BASE, SCRATCH_BASE } from "./mem/layout";
import { CFG_RING_SLOTS, R_RX_RING, R_TX_RING, cfg, regionBytes, regionOffset } from "./mem/layout";
import { mbufPoolInit } from "./mem/mbuf";
import { ringInit } from "./mem/ring";
import { rssInit } from "./flow/toeplitz";
import { retaInit } from "./flow/reta";
import { flowTableInit } from "./flow/table";

// mem/ and flow/ (pools, rings, RSS, RETA, flow table): see each file's header.
export {
  mbufAlloc, mbufFree, mbufFreeChain, mbufAllocBatch, mbufFreeBatch, mbufFreeCount, mbufTotal,
  mbufPoolCheck, mbufAt, mbufIndex, mbufData, mbufBuf,
} from "./mem/mbuf";
export {
  ringInit, ringEnqueue, ringDequeue, ringPush, ringCount, ringSpace, ringSleepPrepare, ringAwake,
  ringLayout,
} from "./mem/ring";
export {
  rssKeyPtr, rssSetKey, toeplitzRef, toeplitz, rssHashV4At, rssHashV6At, rssBench,
} from "./flow/toeplitz";
export { retaSet, retaGet, retaLookup, retaPtr } from "./flow/reta";
export { hashBatch, hashBatchFrom } from "./flow/batch";
export { flowKeyCanonical, flowKeyCanonicalSwap, flowKeyReverse, flowKeyHash } from "./flow/key";
export {
  flowFind, flowInsert, flowDelete, flowCount, flowCapacity, flowValue, flowKeyAt, flowSlots,
  flowProbeLength,
} from "./flow/table";

/** Lays out the regions and initialises pools, rings and tables. Returns 0 on success. */
export function init(): i32 {
  if (plan() == 0) return -1;
  mbufPoolInit();
  if (regionBytes(R_RX_RING) != 0) ringInit(regionOffset(R_RX_RING), cfg(CFG_RING_SLOTS));
  if (regionBytes(R_TX_RING) != 0) ringInit(regionOffset(R_TX_RING), cfg(CFG_RING_SLOTS));
  rssInit();
  retaInit();
  flowTableInit();
  return 0;
}

/** ABI self-description, so host/core.ts can check its mirrored offsets. */
export function abiCheck(i: i32): u32 {
  switch (i) {
    case 0: return ABI_VERSION;
    case 1: return <u32>CFG_BASE;
    case 2: return <u32>REGION_BASE;
    case 3: return <u32>COUNTER_BASE;
    case 4: return <u32>HIST_BASE;
    case 5: return <u32>SCRATCH_BASE;
  }
  return 0xffffffff;
}
export { decodeBatch, inspectBatch, wireDecodeFrame, inspectSummaryPtr } from "./wire/decode";
export { inetChecksum, inetChecksumScalar, inetChecksumSimd, l4Checksum, l4ChecksumFill, l4ChecksumOk } from "./wire/checksum";
export { ethParse, ethEmit, ethBufferLen } from "./wire/ethernet";
export { arpParse, arpEmit } from "./wire/arp";
export { ipv4Parse, ipv4Emit, ipv4BufferLen } from "./wire/ipv4";
export { ipv6Parse, ipv6Emit } from "./wire/ipv6";
export { icmpParse, icmpEmit, icmpChecksumFill } from "./wire/icmp";
export { udpParse, udpEmit } from "./wire/udp";
export { tcpParse, tcpEmit, tcpBufferLen, tcpOptionsParse } from "./wire/tcp";
