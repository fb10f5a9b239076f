// The core's "NIC": an RX ring the host fills and a TX ring the host drains,
// both in this instance's shared memory (mem/ring.ts).
//
// RX: every RX slot carries a posted mbuf, as a NIC descriptor ring does. The
// host writes the frame straight into that mbuf (the one copy: the "DMA"),
// sets the length and publishes. The core takes the mbuf and posts a fresh one
// in the slot before releasing it. With the pool empty it keeps the old mbuf in
// the slot and drops the frame (counted), like a NIC out of buffers.
//
// TX: the core publishes (frame offset, length, mbuf index); the host sends or
// writes the frame and advances the tail; the core frees the mbufs of released
// slots at the start of the next poll (txReclaim). The producer never overwrites
// a slot it has not reclaimed.
import { R_RX_RING, R_TX_RING, regionBytes, regionOffset } from "../mem/layout";
import {
  RING_F_OFFSET, RING_HEAD, RING_SLOTS, RING_TAIL, SLOT_BUF, SLOT_LEN, SLOT_USER, ringPublish, ringRefuse, ringSlot,
} from "../mem/ring";
import { MB_DATA_LEN, MB_DATA_OFF, mbufAlloc, mbufAt, mbufData, mbufFree, mbufIndex } from "../mem/mbuf";
import { C_RX_DROP_NOMBUF, C_TX_BYTES, C_TX_FRAMES, bump } from "../mem/counters";

let rx: usize = 0;
let tx: usize = 0;
let txReclaimed: u32 = 0; // TX positions below this have had their mbufs freed
let txPending: u32 = 0; // slots written but not yet published this batch
let txFrames: u64 = 0;
let txBytes: u64 = 0;

export function netifInit(): void {
  rx = regionBytes(R_RX_RING) != 0 ? regionOffset(R_RX_RING) : 0;
  tx = regionBytes(R_TX_RING) != 0 ? regionOffset(R_TX_RING) : 0;
  txReclaimed = 0;
  txPending = 0;
  if (rx != 0) {
    // Post an mbuf in every RX slot.
    const slots = load<u32>(rx, RING_SLOTS);
    for (let i: u32 = 0; i < slots; i++) {
      const m = mbufAlloc();
      const s = ringSlot(rx, i);
      store<u32>(s, m == 0 ? 0xffffffff : mbufIndex(m), SLOT_BUF);
      store<u32>(s, 0, SLOT_LEN);
    }
  }
}

/**
 * Takes up to max received frames into out[] (mbuf pointers); never waits.
 * Each returned mbuf's data is the frame (dataOff 0, dataLen = frame length).
 */
export function rxBurst(out: usize, max: u32): u32 {
  if (rx == 0) return 0;
  const tail = load<u32>(rx, RING_TAIL);
  let avail = atomic.load<u32>(rx, RING_HEAD) - tail;
  if (avail > max) avail = max;
  let got: u32 = 0;
  for (let i: u32 = 0; i < avail; i++) {
    const s = ringSlot(rx, tail + i);
    const idx = load<u32>(s, SLOT_BUF);
    const len = load<u32>(s, SLOT_LEN) & 0xffff;
    const fresh = mbufAlloc();
    if (fresh == 0 || idx == 0xffffffff) {
      // No buffer to post back: drop this frame, keep its mbuf in the slot.
      if (fresh != 0) {
        store<u32>(s, mbufIndex(fresh), SLOT_BUF);
      }
      bump(C_RX_DROP_NOMBUF);
      continue;
    }
    store<u32>(s, mbufIndex(fresh), SLOT_BUF);
    const m = mbufAt(idx);
    store<u16>(m, 0, MB_DATA_OFF);
    store<u16>(m, <u16>len, MB_DATA_LEN);
    store<usize>(out + (<usize>got << 2), m);
    got++;
  }
  if (avail > 0) atomic.store<u32>(rx, tail + avail, RING_TAIL);
  return got;
}

/** Frees the mbufs of TX slots the host has released. */
export function txReclaim(): void {
  if (tx == 0) return;
  const tail = atomic.load<u32>(tx, RING_TAIL);
  while (txReclaimed != tail) {
    mbufFree(mbufAt(load<u32>(ringSlot(tx, txReclaimed), SLOT_USER)));
    txReclaimed++;
  }
}

/** Queues the frame held by m (its data area from dataOff, dataLen bytes). Takes ownership. */
export function txFrame(m: usize): bool {
  if (tx == 0) {
    mbufFree(m);
    return false;
  }
  const head = load<u32>(tx, RING_HEAD) + txPending;
  if (head - txReclaimed >= load<u32>(tx, RING_SLOTS)) {
    ringRefuse(tx, 1);
    mbufFree(m);
    return false;
  }
  const len = <u32>load<u16>(m, MB_DATA_LEN);
  const s = ringSlot(tx, head);
  store<u32>(s, <u32>mbufData(m), SLOT_BUF);
  store<u32>(s, len | (<u32>RING_F_OFFSET << 16), SLOT_LEN);
  store<u32>(s, 0, 8);
  store<u32>(s, mbufIndex(m), SLOT_USER);
  txPending++;
  txFrames++;
  txBytes += len;
  return true;
}

/** Publishes this batch's TX slots with one atomic store (and one wake-up at most). */
export function txPublish(): void {
  if (txPending == 0) return;
  ringPublish(tx, txPending);
  txPending = 0;
  bump(C_TX_FRAMES, txFrames);
  bump(C_TX_BYTES, txBytes);
  txFrames = 0;
  txBytes = 0;
}

/** TX slots free now (after reclaim): a poll takes no more frames than it can answer. */
export function txFree(): u32 {
  return tx == 0 ? 0xffffffff : load<u32>(tx, RING_SLOTS) - (load<u32>(tx, RING_HEAD) + txPending - txReclaimed);
}

/** Frames queued for TX and not yet reclaimed (tests, drain checks). */
export function txOutstanding(): u32 {
  return tx == 0 ? 0 : load<u32>(tx, RING_HEAD) + txPending - txReclaimed;
}
