// The echo server the dataplane tests dispatch to: A (198.18.0.1) sends, B
// (198.18.0.2, MAC_B) runs app 1 (TCP and UDP echo on port 7).
import { MAC_A, MAC_B, eth, ip4, ipv4, macWords, udp } from "./frames.ts";
import { APP_ID } from "../../host/core/abi.gen.ts";

export const A = ip4("198.18.0.1");
export const B = ip4("198.18.0.2");

export const ECHO_SERVER = {
  app: APP_ID.echo, // TCP and UDP
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

/** A → B UDP datagram to port 7 from port 20000 + flow, its payload naming flow and message. */
export const flowDatagram = (flow: number, msg: number): Buffer =>
  eth(
    MAC_B,
    MAC_A,
    0x0800,
    ipv4(A, B, 17, udp(A, B, 20000 + flow, 7, Buffer.from(`flow ${flow} msg ${msg}`))),
  );
