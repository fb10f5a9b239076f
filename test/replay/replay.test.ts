// Replay raw mode, output capture, speeds, loops, reports and bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CORPUS, OWN_TRACES, ROOT, corpusNote, ownTraces } from "../helpers/corpus.ts";
import { TSHARK_HINT, haveTshark, requireOracle } from "../helpers/oracle.ts";
import { parseSpeed } from "../../host/replay/pacing.ts";
import { replay } from "../../host/replay/replay.ts";
import { REPLAY_SCHEMA, unaccounted } from "../../host/report/replay.ts";
import { TraceWriter } from "../../host/io/writer.ts";
import { readAll } from "../helpers/records.ts";
import { tempDir } from "../helpers/tmp.ts";

/** Records of a capture with a float timestamp (s). */
function readRecords(path: string) {
  const { recs, error } = readAll(path);
  if (error) throw error;
  return recs.map((r) => ({ ...r, ts: r.sec + r.nsec / 1e9 }));
}

const tmp = tempDir("replay");
const HTTP = join(OWN_TRACES, "http-kernel.pcap");
const WITH_CORPUS = corpusNote("replay of the corpus captures");

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "host/cli.ts"), "replay", ...args], {
    encoding: "utf8",
    cwd: ROOT,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("raw: every packet processed or dropped for a reason, on every own trace and the corpus", () => {
  const files = [...ownTraces()];
  if (WITH_CORPUS)
    for (const f of [
      "example2.pcap",
      "sll2.pcap",
      "raw_ip.pcap",
      "pcapng-example.pcapng",
      "test301.pcapng",
      "synscan.pcap",
    ])
      files.push(join(CORPUS, f));
  for (const f of files) {
    for (const mode of ["raw", "track"] as const) {
      const r = replay(f, { mode, workers: 3 });
      assert.is(unaccounted(r), 0, `${mode} ${f}`);
      assert.is(r.worker_packets.length, 3);
      assert.is(
        r.worker_packets.reduce((a, b) => a + b, 0),
        r.packets_processed,
        f,
      );
      assert.is(r.error, null);
    }
  }
});

test("raw: forwards what it processed, byte for byte; two top-speed runs give identical files", () => {
  const a = join(tmp, "a.pcap");
  const b = join(tmp, "b.pcap");
  const r = replay(HTTP, { mode: "raw", out: a });
  replay(HTTP, { mode: "raw", out: b });
  assert.ok(readFileSync(a).equals(readFileSync(b)));
  assert.ok(readFileSync(a).equals(readFileSync(HTTP)), "no drops: the output is the input");
  assert.equal([r.packets_out, r.out!.records, r.bytes_out], [133, 133, r.bytes_in]);
  const ng = join(tmp, "a.pcapng");
  replay(join(OWN_TRACES, "udp-echo-v6.pcapng"), { mode: "raw", out: ng });
  const ng2 = join(tmp, "b.pcapng");
  replay(join(OWN_TRACES, "udp-echo-v6.pcapng"), { mode: "raw", out: ng2 });
  assert.ok(readFileSync(ng).equals(readFileSync(ng2)));
  assert.is(readRecords(ng).length, 44, "ARP frames are not forwarded");
});

test("track transmits nothing; --out-merged holds the input", () => {
  const o = join(tmp, "t.pcap");
  const r = replay(HTTP, { mode: "track", out: o });
  assert.is(r.out!.records, 0);
  const m = join(tmp, "m.pcap");
  replay(HTTP, { mode: "track", out: m, outMerged: true });
  assert.is(readRecords(m).length, 133);
  const rm = join(tmp, "rm.pcap");
  replay(HTTP, { mode: "raw", out: rm, outMerged: true });
  const recs = readRecords(rm);
  assert.is(recs.length, 266, "each input frame, then its forwarded copy");
  for (let i = 1; i < recs.length; i++) assert.ok(recs[i].ts >= recs[i - 1].ts, "interleaved by time");
});

const LOOP = join(tmp, "loop.pcap");

test("--loop: each pass is new conversations", () => {
  const o = LOOP;
  const r = replay(HTTP, { mode: "track", loop: 3 });
  assert.equal([r.packets_in, r.flows.total, r.tcp!.handshakes, r.tcp!.states.TIME_WAIT], [399, 15, 15, 15]);
  replay(HTTP, { mode: "raw", loop: 2, out: o });
  const recs = readRecords(o);
  assert.is(recs.length, 266);
  for (let i = 1; i < recs.length; i++)
    assert.ok(recs[i].ts >= recs[i - 1].ts, "later passes are later in time");
});

if (requireOracle("tshark", haveTshark(), TSHARK_HINT, "the --loop capture's check"))
  test("--loop: tshark sees 5 new conversations per pass, every TCP checksum valid", () => {
    const t = spawnSync(
      "tshark",
      [
        "-n",
        "-r",
        LOOP,
        "-o",
        "tcp.check_checksum:TRUE",
        "-T",
        "fields",
        "-e",
        "tcp.stream",
        "-e",
        "tcp.checksum.status",
      ],
      {
        encoding: "utf8",
      },
    );
    const lines = t.stdout.trim().split("\n");
    assert.is(new Set(lines.map((l) => l.split("\t")[0])).size, 10, "5 conversations per pass");
    assert.ok(
      lines.every((l) => l.split("\t")[1] === "1"),
      "tshark: every TCP checksum good (status 1)",
    );
  });

test("paced speeds keep order; output timestamps are the wall clock, spread as scheduled", () => {
  const top = readRecords((replay(HTTP, { mode: "raw", out: join(tmp, "top.pcap") }), join(tmp, "top.pcap")));
  for (const speed of ["pps:4000", "mbps:40", "x25"]) {
    const o = join(tmp, `paced-${speed.replace(":", "")}.pcap`);
    const t0 = Date.now() / 1000;
    const r = replay(HTTP, { mode: "raw", speed: parseSpeed(speed), out: o });
    const recs = readRecords(o);
    assert.is(recs.length, top.length, speed);
    for (let i = 0; i < recs.length; i++)
      assert.ok(recs[i].data.equals(top[i].data), `${speed}: frame ${i} in order`);
    for (let i = 1; i < recs.length; i++)
      assert.ok(recs[i].ts >= recs[i - 1].ts, `${speed}: timestamps rise`);
    assert.ok(recs[0].ts >= t0 - 1, "wall-clock timestamps");
    // The last packet is never sent before its schedule, which starts after t0:
    // a bound that load can only make later (a late first packet shortened the
    // first-to-last span under load, so the span is not the thing to check).
    const want = speed === "pps:4000" ? 132 / 4000 : speed === "x25" ? (top[132].ts - top[0].ts) / 25 : 0.015;
    const after = recs[recs.length - 1].ts - t0;
    assert.ok(
      after >= want - 0.002,
      `${speed}: last packet ${after} s after the start, scheduled at ${want} s`,
    );
    assert.ok(r.pacing && r.latency_us && typeof r.pacing.gap_error_us.p99 === "number");
  }
});

test("report JSON: schema fields with sane types", () => {
  const r = JSON.parse(JSON.stringify(replay(HTTP, { mode: "track", workers: 2 })));
  assert.is(r.schema, REPLAY_SCHEMA);
  for (const k of ["trace", "mode", "speed", "format"]) assert.type(r[k], "string", k);
  for (const k of ["workers", "packets_in", "packets_out", "bytes_in", "bytes_out", "duration_s", "pps"])
    assert.type(r[k], "number", k);
  assert.is(r.app, null);
  assert.is(r.fidelity, null);
  assert.equal(Object.keys(r.flows), ["total", "served", "tracked", "midstream"]);
  assert.ok(Object.values(r.drops).every((v) => typeof v === "number"));
  assert.ok(r.stages.read >= 0 && r.stages.track > 0);
  assert.ok(Object.values(r.batch_histogram).every((v) => typeof v === "number"));
  assert.type(r.machine.cpu, "string");
  assert.type(r.machine.cores, "number");
  assert.match(r.machine.node, /^v\d+/);
  assert.is(r.latency_us, null, "top speed: no latency");
  const raw = replay(HTTP, { mode: "raw" });
  assert.is(raw.flows.total, null, "raw does no flow lookup");
});

test("unknown link types are counted, not fatal", () => {
  const f = join(tmp, "user0.pcap");
  const w = new TraceWriter(f, { linktype: 147 });
  for (let i = 0; i < 5; i++) w.write(new Uint8Array(60), 0, 60, 1000 + i, 0);
  w.close();
  const r = replay(f, { mode: "track" });
  assert.equal([r.packets_in, r.packets_processed, r.drops.unknown_link], [5, 0, 5]);
});

if (WITH_CORPUS)
  test("corrupt capture: what precedes the fault is replayed, then one line and a non-zero exit", () => {
    const f = join(CORPUS, "test_damaged.pcap");
    const r = replay(f, { mode: "track" });
    assert.is(r.packets_in, 1);
    assert.match(r.error!, /file ends inside a record/);
    const c = cli(f, "--mode", "raw", "--report", "json");
    assert.is(c.code, 1);
    assert.is(JSON.parse(c.out).packets_in, 1, "the report is still printed");
    assert.equal(c.err.trim().split("\n").length, 1, c.err);
    assert.match(c.err, /^ixwasm: .*test_damaged\.pcap: file ends inside a record/);
  });

test("CLI: paced serve reports its pacing; bad options name the fix; --report-file", () => {
  const s = cli(HTTP, "--mode", "serve", "--speed", "x1000", "--report", "json");
  assert.is(s.code, 0, s.err);
  const sr = JSON.parse(s.out);
  assert.is(sr.speed, "x1000");
  assert.is(sr.fidelity.segments_matching, sr.fidelity.segments_compared);
  assert.ok(sr.pacing && sr.latency_us, "pacing error and latency reported");
  const b = cli(HTTP, "--speed", "fast");
  assert.is(b.code, 1);
  assert.match(b.err, /bad --speed "fast".*pps:N/);
  const rf = join(tmp, "r.json");
  const ok = cli(HTTP, "--mode", "raw", "--report-file", rf);
  assert.is(ok.code, 0, ok.err);
  assert.match(ok.out, /^packets in\s+133/m);
  assert.is(ok.err, "", "no progress line when stderr is not a TTY");
  assert.is(JSON.parse(readFileSync(rf, "utf8")).packets_in, 133);
});

test("speed parser", () => {
  assert.equal(parseSpeed("x10"), { kind: "multiplier", factor: 10 });
  assert.equal(parseSpeed("pps:1000"), { kind: "pps", rate: 1000 });
  assert.equal(parseSpeed("mbps:2.5"), { kind: "mbps", rate: 2.5 });
  for (const bad of ["x0", "pps:", "mbps:-1", "slow"]) assert.throws(() => parseSpeed(bad));
});

test.run();
