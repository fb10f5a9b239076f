// What a handshake settles besides the options' flags: the segment size this
// side sends with and the first window it announces. Used by the passive and
// the active open (tcp/input.ts).
import { TCB_ANN_MSS, TCB_FLAGS, TCB_MSS, TCB_RCV_ADV, TCB_RCV_NXT, TCB_RCV_WSCALE } from "./tcb";
import { TF_TS_OK, TS_OPT_BYTES } from "./state";
import { rcvBuf } from "./engine";
import { txMaxPayload } from "./output";

/** The MSS this side sends with, from the peer's (RFC 9293 §3.7.1). */
export function effectiveMss(t: usize, peerMss: u32): void {
  // RFC 9293 §3.7.1: also no more than the local link carries (MMS_S), the size we announced.
  const ann = <u32>load<u16>(t, TCB_ANN_MSS);
  let mss = min<u32>(min<u32>(peerMss, ann != 0 ? ann : peerMss), txMaxPayload());
  if ((load<u32>(t, TCB_FLAGS) & TF_TS_OK) != 0) mss -= TS_OPT_BYTES; // RFC 9293 §3.7.1: options come out of the MSS
  if (mss < 64) mss = 64;
  store<u16>(t, <u16>mss, TCB_MSS);
}

/** RCV.ADV for the first window this side announces (a SYN's is never scaled: RFC 7323 §2.2). */
export function initialRcvAdv(t: usize): void {
  const w = min<u32>(rcvBuf, <u32>65535 << <u32>load<u8>(t, TCB_RCV_WSCALE));
  store<u32>(t, load<u32>(t, TCB_RCV_NXT) + min<u32>(w, 65535), TCB_RCV_ADV);
}
