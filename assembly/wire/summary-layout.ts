// Per-record decode result written by `decodeBatch` (wire/summary.ts) for `ixwasm
// dump` and read by host/io/decoded.ts. 64 bytes per record, little-endian.
//
//  off  size  field
//   0    2    SUM_F_* bits
//   2    1    IP version of the outermost IP header (0 none, 4, 6)
//   3    1    IP protocol / IPv6 next header after extension headers (valid if SUM_F_IP)
//   4    2    source port (valid if SUM_F_PORTS)
//   6    2    destination port
//   8    2    TCP flags, 12 bits (valid if SUM_F_TCP)
//  10    2    reserved
//  12    4    TCP sequence number
//  16    4    TCP acknowledgement number
//  20    4    transport payload length from the headers (valid if SUM_F_PAYLOAD)
//  24    2    byte offset of the outermost IP header in the frame
//  26    2    byte offset of the transport header in the frame
//  28    4    reserved
//  32   16    source address (IPv4: first 4 bytes)
//  48   16    destination address
export const SUM_BYTES: usize = 64;
export const SUM_FLAGS: usize = 0;
export const SUM_IPVER: usize = 2;
export const SUM_PROTO: usize = 3;
export const SUM_SPORT: usize = 4;
export const SUM_DPORT: usize = 6;
export const SUM_TCPFLAGS: usize = 8;
export const SUM_SEQ: usize = 12;
export const SUM_ACK: usize = 16;
export const SUM_PAYLOAD: usize = 20;
export const SUM_L3OFF: usize = 24;
export const SUM_L4OFF: usize = 26;
export const SUM_SRC: usize = 32;
export const SUM_DST: usize = 48;

export const SUM_F_IP: u16 = 1 << 0; // an IP header was found; src/dst/proto valid
export const SUM_F_PORTS: u16 = 1 << 1; // TCP or UDP ports valid
export const SUM_F_TCP: u16 = 1 << 2; // TCP header: flags/seq/ack valid
export const SUM_F_PAYLOAD: u16 = 1 << 3; // payload length valid
export const SUM_F_FRAG: u16 = 1 << 4; // IPv4/IPv6 fragment (transport absent unless first)
export const SUM_F_TRUNC: u16 = 1 << 5; // a header was cut short by the captured length
export const SUM_F_UNKNOWN_LINK: u16 = 1 << 6; // link type not decoded
export const SUM_F_UDP: u16 = 1 << 7; // UDP header
export const SUM_F_NOT_PACKET: u16 = 1 << 8; // descriptor flagged as a non-packet record
// Anywhere in the frame (through tunnels, ICMP errors): what tshark's display
// filters `ip`, `ipv6`, `tcp`, `udp` would match. Used by `inspect` counts.
export const SUM_F_ANY_V4: u16 = 1 << 9;
export const SUM_F_ANY_V6: u16 = 1 << 10;
export const SUM_F_ANY_TCP: u16 = 1 << 11;
export const SUM_F_ANY_UDP: u16 = 1 << 12;

// Flow hook (wire/decode.ts wireDecodeFrame): where the first TCP header of the
// frame sits, anywhere outside ICMP errors (may be inside a tunnel, unlike
// SUM_L3OFF/SUM_L4OFF which describe the outermost IP header). Valid when
// SUM_TCP_IPVER is 4 or 6; the flow layer reads the 4-tuple from the frame there.
export const SUM_TCP_IPVER: usize = 10; // u8 (in the reserved u16 at 10)
export const SUM_TCP_L3OFF: usize = 28; // u16
export const SUM_TCP_L4OFF: usize = 30; // u16
