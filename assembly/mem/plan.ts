// Region planning: turns the config words into the region table. Pure function of
// the config (and of __heap_base), so the host can run it on a throw-away instance
// to size the real memory before creating it.
import {
  ABI_VERSION, CFG_ABI, CFG_DESC_SLOTS, CFG_FLOWS, CFG_MBUFS, CFG_RING_SLOTS, CFG_STAGING_BYTES,
  CFG_TCBS, CFG_EVQ_SLOTS, CFG_APP_BYTES, CFG_TIMERS, CFG_NEIGH_SLOTS, CFG_SPANS, CACHE_LINE, CTRL_END, PAGE, R_COUNT, R_DECODE, R_DESC, R_FLOW, R_MBUF, R_MBUF_STACK,
  R_RX_RING, R_STAGING, R_TCB, R_TOTAL, R_TX_RING, R_EVQ, R_CMDQ, R_APP, R_TIMER, R_NEIGH, R_SPAN,
  REGION_BASE, alignUp, cfg,
} from "./layout";
import { DESC_BYTES } from "./desc";
import { SUM_BYTES } from "../wire/summary-layout";
import { mbufDataCfg, mbufPoolBytes, mbufStackBytes } from "./mbuf";
import { ringBytes } from "./ring";
import { flowTableBytes } from "../flow/table";
import { tcbTableBytes } from "../net/tcp/tcb";
import { timerWheelBytes } from "../net/timer";
import { queueBytes } from "../api/abi";
import { NEIGH_ENTRY_BYTES } from "../net/neigh";
import { SPAN_ENTRY_BYTES } from "../net/tcp/span";

// Bytes kept free after the static data for the stub runtime's heap. The fast
// path never allocates; this only has to hold what module start-up allocates.
const HEAP_RESERVE: usize = 64 * 1024;

let cursor: usize = 0;

function place(r: i32, bytes: usize): void {
  cursor = alignUp(cursor, CACHE_LINE);
  store<u32>(REGION_BASE + (<usize>r << 3), <u32>cursor);
  store<u32>(REGION_BASE + (<usize>r << 3) + 4, <u32>bytes);
  cursor += bytes;
}

/** Fills the region table from the config words; returns the total bytes the memory must have (a multiple of 64 KiB), or 0 if the config is invalid. */
export function plan(): u32 {
  if (cfg(CFG_ABI) != ABI_VERSION) return 0;
  const ringSlots = cfg(CFG_RING_SLOTS);
  if (ringSlots != 0 && (ringSlots & (ringSlots - 1)) != 0) return 0;
  if (mbufDataCfg() == 0) return 0; // CFG_MBUF_DATA not a multiple of 64 in 2048..16384
  for (let r = 0; r < R_COUNT; r++) store<u64>(REGION_BASE + (<usize>r << 3), 0);
  cursor = alignUp(max<usize>(__heap_base + HEAP_RESERVE, CTRL_END), PAGE);
  const base = cursor;
  place(R_STAGING, <usize>cfg(CFG_STAGING_BYTES));
  place(R_DESC, <usize>cfg(CFG_DESC_SLOTS) * DESC_BYTES);
  place(R_DECODE, <usize>cfg(CFG_DESC_SLOTS) * SUM_BYTES);
  place(R_MBUF, mbufPoolBytes(cfg(CFG_MBUFS)));
  place(R_MBUF_STACK, mbufStackBytes(cfg(CFG_MBUFS)));
  place(R_RX_RING, ringBytes(ringSlots));
  place(R_TX_RING, ringBytes(ringSlots));
  place(R_FLOW, flowTableBytes(cfg(CFG_FLOWS)));
  place(R_TCB, tcbTableBytes(cfg(CFG_TCBS)));
  place(R_EVQ, queueBytes(cfg(CFG_EVQ_SLOTS)));
  place(R_CMDQ, queueBytes(cfg(CFG_EVQ_SLOTS)));
  place(R_APP, <usize>cfg(CFG_APP_BYTES));
  place(R_TIMER, cfg(CFG_TCBS) + cfg(CFG_TIMERS) == 0 ? 0 : timerWheelBytes(cfg(CFG_TCBS) + cfg(CFG_TIMERS)));
  place(R_NEIGH, <usize>cfg(CFG_NEIGH_SLOTS) * NEIGH_ENTRY_BYTES);
  place(R_SPAN, <usize>cfg(CFG_SPANS) * SPAN_ENTRY_BYTES);
  const total = alignUp(cursor, PAGE);
  if (total > 0xffff0000) return 0;
  store<u32>(REGION_BASE + (<usize>R_TOTAL << 3), <u32>base);
  store<u32>(REGION_BASE + (<usize>R_TOTAL << 3) + 4, <u32>total);
  return <u32>total;
}
