// Sizing a core that runs the TCP/IP stack: one formula for every command that
// serves or opens connections (pair, tap, replay serve), so they cannot drift.
import { APP_ID } from "./abi.gen.ts";
import type { CoreConfig } from "./core.ts";

/** The core's app numbers, generated from abi/table.ts (APPS). */
export { APP_ID };

/** Tables for `conns` concurrent connections, with `ringSlots` RX/TX ring slots. */
export function stackConfig(conns: number, ringSlots: number): Partial<CoreConfig> {
  return {
    ringSlots,
    stagingBytes: 0,
    descSlots: 0,
    flows: Math.max(1024, conns * 2),
    tcbs: conns + 64,
    timers: conns + 64,
    // Up to 16 spans queued per connection (SENDV scatter lists), plus slack.
    spans: conns * 16 + 1024,
    // Every RX slot (and TX slot) holds one mbuf; each connection may hold a few
    // received segments until RECV_DONE.
    mbufs: 2 * ringSlots + Math.max(8192, conns * 8),
    neighSlots: 64,
    // One event or command per connection per iteration at worst (a connect burst).
    evqSlots: Math.max(4096, conns * 2 + 64),
  };
}

/** The app region a server app needs for `conns` connections (memcached also holds its items). */
export function serverAppBytes(app: string, conns: number): number {
  return app === "memcached" ? (64 << 20) + conns * 8192 : (1 << 20) + conns * 4096;
}
