// The TCB's layout and the TCP states, part of the ABI table (abi/table.ts says how
// the generator uses it) in a file of their own so that each stays short. The TCB
// (assembly/net/tcp/tcb.ts) is one fixed record per connection in region R_TCB.
import type { Code } from "./table.ts";

// The layout is the core's own, but the tests read TCB fields through tcpTestTcb (the
// test core) and must not write its offsets again. Little-endian; sequence numbers in
// host order; a 16-byte address in wire order (IPv4 in the first 4 bytes).
export const TCB_BYTES = 256;
/** A TCB field; `union` marks a field that shares its bytes with the one before at that offset. */
export interface TcbField {
  name: string;
  offset: number;
  size: 1 | 2 | 4 | 6 | 8 | 16;
  union?: boolean;
  doc: string;
}
export const TCB_FIELDS: TcbField[] = [
  { name: "TCB_STATE", offset: 0, size: 1, doc: "ST_* (state.ts)" },
  { name: "TCB_FAMILY", offset: 1, size: 1, doc: "4 | 6" },
  { name: "TCB_TMR_KIND", offset: 2, size: 1, doc: "TK_* of the one per-TCB timer" },
  { name: "TCB_RETRIES", offset: 3, size: 1, doc: "consecutive RTO expirations / zero-window probes" },
  { name: "TCB_FLAGS", offset: 4, size: 4, doc: "TF_*" },
  { name: "TCB_GEN", offset: 8, size: 4, doc: "generation (handle bits 24..31 are its low byte)" },
  { name: "TCB_COOKIE", offset: 12, size: 4, doc: "the app's word for this connection" },
  { name: "TCB_LPORT", offset: 16, size: 2, doc: "local port (number)" },
  { name: "TCB_RPORT", offset: 18, size: 2, doc: "remote port" },
  { name: "TCB_FLOW", offset: 20, size: 4, doc: "flow-table entry of the arrival-direction key" },
  { name: "TCB_HASH", offset: 24, size: 4, doc: "Toeplitz hash of that key" },
  { name: "TCB_SND_WSCALE", offset: 28, size: 1, doc: "shift applied to SEG.WND (peer's window scale)" },
  { name: "TCB_RCV_WSCALE", offset: 29, size: 1, doc: "shift we apply to our window" },
  { name: "TCB_DUPACKS", offset: 30, size: 1, doc: "duplicate ACK count (RFC 5681 §3.2)" },
  { name: "TCB_OOO_COUNT", offset: 31, size: 1, doc: "segments in the out-of-order queue" },
  { name: "TCB_LADDR", offset: 32, size: 16, doc: "local address (wire order)" },
  { name: "TCB_RADDR", offset: 48, size: 16, doc: "remote address" },
  {
    name: "TCB_LMAC",
    offset: 64,
    size: 6,
    doc: "our MAC as the peer addressed it (replies go back the way they came)",
  },
  { name: "TCB_RMAC", offset: 70, size: 6, doc: "peer MAC" },
  { name: "TCB_LINK", offset: 76, size: 4, doc: "free list / flush list next (slot+1, 0 = end)" },
  { name: "TCB_ISS", offset: 80, size: 4, doc: "initial send sequence number" },
  { name: "TCB_SND_UNA", offset: 84, size: 4, doc: "SND.UNA, oldest unacknowledged sequence number" },
  {
    name: "TCB_SND_NXT",
    offset: 88,
    size: 4,
    doc: "next sequence to send (pulled back to sndUna by an RTO)",
  },
  {
    name: "TCB_SND_MAX",
    offset: 92,
    size: 4,
    doc: "highest sequence sent + 1 (RFC 9293 SND.NXT for ACK checks)",
  },
  { name: "TCB_SND_WND", offset: 96, size: 4, doc: "peer window in bytes (scaled)" },
  {
    name: "TCB_SND_WL1",
    offset: 100,
    size: 4,
    doc: "SND.WL1, segment sequence number of the last window update",
  },
  {
    name: "TCB_SND_WL2",
    offset: 104,
    size: 4,
    doc: "SND.WL2, segment acknowledgment number of the last window update",
  },
  { name: "TCB_MAX_SND_WND", offset: 108, size: 4, doc: "largest window seen (RFC 5961 §5.2 MAX.SND.WND)" },
  { name: "TCB_SQ_HEAD", offset: 112, size: 4, doc: "send queue: first span index (NONE = empty)" },
  { name: "TCB_SQ_TAIL", offset: 116, size: 4, doc: "send queue: last span index" },
  { name: "TCB_SQ_HEAD_OFF", offset: 120, size: 4, doc: "bytes of the head span already acknowledged" },
  { name: "TCB_SQ_LEN", offset: 124, size: 4, doc: "data bytes queued from sndUna (unacked + unsent)" },
  { name: "TCB_IRS", offset: 128, size: 4, doc: "IRS, initial receive sequence number" },
  { name: "TCB_RCV_NXT", offset: 132, size: 4, doc: "RCV.NXT" },
  {
    name: "TCB_RCV_ADV",
    offset: 136,
    size: 4,
    doc: "right edge of the window we advertised (never moves left)",
  },
  {
    name: "TCB_RCV_HELD",
    offset: 140,
    size: 4,
    doc: "bytes given to the app in RECV events and not yet RECV_DONE",
  },
  { name: "TCB_RQ_HEAD", offset: 144, size: 4, doc: "mbufs holding those bytes (MB_LINK chain)" },
  { name: "TCB_RQ_TAIL", offset: 148, size: 4, doc: "last mbuf of the receive queue" },
  { name: "TCB_OOO_HEAD", offset: 152, size: 4, doc: "out-of-order mbufs, ascending MB_SEQ (MB_LINK chain)" },
  {
    name: "TCB_MSS",
    offset: 156,
    size: 2,
    doc: "effective send MSS, payload bytes per segment (options deducted)",
  },
  {
    name: "TCB_SEGS_UNACKED",
    offset: 158,
    size: 1,
    doc: "in-order segments since our last ACK (delayed ACK, every 2nd)",
  },
  {
    name: "TCB_SACK_BOARD",
    offset: 159,
    size: 1,
    doc: "index + 1 of its SACK scoreboard (sack.ts), 0 = none",
  },
  { name: "TCB_CWND", offset: 160, size: 4, doc: "congestion window, bytes (RFC 5681)" },
  { name: "TCB_SSTHRESH", offset: 164, size: 4, doc: "slow-start threshold, bytes (RFC 5681)" },
  { name: "TCB_RECOVER", offset: 168, size: 4, doc: "newReno (RFC 6582)" },
  {
    name: "TCB_CA_ACKED",
    offset: 172,
    size: 4,
    doc: "bytes acked in congestion avoidance (RFC 5681 byte counting)",
  },
  { name: "TCB_SRTT", offset: 176, size: 4, doc: "µs (RFC 6298)" },
  { name: "TCB_RTTVAR", offset: 180, size: 4, doc: "µs" },
  { name: "TCB_RTO", offset: 184, size: 4, doc: "µs, backed off" },
  { name: "TCB_RTT_SEQ", offset: 188, size: 4, doc: "sequence whose ACK ends the RTT sample" },
  { name: "TCB_RTT_START", offset: 192, size: 4, doc: "low 32 bits of the clock (µs) when it was sent" },
  { name: "TCB_TS_RECENT", offset: 196, size: 4, doc: "RFC 7323 §4.3" },
  { name: "TCB_TS_RECENT_AGE", offset: 200, size: 4, doc: "seconds" },
  {
    name: "TCB_TS_OFF",
    offset: 204,
    size: 4,
    doc: "our TSval = now in ms + tsOff (random per connection, or the replay preset)",
  },
  {
    name: "TCB_LAST_ACK_SENT",
    offset: 208,
    size: 4,
    doc: "RCV.NXT in our last ACK (RFC 7323 Last.ACK.sent)",
  },
  { name: "TCB_LAST_SENT_EV", offset: 212, size: 4, doc: "the EV_TCP_SENT descriptor to coalesce into" },
  { name: "TCB_CUR_SPAN", offset: 216, size: 4, doc: "send cursor span" },
  { name: "TCB_CUR_OFF", offset: 220, size: 4, doc: "send cursor offset in that span" },
  {
    name: "TCB_HO_NEXT",
    offset: 216,
    size: 4,
    union: true,
    doc: "half-open list next (SYN-RECEIVED only; shares the send cursor span: SYN-RECEIVED sends no data)",
  },
  {
    name: "TCB_HO_PREV",
    offset: 220,
    size: 4,
    union: true,
    doc: "half-open list prev (shares the send cursor offset)",
  },
  { name: "TCB_CUR_SEQ", offset: 224, size: 4, doc: "sequence number the send cursor stands at" },
  {
    name: "TCB_LAST_OOO_SEQ",
    offset: 228,
    size: 4,
    doc: "start of the most recent out-of-order segment (first SACK block)",
  },
  { name: "TCB_TMR_DEADLINE", offset: 232, size: 8, doc: "deadline of tmrKind, µs" },
  { name: "TCB_DELACK_AT", offset: 240, size: 8, doc: "delayed-ACK deadline, µs (0 = none)" },
  { name: "TCB_DIRTY_PREV", offset: 248, size: 4, doc: "flush list prev (slot+1); TCB_LINK is next" },
  { name: "TCB_ANN_MSS", offset: 252, size: 2, doc: "MSS we announce (config, or the replay preset)" },
  {
    name: "TCB_LAST_RX_S",
    offset: 254,
    size: 2,
    doc: "low 16 bits of the second the last acceptable segment arrived (idle limit)",
  },
];
/** TCP connection states (RFC 9293 §3.3.2), the u8 at TCB_STATE. LISTEN is not a TCB state here (listeners are a port bitmap, net/tcp/commands.ts). */
export const TCP_STATES: Code[] = [
  { name: "ST_CLOSED", value: 0, doc: "no connection (a free TCB, or a replay preset waiting for its SYN)" },
  { name: "ST_LISTEN", value: 1, doc: "never held by a TCB (listeners are a port bitmap)" },
  { name: "ST_SYN_SENT", value: 2, doc: "active open: SYN sent" },
  { name: "ST_SYN_RECEIVED", value: 3, doc: "passive open: SYN-ACK sent" },
  { name: "ST_ESTABLISHED", value: 4, doc: "data flows both ways" },
  { name: "ST_FIN_WAIT_1", value: 5, doc: "we closed: FIN sent, not acknowledged" },
  { name: "ST_FIN_WAIT_2", value: 6, doc: "our FIN acknowledged, waiting for the peer's" },
  { name: "ST_CLOSE_WAIT", value: 7, doc: "the peer closed; we may still send" },
  { name: "ST_CLOSING", value: 8, doc: "both closed at once, our FIN not acknowledged" },
  {
    name: "ST_LAST_ACK",
    value: 9,
    doc: "the peer closed first, then we did: waiting for the ACK of our FIN",
  },
  { name: "ST_TIME_WAIT", value: 10, doc: "2 MSL before the 4-tuple may be reused (RFC 9293 §3.6.1)" },
];
