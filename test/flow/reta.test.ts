// RETA (128 flow groups → worker) and the dispatcher's hashBatch over record
// descriptors: link types, VLAN/QinQ, IPv6 extension headers, fragments,
// truncation, non-IP frames, symmetric hashing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SCRATCH_BASE, createCore, type Core } from "../../host/core/core.ts";
import {
  DESC_S_FLAGS,
  DESC_W_CAPLEN,
  DESC_W_LEN,
  DESC_W_LINKTYPE,
  DESC_W_OFF,
  DESC_WORDS,
} from "../../host/core/abi.gen.ts";

type Fn = (...a: number[]) => number;
const fns = (core: Core) => core.exports as unknown as Record<string, Fn>;
const mk = (workers: number, flags = 0) =>
  createCore({ mbufs: 16, flows: 16, ringSlots: 16, stagingBytes: 1 << 20, descSlots: 1024, workers, flags });

const ip4 = (s: string) => s.split(".").map(Number);
function ip6(s: string): number[] {
  const [a, b] = s.split("::");
  const head = a ? a.split(":") : [];
  const tail = b !== undefined && b !== "" ? b.split(":") : [];
  const groups =
    b === undefined ? head : [...head, ...Array(8 - head.length - tail.length).fill("0"), ...tail];
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}
const be16 = (v: number) => [v >> 8, v & 0xff];
const ETH = (type: number) => [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, ...be16(type)];
const vlan = (inner: number) => [0, 5, ...be16(inner)]; // TCI, then the next EtherType
function ipv4(src: string, dst: string, proto: number, frag = 0): number[] {
  return [0x45, 0, 0, 40, 0, 1, ...be16(frag), 64, proto, 0, 0, ...ip4(src), ...ip4(dst)];
}
function ipv6(src: string, dst: string, nh: number): number[] {
  return [0x60, 0, 0, 0, 0, 20, nh, 64, ...ip6(src), ...ip6(dst)];
}
const l4 = (sp: number, dp: number) => [
  ...be16(sp),
  ...be16(dp),
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0x50,
  0x02,
  0,
  0,
  0,
  0,
  0,
  0,
];

const F = { V4: 1, V6: 2, PORTS: 4, FRAG: 8, TRUNC: 16 };
const NO_WORKER = 0xffff;

interface Case {
  name: string;
  frame: number[];
  linktype: number;
  caplen?: number;
  descFlags?: number;
  hash: number;
  flags: number;
}
const cases: Case[] = [
  {
    name: "eth ipv4 tcp",
    linktype: 1,
    frame: [...ETH(0x800), ...ipv4("66.9.149.187", "161.142.100.80", 6), ...l4(2794, 1766)],
    hash: 0x51ccc178,
    flags: F.V4 | F.PORTS,
  },
  {
    name: "eth vlan ipv4 udp",
    linktype: 1,
    frame: [...ETH(0x8100), ...vlan(0x800), ...ipv4("199.92.111.2", "65.69.140.83", 17), ...l4(14230, 4739)],
    hash: 0xc626b0ea,
    flags: F.V4 | F.PORTS,
  },
  {
    name: "eth qinq ipv6 tcp",
    linktype: 1,
    frame: [
      ...ETH(0x88a8),
      ...vlan(0x8100),
      ...vlan(0x86dd),
      ...ipv6("3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 6),
      ...l4(2794, 1766),
    ],
    hash: 0x40207d3d,
    flags: F.V6 | F.PORTS,
  },
  {
    name: "ipv6 hop-by-hop then tcp",
    linktype: 1,
    frame: [
      ...ETH(0x86dd),
      ...ipv6("3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 0),
      6,
      0,
      5,
      2,
      0,
      0,
      1,
      0,
      ...l4(14230, 4739),
    ],
    hash: 0xdde51bbf,
    flags: F.V6 | F.PORTS,
  },
  {
    name: "ipv4 first fragment (MF): addresses only",
    linktype: 1,
    frame: [...ETH(0x800), ...ipv4("24.19.198.95", "12.22.207.184", 6, 0x2000), ...l4(12898, 38024)],
    hash: 0xd2d0a5de,
    flags: F.V4 | F.FRAG,
  },
  {
    name: "ipv4 icmp: addresses",
    linktype: 1,
    frame: [...ETH(0x800), ...ipv4("38.27.205.30", "209.142.163.6", 1), 8, 0, 0, 0, 0, 0, 0, 0],
    hash: 0x82989176,
    flags: F.V4,
  },
  { name: "arp: no IP", linktype: 1, frame: [...ETH(0x806), ...Array(28).fill(0)], hash: 0, flags: 0 },
  {
    name: "raw ip (101)",
    linktype: 101,
    frame: [...ipv4("153.39.163.191", "202.188.127.2", 6), ...l4(44251, 1303)],
    hash: 0x10e828a2,
    flags: F.V4 | F.PORTS,
  },
  {
    name: "ipv4 linktype (228)",
    linktype: 228,
    frame: [...ipv4("153.39.163.191", "202.188.127.2", 6), ...l4(44251, 1303)],
    hash: 0x10e828a2,
    flags: F.V4 | F.PORTS,
  },
  {
    name: "linux sll (113)",
    linktype: 113,
    frame: [
      0,
      0,
      0,
      1,
      0,
      6,
      1,
      2,
      3,
      4,
      5,
      6,
      0,
      0,
      ...be16(0x800),
      ...ipv4("66.9.149.187", "161.142.100.80", 6),
      ...l4(2794, 1766),
    ],
    hash: 0x51ccc178,
    flags: F.V4 | F.PORTS,
  },
  {
    name: "linux sll2 (276)",
    linktype: 276,
    frame: [
      ...be16(0x86dd),
      0,
      0,
      0,
      0,
      0,
      2,
      0,
      1,
      0,
      6,
      1,
      2,
      3,
      4,
      5,
      6,
      0,
      0,
      ...ipv6("3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 17),
      ...l4(44251, 38024),
    ],
    hash: 0x02d1feef,
    flags: F.V6 | F.PORTS,
  },
  {
    name: "bsd null (0), little-endian family",
    linktype: 0,
    frame: [2, 0, 0, 0, ...ipv4("66.9.149.187", "161.142.100.80", 6), ...l4(2794, 1766)],
    hash: 0x51ccc178,
    flags: F.V4 | F.PORTS,
  },
  {
    name: "bsd loop (108), ipv6 family 30",
    linktype: 108,
    frame: [0, 0, 0, 30, ...ipv6("3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 6), ...l4(2794, 1766)],
    hash: 0x40207d3d,
    flags: F.V6 | F.PORTS,
  },
  {
    name: "ipv4 tcp cut before the ports",
    linktype: 1,
    caplen: 14 + 20 + 2,
    frame: [...ETH(0x800), ...ipv4("66.9.149.187", "161.142.100.80", 6), ...l4(2794, 1766)],
    hash: 0x323e8fc2,
    flags: F.V4 | F.TRUNC,
  },
  {
    name: "ipv4 header cut",
    linktype: 1,
    caplen: 14 + 10,
    frame: [...ETH(0x800), ...ipv4("66.9.149.187", "161.142.100.80", 6)],
    hash: 0,
    flags: F.TRUNC,
  },
  {
    name: "ipv6 later fragment: addresses only",
    linktype: 1,
    frame: [
      ...ETH(0x86dd),
      ...ipv6("3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 44),
      6,
      0,
      0,
      0x08,
      0,
      0,
      0,
      1,
      ...l4(2794, 1766),
    ],
    hash: 0x2cc18cd5,
    flags: F.V6 | F.FRAG,
  },
  {
    name: "not a packet (pcapng custom block)",
    linktype: 1,
    descFlags: 2,
    frame: [...ETH(0x800), ...ipv4("66.9.149.187", "161.142.100.80", 6), ...l4(2794, 1766)],
    hash: 0,
    flags: 0,
  },
  {
    name: "unknown link type",
    linktype: 147,
    frame: [...ipv4("66.9.149.187", "161.142.100.80", 6), ...l4(2794, 1766)],
    hash: 0,
    flags: 0,
  },
];

function load(core: Core, list: Case[]): void {
  let at = core.regions.staging.offset;
  const d32 = core.regions.desc.offset >>> 2;
  list.forEach((c, i) => {
    core.u8.set(c.frame, at);
    const w = d32 + i * DESC_WORDS;
    core.u32[w + DESC_W_OFF] = at;
    core.u32[w + DESC_W_CAPLEN] = c.caplen ?? c.frame.length;
    core.u32[w + DESC_W_LEN] = c.frame.length;
    core.u32[w + DESC_W_LINKTYPE] = c.linktype | ((c.descFlags ?? 0) << DESC_S_FLAGS);
    at += (c.frame.length + 7) & ~7;
  });
}

function rec(core: Core, k: number) {
  const b = SCRATCH_BASE + k * 8;
  return {
    hash: core.u32[b >>> 2],
    worker: core.u16[(b + 4) >>> 1],
    group: core.u8[b + 6],
    flags: core.u8[b + 7],
  };
}

test("RETA: default round-robin, set/get, lookup by hash, bounds", () => {
  const core = mk(3);
  const f = fns(core);
  for (let g = 0; g < 128; g++) assert.is(f.retaGet(g), g % 3);
  assert.is(f.retaLookup(0x51ccc178), 0x78 % 3);
  assert.is(f.retaSet(0x78, 2), 0);
  assert.is(f.retaLookup(0x51ccc178), 2);
  assert.is(f.retaLookup(0xffffff78), 2, "only the low 7 bits count");
  assert.is(f.retaSet(128, 0), -1);
  assert.is(f.retaSet(0, 3), -1, "worker out of range");
  assert.is(core.u8[f.retaPtr() + 0x78], 2, "table readable at retaPtr()");
  assert.is(fns(mk(1)).retaGet(77), 0);
});

test("hashBatch: RSS hash, flow group and worker per descriptor", () => {
  const core = mk(4);
  const f = fns(core);
  load(core, cases);
  f.retaSet(0x78, 3);
  assert.is(f.hashBatch(cases.length), cases.length);
  cases.forEach((c, k) => {
    const r = rec(core, k);
    assert.is(r.hash, c.hash, `${c.name}: hash`);
    assert.is(r.flags, c.flags, `${c.name}: flags`);
    assert.is(r.group, c.hash & 127, `${c.name}: group`);
    const ip = (c.flags & (F.V4 | F.V6)) !== 0;
    assert.is(r.worker, ip ? f.retaGet(c.hash & 127) : NO_WORKER, `${c.name}: worker`);
  });
  assert.is(rec(core, 0).worker, 3, "follows retaSet");
  // hashBatchFrom: descriptors 2.. land in records 0..
  assert.is(f.hashBatchFrom(2, 3), 3);
  assert.is(rec(core, 0).hash, cases[2].hash);
  assert.is(rec(core, 2).hash, cases[4].hash);
});

test("hashBatch handles at most 512 descriptors per call (SCRATCH size)", () => {
  const core = mk(2);
  const f = fns(core);
  const many = Array.from({ length: 600 }, () => cases[0]);
  load(core, many);
  assert.is(f.hashBatch(600), 512);
  assert.is(rec(core, 511).hash, 0x51ccc178);
});

test("symmetric flag: both directions of a flow get the same hash and worker", () => {
  const core = mk(4, 1);
  const f = fns(core);
  const fwd = [...ETH(0x800), ...ipv4("198.18.0.1", "198.18.5.9", 6), ...l4(40000, 443)];
  const rev = [...ETH(0x800), ...ipv4("198.18.5.9", "198.18.0.1", 6), ...l4(443, 40000)];
  const fwd6 = [...ETH(0x86dd), ...ipv6("2001:db8::1", "2001:db8::9:2", 17), ...l4(5353, 53)];
  const rev6 = [...ETH(0x86dd), ...ipv6("2001:db8::9:2", "2001:db8::1", 17), ...l4(53, 5353)];
  const list = [fwd, rev, fwd6, rev6].map((frame) => ({ name: "", frame, linktype: 1, hash: 0, flags: 0 }));
  load(core, list);
  f.hashBatch(4);
  assert.equal(rec(core, 0), rec(core, 1));
  assert.equal(rec(core, 2), rec(core, 3));
  assert.is.not(rec(core, 0).hash, 0);
});

test("IPv4 options (IHL > 5) before TCP and UDP: the ports after the options are hashed, as without options", () => {
  // RFC 791 §3.1: the transport header starts at IHL·4. Router Alert (RFC 2113, 4 bytes)
  // makes IHL 6; NOPs, a timestamp option and EOL fill 20 bytes for IHL 10.
  const routerAlert = [0x94, 4, 0, 0];
  const long = [1, 1, 0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0]; // NOP NOP TS(12) NOP x7 EOL
  const withOpts = (ip: number[], opts: number[]) => {
    const h = [...ip];
    h[0] = 0x40 | ((20 + opts.length) >> 2);
    return [...h.slice(0, 20), ...opts];
  };
  // The published RSS verification vectors (the same tuples as the first cases above).
  const tcp4 = ipv4("66.9.149.187", "161.142.100.80", 6);
  const udp4 = ipv4("199.92.111.2", "65.69.140.83", 17);
  const list: Case[] = [
    {
      name: "tcp, IHL 6",
      linktype: 1,
      frame: [...ETH(0x800), ...withOpts(tcp4, routerAlert), ...l4(2794, 1766)],
      hash: 0x51ccc178,
      flags: F.V4 | F.PORTS,
    },
    {
      name: "tcp, IHL 10",
      linktype: 1,
      frame: [...ETH(0x800), ...withOpts(tcp4, long), ...l4(2794, 1766)],
      hash: 0x51ccc178,
      flags: F.V4 | F.PORTS,
    },
    {
      name: "udp, IHL 6",
      linktype: 1,
      frame: [...ETH(0x800), ...withOpts(udp4, routerAlert), ...l4(14230, 4739)],
      hash: 0xc626b0ea,
      flags: F.V4 | F.PORTS,
    },
    {
      name: "udp, IHL 10, raw IP",
      linktype: 101,
      frame: [...withOpts(udp4, long), ...l4(14230, 4739)],
      hash: 0xc626b0ea,
      flags: F.V4 | F.PORTS,
    },
    // Options present, ports cut by the captured length: addresses only, flagged.
    {
      name: "tcp, IHL 10, cut before the ports",
      linktype: 1,
      caplen: 14 + 40 + 2,
      frame: [...ETH(0x800), ...withOpts(tcp4, long), ...l4(2794, 1766)],
      hash: 0x323e8fc2,
      flags: F.V4 | F.TRUNC,
    },
  ];
  const core = mk(4);
  const f = fns(core);
  load(core, list);
  assert.is(f.hashBatch(list.length), list.length);
  list.forEach((c, k) => {
    const r = rec(core, k);
    assert.is(r.hash >>> 0, c.hash, `${c.name}: hash`);
    assert.is(r.flags, c.flags, `${c.name}: flags`);
    assert.is(r.worker, f.retaGet(c.hash & 127), `${c.name}: worker from the RETA`);
  });
});

test.run();
