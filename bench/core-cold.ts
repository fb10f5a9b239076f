// Why a lone frame costs the tap more than a frame in a stream: one ICMP echo
// request through a core configured as `ixwasm tap` configures it (no tap, no
// syscalls: rxPut, poll, txDrain), timed hot (back to back), after touching
// 64 MB (what other processes on the CPU do to the caches and TLB between
// sparse frames), and after 20 000 empty polls (a busy loop between frames).
// docs/measurement/performance-log.md §4 has the figures.
//   node --import tsx bench/core-cold.ts
import { createCore } from "../host/core/core.ts";
import { Nic } from "../host/runtime/nic.ts";
import { tapConfig, type TapOptions } from "../host/tap/tap.ts";
import { parseCidr } from "../host/io/netns.ts";

const o = {
  ip: parseCidr("198.18.0.2/24", 4, "ip"),
  mac: Buffer.from("0200c6120002", "hex"),
  app: "memcached",
  port: 0,
  mtu: 1500,
  conns: 4096,
} as TapOptions;
const core = createCore(tapConfig(o));
const nic = new Nic(core);
const poll = core.exports.poll as (nowNs: number) => number;

/** RFC 1071 checksum of b[s, e). */
function checksum(b: Buffer, s: number, e: number): number {
  let x = 0;
  for (let i = s; i < e; i += 2) x += (b[i] << 8) | (i + 1 < e ? b[i + 1] : 0);
  while (x >> 16) x = (x & 0xffff) + (x >> 16);
  return ~x & 0xffff;
}

// 64-byte frame: 198.18.0.1 → 198.18.0.2, ICMP echo request with 22 bytes of data.
const f = Buffer.alloc(64);
Buffer.from("0200c6120002" + "0200c6120001" + "0800", "hex").copy(f, 0);
Buffer.from("45000032000040004001" + "0000" + "c6120001c6120002", "hex").copy(f, 14);
f.writeUInt16BE(checksum(f, 14, 34), 24);
f[34] = 8;
f.writeUInt16BE(0x1234, 38);
f.writeUInt16BE(1, 40);
for (let i = 42; i < 64; i++) f[i] = i;
f.writeUInt16BE(checksum(f, 34, 64), 36);

/** One echo through the core: µs from poll() to the reply drained. */
function echo(): number {
  nic.rxPut(f, 0, 64);
  nic.rxCommit();
  const t0 = performance.now();
  poll(t0 * 1e6);
  let out = 0;
  nic.txDrain(() => out++);
  const us = (performance.now() - t0) * 1000;
  if (out !== 1) throw new Error(`${out} frames out for one echo request`);
  return us;
}

const big = new Uint8Array(64 << 20);
let sink = 0;
const q = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return [0.1, 0.5, 0.9].map((p) => s[Math.floor(p * s.length)].toFixed(2)).join(" / ");
};
for (let i = 0; i < 20000; i++) echo(); // compiled and warm
console.log(
  `load ${(await import("node:os"))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}`,
);
for (let r = 0; r < 3; r++) {
  const hot: number[] = [];
  const cold: number[] = [];
  const idle: number[] = [];
  for (let i = 0; i < 2000; i++) hot.push(echo());
  for (let i = 0; i < 200; i++) {
    for (let j = 0; j < big.length; j += 64) sink += big[j]++;
    cold.push(echo());
  }
  for (let i = 0; i < 200; i++) {
    for (let k = 0; k < 20000; k++) poll(performance.now() * 1e6);
    idle.push(echo());
  }
  console.log(
    `one echo through the core, µs p10 / p50 / p90: hot ${q(hot)}; after 64 MB touched ${q(cold)}; after 20 000 empty polls ${q(idle)}`,
  );
}
if (sink === 0.5) console.log(sink); // keeps the touching loop
