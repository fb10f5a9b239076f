// Toeplitz RSS hash: the published Microsoft RSS verification values (IPv4 and
// IPv6, with and without ports), reference vs table version on the same
// inputs, custom keys, and the symmetric key.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createCore, type Core } from "../../host/core/core.ts";
import { Mulberry32 } from "../../host/io/prng.ts";

type Fn = (...a: number[]) => number;
const fns = (core: Core) => core.exports as unknown as Record<string, Fn>;
const mk = (flags = 0, stagingBytes = 1 << 20) =>
  createCore({ mbufs: 16, flows: 16, ringSlots: 16, stagingBytes, descSlots: 16, flags });

export function ip4(s: string): number[] {
  return s.split(".").map(Number);
}
export function ip6(s: string): number[] {
  const [a, b] = s.split("::");
  const head = a ? a.split(":") : [];
  const tail = b !== undefined && b !== "" ? b.split(":") : [];
  const groups =
    b === undefined ? head : [...head, ...Array(8 - head.length - tail.length).fill("0"), ...tail];
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}
const be16 = (p: number) => [p >> 8, p & 0xff];

// Microsoft "Verifying the RSS Hash Calculation" suite (standard key):
// source, destination, source port, destination port, hash without ports, with ports.
const V4: [string, string, number, number, number, number][] = [
  ["66.9.149.187", "161.142.100.80", 2794, 1766, 0x323e8fc2, 0x51ccc178],
  ["199.92.111.2", "65.69.140.83", 14230, 4739, 0xd718262a, 0xc626b0ea],
  ["24.19.198.95", "12.22.207.184", 12898, 38024, 0xd2d0a5de, 0x5c2b394a],
  ["38.27.205.30", "209.142.163.6", 48228, 2217, 0x82989176, 0xafc7327f],
  ["153.39.163.191", "202.188.127.2", 44251, 1303, 0x5d1809c5, 0x10e828a2],
];
const V6: [string, string, number, number, number, number][] = [
  ["3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766, 0x2cc18cd5, 0x40207d3d],
  ["3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739, 0x0f0c461c, 0xdde51bbf],
  ["3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 44251, 38024, 0x4b61e985, 0x02d1feef],
];

test("ip6 helper expands ::", () => {
  assert.equal(ip6("ff02::1"), [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
});

for (const [name, vecs, addr] of [
  ["IPv4", V4, ip4],
  ["IPv6", V6, ip6],
] as const) {
  test(`${name}: Microsoft verification suite, reference and table versions`, () => {
    const core = mk();
    const f = fns(core);
    const p = core.regions.staging.offset;
    for (const [s, d, sp, dp, h2, h4] of vecs) {
      const bytes = [...addr(s), ...addr(d), ...be16(sp), ...be16(dp)];
      core.u8.set(bytes, p);
      const alen = bytes.length - 4;
      const tag = `${s}:${sp} -> ${d}:${dp}`;
      assert.is(f.toeplitzRef(p, alen) >>> 0, h2, `ref, no ports, ${tag}`);
      assert.is(f.toeplitz(p, alen) >>> 0, h2, `table, no ports, ${tag}`);
      assert.is(f.toeplitzRef(p, bytes.length) >>> 0, h4, `ref, ports, ${tag}`);
      assert.is(f.toeplitz(p, bytes.length) >>> 0, h4, `table, ports, ${tag}`);
      const half = alen / 2;
      const at = name === "IPv4" ? f.rssHashV4At : f.rssHashV6At;
      assert.is(at(p, p + half, sp, dp) >>> 0, h4, `specialised, ${tag}`);
    }
  });
}

test("reference and table agree on random inputs and random keys, every length", () => {
  const core = mk();
  const f = fns(core);
  const p = core.regions.staging.offset;
  const keyAt = p + 4096;
  const r = new Mulberry32(0x9e3779b9);
  const rnd = () => r.u32() & 0xff;
  for (let k = 0; k < 20; k++) {
    if (k > 0) {
      for (let i = 0; i < 40; i++) core.u8[keyAt + i] = rnd();
      f.rssSetKey(keyAt);
      assert.equal(
        Array.from(core.u8.subarray(f.rssKeyPtr(), f.rssKeyPtr() + 40)),
        Array.from(core.u8.subarray(keyAt, keyAt + 40)),
      );
    }
    for (let t = 0; t < 50; t++) {
      const len = 1 + (t % 36);
      for (let i = 0; i < len; i++) core.u8[p + i] = rnd();
      assert.is(f.toeplitz(p, len) >>> 0, f.toeplitzRef(p, len) >>> 0, `key ${k} len ${len}`);
    }
  }
});

test("default key is the Microsoft key; symmetric flag installs 0x6d5a repeated", () => {
  const std = mk();
  const k = fns(std).rssKeyPtr();
  assert.equal(Array.from(std.u8.subarray(k, k + 8)), [0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2]);
  const sym = mk(1);
  const ks = fns(sym).rssKeyPtr();
  for (let i = 0; i < 40; i += 2) assert.equal([sym.u8[ks + i], sym.u8[ks + i + 1]], [0x6d, 0x5a]);
});

test("symmetric key: hash(a→b) == hash(b→a) for IPv4 and IPv6; the standard key is not symmetric", () => {
  for (const flags of [1, 0]) {
    const core = mk(flags);
    const f = fns(core);
    const p = core.regions.staging.offset;
    const r = new Mulberry32(7);
    const rnd = () => r.u32() & 0xffff;
    let same = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      for (let i = 0; i < 32; i++) core.u8[p + i] = rnd() & 0xff;
      const sp = rnd();
      const dp = rnd();
      const v4 = f.rssHashV4At(p, p + 4, sp, dp) === f.rssHashV4At(p + 4, p, dp, sp);
      const v6 = f.rssHashV6At(p, p + 16, sp, dp) === f.rssHashV6At(p + 16, p, dp, sp);
      if (v4 && v6) same++;
    }
    if (flags) assert.is(same, trials);
    else assert.ok(same < 5, `standard key: ${same} symmetric by chance`);
  }
});

test("rssBench: the table version and the reference hash 1000 random 4-tuples alike (its speed: npm run bench kernels)", () => {
  const n = 1000;
  const core = mk();
  const f = fns(core);
  const p = core.regions.staging.offset;
  core.u8.set(new Mulberry32(1).bytes(n * 12), p);
  const fast = f.rssBench(p, n, 1);
  assert.is(fast, f.rssBench(p, n, 0), "same hashes (XOR of all)");
  assert.is.not(fast, 0);
});

test.run();
