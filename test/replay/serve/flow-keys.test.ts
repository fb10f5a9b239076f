// Serve's live-flow keys by slot (host/replay/serve/flow.ts FlowKeys): one
// growing array instead of a Uint8Array per flow. A slot is reused by later
// flows, so a key written over a longer one must leave no byte of it behind,
// growth must keep the keys already written, and the key a flow hands out is a
// copy that a later flow on its slot does not change.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FLOW_KEY_BYTES, FlowKeys, ServeFlow } from "../../../host/replay/serve/flow.ts";

/** Address words as the decode summary holds them: 16 bytes each, IPv4 in the first 4. */
function addrs(src: number[], dst: number[]): Uint8Array {
  const u8 = new Uint8Array(64);
  u8.set(src, 8);
  u8.set(dst, 40);
  return u8;
}

function expected(v6: boolean, proto: number, ports: number, src: number[], dst: number[]): number[] {
  const k = new Array<number>(FLOW_KEY_BYTES).fill(0);
  k[0] = v6 ? 6 : 4;
  k[1] = proto;
  for (let j = 0; j < 4; j++) k[4 + j] = (ports >>> (8 * j)) & 0xff;
  src.forEach((b, j) => (k[8 + j] = b));
  dst.forEach((b, j) => (k[24 + j] = b));
  return k;
}

const V6S = [0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const V6D = [0x20, 0x01, 0x0d, 0xb8, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44];
const V4S = [198, 18, 0, 1];
const V4D = [198, 19, 0, 2];

test("an IPv4 key written over an IPv6 one in the same slot: the address bytes past 4 are 0", () => {
  const keys = new FlowKeys();
  const u6 = addrs(V6S, V6D);
  keys.put(3, true, 6, 0x1f90c001, u6, 8, 40);
  assert.equal([...keys.copy(3)], expected(true, 6, 0x1f90c001, V6S, V6D));
  const u4 = addrs(V4S, V4D);
  u4.fill(0xab, 12, 24); // bytes past the IPv4 address in the summary are not part of the key
  u4.fill(0xcd, 44, 56);
  keys.put(3, false, 17, 0x00350401, u4, 8, 40);
  assert.equal([...keys.copy(3)], expected(false, 17, 0x00350401, V4S, V4D));
});

test("growth keeps every key written; a flow's key is a copy its slot's next flow does not change", () => {
  const keys = new FlowKeys();
  const u = addrs(V4S, V4D);
  const n = 5000; // past several doublings of the initial 64 slots
  for (let s = 0; s < n; s++) keys.put(s, false, 6, (s << 16) | 80, u, 8, 40);
  for (const s of [0, 63, 64, 1000, n - 1])
    assert.equal([...keys.copy(s)], expected(false, 6, (s << 16) | 80, V4S, V4D), `slot ${s}`);
  const f = new ServeFlow(7, 64, 0, 6, null, keys, 1, 2, 1460, 7, true, true, 0, true, 1448);
  const before = f.key;
  assert.equal([...before], expected(false, 6, (64 << 16) | 80, V4S, V4D));
  keys.put(64, true, 6, 0x01bb0001, addrs(V6S, V6D), 8, 40); // the slot's next flow
  assert.equal([...before], expected(false, 6, (64 << 16) | 80, V4S, V4D), "the copy stays");
  assert.equal([...f.key], expected(true, 6, 0x01bb0001, V6S, V6D), "the slot now holds the new key");
});

test.run();
