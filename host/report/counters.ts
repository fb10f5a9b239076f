// Names of the core's counters (mirror of assembly/mem/counters.ts, same order).
import { COUNTER_BASE, HIST_BASE, type CoreViews } from "../core.ts";

export const COUNTER_NAMES = [
  "rx_frames",
  "rx_bytes",
  "tx_frames",
  "tx_bytes",
  "ipv4",
  "ipv6",
  "tcp",
  "udp",
  "tcp_flows",
  "unknown_link",
  "truncated",
  "non_ip",
  "mbuf_exhausted",
  "flow_table_full",
  "ring_full",
  "mbuf_double_free",
  "not_packet",
  "fragments",
  "bad_checksum",
  "mbuf_bad_handle",
  "rx_drop_nombuf",
  "runt",
  "not_for_us",
  "ip_bad_header",
  "ip_bad_csum",
  "l4_bad_csum",
  "proto_unhandled",
  "arp_in",
  "arp_replies",
  "icmp_echo",
  "nd_in",
  "neigh_miss",
  "udp_no_app",
  "l4_truncated",
  "tcp_segs_in",
  "tcp_segs_out",
  "tcp_bad_csum",
  "tcp_malformed",
  "tcp_no_listener",
  "tcp_rst_sent",
  "tcp_rst_rcvd",
  "tcp_out_of_window",
  "tcp_paws_drop",
  "tcp_challenge_ack",
  "tcp_challenge_limited",
  "tcp_bad_ack",
  "tcp_ack_too_new",
  "tcp_retransmits",
  "tcp_fast_retransmits",
  "tcp_rto_timeouts",
  "tcp_dup_acks",
  "tcp_ooo_segs",
  "tcp_ooo_drops",
  "tcp_dup_segs",
  "tcp_tcb_full",
  "tcp_halfopen_evict",
  "tcp_syn_dup",
  "tcp_persist_probes",
  "tcp_conn_timeout",
  "tcp_passive_opens",
  "tcp_active_opens",
  "tcp_delack_sent",
  "tcp_tx_nombuf",
  "tcp_rcv_nospace",
  "tcp_timewait_reuse",
  "tcp_preset_used",
  "tcp_syn_bad",
  "tcp_span_exhausted",
  "rp_processed",
  "rp_drop_not_packet",
  "rp_drop_unknown_link",
  "rp_drop_non_ip",
  "rp_drop_ip_truncated",
  "rp_drop_flow_table_full",
  "rp_drop_tcp_malformed",
  "rp_drop_tcp_bad_flags",
  "rp_tcp_out_of_window",
  "rp_drop_tcp_rst_invalid",
  "rp_flows",
  "rp_flows_tcp",
  "rp_flows_midstream",
  "rp_tcp_handshakes",
  "rp_tcp_retransmissions",
  "rp_tcp_out_of_order",
  "rp_tcp_seq_gaps",
  "rp_tcp_ack_unseen",
  "rp_tcp_dup_acks",
  "rp_tcp_zero_window",
  "rp_tcp_keepalives",
  "rp_tcp_rsts",
  "rp_tcp_fins",
  "rp_tcp_closed",
  "rp_tcp_syn_retrans",
  "rp_tcp_reused",
  "rp_other_ip",
  "tcp_rcv_nombuf",
  "tcp_sack_recoveries",
  "tcp_sack_retransmits",
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

/** Reads every counter (u64 slots; exact below 2^53). */
export function readCounters(core: CoreViews): Counters {
  const out = {} as Counters;
  const base = COUNTER_BASE >>> 2;
  COUNTER_NAMES.forEach((name, i) => {
    out[name] = core.u32[base + 2 * i] + core.u32[base + 2 * i + 1] * 4294967296;
  });
  return out;
}

/** The core's batch-size histogram: how many polls took 0, 1, ..., 64 frames. */
export function readBatchHistogram(core: CoreViews): number[] {
  const out: number[] = [];
  const base = HIST_BASE >>> 2;
  for (let i = 0; i <= 64; i++) out.push(core.u32[base + 2 * i] + core.u32[base + 2 * i + 1] * 4294967296);
  return out;
}
