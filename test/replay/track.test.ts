// Track mode against independent facts: tshark's TCP analysis of the same
// captures (computed here with tshark), the project's own recordings (whose
// conversations are known), and the accounting identity.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { CORPUS, OWN_TRACES, corpusNote } from "../helpers/corpus.ts";
import { TSHARK_HINT, haveTshark, requireOracle } from "../helpers/oracle.ts";
import { replay } from "../../host/replay/replay.ts";
import { unaccounted, type ReplayReport } from "../../host/report/replay.ts";

const WITH_CORPUS = corpusNote("track on the corpus captures");
const WITH_TSHARK = requireOracle("tshark", haveTshark(), TSHARK_HINT, "track against tshark's TCP analysis");

/** tshark's TCP analysis of a capture, one pass: retransmission||out_of_order, lost_segment, RST, keep-alive frames. */
function tsharkTcp(file: string) {
  const r = spawnSync(
    "tshark",
    ["-n", "-r", file, "-Y", "tcp", "-T", "fields", "-E", "separator=,"].concat(
      ...[
        "tcp.analysis.retransmission",
        "tcp.analysis.out_of_order",
        "tcp.analysis.lost_segment",
        "tcp.flags.reset",
        "tcp.analysis.keep_alive",
      ].map((f) => ["-e", f]),
    ),
    { encoding: "utf8", maxBuffer: 1 << 28 },
  );
  const c = { retrans: 0, lost: 0, rst: 0, keepalive: 0 };
  for (const line of r.stdout.split("\n")) {
    if (!line) continue;
    const [rt, ooo, lost, rst, ka] = line.split(",");
    if (rt || ooo) c.retrans++;
    if (lost) c.lost++;
    if (rst === "1" || rst === "True") c.rst++;
    if (ka) c.keepalive++;
  }
  return c;
}

const track = (file: string): ReplayReport => replay(file, { mode: "track" });

function identity(r: ReplayReport): void {
  assert.is(unaccounted(r), 0, "every packet is processed or dropped for a reason");
  assert.is(
    r.worker_packets.reduce((a, b) => a + b, 0),
    r.packets_processed,
  );
}

test("own recordings: every conversation tracked from SYN to TIME-WAIT, nothing odd", () => {
  for (const [name, conns] of [
    ["http-kernel.pcap", 5],
    ["nc-echo.pcap", 2],
  ] as const) {
    const r = track(join(OWN_TRACES, name));
    identity(r);
    assert.is(r.packets_processed, r.packets_in, name);
    assert.is(r.flows.tracked, conns, name);
    assert.is(r.flows.midstream, 0, name);
    const t = r.tcp!;
    assert.is(t.handshakes, conns, `${name} handshakes`);
    assert.is(t.fins, 2 * conns, `${name} FINs`);
    assert.is(t.closed, conns, `${name} closed`);
    assert.is(t.states.TIME_WAIT, conns, `${name} final states`);
    for (const k of [
      "retransmissions",
      "out_of_order",
      "seq_gaps",
      "out_of_window",
      "ack_unseen",
      "dup_acks",
    ] as const)
      assert.is(t[k], 0, `${name} ${k}`);
  }
});

test("own recordings: memcached and IPv6/UDP pass the tracker with nothing dropped", () => {
  for (const name of ["memcached-ascii.pcap", "memcached-binary.pcap", "udp-echo-v6.pcapng"]) {
    const r = track(join(OWN_TRACES, name));
    identity(r);
    assert.is(r.drops.tcp_rst_invalid, 0, name);
    assert.is(r.drops.tcp_bad_flags, 0, name);
    assert.is(r.tcp!.out_of_window, 0, name);
    assert.ok(r.flows.total! >= 1, name);
  }
  // udp-echo-v6 opens with ARP (4 frames): dropped as non-IP, the rest processed.
  const v6 = track(join(OWN_TRACES, "udp-echo-v6.pcapng"));
  assert.is(v6.drops.non_ip, 4);
  assert.is(v6.packets_processed, v6.packets_in - 4);
});

// Retransmissions + out-of-order + repeated SYNs is tshark's
// `tcp.analysis.retransmission || tcp.analysis.out_of_order` (both come from a
// segment below the highest sequence seen); gaps are its `lost_segment`.
const CASES = [
  "rtsp.pcap", // 259 retransmissions, SYNs retried after RSTs
  "ultrasurf.pcap", // retransmissions, out of order, lost segments
  "4khttprequests.pcap", // 121 flows, all mid-stream, 186 segments missing
  "one_tcp_stream_max_seq.pcap", // sequence numbers wrap through 2^32
  "bigtransfer.pcap", // wraps, and jumps of hundreds of MB (capture loss)
  "tcp-rst-unacked-stream-10.pcap",
];

for (const name of WITH_CORPUS && WITH_TSHARK ? CASES : []) {
  test(`corpus ${name}: retransmissions, gaps and RSTs as tshark counts them`, () => {
    const file = join(CORPUS, name);
    const r = track(file);
    identity(r);
    const t = r.tcp!;
    const ts = tsharkTcp(file);
    assert.is(t.retransmissions + t.out_of_order + t.syn_retrans, ts.retrans, "retransmissions");
    assert.is(t.seq_gaps, ts.lost, "gaps");
    assert.is(t.rsts, ts.rst, "RSTs");
    assert.is(t.keepalives, ts.keepalive, "keep-alives");
    assert.is(r.drops.tcp_rst_invalid, 0);
  });
}

if (WITH_CORPUS)
  test("mid-stream captures are picked up from their first packet", () => {
    const mc = track(join(CORPUS, "memcached-userdata.pcap"));
    assert.is(mc.packets_processed, mc.packets_in);
    assert.equal([mc.flows.tracked, mc.flows.midstream, mc.tcp!.handshakes], [1, 1, 0]);
    assert.is(mc.tcp!.states.ESTABLISHED, 1);
    assert.is(mc.tcp!.retransmissions + mc.tcp!.seq_gaps + mc.tcp!.out_of_window, 0); // tshark: none either
    const h = track(join(CORPUS, "4khttprequests.pcap"));
    assert.equal([h.flows.tracked, h.flows.midstream], [121, 121]);
    assert.is(h.packets_processed, h.packets_in);
  });

if (WITH_CORPUS)
  test("sequence wrap: no segment judged out of window across 2^32", () => {
    const r = track(join(CORPUS, "one_tcp_stream_max_seq.pcap"));
    assert.is(r.tcp!.out_of_window, 0);
    assert.is(r.tcp!.retransmissions, 2); // tshark: 2 retransmissions, 1 keep-alive
    assert.is(r.tcp!.keepalives, 1);
    assert.is(r.packets_processed, r.packets_in);
  });

if (WITH_CORPUS)
  test("non-IP frames are dropped with their reason, not fatal", () => {
    const r = track(join(CORPUS, "example2.pcap"));
    identity(r);
    // MANIFEST: 4709 frames, 4683 IPv4, 16 IPv6: 10 without IP (CDP, LLC, ...).
    assert.is(r.drops.non_ip, 10);
    assert.is(r.packets_processed, 4699);
  });

test.run();
