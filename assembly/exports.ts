// The core's exports besides poll/init/abiCheck (core.ts): what the host and the
// tests call, grouped by layer. Paths are relative to assembly/. The test hooks
// are not here: the test core (test-core.ts) adds them to these.
export { plan } from "./mem/plan";
export { arpAnnounce, neighResolve } from "./net/neigh";
export { udpListen } from "./net/udp";
export { txOutstanding } from "./net/netif";
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
export { shardKeep, shardMark } from "./flow/shard";
export { flowKeyCanonical, flowKeyCanonicalSwap, flowKeyReverse, flowKeyHash, flowKeyMix } from "./flow/key";
export {
  flowFind, flowInsert, flowDelete, flowCount, flowCapacity, flowValue, flowKeyAt, flowSlots,
  flowProbeLength,
} from "./flow/table";
export { decodeBatch, inspectBatch, wireDecodeFrame, inspectSummaryPtr } from "./wire/decode";
export { inetChecksum, inetChecksumScalar, inetChecksumSimd, l4Checksum, l4ChecksumFill, l4ChecksumOk } from "./wire/checksum";
export { ethParse, ethEmit, ethBufferLen } from "./wire/ethernet";
export { arpParse, arpEmit } from "./wire/arp";
export { ipv4Parse, ipv4Emit, ipv4BufferLen } from "./wire/ipv4";
export { ipv6Parse, ipv6Emit } from "./wire/ipv6";
export { icmpParse, icmpEmit, icmpChecksumFill } from "./wire/icmp";
export { udpParse, udpEmit } from "./wire/udp";
export { tcpParse, tcpEmit, tcpBufferLen, tcpOptionsParse } from "./wire/tcp";
export { appInit, appDispatch, appSelected, appListenPort, appRegionBytes } from "./apps/registry";
export { appWakeUp } from "./net/stack";
export { extControl, extFault, extRestart } from "./apps/external";
export { tcbTableCheck } from "./net/tcp/audit";
export { echoStat, echoConns } from "./apps/echo";
export { sinkStat } from "./apps/sink";
export { netpipeStat } from "./apps/netpipe";
export { sockperfStat } from "./apps/sockperf";
export { rsStat, rsConns } from "./apps/reply-server";
export { mcConnSlots, mcConnPtr, mcItems, mcCasId, mcErrors, mcRsState } from "./apps/memcached";
export { framePcap, pcapFramedEnd } from "./wire/pcap";
export { replayRawBatch } from "./replay/raw";
export { replayTrackBatch, trackStates, trackBytes } from "./replay/track";
export { replayReset, replayWorkerCounts } from "./replay/common";
export { replayDispatchBatch, replayGatherBatch } from "./replay/dispatch";
export { tcpListen, tcpUnlisten, tcpTcbBytes } from "./net/tcp/engine";
export { tcpInit, tcpTimers, tcpFlush, tcpTimerNext } from "./net/tcp/driver";
export { tcpInput } from "./net/tcp/input";
export { tcpCommand, tcpPreset, timerCommand } from "./net/tcp/commands";
export { timerNext, timerSetApp } from "./net/timer";
export {
  clientRoundTrips, clientBytesVerified, clientErrors, clientConnectsFailed, clientLatencySumUs, clientHistPtr,
  clientHistBuckets, clientDone, clientConnState, clientConnSeq, clientDiedEarly, clientConnsReset,
  clientConnsTimedOut, clientResponsesDiffered, clientOtherErrors, clientFirstDiffPtr,
  clientConnsClosed, histBucket, histBucketLow,
} from "./apps/client";
// Stage timing and its staged replay passes (assembly/stats).
export { stageTimingSet, stageReset, stageAccPtr, calibrateLoop } from "./stats/stages";
export { replayRawBatchTimed, replayTrackBatchTimed, replayLookupBatch } from "./stats/staged";
export { migrateExport, migrateImport, migrateGroupFlows, migrateStat } from "./net/tcp/migrate";
export { kChecksum, kChecksumSimd, kChecksumBuf, kToeplitz, kParse, kFlowFill, kFlowLookup } from "./stats/kernels";
export { serveCopies, serveHash, serveWake } from "./replay/serve";
