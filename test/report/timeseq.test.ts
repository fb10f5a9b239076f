// host/report/timeseq.ts without a replay: --flow parsing, the cap on points,
// sequence numbers past 2^32, the client's window scaling, where marks sit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  MAX_POINTS,
  ServeObserver,
  parseFlowSpecs,
  parseAddr,
  type ObservedFlow,
} from "../../host/report/timeseq.ts";
import { MIS_EXTRA, MIS_MISSING } from "../../host/report/fidelity.ts";
import { UsageError } from "../../host/io/errors.ts";

const ISN = 0xfffff000 | 0; // 4 KiB below the wrap, as serve passes it (int32)

function flow(ord: number, slot: number, wscale = 7): ObservedFlow {
  const key = new Uint8Array(40);
  key[0] = 4;
  key[1] = 6;
  key[4] = 40000 & 0xff; // client port, as the key holds it (host/replay/serve/prescan.ts flowName)
  key[5] = 40000 >>> 8;
  key[6] = 80;
  key.set([198, 18, 0, 1], 8);
  key.set([198, 18, 0, 2], 24);
  return {
    ord,
    slot,
    id: slot,
    proto: 6,
    why: null,
    key,
    clientIsn: 1000,
    serverIsn: ISN,
    mss: 1460,
    wscale,
    sackOk: false,
    tsOk: false,
    tsVal: 0,
    synAckSeen: true,
    segMss: 1460,
  };
}

/** A client packet's descriptor and summary words (host/io/reader.ts, the decode summary) over a 60-byte frame. */
function clientPacket(flags: number, ack: number, win: number, shift = -1) {
  const u32 = new Uint32Array(64);
  const u8 = new Uint8Array(u32.buffer);
  const frame = 128;
  const l4 = 14 + 20;
  u32[0] = frame; // d: frame offset, caplen
  u32[1] = 80;
  const w = 8;
  u32[w + 2] = flags;
  u32[w + 4] = ack >>> 0;
  u32[w + 6] = 14 | (l4 << 16);
  const t = frame + l4;
  u8[t + 12] = (shift >= 0 ? 8 : 5) << 4;
  u8[t + 14] = win >>> 8;
  u8[t + 15] = win & 0xff;
  if (shift >= 0) u8.set([1, 3, 3, shift], t + 20); // NOP, window scale (RFC 7323 §2.2)
  return { u8, u32, w, d: 0 };
}

test("--flow: numbers, tuples (IPv4, IPv6 with ::), comma lists; bad ones refused", () => {
  const s = parseFlowSpecs(["3,198.18.0.1:40000-198.18.0.2:80", "[2001:db8::1]:443-[2001:db8::2]:5000"]);
  assert.equal(s[0], { ord: 3 });
  assert.equal(Array.from((s[1] as { a: Uint8Array }).a), [198, 18, 0, 1]);
  const v6 = s[2] as { a: Uint8Array; ap: number; bp: number };
  assert.equal(Array.from(v6.a), [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.is(v6.ap, 443);
  assert.is(v6.bp, 5000);
  assert.equal(Array.from(parseAddr("::")!), new Array(16).fill(0));
  for (const bad of [
    "1.2.3:80-1.2.3.4:80",
    "1.2.3.4:80",
    "x",
    "1.2.3.4:70000-1.2.3.5:1",
    "1.2.3.4:1-[::1]:2",
  ])
    assert.throws(
      () => parseFlowSpecs([bad]),
      (e: unknown) => e instanceof UsageError,
      bad,
    );
});

test("a tuple names its flow in either direction; an unmatched one is reported", () => {
  const o = new ServeObserver(parseFlowSpecs(["198.18.0.2:80-198.18.0.1:40000", "9"]), "test");
  const p = clientPacket(2, 0, 65535, 7);
  o.client(flow(5, 0), 0, 0, p.u8, p.u32, p.w, p.d);
  const r = o.result();
  assert.equal(
    r.charts.map((c) => c.flow),
    [5],
  );
  assert.equal(r.unmatched, ["9"]);
});

test("UDP flows: counted for the worst flows, never charted (named: said so; by default: not picked)", () => {
  const u = { ...flow(4, 2), proto: 17 };
  const count = new ServeObserver(null, "test");
  const p = clientPacket(0, 0, 0);
  count.client(u, 0, 0, p.u8, p.u32, p.w, p.d);
  count.client(flow(5, 3), 0, 0, p.u8, p.u32, p.w, p.d);
  count.listener.settled(2, 3, 1, 2, 0);
  count.listener.settled(3, 1, 1, 0, 0);
  assert.equal(count.pick(), [5]);
  assert.equal(
    count.result().worst_flows.map((w) => w.flow),
    [4],
  );
  const named = new ServeObserver([{ ord: 4 }], "test");
  named.client(u, 0, 0, p.u8, p.u32, p.w, p.d);
  const r = named.result();
  assert.is(r.charts.length, 0);
  assert.match(r.unmatched.join(), /^4 \(.*: not TCP\)$/);
});

test("points capped per series, the cut counted; offsets continue past 2^32; the window scaled after the SYN", () => {
  const o = new ServeObserver([{ ord: 0 }], "test");
  const f = flow(0, 3);
  const syn = clientPacket(2, 0, 65535, 7);
  o.client(f, 1e9, 1e9, syn.u8, syn.u32, syn.w, syn.d);
  const n = MAX_POINTS + 25;
  for (let i = 0; i < n; i++) o.ref(f, 1e9 + i * 1e3, (ISN + 1 + i * 1000) | 0, 1000, 16);
  o.out(f, 1e9 + 5e8, (ISN + 1) | 0, 1000, 16);
  o.out(f, 1e9 + 5e8, (ISN + 1001) | 0, 0, 16); // a pure ACK: not a segment
  const ack = clientPacket(16, (ISN + 5001) | 0, 100);
  o.client(f, 2e9, 2e9, ack.u8, ack.u32, ack.w, ack.d);
  const c = o.result().charts[0];
  assert.is(c.points.capture, MAX_POINTS);
  assert.is(c.cut.capture, 25);
  assert.is(c.points.core, 1);
  assert.is(c.points.ack, 1);
  const caps = c.capture.filter((v): v is number => v !== null);
  // The 5th segment's sequence number passes 2^32 (ISN + 4097), not its offset.
  assert.equal(caps.slice(0, 6), [1001, 2001, 3001, 4001, 5001, 6001]);
  assert.is(caps[MAX_POINTS - 1], MAX_POINTS * 1000 + 1);
  const i = c.ack.findIndex((v) => v !== null);
  assert.is(c.ack[i], 5001);
  assert.is(c.window[i], 5001 + (100 << 7), "the client's window << its shift (both SYNs had the option)");
  assert.is(c.x[i], 1, "seconds since the flow's first packet");
});

test("offsets past 2^32 (a long flow, or holes in the capture) go on growing, each series apart", () => {
  const o = new ServeObserver([{ ord: 2 }], "test");
  const f = flow(2, 1);
  const syn = clientPacket(2, 0, 65535, 7);
  o.client(f, 0, 0, syn.u8, syn.u32, syn.w, syn.d);
  for (let k = 0; k < 4; k++) o.ref(f, 1000 * (k + 1), (ISN + 1 + k * 1.5e9) | 0, 100, 16);
  o.out(f, 10_000, (ISN + 1) | 0, 100, 16); // the core stays at the start: not a wrap
  const c = o.result().charts[0];
  assert.equal(
    c.capture.filter((v) => v !== null),
    [101, 1.5e9 + 101, 3e9 + 101, 4.5e9 + 101],
  );
  assert.equal(
    c.core.filter((v) => v !== null),
    [101],
  );
});

test("no window scaling when the server's SYN-ACK had none; marks on the segment they name", () => {
  const o = new ServeObserver([{ ord: 1 }], "test");
  const f = flow(1, 0, 0xff);
  const syn = clientPacket(2, 0, 65535, 7);
  o.client(f, 0, 0, syn.u8, syn.u32, syn.w, syn.d);
  o.ref(f, 1000, (ISN + 1) | 0, 100, 16);
  o.ref(f, 2000, (ISN + 101) | 0, 100, 16);
  o.out(f, 3000, (ISN + 1) | 0, 100, 16);
  o.out(f, 4000, (ISN + 201) | 0, 50, 16);
  o.listener.mismatch(0, 101, MIS_MISSING);
  o.listener.mismatch(0, 201, MIS_EXTRA);
  const ack = clientPacket(16, (ISN + 101) | 0, 1000);
  o.client(f, 5000, 5000, ack.u8, ack.u32, ack.w, ack.d);
  o.listener.settled(0, 2, 1, 1, 1);
  const r = o.result();
  const c = r.charts[0];
  const marks = c.x.map((x, k) => [x, c.mismatch[k]]).filter(([, m]) => m !== null);
  assert.equal(marks, [
    [2e-6, 201], // the capture's missing segment 101..201, at its time
    [4e-6, 251], // the core's extra segment 201..251
  ]);
  const k = c.ack.findIndex((v) => v !== null);
  assert.is(c.window[k], 101 + 1000);
  assert.equal(
    r.worst_flows.map((w) => [w.flow, w.missing, w.extra, w.differing]),
    [[1, 1, 1, 0]],
  );
  assert.equal(c.fidelity, { compared: 2, matching: 1, missing: 1, extra: 1 });
});

test.run();
