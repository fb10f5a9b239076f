// TCP connection states (RFC 9293 §3.3.2), TCB flag bits, timer kinds, the
// CFG_TCP_FLAGS switches and the protocol constants the engine uses. One file so
// every module (input, output, commands, timers) speaks the same names.

// ---- states: RFC 9293 names, from the ABI table (abi/tcb.ts); LISTEN is not a TCB
// state here (listeners are a port bitmap, see commands.ts), so a TCB is never in it.
export {
  ST_CLOSED,
  ST_LISTEN,
  ST_SYN_SENT,
  ST_SYN_RECEIVED,
  ST_ESTABLISHED,
  ST_FIN_WAIT_1,
  ST_FIN_WAIT_2,
  ST_CLOSE_WAIT,
  ST_CLOSING,
  ST_LAST_ACK,
  ST_TIME_WAIT,
} from "../../abi/tcb.gen";

// ---- CFG_TCP_FLAGS bits: numbers from the ABI table (abi/table.ts), the host sets them.
export { TCPF_TS, TCPF_WS, TCPF_SACK, TCPF_DELACK, TCPF_CHALLENGE, TCPF_TW_REUSE } from "../../mem/layout";

// ---- TCB flags (u32 at TCB_FLAGS) --------------------------------------------
export const TF_PASSIVE: u32 = 1 << 0; // opened from a listener
export const TF_APP: u32 = 1 << 1; // the app holds this handle (KNOCK delivered or CONNECT issued)
export const TF_ACCEPTED: u32 = 1 << 2; // ACCEPT ran (or active open): RECV events may flow
export const TF_ACK_NOW: u32 = 1 << 3; // an ACK must leave at the next flush
export const TF_DIRTY: u32 = 1 << 4; // on the flush list
export const TF_FIN_QUEUED: u32 = 1 << 5; // the app closed: FIN follows the queued data
export const TF_TS_OK: u32 = 1 << 6; // timestamps negotiated
export const TF_WS_OK: u32 = 1 << 7; // window scaling negotiated
export const TF_SACK_OK: u32 = 1 << 8; // SACK-permitted negotiated
export const TF_RECOVERY: u32 = 1 << 9; // NewReno fast recovery (RFC 6582)
export const TF_RTT_TIMING: u32 = 1 << 10; // a segment is being timed (RFC 6298 §3, Karn)
export const TF_NEED_NEIGH: u32 = 1 << 11; // the peer MAC is not known yet (active open)
export const TF_HALFOPEN: u32 = 1 << 12; // on the half-open (SYN-RECEIVED) list
export const TF_PRESET: u32 = 1 << 13; // a replay preset waiting for its SYN (state CLOSED)
export const TF_FIN_RCVD: u32 = 1 << 14; // the peer's FIN was taken in order
export const TF_APP_GONE: u32 = 1 << 15; // EV_TCP_DEAD delivered: the handle is dead for the app
export const TF_EOF_TOLD: u32 = 1 << 16; // the app got the end-of-stream RECV (len 0)
export const TF_SYN_ACKED: u32 = 1 << 17; // our SYN is acknowledged
export const TF_PRESET_TS: u32 = 1 << 18; // preset: offer timestamps (only with TF_PRESET)
export const TF_PRESET_SACK: u32 = 1 << 19; // preset: offer SACK-permitted
export const TF_PRESET_WS: u32 = 1 << 20; // preset: offer window scale
export const TF_RECORDS: u32 = 1 << 21; // the send queue has held a record end (SENDV_EOR): segments stop at them
export const TF_SACK_RECOVERY: u32 = 1 << 23; // the recovery (TF_RECOVERY) is SACK-based (RFC 6675, sack.ts), not NewReno
export const TF_SWS_OVERRIDE: u32 = 1 << 22; // the SWS override timer fired: send what the window takes (RFC 9293 §3.8.6.2.1)
export const TF_USED: u32 = 1 << 31; // the slot is allocated (cleared on release)

// ---- timer kinds of the one per-TCB timer (the delayed ACK rides along as a second deadline)
export const TK_NONE: u8 = 0;
export const TK_RTO: u8 = 1; // retransmission (SYN, SYN-ACK, data, FIN)
export const TK_PERSIST: u8 = 2; // zero-window probe (RFC 9293 §3.8.6.1)
export const TK_TIME_WAIT: u8 = 3; // 2·MSL (RFC 9293 §3.4.2)
export const TK_PRESET: u8 = 4; // a replay preset expires unused
export const TK_FIN_WAIT2: u8 = 5; // FIN-WAIT-2 limit (CFG_TCP_FIN_TIMEOUT_MS): the peer never sent its FIN

// ---- protocol constants -------------------------------------------------------
export const RTO_INITIAL_US: u32 = 1_000_000; // RFC 6298 (2.1)
export const RTO_MAX_US: u32 = 120_000_000; // RFC 6298 (2.5): at least 60 s; Linux TCP_RTO_MAX (SYN retries then last 127 s)
// Give-up limits: defaults of the CFG_TCP_*_RETRIES words (0 there = these).
export const RETRIES_DATA: u32 = 9; // RTO expirations before giving up (min RTO 200 ms: ~100 s, RFC 1122 4.2.3.5 R2)
export const RETRIES_SYN: u32 = 6; // SYN: 1+2+...+64 s = 127 s, Linux tcp_syn_retries (R2 for SYN asks >= 3 min; we take less)
export const RETRIES_SYNACK: u32 = 5; // passive half-open connections give up sooner (flood pressure), Linux tcp_synack_retries
// An active open whose neighbour is unknown holds its SYN (it is not sent, so
// not a retransmission: TCB_RETRIES counts these ticks and starts again from 0
// once the SYN leaves). Ticks every NEIGH_TICK_US for the first second (the
// answer usually comes at once; neigh-wait.ts sends at once on it), then every
// second (ARP asks at most once a second, RFC 1122 §2.3.2.1); the wait lasts as
// long as the SYN's own retries would, at most NEIGH_TICKS_MAX ticks (~200 s).
export const NEIGH_TICK_US: u32 = 20_000;
export const NEIGH_FAST_TICKS: u32 = 50; // 50 x 20 ms = RTO_INITIAL_US
export const NEIGH_TICKS_MAX: u32 = 255; // TCB_RETRIES is a byte
export const FIN_TIMEOUT_MS: u32 = 60_000; // FIN-WAIT-2 after our close (Linux tcp_fin_timeout)
export const IDLE_MAX_S: u32 = 65535; // the idle limit's ceiling: TCB_LAST_RX_S keeps 16 bits of seconds
export const PERSIST_MAX: u32 = 12; // zero-window probes without the window opening (issue 10: bounded)
export const OOO_MAX: u32 = 64; // out-of-order segments held per connection
export const CHALLENGE_PER_SEC: u32 = 1000; // RFC 5961 §7 rate limit, per core
export const DEFAULT_MSS_V4: u32 = 536; // RFC 9293 §3.7.1 when the peer sends no MSS option
export const DEFAULT_MSS_V6: u32 = 1220; // RFC 8200 §5: 1280 - 40 - 20
export const TS_OPT_BYTES: u32 = 12; // NOP NOP TS: what timestamps take from each segment
export const PAWS_IDLE_S: u32 = 24 * 86400; // RFC 7323 §5.5: TS.Recent older than 24 days is invalid
export const MAX_WSCALE: u32 = 14; // RFC 7323 §2.3

// Sequence-number comparisons modulo 2^32 (RFC 9293 §3.4).
@inline export function seqLT(a: u32, b: u32): bool {
  return <i32>(a - b) < 0;
}
@inline export function seqLE(a: u32, b: u32): bool {
  return <i32>(a - b) <= 0;
}
@inline export function seqGT(a: u32, b: u32): bool {
  return <i32>(a - b) > 0;
}
@inline export function seqGE(a: u32, b: u32): bool {
  return <i32>(a - b) >= 0;
}
