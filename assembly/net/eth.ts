// Ethernet input (IEEE 802.3 / RFC 894): checks the destination, steps over
// 802.1Q/802.1ad tags, and hands ARP, IPv4 and IPv6 on. Replies are sent
// untagged (the tap and the replay paths are untagged links; see README, "What is supported, and what is not").
import { MB_DATA_LEN, mbufData, mbufFree } from "../mem/mbuf";
import { C_NOT_FOR_US, C_NON_IP, C_RUNT, C_RX_BYTES, C_RX_FRAMES, bump } from "../mem/counters";
import { be16, copy6 } from "../wire/bytes";
import { PKT_DMAC, PKT_SMAC, pkt } from "./pkt";
import { macAccepts } from "./iface";
import { ipv4Input, ipv6Input } from "./ip";
import { arpInput } from "./neigh";

export function ethInput(m: usize): void {
  const f = mbufData(m);
  const len = <u32>load<u16>(m, MB_DATA_LEN);
  if (len < 14) {
    bump(C_RUNT);
    mbufFree(m);
    return;
  }
  if (!macAccepts(f)) {
    bump(C_NOT_FOR_US);
    mbufFree(m);
    return;
  }
  let off: u32 = 12;
  let type = be16(f + 12);
  // Up to two VLAN tags (C-tag 0x8100, S-tag 0x88a8 / 0x9100).
  for (let i = 0; i < 2 && (type == 0x8100 || type == 0x88a8 || type == 0x9100); i++) {
    off += 4;
    if (off + 2 > len) {
      bump(C_RUNT);
      mbufFree(m);
      return;
    }
    type = be16(f + off);
  }
  off += 2;
  const p = pkt();
  copy6(p + PKT_DMAC, f);
  copy6(p + PKT_SMAC, f + 6);
  if (type == 0x0800) ipv4Input(m, f + off, len - off);
  else if (type == 0x86dd) ipv6Input(m, f + off, len - off);
  else if (type == 0x0806) arpInput(m, f + off, len - off);
  else {
    bump(C_NON_IP);
    mbufFree(m);
  }
}

/** Counts a received batch once (not per packet). */
export function rxCount(frames: u32, bytes: u64): void {
  bump(C_RX_FRAMES, frames);
  bump(C_RX_BYTES, bytes);
}
