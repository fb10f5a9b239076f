// The echo server the dataplane tests dispatch to: A (198.18.0.1) sends, B
// (198.18.0.2, MAC_B) runs app 1 (TCP and UDP echo on port 7).
import { MAC_B, ip4, macWords } from "./frames.ts";

export const A = ip4("198.18.0.1");
export const B = ip4("198.18.0.2");

export const ECHO_SERVER = {
  app: 1, // echo (TCP and UDP)
  appPort: 7,
  appBytes: 1 << 20,
  tcbs: 64,
  timers: 64,
  spans: 1024,
  mbufs: 8192,
  ringSlots: 1024,
  evqSlots: 1024,
  neighSlots: 64,
  flows: 1024,
  stagingBytes: 0,
  descSlots: 0,
  ...macWords(MAC_B),
  ipv4: B.readUInt32LE(0),
};
