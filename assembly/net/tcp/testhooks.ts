// Test-only entry points, exported by the test core only (assembly/test-core.ts):
// feed a raw IPv4/IPv6 TCP packet to tcpInput as if IP had delivered it, capture
// what the engine sends as raw IP packets (instead of ipSend), run one command
// descriptor, and read engine state. They let the suites in test/net/tcp drive
// single cores and relay between two cores from JS.
import { MB_DATA_LEN, mbufAlloc, mbufData, mbufBuf, MB_DATA_OFF } from "../../mem/mbuf";
import { PKTF_CSUM_OK, PKT_BYTES, PKT_DMAC, PKT_DST, PKT_FAMILY, PKT_FLAGS, PKT_HASH, PKT_L3, PKT_L4, PKT_L4LEN, PKT_M, PKT_NOW_US, PKT_PROTO, PKT_SMAC, PKT_SRC, PKT_TTL, pkt } from "../pkt";
import { be16 } from "../../wire/bytes";
import { evBase, evLen, queuesReset, DESC_SIZE, D_RET } from "../../api/abi";
import { tcpInput } from "./input";
import { tcpCommand } from "./commands";
import { capturePop, captureCount, setCapture } from "./output";
import { tcbFromHandle, tcbUsed } from "./tcb";
import { halfOpenCount } from "./engine";
import { spansUsed } from "./span";
import { timerPending } from "../timer";

/** Capture mode on (1) or off (0): segments queue as raw IP packets for tcpTestTxPop. */
export function tcpTestCapture(on: i32): void {
  setCapture(on != 0);
}

/** Next captured packet's mbuf (0 if none): the IP packet starts at u32 @ m+52 (MB_USER0), length u32 @ m+56. Free it with mbufFree. */
export function tcpTestTxPop(): usize {
  return capturePop();
}

export function tcpTestTxCount(): u32 {
  return captureCount();
}

/**
 * Copies the IP packet at ptr (len bytes, no link header) into a fresh mbuf,
 * fills pkt() as IP input would and runs tcpInput. verify != 0 leaves the
 * checksum to tcpInput. Returns 0, or -1 (no mbuf), -2 (not TCP / malformed IP).
 */
export function tcpTestInject(ptr: usize, len: u32, nowUs: u64, verify: i32): i32 {
  if (len < 20 || len > 2000) return -2;
  const m = mbufAlloc();
  if (m == 0) return -1;
  store<u16>(m, 0, MB_DATA_OFF);
  const d = mbufData(m);
  memory.copy(d, ptr, len);
  store<u16>(m, <u16>len, MB_DATA_LEN);
  const p = pkt();
  memory.fill(p, 0, PKT_BYTES);
  const v = <u32>load<u8>(d) >> 4;
  let l4: usize;
  let l4len: u32;
  if (v == 4) {
    const ihl = (<u32>load<u8>(d) & 15) << 2;
    const tot = be16(d + 2);
    if (load<u8>(d + 9) != 6 || tot > len || ihl < 20 || tot < ihl) return -2;
    l4 = d + ihl;
    l4len = tot - ihl;
    store<u8>(p + PKT_FAMILY, 4);
    store<u32>(p + PKT_SRC, load<u32>(d + 12));
    store<u32>(p + PKT_DST, load<u32>(d + 16));
    store<u8>(p + PKT_TTL, load<u8>(d + 8));
  } else if (v == 6) {
    if (load<u8>(d + 6) != 6 || len < 40) return -2;
    l4 = d + 40;
    l4len = min<u32>(be16(d + 4), len - 40);
    store<u8>(p + PKT_FAMILY, 6);
    memory.copy(p + PKT_SRC, d + 8, 16);
    memory.copy(p + PKT_DST, d + 24, 16);
    store<u8>(p + PKT_TTL, load<u8>(d + 7));
  } else return -2;
  store<u32>(p + PKT_M, <u32>m);
  store<u8>(p + PKT_PROTO, 6);
  store<u8>(p + PKT_FLAGS, verify != 0 ? 0 : PKTF_CSUM_OK);
  store<u32>(p + PKT_L3, <u32>d);
  store<u32>(p + PKT_L4, <u32>l4);
  store<u32>(p + PKT_L4LEN, l4len);
  store<u32>(p + PKT_HASH, 0);
  store<u64>(p + PKT_NOW_US, nowUs);
  tcpInput();
  return 0;
}

const cmdScratch = memory.data(<i32>DESC_SIZE, 16);

/** Runs one command (kind, handle, cookie, a, b, c, d) now; returns its D_RET. */
export function tcpTestCmd(kind: u32, handle: u32, cookie: u32, a: u32, b: u32, c: u32, d: u32, flags: u32): i32 {
  const p = cmdScratch;
  store<u16>(p, <u16>kind, 0);
  store<u16>(p, <u16>flags, 2);
  store<u32>(p, handle, 4);
  store<u32>(p, cookie, 8);
  store<u32>(p, a, 12);
  store<u32>(p, b, 16);
  store<u32>(p, c, 20);
  store<u32>(p, d, 24);
  tcpCommand(p);
  return load<i32>(p, D_RET);
}

/** Events queued so far, their base address, and a reset (the loop's job outside tests). */
export function tcpTestEvCount(): u32 {
  return evLen();
}
export function tcpTestEvBase(): usize {
  return evBase();
}
export function tcpTestEvReset(): void {
  queuesReset();
}

/** Address of the TCB a handle names (0 if stale), for white-box checks of its fields. */
export function tcpTestTcb(handle: u32): usize {
  return tcbFromHandle(handle);
}

/** Engine occupancy: 0 TCBs in use, 1 half-open, 2 spans in use, 3 timers pending. */
export function tcpTestStat(i: i32): u32 {
  if (i == 0) return tcbUsed();
  if (i == 1) return halfOpenCount();
  if (i == 2) return spansUsed();
  if (i == 3) return timerPending();
  return 0;
}
