// Retransmission timer (RFC 6298) and congestion control: slow start and
// congestion avoidance (RFC 5681 §3.1), fast retransmit / NewReno fast recovery
// (RFC 5681 §3.2, RFC 6582). The ACK ladder (input.ts) calls these at the points
// the RFCs name; the state lives in the TCB.
import { CFG_RTO_MIN_US, cfg } from "../../mem/layout";
import {
  TCB_CA_ACKED, TCB_CWND, TCB_MSS, TCB_RECOVER, TCB_RTO, TCB_RTTVAR, TCB_SND_MAX, TCB_SND_UNA, TCB_SRTT,
  TCB_SSTHRESH, TCB_FLAGS,
} from "./tcb";
import { RTO_INITIAL_US, RTO_MAX_US, TF_RECOVERY } from "./state";

@inline export function mssOf(t: usize): u32 {
  return <u32>load<u16>(t, TCB_MSS);
}

@inline function rtoMin(): u32 {
  const m = cfg(CFG_RTO_MIN_US);
  return m == 0 ? 200_000 : m;
}

/** Fresh connection: RTO 1 s until the first sample (RFC 6298 (2.1)). */
export function rttInit(t: usize): void {
  store<u32>(t, 0, TCB_SRTT);
  store<u32>(t, 0, TCB_RTTVAR);
  store<u32>(t, max<u32>(RTO_INITIAL_US, rtoMin()), TCB_RTO);
}

/** One RTT measurement r (µs): RFC 6298 (2.2)/(2.3), K = 4, clock granularity 128 µs (the timer tick). */
export function rttSample(t: usize, r: u32): void {
  if (r == 0) r = 1;
  let srtt = load<u32>(t, TCB_SRTT);
  let rttvar: u32;
  if (srtt == 0) {
    srtt = r;
    rttvar = r >> 1;
  } else {
    rttvar = load<u32>(t, TCB_RTTVAR);
    const d = srtt > r ? srtt - r : r - srtt;
    rttvar = rttvar - (rttvar >> 2) + (d >> 2); // (1 - 1/4) RTTVAR + 1/4 |SRTT - R'|
    srtt = srtt - (srtt >> 3) + (r >> 3); // (1 - 1/8) SRTT + 1/8 R'
  }
  store<u32>(t, srtt, TCB_SRTT);
  store<u32>(t, rttvar, TCB_RTTVAR);
  let rto = <u64>srtt + max<u64>(128, <u64>rttvar << 2);
  if (rto < <u64>rtoMin()) rto = <u64>rtoMin(); // (2.4)
  if (rto > <u64>RTO_MAX_US) rto = <u64>RTO_MAX_US; // (2.5)
  store<u32>(t, <u32>rto, TCB_RTO);
}

/** RFC 6298 (5.5): back the timer off, bounded by the maximum. */
export function rtoBackoff(t: usize): void {
  const r = <u64>load<u32>(t, TCB_RTO) << 1;
  store<u32>(t, r > <u64>RTO_MAX_US ? RTO_MAX_US : <u32>r, TCB_RTO);
}

/** Initial window, RFC 5681 §3.1 (eq. 1 as in RFC 3390). */
export function cwndInit(t: usize): void {
  const mss = mssOf(t);
  const iw = mss > 2190 ? 2 * mss : mss > 1095 ? 3 * mss : 4 * mss;
  store<u32>(t, iw, TCB_CWND);
  store<u32>(t, 0x7fffffff, TCB_SSTHRESH); // "arbitrarily high" (§3.1)
  store<u32>(t, 0, TCB_CA_ACKED);
}

@inline function flight(t: usize): u32 {
  return load<u32>(t, TCB_SND_MAX) - load<u32>(t, TCB_SND_UNA);
}

/** New data acknowledged outside recovery (RFC 5681 §3.1). acked: bytes newly covered. */
export function ccOnAck(t: usize, acked: u32): void {
  const mss = mssOf(t);
  let cwnd = load<u32>(t, TCB_CWND);
  const ssthresh = load<u32>(t, TCB_SSTHRESH);
  if (cwnd < ssthresh) {
    // Slow start with byte counting, L = 2·SMSS (RFC 3465 §2.2): our ACKs are
    // coalesced per batch, so one ACK often covers several segments.
    cwnd += min<u32>(acked, 2 * mss);
  } else {
    // Congestion avoidance: one SMSS per cwnd of acknowledged bytes (RFC 5681 eq. 3 note).
    let ca = load<u32>(t, TCB_CA_ACKED) + acked;
    if (ca >= cwnd) {
      ca -= cwnd;
      cwnd += mss;
    }
    store<u32>(t, ca, TCB_CA_ACKED);
  }
  if (cwnd > 0x40000000) cwnd = 0x40000000;
  store<u32>(t, cwnd, TCB_CWND);
}

/** RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2·SMSS). */
export function ccHalve(t: usize): void {
  store<u32>(t, max<u32>(flight(t) >> 1, 2 * mssOf(t)), TCB_SSTHRESH);
}

/** Third duplicate ACK (RFC 6582 §3.2 step 2-3): enter fast recovery. */
export function ccEnterRecovery(t: usize): void {
  ccHalve(t);
  store<u32>(t, load<u32>(t, TCB_SND_MAX), TCB_RECOVER);
  store<u32>(t, load<u32>(t, TCB_SSTHRESH) + 3 * mssOf(t), TCB_CWND);
  store<u32>(t, load<u32>(t, TCB_FLAGS) | TF_RECOVERY, TCB_FLAGS);
}

/** Further duplicate ACK in recovery (step 4): inflate. */
export function ccDupAckInRecovery(t: usize): void {
  store<u32>(t, load<u32>(t, TCB_CWND) + mssOf(t), TCB_CWND);
}

/** Partial ACK in recovery (step 5): deflate by the amount acked, add back one SMSS if that was at least one. */
export function ccPartialAck(t: usize, acked: u32): void {
  const mss = mssOf(t);
  let cwnd = load<u32>(t, TCB_CWND);
  cwnd = cwnd > acked ? cwnd - acked : 0;
  if (acked >= mss) cwnd += mss;
  store<u32>(t, max<u32>(cwnd, mss), TCB_CWND);
}

/** Full ACK (step 5, option 1): cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS); leave recovery. */
export function ccFullAck(t: usize): void {
  const mss = mssOf(t);
  const fs = flight(t);
  store<u32>(t, min<u32>(load<u32>(t, TCB_SSTHRESH), max<u32>(fs, mss) + mss), TCB_CWND);
  store<u32>(t, load<u32>(t, TCB_FLAGS) & ~TF_RECOVERY, TCB_FLAGS);
  store<u32>(t, 0, TCB_CA_ACKED);
}

/** Retransmission timeout (RFC 5681 §3.1 eq. 4-5, RFC 6582 §4): loss window, recover = highest sent. */
export function ccOnTimeout(t: usize, first: bool): void {
  if (first) ccHalve(t); // later timeouts of the same data keep ssthresh
  store<u32>(t, mssOf(t), TCB_CWND);
  store<u32>(t, load<u32>(t, TCB_SND_MAX), TCB_RECOVER);
  store<u32>(t, load<u32>(t, TCB_FLAGS) & ~TF_RECOVERY, TCB_FLAGS);
  store<u32>(t, 0, TCB_CA_ACKED);
}
