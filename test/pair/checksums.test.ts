// pair's wire checksums (PairOptions.checksums, --checksums): off leaves the IPv4
// and TCP checksums zero and the cores do not check them (offload, as Linux's
// loopback); on fills them right; auto is on whenever the wire can change a byte.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { pairConfigs, pairOneThread, type PairOptions } from "../../host/pair/pair.ts";
import { CFG_F_NO_CSUM_CHECK, CFG_F_TX_CSUM_OFFLOAD } from "../../host/core/core.ts";

const base: PairOptions = {
  app: "echo",
  conns: 2,
  msgs: 4,
  size: 100,
  workers: 1,
  faults: {},
  timeoutS: 600,
  clock: "virtual",
};

const isTcp4 = (f: Uint8Array) => f[12] === 0x08 && f[13] === 0x00 && f[23] === 6;

/** RFC 1071 over the IPv4 header, and over the TCP pseudo-header and segment (RFC 9293 §3.1): 0 when right. */
function sums(f: Uint8Array): { ip: number; tcp: number; ipField: number; tcpField: number } {
  const add = (s: number, b: Uint8Array) => {
    for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (i + 1 < b.length ? b[i + 1] : 0);
    return s;
  };
  const fold = (s: number) => {
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return ~s & 0xffff;
  };
  const ihl = (f[14] & 15) * 4;
  const total = (f[16] << 8) | f[17];
  const l4 = f.subarray(14 + ihl, 14 + total);
  const pseudo = add(add(0, f.subarray(26, 34)), new Uint8Array([0, 6, l4.length >> 8, l4.length & 255]));
  const t = 14 + ihl + 16;
  return {
    ip: fold(add(0, f.subarray(14, 14 + ihl))),
    tcp: fold(add(pseudo, l4)),
    ipField: (f[24] << 8) | f[25],
    tcpField: (f[t] << 8) | f[t + 1],
  };
}

function run(checksums: PairOptions["checksums"]) {
  const seen: ReturnType<typeof sums>[] = [];
  const r = pairOneThread({
    ...base,
    checksums,
    linkFilter: (_dir, f) => {
      if (isTcp4(f)) seen.push(sums(f));
      return true;
    },
  });
  assert.ok(r.completed && r.errors === 0, JSON.stringify(r));
  assert.ok(seen.length > 10);
  return seen;
}

test("--checksums off: every IPv4 and TCP checksum field is zero, and the run completes", () => {
  for (const s of run("off")) assert.equal([s.ipField, s.tcpField], [0, 0]);
});

test("--checksums on, and auto with a filter that could change bytes: every checksum right", () => {
  for (const c of ["on", "auto"] as const)
    for (const s of run(c)) {
      assert.equal([s.ip, s.tcp], [0, 0], `${c}: ${JSON.stringify(s)}`);
      assert.ok(s.tcpField !== 0);
    }
});

test("auto: offload on a wire that cannot change bytes (loss, reorder, dup), not with --corrupt", () => {
  const off = CFG_F_NO_CSUM_CHECK | CFG_F_TX_CSUM_OFFLOAD;
  const flags = (o: Partial<PairOptions>) => {
    const c = pairConfigs({ ...base, ...o });
    return [(c.client.flags ?? 0) & off, (c.server.flags ?? 0) & off];
  };
  assert.equal(flags({}), [off, off]);
  assert.equal(flags({ faults: { loss: 0.1, reorder: 0.1, dup: 0.1 } }), [off, off]);
  assert.equal(flags({ faults: { corrupt: 0.01 } }), [0, 0]);
  assert.equal(flags({ checksums: "on" }), [0, 0]);
  assert.equal(flags({ checksums: "off", faults: { corrupt: 0.01 } }), [off, off]);
});

test.run();
