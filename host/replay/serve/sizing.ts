// How big a serving core is: the connections to size it for (the pre-scan's
// peak held at once), the pools, and the most one 32-bit memory can hold.
import { APP_ID } from "../../core/stack-config.ts";
import { DEFAULT_CONFIG, planBytes, type CoreConfig } from "../../core/core.ts";
import { CFG_F_ANY_ADDRESS, CFG_F_NO_CSUM_CHECK, CFG_F_SYMMETRIC } from "../../core/core.ts";
import { mirrorAppBytes } from "./mirror-feed.ts";
import { moduleAppBytes } from "../../apps/module.ts";
import { scanCoreConfig } from "../../core/open-capture.ts";
import { MODE } from "../../core/abi.gen.ts";

/** The apps serve runs, with their core app numbers. */
const APP_IDS: Record<string, number> = {
  echo: APP_ID.echo,
  sink: APP_ID.sink,
  memcached: APP_ID.memcached,
  mirror: APP_ID.mirror,
  external: APP_ID.external, // an app module's proxy (docs/design/app-modules.md)
};

/** The mirror's stream blocks: at least this much (a capture with little in flight)... */
export const STREAM_FLOOR = 2 << 20;
/** ...and at most this much (the fixed size before issue 16; a 1 M-connection churn run fits in it). */
export const STREAM_CAP = 64 << 20;

/**
 * Stream memory for the mirror: what the capture's servers had in flight at
 * once (pre-scan, in blocks), plus one read batch (the host feeds a batch's
 * server payload before the core has the client ACKs that free it), 1/4
 * headroom; between STREAM_FLOOR and STREAM_CAP.
 */
export function serveStreamBytes(pre: { peakInFlight: number; maxBatchBytes: number }): number {
  const want = Math.ceil((pre.peakInFlight + pre.maxBatchBytes) * 1.25);
  return Math.min(STREAM_CAP, Math.max(STREAM_FLOOR, want));
}

/**
 * The serving core for `conns` connections at once (the pre-scan's peak of live
 * flows plus headroom): one TCB, one flow table entry (+1/4 slack) and one
 * mirror slot each; pools of fixed size besides (mbufs, spans, and the mirror's
 * stream blocks, `streamBytes`, sized from the pre-scan: serveStreamBytes).
 */
export function serveCoreConfig(served: number, app: string, maxAckAdvance = 0, streamBytes = STREAM_CAP) {
  const conns = Math.max(1, served);
  const tcbs = conns + 256;
  const appBytes = serveAppBytes(app, conns, streamBytes);
  return {
    ...scanCoreConfig(),
    mbufs: 8192,
    ringSlots: 1024,
    flows: tcbs + (tcbs >>> 2) + 1024,
    tcbs,
    timers: 64,
    spans: 1 << 16,
    evqSlots: 8192,
    neighSlots: 256,
    app: APP_IDS[app],
    appBytes,
    appConns: app === "mirror" ? conns : Math.min(conns, app === "external" ? 4096 : 65536),
    // The capture's client sent within the original server's window: ours must
    // not be smaller, or its data would fall outside (RFC 9293 §3.10.7.4).
    rcvbuf: 1 << 22,
    // The client's ACKs cover what the capture's server had in flight: ours must
    // have sent it by then, so the send buffer holds the largest ACK advance (and
    // a segment or so of slack: SENDV_EOR queues records whole), between the
    // default 256 KiB and Linux's largest autotuned send buffer, 4 MiB.
    sndbuf: Math.min(1 << 22, Math.max(1 << 18, maxAckAdvance + (64 << 10))),
    mslMs: 1000, // TIME-WAIT 2 s of capture time: a reused 4-tuple can be preset again
    // symmetric RSS, any address (take on every server), no checksum check (offload captures)
    flags: CFG_F_SYMMETRIC | CFG_F_ANY_ADDRESS | CFG_F_NO_CSUM_CHECK,
    mode: MODE.serve, // not options.ts MODE_WORDS: options.ts imports (types of) the pre-scan, which imports this file
  };
}

/** The app's region (R_APP) for `conns` connections: the mirror's slots and streams, or the other apps' own. */
export function serveAppBytes(app: string, conns: number, streamBytes = STREAM_CAP): number {
  return app === "mirror"
    ? mirrorAppBytes(conns, streamBytes)
    : app === "memcached"
      ? (64 << 20) + Math.min(conns, 65536) * 8192
      : app === "external"
        ? moduleAppBytes(Math.min(conns, 4096)) // 64 KiB of send buffer a connection
        : (1 << 20) + Math.min(conns, 65536) * 4096;
}

let maxConnsCache = 0;
/** The most connections one serving core (mirror) can be sized for in a 32-bit memory (< 4 GiB). */
export function serveMaxConns(): number {
  if (maxConnsCache) return maxConnsCache;
  const at = (n: number) => planBytes({ ...DEFAULT_CONFIG, ...serveCoreConfig(n, "mirror") } as CoreConfig);
  const a = at(1 << 16);
  const per = (at(1 << 17) - a) / (1 << 16);
  const headroom = 1.25; // serveCapacity's
  maxConnsCache = Math.floor(((0xffff0000 - a) / per + (1 << 16)) / headroom) - 4096;
  return maxConnsCache;
}

/**
 * Connections to size the core for: the most the capture's server held at once
 * (open, or in TIME-WAIT: the pre-scan's peakHeld), those earlier --loop passes
 * leave held, 1/8 headroom (connections waiting for a last ACK the capture lacks).
 */
export function serveCapacity(pre: { peakHeld: number; heldAtEnd: number }, loops: number): number {
  const n = pre.peakHeld + Math.max(0, loops - 1) * pre.heldAtEnd;
  return n + (n >>> 3) + 256;
}
