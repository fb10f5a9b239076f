// Replay serve mode beyond one pass at top speed: paced speeds, --loop, UDP
// answers from recorded datagrams, and flows without a handshake going through
// the track core.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { CORPUS, OWN_TRACES, corpusNote } from "../../helpers/corpus.ts";
import { readAll, type Rec } from "../../helpers/records.ts";
import { replay } from "../../../host/replay/replay.ts";
import { unaccounted, type ReplayReport } from "../../../host/report/replay.ts";
import { TraceWriter } from "../../../host/io/writer.ts";
import { runGen } from "../../../host/gen/run.ts";
import { FidelityMeter } from "../../../host/report/fidelity.ts";
import { tempDir } from "../../helpers/tmp.ts";

const tmp = tempDir("serve-modes");
const HTTP = join(OWN_TRACES, "http-kernel.pcap");

function serveAcc(r: ReplayReport) {
  const s = r.serve!;
  assert.is(unaccounted(r), 0, "every packet processed or dropped for a reason");
  assert.is(s.delivered + s.reference + s.tracked, r.packets_processed);
}

/** Ethernet/IPv4/TCP frames of a capture: ports, seq, payload length, flags. */
function tcpOf(r: Rec) {
  const d = r.data;
  if (d[12] !== 0x08 || d[13] !== 0 || d[23] !== 6) return null;
  const l4 = 14 + (d[14] & 15) * 4;
  const total = (d[16] << 8) | d[17];
  return {
    sport: (d[l4] << 8) | d[l4 + 1],
    dport: (d[l4 + 2] << 8) | d[l4 + 3],
    seq: d.readUInt32BE(l4 + 4),
    len: 14 + total - (l4 + (d[l4 + 12] >>> 4) * 4),
    flags: d[l4 + 13],
  };
}

/** Per client port, the core's segments that occupy sequence space or reset, in order. */
function segmentsByFlow(path: string): Map<number, string[]> {
  const m = new Map<number, string[]>();
  for (const r of readAll(path).recs) {
    const t = tcpOf(r);
    if (!t || (t.len === 0 && !(t.flags & 7))) continue;
    const l = m.get(t.dport) ?? [];
    l.push(`${t.seq}/${t.len}/${t.flags & 7}`);
    m.set(t.dport, l);
  }
  return m;
}

test("--speed x10: the same segments per flow as at top speed, in order, stamped with the wall clock on schedule", () => {
  const top = join(tmp, "top.pcap");
  const paced = join(tmp, "x10.pcap");
  replay(HTTP, { mode: "serve", out: top });
  const w0 = Date.now() / 1000;
  const r = replay(HTTP, { mode: "serve", speed: { kind: "multiplier", factor: 10 }, out: paced });
  const w1 = Date.now() / 1000;
  assert.is(r.speed, "x10");
  serveAcc(r);
  assert.is(r.fidelity!.segments_matching, r.fidelity!.segments_compared, JSON.stringify(r.fidelity));
  assert.equal(segmentsByFlow(paced), segmentsByFlow(top), "per-flow segment order");
  // Timestamps: wall clock, inside the run, never going back.
  const recs = readAll(paced).recs;
  assert.ok(recs.length > 60);
  let prev = 0;
  for (const x of recs) {
    const ts = x.sec + x.nsec / 1e9;
    assert.ok(ts >= prev, "non-decreasing");
    assert.ok(ts >= w0 - 0.001 && ts <= w1 + 0.001, `${ts} within the run [${w0}, ${w1}]`);
    prev = ts;
  }
  // The schedule is a lower bound: the last client packet cannot go in before its slot.
  const clientTs = readAll(HTTP)
    .recs.filter((x) => tcpOf(x)?.dport === 80)
    .map((x) => x.sec + x.nsec / 1e9);
  const span = clientTs[clientTs.length - 1] - clientTs[0];
  assert.ok(r.duration_s >= span / 10, `ran ${r.duration_s} s, schedule spans ${span / 10} s`);
  assert.ok(r.pacing && r.latency_us, "pacing error and latency reported");
});

test("--speed pps:2000 and mbps:5: every answer still right", () => {
  for (const speed of [
    { kind: "pps", rate: 2000 },
    { kind: "mbps", rate: 5 },
  ] as const) {
    const r = replay(HTTP, { mode: "serve", speed });
    serveAcc(r);
    assert.is(r.fidelity!.segments_missing, 0, JSON.stringify(r.fidelity!.first_mismatches));
    assert.is(r.fidelity!.segments_matching, r.fidelity!.segments_compared);
  }
});

test("--loop 3: three times the served flows, each pass its own client ports, the same fidelity", () => {
  const one = replay(HTTP, { mode: "serve" });
  const out = join(tmp, "loop3.pcap");
  const r = replay(HTTP, { mode: "serve", loop: 3, out });
  serveAcc(r);
  assert.is(r.loops, 3);
  assert.is(r.packets_in, 3 * one.packets_in);
  assert.is(r.flows.served, 3 * one.flows.served);
  const f = r.fidelity!;
  assert.is(f.segments_compared, 3 * one.fidelity!.segments_compared);
  assert.is(f.segments_matching, f.segments_compared, JSON.stringify(f.first_mismatches));
  assert.is(f.bytes_matching, 3 * one.fidelity!.bytes_matching);
  assert.is(r.packets_out, 3 * one.packets_out);
  const ports = new Set(readAll(out).recs.map((x) => tcpOf(x)?.dport));
  assert.is(ports.size, 3 * one.flows.served, "one client port per flow and pass");
  // Paced loops too (core clock = wall clock plus the pass gap).
  const p = replay(HTTP, { mode: "serve", loop: 2, speed: { kind: "multiplier", factor: 100 } });
  serveAcc(p);
  assert.is(p.fidelity!.segments_matching, 2 * one.fidelity!.segments_compared);
});

test("UDP: each client datagram answered with the recorded server datagram (own UDP echo capture)", () => {
  const r = replay(join(OWN_TRACES, "udp-echo-v6.pcapng"), { mode: "serve" });
  serveAcc(r);
  const f = r.fidelity!;
  // One IPv4 and one IPv6 echo of 14 bytes; the 3000-byte ones are IP fragments (tracked).
  assert.is(f.datagrams_compared, 2);
  assert.is(f.datagrams_matching, 2);
  assert.is(r.serve!.mirror!.udpSent, 2);
});

const WITH_CORPUS = corpusNote("serve on the corpus's UDP and mid-stream captures");

if (WITH_CORPUS)
  test("UDP: corpus DNS and chat captures, every recorded answer sent", () => {
    for (const [name, n] of [
      ["pcapng-multi-interface.pcapng", 3],
      ["kakaotalk_chat.pcap", 18],
    ] as const) {
      const r = replay(join(CORPUS, name), { mode: "serve" });
      serveAcc(r);
      assert.is(r.fidelity!.datagrams_compared, n, name);
      assert.is(r.fidelity!.datagrams_matching, n, name);
      assert.is(r.fidelity!.datagrams_extra, 0, name);
    }
  });

test("a flow without its handshake goes through the track core and is counted as tracked", () => {
  // http-kernel without the SYN and SYN-ACK of its first flow: that flow starts mid-stream.
  const { recs } = readAll(HTTP);
  const first = tcpOf(recs[0])!.sport;
  const path = join(tmp, "one-midstream.pcap");
  const w = new TraceWriter(path, { format: "pcap" });
  let flowPackets = 0;
  for (const x of recs) {
    const t = tcpOf(x)!;
    const mine = t.sport === first || t.dport === first;
    if (mine && t.flags & 2) continue;
    if (mine) flowPackets++;
    w.write(x.data, 0, x.caplen, x.sec, x.nsec, x.len);
  }
  w.close();
  const r = replay(path, { mode: "serve" });
  serveAcc(r);
  assert.equal(r.flows, { total: 5, served: 4, tracked: 1, midstream: 1 });
  assert.is(r.serve!.tracked, flowPackets, "every packet of the flow went to the tracker");
  assert.is(r.fidelity!.segments_matching, r.fidelity!.segments_compared);
});

if (WITH_CORPUS)
  test("a capture with no handshake at all: every flow tracked, as --mode track counts them", () => {
    const c = join(CORPUS, "4khttprequests.pcap");
    const s = replay(c, { mode: "serve" });
    const t = replay(c, { mode: "track" });
    serveAcc(s);
    assert.is(s.flows.served, 0);
    assert.is(s.flows.tracked, t.flows.total);
    assert.is(s.flows.midstream, t.flows.midstream);
    assert.is(s.serve!.tracked, t.packets_processed);
  });

test("gen etc, 16 connections interleaved: every answer right, and one poll serves a round of answers", () => {
  const path = join(tmp, "etc.pcap");
  runGen("etc", { out: path, packets: 40000, conns: 16, quiet: true, seed: 3 });
  const r = replay(path, { mode: "serve" });
  serveAcc(r);
  const f = r.fidelity!;
  assert.ok(f.segments_compared > 10000, `${f.segments_compared}`);
  assert.is(f.segments_matching, f.segments_compared, JSON.stringify(f.first_mismatches));
  assert.is(f.segments_missing, 0);
  // Held-back packets: far fewer polls than client packets (one per answer would be
  // about one per request; the core's clock bound and 64-frame RX bursts set the floor).
  assert.ok(
    r.serve!.polls * 8 < r.serve!.delivered,
    `${r.serve!.polls} polls for ${r.serve!.delivered} packets`,
  );
  // Loop 2 and a paced pass of the same conversation stay exact.
  const l = replay(path, { mode: "serve", loop: 2 });
  serveAcc(l);
  assert.is(l.fidelity!.segments_matching, 2 * f.segments_compared);
});

test("fidelity meter: a changed payload byte, length or flag is a mismatch; order of arrival does not matter", () => {
  const mem = new Uint8Array(new SharedArrayBuffer(4096));
  for (let i = 0; i < 1000; i++) mem[i] = (i * 7) & 0xff;
  mem.copyWithin(2001, 0, 1000); // the same bytes at another (unaligned) place
  const m = new FidelityMeter();
  const isn = 1000;
  m.ref(0, "f", isn, isn + 1, 500, 0x18, mem, 0, 500, 0); // capture first
  m.out(0, "f", isn, isn + 1, 0x18, mem, 2001, 500);
  m.out(0, "f", isn, isn + 501, 0x18, mem, 2501, 300); // core first
  m.ref(0, "f", isn, isn + 501, 300, 0x18, mem, 500, 300, 0);
  mem[2901] ^= 1;
  m.ref(0, "f", isn, isn + 801, 100, 0x19, mem, 900, 100, 0);
  m.out(0, "f", isn, isn + 801, 0x19, mem, 2901, 100); // byte 0 differs
  m.ref(1, "g", isn, isn + 1, 10, 0x18, mem, 0, 10, 0);
  m.out(1, "g", isn, isn + 1, 0x19, mem, 2001, 10); // FIN where the capture had none
  m.refDatagram(2, "u", 20, mem, 0, 20);
  m.outDatagram(2, "u", mem, 2001, 20);
  m.refDatagram(2, "u", 20, mem, 20, 20);
  m.outDatagram(2, "u", mem, 2021, 19);
  const f = m.finish();
  assert.is(f.segments_compared, 4);
  assert.is(f.segments_matching, 2);
  assert.equal(
    f.first_mismatches.map((x) => x.what),
    ["payload bytes differ", "flags [FIN], capture [data]", "datagram 1: length 19, capture 20"],
  );
  assert.equal([f.datagrams_compared, f.datagrams_matching], [2, 1]);
});

test.run();
