// memcached app against the real memcached 1.6, binary protocol: the same request
// bytes go to both (test/apps/mcdiff.ts), the response bytes must be identical.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  mtest,
  viaApp,
  viaReal,
  EXACT,
  shape,
  same,
  K251,
  K250,
  req,
  ext,
  setx,
  incx,
  NOOP,
} from "./mcdiff.ts";

const binary: [string, Buffer][] = [
  [
    "set/get/getk/getq/getkq",
    Buffer.concat([
      req(0x01, { key: "a", extras: setx(7, 0), value: "hello" }),
      req(0x00, { key: "a" }),
      req(0x0c, { key: "a", opaque: 9 }),
      req(0x00, { key: "nope" }),
      req(0x0c, { key: "nope" }),
      req(0x09, { key: "nope" }),
      req(0x0d, { key: "nope" }),
      req(0x09, { key: "a" }),
      req(0x0d, { key: "a" }),
      NOOP(),
    ]),
  ],
  [
    "add/replace/append/prepend/cas and quiet forms",
    Buffer.concat([
      req(0x02, { key: "a", extras: setx(1, 0), value: "1" }),
      req(0x02, { key: "a", extras: setx(1, 0), value: "2" }),
      req(0x03, { key: "z", extras: setx(1, 0), value: "2" }),
      req(0x03, { key: "a", extras: setx(2, 0), value: "3" }),
      req(0x0e, { key: "a", value: "AP" }),
      req(0x0f, { key: "a", value: "PP" }),
      req(0x0e, { key: "z", value: "AP" }),
      req(0x01, { key: "a", extras: setx(0, 0), value: "c", cas: 999n }),
      req(0x01, { key: "a", extras: setx(0, 0), value: "c", cas: 5n }),
      req(0x01, { key: "q", extras: setx(0, 0), value: "c", cas: 5n }),
      req(0x11, { key: "s", extras: setx(0, 0), value: "quiet" }),
      req(0x12, { key: "s", extras: setx(0, 0), value: "x" }),
      req(0x13, { key: "zz", extras: setx(0, 0), value: "x" }),
      req(0x19, { key: "s", value: "!" }),
      req(0x1a, { key: "zz", value: "!" }),
      req(0x00, { key: "a" }),
      req(0x00, { key: "s" }),
      NOOP(),
    ]),
  ],
  [
    "delete/incr/decr",
    Buffer.concat([
      req(0x01, { key: "d", extras: setx(0, 0), value: "x" }),
      req(0x04, { key: "d", cas: 77n }),
      req(0x04, { key: "d" }),
      req(0x04, { key: "d" }),
      req(0x14, { key: "d" }),
      req(0x05, { key: "n", extras: incx(1, 10, 0) }),
      req(0x05, { key: "n", extras: incx(5, 10, 0) }),
      req(0x06, { key: "n", extras: incx(100, 10, 0) }),
      req(0x06, { key: "m", extras: incx(1, 10, 0xffffffff) }),
      req(0x15, { key: "n", extras: incx(3, 0, 0) }),
      req(0x16, { key: "zz", extras: incx(3, 0, 0xffffffff) }),
      req(0x01, { key: "t", extras: setx(0, 0), value: "abc" }),
      req(0x05, { key: "t", extras: incx(1, 0, 0) }),
      req(0x00, { key: "n" }),
      NOOP(),
    ]),
  ],
  [
    "flush/noop/version/quit",
    Buffer.concat([
      req(0x01, { key: "a", extras: setx(0, 0), value: "x" }),
      req(0x08),
      req(0x00, { key: "a" }),
      req(0x18, { extras: ext([0, 4]) }),
      NOOP(),
      req(0x0b),
      req(0x07),
      req(0x00, { key: "a" }),
    ]),
  ],
  ["quitq", Buffer.concat([NOOP(), req(0x17), NOOP()])],
  [
    "touch/gat/gatq/gatk/gatkq",
    Buffer.concat([
      req(0x01, { key: "t", extras: setx(3, 0), value: "tv" }),
      req(0x1c, { key: "t", extras: ext([100, 4]) }),
      req(0x1c, { key: "nope", extras: ext([100, 4]) }),
      req(0x1d, { key: "t", extras: ext([100, 4]) }),
      req(0x1e, { key: "nope", extras: ext([100, 4]) }),
      req(0x1e, { key: "t", extras: ext([100, 4]) }),
      req(0x23, { key: "t", extras: ext([0, 4]) }),
      req(0x24, { key: "nope", extras: ext([0, 4]) }),
      req(0x23, { key: "nope", extras: ext([0, 4]) }),
      NOOP(),
    ]),
  ],
  ["unknown opcode", Buffer.concat([req(0x40), NOOP(), req(0x40, { value: "xyz" }), NOOP()])],
  // (Unknown opcodes with extras or a key: memcached reads them, then skips the body
  // length again, eating into the next request; it then hangs up or waits with its
  // answer unsent, so there is nothing stable to compare. The app skips the same bytes.)
  [
    "bad extras: protocol error closes",
    Buffer.concat([req(0x00, { key: "a", extras: ext([1, 4]) }), NOOP()]),
  ],
  ["key too long", Buffer.concat([req(0x00, { key: K251 }), NOOP()])],
  [
    "key and extras longer than the body: protocol error closes",
    (() => {
      const bad = req(0x01, { key: "abc", extras: setx(0, 0) });
      bad.writeUInt32BE(10, 8); // body length 10 < 8 extras + 3 key bytes
      return Buffer.concat([NOOP(), bad, NOOP()]);
    })(),
  ],
  ["bad magic closes", Buffer.concat([NOOP(), req(0x0a, { magic: 0x81 }), NOOP()])],
  [
    "too large",
    Buffer.concat([
      req(0x01, { key: "w", extras: setx(0, 0), value: "x" }),
      req(0x01, { key: "w", extras: setx(0, 0), value: Buffer.alloc(1048576, 97) }),
      req(0x00, { key: "w" }),
    ]),
  ],
  [
    "stat reset and unknown stat",
    Buffer.concat([req(0x10, { key: "reset" }), req(0x10, { key: "bogus" }), NOOP()]),
  ],
  // ---- one command (family) per case from here
  [
    "get/getk: hit with flags, and cas",
    Buffer.concat([
      req(0x01, { key: "g", extras: setx(0xdeadbeef, 0), value: "v" }),
      req(0x00, { key: "g" }),
      req(0x0c, { key: "g" }),
      req(0x0d, { key: "g", opaque: 5 }),
      NOOP(),
    ]),
  ],
  ["get: empty key", Buffer.concat([req(0x00), NOOP()])],
  [
    "set: value cut short by the end of the stream",
    (() => {
      const r = req(0x01, { key: "a", extras: setx(0, 0), value: "abc" });
      r.writeUInt32BE(8 + 1 + 40, 8); // announces 40 bytes of value, 3 follow (then the sentinel)
      return r;
    })(),
  ],
  ["getq: empty key", Buffer.concat([req(0x09), NOOP()])],
  ["get: with a value in the body", Buffer.concat([req(0x00, { key: "a", value: "zz" }), NOOP()])],
  [
    "set: cas match, mismatch, on a missing key; quiet forms answer failures",
    Buffer.concat([
      req(0x01, { key: "c", extras: setx(0, 0), value: "1" }),
      req(0x01, { key: "c", extras: setx(0, 0), value: "2", cas: 1n }),
      req(0x11, { key: "c", extras: setx(0, 0), value: "3", cas: 1n }),
      req(0x11, { key: "c", extras: setx(0, 0), value: "4", cas: 2n }),
      req(0x11, { key: "m", extras: setx(0, 0), value: "4", cas: 2n }),
      req(0x00, { key: "c" }),
      NOOP(),
    ]),
  ],
  [
    "add/replace: quiet failures answered",
    Buffer.concat([
      req(0x12, { key: "a", extras: setx(0, 0), value: "1" }),
      req(0x12, { key: "a", extras: setx(0, 0), value: "2" }),
      req(0x13, { key: "zz", extras: setx(0, 0), value: "2" }),
      req(0x13, { key: "a", extras: setx(0, 0), value: "3" }),
      req(0x03, { key: "a", extras: setx(0, 0), value: "4", cas: 9n }),
      req(0x02, { key: "a", extras: setx(0, 0), value: "4", cas: 3n }),
      req(0x00, { key: "a" }),
      NOOP(),
    ]),
  ],
  [
    "append/prepend: quiet, missing, with cas",
    Buffer.concat([
      req(0x19, { key: "zz", value: "x" }),
      req(0x1a, { key: "zz", value: "x" }),
      req(0x01, { key: "p", extras: setx(3, 0), value: "m" }),
      req(0x19, { key: "p", value: ">" }),
      req(0x1a, { key: "p", value: "<" }),
      req(0x0f, { key: "p", value: "<", cas: 1n }),
      req(0x0e, { key: "p", value: "" }),
      req(0x0c, { key: "p" }),
      NOOP(),
    ]),
  ],
  [
    "delete: cas match and mismatch, quiet",
    Buffer.concat([
      req(0x01, { key: "d", extras: setx(0, 0), value: "x" }),
      req(0x04, { key: "d", cas: 2n }),
      req(0x14, { key: "d", cas: 1n }),
      req(0x14, { key: "d" }),
      req(0x04, { key: "d" }),
      NOOP(),
    ]),
  ],
  [
    "incr/decr: initial value, wrap at 2^64, decr below 0, quiet",
    Buffer.concat([
      req(0x05, { key: "n", extras: incx(1, 5, 0) }),
      req(0x05, { key: "n", extras: ext([-1, 8], [0, 8], [0, 4]) }),
      req(0x05, { key: "n", extras: ext([-1, 8], [0, 8], [0, 4]) }),
      req(0x06, { key: "n", extras: incx(1000, 0, 0) }),
      req(0x16, { key: "n", extras: incx(1, 0, 0) }),
      req(0x15, { key: "q", extras: incx(1, 7, 0) }),
      req(0x06, { key: "q", extras: incx(0, 7, 0) }),
      req(0x00, { key: "n" }),
      req(0x00, { key: "q" }),
      NOOP(),
    ]),
  ],
  [
    "incr/decr: non-numeric, missing with exptime -1, quiet errors answered",
    Buffer.concat([
      req(0x01, { key: "t", extras: setx(0, 0), value: "12a" }),
      req(0x15, { key: "t", extras: incx(1, 0, 0) }),
      req(0x16, { key: "zz", extras: incx(1, 0, 0xffffffff) }),
      req(0x01, { key: "big", extras: setx(0, 0), value: "18446744073709551616" }),
      req(0x05, { key: "big", extras: incx(1, 0, 0) }),
      NOOP(),
    ]),
  ],
  [
    "flush: with a delay, quiet",
    Buffer.concat([
      req(0x01, { key: "a", extras: setx(0, 0), value: "x" }),
      req(0x08, { extras: ext([1000, 4]) }),
      req(0x00, { key: "a" }),
      req(0x18),
      req(0x00, { key: "a" }),
      NOOP(),
    ]),
  ],
  ["version, noop", Buffer.concat([req(0x0b, { opaque: 1 }), NOOP(), req(0x0b, { opaque: 2 }), NOOP()])],
  [
    "quit after answers",
    Buffer.concat([req(0x01, { key: "a", extras: setx(0, 0), value: "x" }), req(0x07), NOOP()]),
  ],
  [
    "touch/gat: value, quiet miss, key form",
    Buffer.concat([
      req(0x01, { key: "t", extras: setx(9, 0), value: "value" }),
      req(0x1c, { key: "t", extras: ext([0, 4]) }),
      req(0x1d, { key: "t", extras: ext([0, 4]) }),
      req(0x1e, { key: "t", extras: ext([0, 4]) }),
      req(0x23, { key: "t", extras: ext([0, 4]) }),
      req(0x24, { key: "t", extras: ext([0, 4]) }),
      req(0x1e, { key: "zz", extras: ext([0, 4]) }),
      req(0x24, { key: "zz", extras: ext([0, 4]) }),
      req(0x1c, { key: "t", extras: ext([-1, 4]) }),
      req(0x00, { key: "t" }),
      NOOP(),
    ]),
  ],
  [
    "incr/decr with a cas",
    Buffer.concat([
      req(0x01, { key: "n", extras: setx(0, 0), value: "5" }),
      req(0x05, { key: "n", extras: incx(1, 0, 0), cas: 999n }),
      req(0x05, { key: "n", extras: incx(1, 0, 0), cas: 1n }),
      req(0x06, { key: "n", extras: incx(1, 0, 0), cas: 2n }),
      req(0x15, { key: "n", extras: incx(1, 0, 0), cas: 7n }),
      req(0x05, { key: "zz", extras: incx(1, 4, 0), cas: 7n }),
      req(0x00, { key: "n" }),
      NOOP(),
    ]),
  ],
  [
    "datatype and vbucket fields set",
    Buffer.concat(
      [req(0x01, { key: "a", extras: setx(0, 0), value: "x" }), req(0x00, { key: "a" }), NOOP()].map((r) => {
        r[5] = 1;
        r.writeUInt16BE(0x1234, 6);
        return r;
      }),
    ),
  ],
  [
    "empty value, relative and absolute expiry",
    Buffer.concat([
      req(0x01, { key: "e", extras: setx(1, 0), value: "" }),
      req(0x00, { key: "e" }),
      req(0x01, { key: "p", extras: setx(0, 2592001), value: "x" }),
      req(0x00, { key: "p" }),
      req(0x01, { key: "r", extras: setx(0, 2592000), value: "x" }),
      req(0x00, { key: "r" }),
      NOOP(),
    ]),
  ],
  ["stat: sizes", Buffer.concat([req(0x10, { key: "sizes" }), NOOP()])],
  ["stat: items, empty", Buffer.concat([req(0x10, { key: "items" }), NOOP()])],
  ["stat: sizes_disable", Buffer.concat([req(0x10, { key: "sizes_disable" }), NOOP()])],
  ["stat: conns (ASCII only)", Buffer.concat([req(0x10, { key: "conns" }), NOOP()])],
  [
    "stat: reset as a prefix",
    Buffer.concat([req(0x10, { key: "resetx" }), req(0x10, { key: "sizesx" }), NOOP()]),
  ],
  ["stat: detail", Buffer.concat([req(0x10, { key: "detail" }), NOOP()])],
  ["bad magic 0x00", Buffer.concat([req(0x0a, { magic: 0x00 }), NOOP()])],
  ["bad magic after a request", Buffer.concat([req(0x00, { key: "a" }), req(0x0a, { magic: 0x79 })])],
  [
    "unknown opcode 0x1b, 0x20..0x22, 0x30, 0xff",
    Buffer.concat([0x1b, 0x20, 0x21, 0x22, 0x30, 0x3d, 0xff].map((op) => req(op, { opaque: op }))).subarray(
      0,
    ),
  ],
  ["unknown opcode, quiet-looking 0x1f", Buffer.concat([req(0x1f), NOOP()])],
  // wrong extras/key/body shapes: memcached answers EINVAL and closes
  ["bad shape: set without extras", Buffer.concat([req(0x01, { key: "a", value: "x" }), NOOP()])],
  [
    "bad shape: set with 4-byte extras",
    Buffer.concat([req(0x01, { key: "a", extras: ext([0, 4]), value: "x" }), NOOP()]),
  ],
  ["bad shape: setq without key", Buffer.concat([req(0x11, { extras: setx(0, 0), value: "x" }), NOOP()])],
  [
    "bad shape: add with 12-byte extras",
    Buffer.concat([req(0x02, { key: "a", extras: Buffer.alloc(12), value: "x" }), NOOP()]),
  ],
  [
    "bad shape: append with extras",
    Buffer.concat([req(0x0e, { key: "a", extras: setx(0, 0), value: "x" }), NOOP()]),
  ],
  ["bad shape: prepend without key", Buffer.concat([req(0x0f, { value: "x" }), NOOP()])],
  ["bad shape: delete with extras", Buffer.concat([req(0x04, { key: "a", extras: ext([0, 4]) }), NOOP()])],
  ["bad shape: delete with a value", Buffer.concat([req(0x04, { key: "a", value: "x" }), NOOP()])],
  [
    "bad shape: incr with 8-byte extras",
    Buffer.concat([req(0x05, { key: "a", extras: ext([1, 8]) }), NOOP()]),
  ],
  ["bad shape: decrq without key", Buffer.concat([req(0x16, { extras: incx(1, 0, 0) }), NOOP()])],
  ["bad shape: touch without extras", Buffer.concat([req(0x1c, { key: "a" }), NOOP()])],
  ["bad shape: gat with 8-byte extras", Buffer.concat([req(0x1d, { key: "a", extras: setx(0, 0) }), NOOP()])],
  ["bad shape: gatq without key", Buffer.concat([req(0x1e, { extras: ext([0, 4]) }), NOOP()])],
  ["bad shape: noop with extras", Buffer.concat([req(0x0a, { extras: ext([0, 4]) }), NOOP()])],
  ["bad shape: version with a key", Buffer.concat([req(0x0b, { key: "a" }), NOOP()])],
  ["bad shape: quit with a value", Buffer.concat([req(0x07, { value: "x" }), NOOP()])],
  ["bad shape: flush with 8-byte extras", Buffer.concat([req(0x08, { extras: setx(0, 0) }), NOOP()])],
  ["bad shape: flush with a key", Buffer.concat([req(0x08, { key: "a" }), NOOP()])],
  ["bad shape: stat with extras", Buffer.concat([req(0x10, { extras: ext([0, 4]) }), NOOP()])],
  [
    "bad shape: body shorter than key + extras",
    Buffer.concat([
      (() => {
        const r = req(0x00, { key: "abcd" });
        r.writeUInt32BE(2, 8);
        return r.subarray(0, 26);
      })(),
      NOOP(),
    ]),
  ],
  ["key too long: set", Buffer.concat([req(0x01, { key: K251, extras: setx(0, 0), value: "x" }), NOOP()])],
  ["key too long: getk", Buffer.concat([req(0x0c, { key: K251 }), NOOP()])],
  ["key too long: delete", Buffer.concat([req(0x04, { key: K251 }), NOOP()])],
  ["key too long: incr", Buffer.concat([req(0x05, { key: K251, extras: incx(1, 0, 0) }), NOOP()])],
  ["key too long: touch", Buffer.concat([req(0x1c, { key: K251, extras: ext([0, 4]) }), NOOP()])],
  ["key too long: append", Buffer.concat([req(0x0e, { key: K251, value: "x" }), NOOP()])],
  [
    "expiration is unsigned: set, touch, incr, flush with 0xffffffff",
    Buffer.concat([
      req(0x01, { key: "s", extras: setx(0, 0xffffffff), value: "x" }),
      req(0x00, { key: "s" }),
      req(0x1c, { key: "s", extras: ext([0xfffffffe, 4]) }),
      req(0x00, { key: "s" }),
      req(0x05, { key: "n", extras: incx(1, 3, 0xfffffffe) }),
      req(0x00, { key: "n" }),
      req(0x08, { extras: ext([0xfffffffe, 4]) }),
      req(0x00, { key: "n" }),
      NOOP(),
    ]),
  ],
  [
    "sasl: list mechs, auth, step (not enabled)",
    Buffer.concat([
      req(0x20),
      req(0x21, { key: "PLAIN", value: "\0u\0p" }),
      req(0x22, { key: "PLAIN", value: "xy" }),
      NOOP(),
    ]),
  ],
  ["sasl: list mechs with a key", Buffer.concat([req(0x20, { key: "x" }), NOOP()])],
  ["sasl: auth without key", Buffer.concat([req(0x21, { value: "x" }), NOOP()])],
  [
    "stat with a value after the key (read as the next request)",
    Buffer.concat([req(0x10, { key: "reset", value: NOOP() }), NOOP()]),
  ],
  [
    "touch with a value after the key (read as the next request)",
    Buffer.concat([
      req(0x01, { key: "t", extras: setx(0, 0), value: "x" }),
      req(0x1c, { key: "t", extras: ext([0, 4]), value: NOOP() }),
      NOOP(),
    ]),
  ],
  ["unknown opcode with a key too long", Buffer.concat([req(0x40, { key: K251 }), NOOP()])],
  [
    "header split: a bad header is answered once its extras and key are in",
    [req(0x00, { key: "abcd" }).subarray(0, 24)].map(
      (h) => (h.writeUInt32BE(2, 8), Buffer.concat([h, Buffer.from("ab")])),
    )[0],
  ],
  [
    "key length 250",
    Buffer.concat([
      req(0x01, { key: K250, extras: setx(0, 0), value: "x" }),
      req(0x0c, { key: K250 }),
      NOOP(),
    ]),
  ],
];

for (const [name, s] of binary)
  mtest(`binary ${name}: same bytes as memcached`, () => same(name, s, [0, 1, 5]));

mtest("binary 600 KB value in 1460-byte segments, quiet deletes, append with cas", async () => {
  const v = Buffer.alloc(600_000);
  for (let i = 0; i < v.length; i++) v[i] = (i * 13) & 0xff;
  const s = Buffer.concat([
    req(0x01, { key: "big", extras: setx(0xabcdef01, 0), value: v }),
    req(0x0c, { key: "big" }),
    req(0x01, { key: "a", extras: setx(0, 100), value: "x" }),
    req(0x0e, { key: "a", value: "y", cas: 2n }),
    req(0x0e, { key: "a", value: "z", cas: 99n }),
    req(0x14, { key: "a" }),
    req(0x14, { key: "a" }),
    req(0x00, { key: "a" }),
    NOOP(),
  ]);
  await same("binary big", s, [0, 1460]);
});

mtest("binary random request streams (seeded): same bytes as memcached", async () => {
  for (let seed = 1; seed <= 10; seed++) {
    let x = seed * 0x2545f491;
    const rnd = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const pick = <T>(a: T[]) => a[rnd(a.length)];
    const key = () => pick(["a", "b", "num", "k" + rnd(4)]);
    const val = () => (rnd(2) ? String(rnd(100000)) : "v".repeat(rnd(30)) + pick(["", "1", " "]));
    const cas = () => BigInt(rnd(4) === 0 ? rnd(40) : 0);
    const parts: Buffer[] = [];
    for (let i = 0; i < 120; i++) {
      const r = rnd(14);
      const o = { opaque: i };
      if (r < 4) {
        const op = pick([0x01, 0x02, 0x03, 0x11, 0x12, 0x13]);
        parts.push(
          req(op, {
            ...o,
            key: key(),
            extras: setx(rnd(3) * 0x7fff, pick([0, 1000])),
            value: val(),
            cas: cas(),
          }),
        );
      } else if (r < 5)
        parts.push(req(pick([0x0e, 0x0f, 0x19, 0x1a]), { ...o, key: key(), value: val(), cas: cas() }));
      else if (r < 8) parts.push(req(pick([0x00, 0x09, 0x0c, 0x0d]), { ...o, key: key() }));
      else if (r < 9) parts.push(req(pick([0x04, 0x14]), { ...o, key: key(), cas: cas() }));
      else if (r < 11)
        parts.push(
          req(pick([0x05, 0x15]), {
            ...o,
            key: key(),
            extras: incx(rnd(50), rnd(1000), pick([0, 0xffffffff])),
          }),
        );
      else if (r < 12)
        parts.push(
          req(pick([0x1c, 0x1d, 0x1e, 0x23, 0x24]), { ...o, key: key(), extras: ext([pick([0, 100]), 4]) }),
        );
      else if (r < 13) parts.push(req(pick([0x0a, 0x0b, 0x08]), o));
      else parts.push(req(0x00, { ...o, key: key() }));
    }
    parts.push(NOOP());
    const whole = Buffer.concat(parts);
    await same(`binary random seed ${seed}`, whole, [0, 1 + rnd(100)]);
  }
});

mtest("binary stat: one packet per stat with memcached's names in order, then an empty one", async () => {
  // every counting path first: hits, misses, quiet forms, cas mismatches, touches
  const cmds = [
    req(0x01, { key: "a", extras: setx(0, 0), value: "x" }),
    req(0x00, { key: "a" }),
    req(0x09, { key: "zz" }),
    req(0x0c, { key: "zz" }),
    req(0x1c, { key: "a", extras: ext([100, 4]) }),
    req(0x1d, { key: "zz", extras: ext([100, 4]) }),
    req(0x05, { key: "n", extras: incx(1, 5, 0) }),
    req(0x05, { key: "n", extras: incx(1, 5, 0) }),
    req(0x06, { key: "m", extras: incx(1, 5, 0xffffffff) }),
    req(0x06, { key: "n", extras: incx(1, 5, 0) }),
    req(0x01, { key: "a", extras: setx(0, 0), value: "y", cas: 99n }),
    req(0x01, { key: "q", extras: setx(0, 0), value: "y", cas: 99n }),
    req(0x0e, { key: "a", value: "z" }),
    req(0x04, { key: "a" }),
    req(0x14, { key: "a" }),
    req(0x08, { extras: ext([100000, 4]) }),
    NOOP(),
  ];
  const s = Buffer.concat([...cmds, req(0x10)]);
  const parse = (x: Buffer) => {
    const out: [string, string][] = [];
    let p = x.indexOf(Buffer.from([0x81, 0x0a])); // after the noop's answer
    assert.ok(p >= 0, "the noop answered");
    p += 24;
    while (p + 24 <= x.length) {
      const kl = x.readUInt16BE(p + 2);
      const bl = x.readUInt32BE(p + 8);
      out.push([x.toString("latin1", p + 24, p + 24 + kl), x.toString("latin1", p + 24 + kl, p + 24 + bl)]);
      p += 24 + bl;
    }
    return out;
  };
  const real = parse((await viaReal([s])).out);
  const app = parse(viaApp([s]).out);
  assert.equal(app[app.length - 1], ["", ""]);
  assert.equal(real[real.length - 1], ["", ""]);
  const names = real.map((x) => x[0]);
  let last = -1;
  for (const [k] of app.slice(0, -1)) {
    const i = names.indexOf(k);
    assert.ok(i > last, `stat ${k} in memcached's order`);
    last = i;
  }
  const rm = new Map(real);
  for (const [k, v] of app)
    if (EXACT.includes(k)) assert.is(v, rm.get(k), k);
    else if (k) assert.is(shape(v), shape(rm.get(k)!), `stat ${k}: app ${v}, memcached ${rm.get(k)}`);
});

test.run();
