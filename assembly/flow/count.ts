// Distinct TCP conversations for `inspect`, counted through the flow table.
// tshark's tcp.stream starts a new stream when a tuple is reused after the old
// connection ended; we do the same: a SYN without ACK on a tuple that has seen
// a FIN or RST starts a new conversation (counted again), unless it carries the
// same initial sequence number as the tuple's last SYN (a retransmitted SYN).
// The flow's value word keeps that ISN (bit 0 replaced by the "ended" mark).
import { SUM_TCP_IPVER, SUM_TCP_L3OFF, SUM_TCP_L4OFF } from "../wire/summary-layout";
import { be16 } from "../wire/bytes";
import { C_TCP_FLOWS, bump } from "../mem/counters";
import { flowKeyCanonical, flowKeyMix, flowKeySetV4, flowKeySetV6 } from "./key";
import { flowCount, flowInsert, flowValue } from "./table";

const key = memory.data(48, 16);
const ENDED: u32 = 1; // flow value bit: a FIN or RST was seen
const TCP_FIN: u32 = 1;
const TCP_SYN: u32 = 2;
const TCP_RST: u32 = 4;
const TCP_ACK: u32 = 16;

// The table's hash is flowKeyMix (key.ts), not the RSS hash: nothing here
// steers packets, and the Toeplitz lookups cost more: 824.7 → 787.4 instructions
// per packet on a capture of 200 k conversations (docs/measurement/performance-log.md §7).
//
// Consecutive packets mostly belong to one conversation: the last IPv4 tuple
// seen (addresses and ports as on the wire, either direction) and its entry skip
// the key, hash and probe. Measured: inspect 115 → 105 ns per packet on HTTP.
let lastAddrs: u64 = 0;
let lastPorts: u32 = 0;
let lastEntry: i32 = -1;

export function countTcpFlowsReset(): void {
  lastEntry = -1;
}

/** Counts the TCP conversation of the frame whose decode summary is `sum`. */
export function countTcpFlow(frame: usize, sum: usize): void {
  const ver = <u32>load<u8>(sum + SUM_TCP_IPVER);
  if (ver == 0) return;
  const l3 = frame + <usize>load<u16>(sum + SUM_TCP_L3OFF);
  const l4 = frame + <usize>load<u16>(sum + SUM_TCP_L4OFF);
  let e: i32 = -1;
  let fresh = false;
  if (ver == 4) {
    const addrs = load<u64>(l3 + 12);
    const ports = load<u32>(l4);
    const swapped = (addrs >> 32) | (addrs << 32);
    const swappedPorts = (ports >> 16) | (ports << 16);
    if (lastEntry >= 0 && ((addrs == lastAddrs && ports == lastPorts) || (swapped == lastAddrs && swappedPorts == lastPorts)))
      e = lastEntry;
    else {
      flowKeySetV4(key, 6, l3 + 12, l3 + 16, be16(l4), be16(l4 + 2));
      flowKeyCanonical(key);
      const before = flowCount();
      e = flowInsert(key, flowKeyMix(key));
      fresh = flowCount() != before;
      lastAddrs = addrs;
      lastPorts = ports;
      lastEntry = e;
    }
  } else {
    flowKeySetV6(key, 6, l3 + 8, l3 + 24, be16(l4), be16(l4 + 2));
    flowKeyCanonical(key);
    const before = flowCount();
    e = flowInsert(key, flowKeyMix(key));
    fresh = flowCount() != before;
  }
  if (e < 0) return; // table full: counted as C_FLOW_TABLE_FULL by the table
  const flags = <u32>load<u8>(l4 + 13);
  const v = flowValue(e);
  const isSyn = (flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
  const isn = load<u32>(l4 + 4) & ~ENDED; // raw bytes: only compared for equality
  if (fresh) {
    bump(C_TCP_FLOWS);
    store<u32>(v, isSyn ? isn : 0);
  } else if (isSyn && (load<u32>(v) & ENDED) != 0 && (load<u32>(v) & ~ENDED) != isn) {
    bump(C_TCP_FLOWS);
    store<u32>(v, isn);
  }
  if ((flags & (TCP_FIN | TCP_RST)) != 0) store<u32>(v, load<u32>(v) | ENDED);
}
