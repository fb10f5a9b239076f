// A stand-in for the TCP stack, to drive an app through appDispatch() alone: it
// writes events (knock, received bytes, acknowledgements, deaths) into the event
// queue, runs one app step, and executes the commands the app pushed: ACCEPT gives
// the cookie, SENDV copies out the spans' bytes (taking at most `window` bytes per
// call, like flow control) and acknowledges them one step later, after checking
// that the app did not change them while unacknowledged (zero-copy contract).
import { createCore, testHooks, type Core, type CoreConfig } from "../../host/core/core.ts";

// The API's numbers, from abi/table.ts.
import {
  EV_TCP_KNOCK,
  EV_TCP_CONNECTED,
  EV_TCP_RECV,
  EV_TCP_SENT,
  EV_TCP_DEAD,
  EV_UDP_RECV,
} from "../../host/core/abi.gen.ts";
import { CMD_ACCEPT, CMD_REJECT, CMD_CONNECT, CMD_SENDV, CMD_RECV_DONE } from "../../host/core/abi.gen.ts";
import { CMD_CLOSE, CMD_ABORT, CMD_UDP_SEND, APP_ID as APP } from "../../host/core/abi.gen.ts";
import {
  D_A,
  D_B,
  D_C,
  D_COOKIE,
  D_D,
  D_HANDLE,
  D_KIND,
  D_RET,
  DESC_SIZE,
  SPAN_SIZE,
} from "../../host/core/abi.gen.ts";
export { EV_TCP_KNOCK, EV_TCP_CONNECTED, EV_TCP_RECV, EV_TCP_SENT, EV_TCP_DEAD, EV_UDP_RECV };
export {
  CMD_ACCEPT,
  CMD_REJECT,
  CMD_CONNECT,
  CMD_SENDV,
  CMD_RECV_DONE,
  CMD_CLOSE,
  CMD_ABORT,
  CMD_UDP_SEND,
  APP,
};

type Fn = (...a: number[]) => number;
export type Fns = Record<string, Fn>;

export interface Cmd {
  kind: number;
  handle: number;
  cookie: number;
  a: number;
  b: number;
  c: number;
  d: number;
  ret: number;
}

interface Pending {
  ptr: number;
  copy: Uint8Array;
}

export interface Conn {
  handle: number;
  cookie: number;
  out: number[]; // bytes the app sent
  received: number; // bytes given to the app
  recvDone: number; // bytes the app gave back
  unacked: Pending[]; // spans taken by "the stack", not yet acknowledged
  ackNext: number; // bytes to acknowledge at the next step
  closed: boolean; // the app sent CLOSE
  aborted: boolean;
  dead: boolean;
}

export function appCore(app: number, cfg: Partial<CoreConfig> = {}, debug = true): { core: Core; f: Fns } {
  const core = createCore(
    {
      mbufs: 64,
      flows: 16,
      ringSlots: 16,
      stagingBytes: 8 << 20,
      descSlots: 16,
      evqSlots: 1024,
      appBytes: 16 << 20,
      app,
      appUnixBase: Math.floor(Date.now() / 1000) - 1, // the driver's clock starts at 1 s
      ...cfg,
    },
    { debug, test: true }, // the app hooks (appTestEvent, appTestClock) are in the test core
  );
  const f = testHooks(core) as unknown as Fns;
  const rc = f.appInit();
  if (rc !== 0) throw new Error(`appInit failed: ${rc}`);
  return { core, f };
}

export class Driver {
  core: Core;
  f: Fns;
  window: number;
  conns = new Map<number, Conn>(); // by handle
  private nextHandle = 0x100;
  private stage = 0; // bump pointer in R_STAGING for "received" bytes
  private events: number[][] = [];
  cmds: Cmd[] = [];
  zeroCopyViolations = 0;
  nowUs = 1_000_000;

  constructor(app: number, cfg: Partial<CoreConfig> = {}, window = 1 << 30, debug = true) {
    const { core, f } = appCore(app, cfg, debug);
    this.core = core;
    this.f = f;
    this.window = window;
  }

  /** Copies bytes into R_STAGING (as if into mbufs); returns the pointer. */
  place(bytes: Uint8Array): number {
    const { offset, bytes: size } = this.core.regions.staging;
    if (this.stage + bytes.length > size) this.stage = 0; // earlier bytes were given back long ago
    const p = offset + this.stage;
    this.core.u8.set(bytes, p);
    this.stage += (bytes.length + 15) & ~15;
    return p;
  }

  event(kind: number, handle: number, cookie: number, a = 0, b = 0, c = 0, d = 0): void {
    this.events.push([kind, handle, cookie, a, b, c, d]);
  }

  /** A new connection: KNOCK, one step; returns it (cookie from the ACCEPT). */
  open(): Conn {
    const h = this.nextHandle++;
    const conn: Conn = {
      handle: h,
      cookie: -1,
      out: [],
      received: 0,
      recvDone: 0,
      unacked: [],
      ackNext: 0,
      closed: false,
      aborted: false,
      dead: false,
    };
    this.conns.set(h, conn);
    this.event(EV_TCP_KNOCK, h, 0, 11211, 40000, 0, 4);
    this.step();
    return conn;
  }

  recv(conn: Conn, data: Uint8Array | string): void {
    const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    const p = this.place(bytes);
    conn.received += bytes.length;
    this.event(EV_TCP_RECV, conn.handle, conn.cookie, p, bytes.length);
  }

  fin(conn: Conn): void {
    this.event(EV_TCP_RECV, conn.handle, conn.cookie, 0, 0);
  }

  kill(conn: Conn): void {
    this.event(EV_TCP_DEAD, conn.handle, conn.cookie, 1);
    conn.dead = true;
  }

  /** One app iteration: queued events in, commands out and executed. */
  step(): Cmd[] {
    // acknowledge what the stack took last time, checking it did not change meanwhile
    for (const conn of this.conns.values()) {
      if (conn.ackNext > 0 && !conn.dead) {
        let n = conn.ackNext;
        while (n > 0 && conn.unacked.length) {
          const s = conn.unacked[0];
          const cur = this.core.u8.subarray(s.ptr, s.ptr + s.copy.length);
          if (Buffer.compare(Buffer.from(cur), Buffer.from(s.copy)) !== 0) this.zeroCopyViolations++;
          if (s.copy.length <= n) {
            n -= s.copy.length;
            conn.unacked.shift();
          } else {
            s.ptr += n;
            s.copy = s.copy.subarray(n);
            n = 0;
          }
        }
        this.event(EV_TCP_SENT, conn.handle, conn.cookie, conn.ackNext, this.window);
        conn.ackNext = 0;
      }
    }
    const ev = this.events;
    this.events = [];
    for (const e of ev) {
      if (this.f.appTestEvent(e[0], e[1], e[2], e[3], e[4], e[5], e[6]) === 0)
        throw new Error("event queue full");
    }
    this.f.appTestClock(this.nowUs);
    this.f.appDispatch();
    const n = this.f.appCmdCount();
    const base = this.core.regions.cmdq.offset;
    const cmds: Cmd[] = [];
    for (let i = 0; i < n; i++) {
      const p = base + i * DESC_SIZE;
      const u = this.core.u32;
      const cmd: Cmd = {
        kind: this.core.u16[(p + D_KIND) >>> 1],
        handle: u[(p + D_HANDLE) >>> 2],
        cookie: u[(p + D_COOKIE) >>> 2],
        a: u[(p + D_A) >>> 2],
        b: u[(p + D_B) >>> 2],
        c: u[(p + D_C) >>> 2],
        d: u[(p + D_D) >>> 2],
        ret: 0,
      };
      this.exec(cmd, p);
      cmds.push(cmd);
    }
    this.cmds = cmds;
    return cmds;
  }

  private exec(cmd: Cmd, p: number): void {
    const conn = this.conns.get(cmd.handle);
    let ret = 0;
    switch (cmd.kind) {
      case CMD_ACCEPT:
        if (conn) conn.cookie = cmd.cookie;
        break;
      case CMD_SENDV: {
        if (!conn) {
          ret = -1;
          break;
        }
        let budget = this.window;
        for (let i = 0; i < cmd.b && budget > 0; i++) {
          const sp = cmd.a + i * SPAN_SIZE;
          const ptr = this.core.u32[sp >>> 2];
          const len = Math.min(this.core.u32[(sp + 4) >>> 2], budget);
          const bytes = this.core.u8.slice(ptr, ptr + len);
          for (const b of bytes) conn.out.push(b);
          conn.unacked.push({ ptr, copy: bytes });
          budget -= len;
          ret += len;
        }
        conn.ackNext += ret;
        break;
      }
      case CMD_RECV_DONE:
        if (conn) conn.recvDone += cmd.a;
        break;
      case CMD_CLOSE:
        if (conn) conn.closed = true;
        break;
      case CMD_ABORT:
        if (conn) conn.aborted = true;
        break;
    }
    cmd.ret = ret;
    this.core.i32[(p + D_RET) >>> 2] = ret;
  }

  /** Steps until nothing is left to acknowledge and the app issues no commands. */
  settle(max = 10000): void {
    for (let i = 0; i < max; i++) {
      const pendingAck = [...this.conns.values()].some((c) => c.ackNext > 0 && !c.dead);
      const cmds = this.step();
      if (!pendingAck && cmds.length === 0 && this.events.length === 0) return;
    }
    throw new Error("app did not settle");
  }

  output(conn: Conn): Buffer {
    return Buffer.from(conn.out);
  }
  take(conn: Conn): Buffer {
    const b = Buffer.from(conn.out);
    conn.out = [];
    return b;
  }
}
