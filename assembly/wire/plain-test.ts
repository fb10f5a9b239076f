// The stack's fixed-field emitters are @inline (one call per segment sent, on
// the fast path): these exported copies exist for test/wire/headers.test.ts.
import { ethEmitPlain } from "./ethernet";
import { ipv4EmitPlain } from "./ipv4";
import { ipv6EmitPlain } from "./ipv6";
import { tcpEmitPlain } from "./tcp";
export function ethEmitPlainTest(p: usize, dst: usize, src: usize, ethertype: u32): void {
  ethEmitPlain(p, dst, src, ethertype);
}
export function ipv4EmitPlainTest(p: usize, len: u32, ident: u32, ttl: u32, proto: u32, src: usize, dst: usize, csum: bool): void {
  ipv4EmitPlain(p, len, ident, ttl, proto, src, dst, csum);
}
export function ipv6EmitPlainTest(p: usize, len: u32, nh: u32, hops: u32, src: usize, dst: usize): void {
  ipv6EmitPlain(p, len, nh, hops, src, dst);
}
export function tcpEmitPlainTest(p: usize, sport: u32, dport: u32, seq: u32, ack: u32, flags: u32, window: u32): void {
  tcpEmitPlain(p, sport, dport, seq, ack, flags, window);
}
