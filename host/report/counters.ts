// Names of the core's counters (mirror of assembly/mem/counters.ts, same order).
import { COUNTER_BASE, type Core } from "../core.ts";

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
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

/** Reads every counter (u64 slots; exact below 2^53). */
export function readCounters(core: Core): Counters {
  const out = {} as Counters;
  const base = COUNTER_BASE >>> 2;
  COUNTER_NAMES.forEach((name, i) => {
    out[name] = core.u32[base + 2 * i] + core.u32[base + 2 * i + 1] * 4294967296;
  });
  return out;
}
