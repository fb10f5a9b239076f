// What the memcached-diff suites share: running the same request bytes through the
// memcached app and the real memcached, normalising and comparing the answers, and
// building binary-protocol requests.
import * as assert from "uvu/assert";
import { APP, Driver } from "./harness.ts";
import { exchange, haveMemcached, MEMCACHED, startMemcached } from "./mcreal.ts";
import { oracleTest } from "../helpers/oracle.ts";

// Without memcached these fail under CI=true, and are noted as not run elsewhere.
export const mtest = oracleTest(
  `memcached (${MEMCACHED})`,
  haveMemcached,
  "apt-get install memcached; .ci/run installs it",
);

export const b = (s: string) => Buffer.from(s, "latin1");

/** Runs the chunks through the app; returns its output and whether it closed. */
export function viaApp(chunks: Buffer[], window = 1 << 30): { out: Buffer; closed: boolean; d: Driver } {
  const d = new Driver(APP.memcached, { appBytes: 48 << 20, stagingBytes: 16 << 20 }, window);
  const c = d.open();
  for (const ch of chunks) {
    d.recv(c, ch);
    d.settle();
  }
  d.settle();
  assert.is(d.zeroCopyViolations, 0, "bytes given to SENDV changed before their ack");
  if (!c.closed) assert.is(c.recvDone, c.received, "every received byte given back");
  return { out: d.output(c), closed: c.closed, d };
}

// Every stream ends with a sentinel request (ASCII "version", binary noop with a
// marked opaque) so the reference's answer is known complete without waiting idle.
export const SENTINEL_ASCII = b("set __end__ 0 0 1 noreply\r\nx\r\nget __end__\r\n");
export const SENTINEL_BIN = (() => {
  const h = Buffer.alloc(24);
  h[0] = 0x80;
  h[1] = 0x0a;
  h.writeUInt32BE(0xfeedface, 12);
  return h;
})();
export function withSentinel(chunks: Buffer[]): Buffer[] {
  return [...chunks, chunks[0][0] === 0x80 ? SENTINEL_BIN : SENTINEL_ASCII];
}
export function complete(out: Buffer): boolean {
  if (out.length >= 24 && out[out.length - 24] === 0x81 && out.readUInt32BE(out.length - 12) === 0xfeedface)
    return true;
  return out.toString("latin1").endsWith("VALUE __end__ 0 1\r\nx\r\nEND\r\n");
}

export async function viaReal(
  chunks: Buffer[],
  args: string[] = [],
): Promise<{ out: Buffer; closed: boolean }> {
  const srv = await startMemcached(args);
  try {
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    return await exchange(srv.port, chunks, 150 + bytes / 5000, complete);
  } finally {
    await srv.stop();
  }
}

/** The version differs by design: ASCII "VERSION v", and binary version packets' bodies. */
export function norm(x: Buffer): string {
  if (x.length >= 24 && x[0] === 0x81) {
    const parts: Buffer[] = [];
    let p = 0;
    while (p + 24 <= x.length) {
      const len = 24 + x.readUInt32BE(p + 8);
      let pkt = x.subarray(p, p + len);
      if (pkt[1] === 0x0b && pkt.readUInt16BE(6) === 0) {
        pkt = Buffer.from(pkt.subarray(0, 24));
        pkt.writeUInt32BE(1, 8);
        pkt = Buffer.concat([pkt, Buffer.from("V")]);
      }
      parts.push(pkt);
      p += len;
    }
    parts.push(x.subarray(p));
    x = Buffer.concat(parts);
  }
  // (and the general stats, compared by shape in their own tests)
  return x
    .toString("latin1")
    .replace(/VERSION [^\r]*\r\n/g, "VERSION x\r\n")
    .replace(/STAT pid \d+\r\n(STAT [^\r]*\r\n)*END\r\n/g, "STATS\r\n");
}

export function show(x: string, other: string): string {
  // from a little before the first difference
  let i = 0;
  while (i < x.length && i < other.length && x[i] === other[i]) i++;
  const from = Math.max(0, i - 60);
  return `@${i}: ` + JSON.stringify(x.slice(from, from + 600));
}

/** Splits a stream into segments: whole, every n bytes. */
export function split(s: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.subarray(i, i + n));
  return out;
}

export async function same(
  name: string,
  stream: Buffer | Buffer[],
  segs: number[] = [0, 1, 7],
  sentinel = true,
): Promise<void> {
  const given = Array.isArray(stream) ? stream : [stream];
  const chunks = sentinel ? withSentinel(given) : given;
  const real = await viaReal(chunks);
  const whole = Buffer.concat(chunks);
  for (const n of segs) {
    const app = viaApp(n === 0 ? chunks : split(whole, n));
    const a = norm(app.out);
    const r = norm(real.out);
    assert.ok(a === r, `${name} (segments of ${n || "as given"}):\n app  ${show(a, r)}\n real ${show(r, a)}`);
    assert.is(app.closed, real.closed, `${name}: closed`);
  }
}

export const K251 = "k".repeat(251);
export const K250 = "k".repeat(250);

export function req(
  op: number,
  o: {
    key?: string;
    extras?: Buffer;
    value?: Buffer | string;
    cas?: bigint;
    opaque?: number;
    magic?: number;
  } = {},
): Buffer {
  const key = b(o.key ?? "");
  const extras = o.extras ?? Buffer.alloc(0);
  const value = typeof o.value === "string" ? b(o.value) : (o.value ?? Buffer.alloc(0));
  const h = Buffer.alloc(24);
  h[0] = o.magic ?? 0x80;
  h[1] = op;
  h.writeUInt16BE(key.length, 2);
  h[4] = extras.length;
  h.writeUInt32BE(extras.length + key.length + value.length, 8);
  h.writeUInt32BE(o.opaque ?? 0x01020304, 12);
  h.writeBigUInt64BE(o.cas ?? 0n, 16);
  return Buffer.concat([h, extras, key, value]);
}
export const ext = (...words: [number, number][]) => {
  const parts = words.map(([v, n]) => {
    const x = Buffer.alloc(n);
    if (n === 4) x.writeUInt32BE(v >>> 0);
    else x.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v)));
    return x;
  });
  return Buffer.concat(parts);
};
export const setx = (flags: number, exp: number) => ext([flags, 4], [exp, 4]);
export const incx = (delta: number, initial: number, exp: number) => ext([delta, 8], [initial, 8], [exp, 4]);
export const NOOP = () => req(0x0a);

/** Counters both keep, compared by value after the same commands. */
export const EXACT = [
  "cmd_get",
  "cmd_set",
  "cmd_flush",
  "cmd_touch",
  "get_hits",
  "get_misses",
  "get_expired",
  "get_flushed",
  "delete_misses",
  "delete_hits",
  "incr_misses",
  "incr_hits",
  "decr_misses",
  "decr_hits",
  "cas_misses",
  "cas_hits",
  "cas_badval",
  "touch_hits",
  "touch_misses",
  "curr_items",
  "total_items",
  "evictions",
  "curr_connections",
  "bytes_read",
  "threads",
];

/** A stat value's kind: counters and times are integers, rusage seconds decimals. */
export function shape(v: string): string {
  if (/^\d+$/.test(v)) return "integer";
  if (/^\d+\.\d+$/.test(v)) return "decimal";
  if (/^1\.6\.18(-ixwasm)?$/.test(v)) return "version 1.6.18";
  return JSON.stringify(v);
}
