// Replay serve mode: the core plays every captured server through its TCP stack
// (mirror app), scored segment by segment against the capture.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CORPUS, OWN_TRACES, ROOT, corpusNote } from "../../helpers/corpus.ts";
import { TSHARK_HINT, haveTshark, requireOracle } from "../../helpers/oracle.ts";
import { replay } from "../../../host/replay/replay.ts";
import { unaccounted, type ReplayReport } from "../../../host/report/replay.ts";
import { tempDir } from "../../helpers/tmp.ts";

const tmp = tempDir("serve");
const HTTP = join(OWN_TRACES, "http-kernel.pcap");

// Corpus HTTP captures with their handshakes that serve mode must reproduce.
// Excluded, and why:
//  - 4khttprequests, 650httpresponses: no SYN in the capture (mid-stream): nothing
//    to serve, their flows are counted as not served;
//  - bigtransfer (FTP), example2 (a browsing session with TLS and lost capture
//    segments): below 99 %, reported as they are (see docs/design/serve.md).
// http-range-multiflows.pcap: 41 flows over BSD loopback whose IPv4 header checksums were
// left unfinished (offload): served because serve mode does not verify checksums.
const CORPUS_HTTP = [
  "four_ipv6_http_streams.pcap",
  "one_tcp_stream_max_seq.pcap",
  "tcp-timestamp.pcap",
  "http-range-multiflows.pcap",
];

function serveAcc(r: ReplayReport) {
  const s = r.serve!;
  assert.is(unaccounted(r), 0, "every packet processed or dropped for a reason");
  assert.is(
    s.delivered + s.reference + s.tracked,
    r.packets_processed,
    "processed = to the stack + reference + not served",
  );
}

test("http-kernel.pcap: every server segment reproduced (fidelity 100 %), accounting holds", () => {
  const r = replay(HTTP, { mode: "serve" });
  assert.is(r.mode, "serve");
  assert.is(r.app, "mirror");
  assert.is(r.error, null);
  assert.is(r.flows.served, 5);
  assert.is(r.packets_in, 133);
  serveAcc(r);
  const f = r.fidelity!;
  assert.ok(f.segments_compared >= 60, `compared ${f.segments_compared}`);
  assert.is(f.segments_matching, f.segments_compared, JSON.stringify(f.first_mismatches));
  assert.is(f.bytes_matching, f.bytes_compared);
  assert.is(f.segments_missing, 0);
  assert.ok(r.packets_out > 0);
});

const WITH_CORPUS = corpusNote("serve on the corpus's HTTP captures");

if (WITH_CORPUS)
  test("corpus HTTP captures with handshakes: fidelity >= 99 % of segments", () => {
    for (const name of CORPUS_HTTP) {
      const r = replay(join(CORPUS, name), { mode: "serve" });
      serveAcc(r);
      const f = r.fidelity!;
      assert.ok(f.segments_compared > 0, name);
      assert.ok(f.segments_matching / f.segments_compared >= 0.99, `${name}: ${JSON.stringify(f)}`);
    }
  });

if (WITH_CORPUS)
  test("captures without handshakes: nothing served, every packet still accounted for", () => {
    const r = replay(join(CORPUS, "4khttprequests.pcap"), { mode: "serve" });
    assert.is(r.flows.served, 0);
    assert.is(r.serve!.delivered, 0);
    serveAcc(r);
  });

const a = join(tmp, "a.pcap");
const m = join(tmp, "m.pcap");

test("two --speed top runs write byte-identical captures; merged output counts", () => {
  const b = join(tmp, "b.pcap");
  replay(HTTP, { mode: "serve", out: a });
  const r = replay(HTTP, { mode: "serve", out: b });
  assert.ok(readFileSync(a).equals(readFileSync(b)), "identical output");
  assert.is(r.out!.records, r.packets_out);
  const rm = replay(HTTP, { mode: "serve", out: m, outMerged: true });
  assert.is(
    rm.out!.records,
    rm.packets_in - rm.serve!.reference + rm.packets_out,
    "merged: the client side and the core's answers",
  );
});

if (requireOracle("tshark", haveTshark(), TSHARK_HINT, "the check of serve's output captures"))
  test("tshark reads those captures: no malformed frames, the core's checksums good", () => {
    for (const f of [a, m]) {
      const t = spawnSync(
        "tshark",
        [
          "-n",
          "-r",
          f,
          "-o",
          "tcp.check_checksum:TRUE",
          "-o",
          "ip.check_checksum:TRUE",
          "-T",
          "fields",
          "-e",
          "tcp.checksum.status",
          "-e",
          "ip.checksum.status",
          "-e",
          "_ws.malformed",
        ],
        { encoding: "utf8" },
      );
      assert.is(t.status, 0, t.stderr);
      const lines = t.stdout.split("\n").filter((l) => l.length > 0);
      assert.ok(lines.length > 0);
      // Input frames of the capture may carry offloaded (bad) checksums: judge the core's own output file.
      if (f === a)
        for (const l of lines) {
          const [tcp, ip, mal] = l.split("\t");
          assert.is(tcp, "1", `tcp checksum status: ${l}`);
          assert.is(ip, "1", `ip checksum status: ${l}`);
          assert.is(mal ?? "", "", "not malformed");
        }
      else
        assert.ok(
          lines.every((l) => (l.split("\t")[2] ?? "") === ""),
          "merged: not malformed",
        );
    }
  });

test("--app echo on traces/nc-echo.pcap: the echo app answers the captured client", () => {
  const r = replay(join(OWN_TRACES, "nc-echo.pcap"), { mode: "serve", app: "echo" });
  assert.is(r.app, "echo");
  assert.is(r.fidelity, null);
  assert.ok(r.flows.served >= 1);
  assert.ok(r.serve!.delivered > 0);
  assert.ok(r.packets_out > 0, "the app answered");
  serveAcc(r);
});

test("corrupt capture: what precedes the fault is served, the report says where it stopped, CLI exits 1 with one line", () => {
  const bytes = readFileSync(HTTP);
  const bad = join(tmp, "bad.pcap");
  // Cut the file in the middle of a record header after about half the packets.
  const cut = Buffer.from(bytes.subarray(0, Math.floor(bytes.length / 2)));
  writeFileSync(bad, Buffer.concat([cut, Buffer.from([1, 2, 3, 4, 5, 6, 7])]));
  const r = replay(bad, { mode: "serve" });
  assert.ok(r.error, "error reported");
  assert.ok(r.packets_in > 10 && r.packets_in < 133);
  assert.ok(r.packets_out > 0);
  serveAcc(r);
  const c = spawnSync(
    process.execPath,
    ["--import", "tsx", join(ROOT, "host/cli.ts"), "replay", bad, "--mode", "serve"],
    {
      encoding: "utf8",
      cwd: ROOT,
    },
  );
  assert.is(c.status, 1);
  assert.is(c.stderr.trim().split("\n").length, 1, c.stderr);
});

test.run();
