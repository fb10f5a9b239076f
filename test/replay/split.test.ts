// ixwasm split: the shards' frames together are the input's (multiset, byte for
// byte, times and lengths included), each flow lies in one shard, shard i is what
// replay --shard i/N keeps, the files keep the input's kind, link type and time
// precision; a corrupt capture stops with one line and the records before it kept.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OWN_TRACES, ROOT, ownTraces } from "../helpers/corpus.ts";
import { readAll, type Rec } from "../helpers/records.ts";
import { replay } from "../../host/replay/replay.ts";
import { TraceReader } from "../../host/io/reader.ts";
import { readCore } from "../helpers/records.ts";
import type { SplitManifest } from "../../host/replay/split.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("split");
const CLI = join(ROOT, "dist/host/cli.js");

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const CHURN = join(tmp, "churn.pcap");
const CHURN_NS = join(tmp, "churn-ns.pcap");
for (const [f, fmt] of [
  [CHURN, "pcap"],
  [CHURN_NS, "pcap-ns"],
]) {
  const g = cli(["gen", "churn", "--out", f, "--format", fmt, "--packets", "3000", "--seed", "5"]);
  if (g.code !== 0) throw new Error(`gen churn failed: ${g.err}`);
}

const key = (r: Rec) => `${r.linktype} ${r.sec} ${r.nsec} ${r.caplen} ${r.len} ${r.data.toString("hex")}`;

/** The flow of an Ethernet IPv4/IPv6 TCP/UDP frame, both directions alike; null for anything else. */
function flowOf(r: Rec): string | null {
  const d = r.data;
  if (r.linktype !== 1 || d.length < 14) return null;
  let et = d.readUInt16BE(12);
  let p = 14;
  if (et === 0x8100) {
    et = d.readUInt16BE(16);
    p = 18;
  }
  let src: string, dst: string, proto: number, l4: number;
  if (et === 0x0800) {
    proto = d[p + 9];
    src = d.subarray(p + 12, p + 16).join(".");
    dst = d.subarray(p + 16, p + 20).join(".");
    l4 = p + (d[p] & 15) * 4;
  } else if (et === 0x86dd) {
    proto = d[p + 6];
    src = d.subarray(p + 8, p + 24).toString("hex");
    dst = d.subarray(p + 24, p + 40).toString("hex");
    l4 = p + 40;
  } else return null;
  const ports = (proto === 6 || proto === 17) && l4 + 4 <= d.length;
  const a = `${src}:${ports ? d.readUInt16BE(l4) : ""}`;
  const b = `${dst}:${ports ? d.readUInt16BE(l4 + 2) : ""}`;
  return `${proto} ${[a, b].sort().join(" ")}`;
}

function formatOf(path: string): { format: string; linktypes: number[] } {
  const r = new TraceReader(path, readCore());
  try {
    return { format: r.format, linktypes: [...r.linktypes] };
  } finally {
    r.close();
  }
}

const inputs = [...ownTraces(), CHURN, CHURN_NS];

test("the shards' frames together are the input's, each flow in one shard, shard i = replay --shard i/N", () => {
  for (const f of inputs)
    for (const n of [3, 1]) {
      const dir = mkdtempSync(join(tmp, "out-"));
      const r = cli(["split", f, "--shards", String(n), "--out-dir", dir]);
      assert.is(r.code, 0, r.err);
      const m = JSON.parse(
        readFileSync(
          join(
            dir,
            readdirSync(dir).find((x) => x.endsWith(".split.json"))!,
          ),
          "utf8",
        ),
      ) as SplitManifest;
      assert.is(m.shards, n);
      assert.is(m.files.length, n);
      assert.is(m.error, null);
      const input = readAll(f);
      assert.is(input.error, null);
      const want = input.recs.map(key).sort();
      const got: string[] = [];
      const shardOfFlow = new Map<string, number>();
      const src = formatOf(f);
      for (const file of m.files) {
        const part = readAll(file.file);
        assert.is(part.error, null, file.file);
        assert.is(part.recs.length, file.records);
        got.push(...part.recs.map(key));
        for (const rec of part.recs) {
          const fl = flowOf(rec);
          if (fl === null) {
            assert.is(file.index, 0, `${f}: a frame without IP/ports flow in shard ${file.index}`);
            continue;
          }
          const prev = shardOfFlow.get(fl);
          assert.ok(
            prev === undefined || prev === file.index,
            `${f}: flow ${fl} in shards ${prev} and ${file.index}`,
          );
          shardOfFlow.set(fl, file.index);
        }
        // The input's kind of file and precision, its link types.
        const out = formatOf(file.file);
        assert.is(out.format.slice(0, 6), src.format.slice(0, 6), file.file);
        if (src.format.startsWith("pcap-"))
          assert.is(out.format.slice(0, 7), src.format.slice(0, 7), file.file);
        assert.ok(
          out.linktypes.every((l) => src.linktypes.includes(l)),
          file.file,
        );
        // Exactly the records replay --shard i/N keeps, in the input's order.
        if (n > 1) {
          const a = replay(file.file, { mode: "raw" });
          const b = replay(f, { mode: "raw", shard: { index: file.index, count: n } });
          assert.is(a.packets_in, b.packets_in, `${file.file}`);
          assert.is(a.bytes_in, b.bytes_in);
          const ts = part.recs.map((x) => x.sec * 1e9 + x.nsec);
          assert.ok(
            ts.every((t, i) => i === 0 || t >= ts[i - 1]),
            `${file.file} in time order`,
          );
        }
      }
      got.sort();
      assert.equal(got, want, `${f} into ${n}`);
      if (f.includes("churn") && n === 3)
        assert.ok(
          m.files.every((x) => x.records > 0),
          `${f}: ${m.files.map((x) => x.records)}`,
        );
    }
});

test("a corrupt capture: one line, exit 1, every record before the bad one in the shards", () => {
  const bad = join(tmp, "corrupt.pcap");
  copyFileSync(join(OWN_TRACES, "http-kernel.pcap"), bad);
  // Record 51's captured length set past any snap length: the reader stops there.
  const b = readFileSync(bad);
  let off = 24;
  for (let i = 0; i < 50; i++) off += 16 + b.readUInt32LE(off + 8);
  b.writeUInt32LE(0x7fffffff, off + 8);
  writeFileSync(bad, b);
  const dir = join(tmp, "corrupt-out");
  const r = cli(["split", bad, "--shards", "3", "--out-dir", dir]);
  assert.is(r.code, 1);
  assert.is(r.err.trim().split("\n").length, 1, r.err);
  assert.match(
    r.err,
    /^ixwasm: .*corrupt\.pcap: record claims 2147483647 captured bytes.*packet 51.*the shards hold the 50 records before it/,
  );
  const m = JSON.parse(readFileSync(join(dir, "corrupt.split.json"), "utf8")) as SplitManifest;
  assert.match(m.error!, /packet 51/);
  const kept = m.files.flatMap((x) => readAll(x.file).recs.map(key)).sort();
  const first50 = readAll(join(OWN_TRACES, "http-kernel.pcap")).recs.slice(0, 50).map(key).sort();
  assert.equal(kept, first50);
  assert.ok(!readdirSync(dir).some((x) => x.endsWith(".part")), "no half-written file left");
});

test("not a capture, a bad shard count, no such file: one line, exit 1, nothing written", () => {
  const junk = join(tmp, "junk.pcap");
  writeFileSync(junk, "this is not a capture file at all");
  const cases: [string[], RegExp][] = [
    [["split", junk, "--shards", "2", "--out-dir", join(tmp, "junk-out")], /not a pcap or pcapng file/],
    [["split", CHURN, "--shards", "0", "--out-dir", join(tmp, "zero-out")], /--shards 0 is out of range/],
    [["split", CHURN, "--shards", "129", "--out-dir", join(tmp, "big-out")], /--shards 129 is out of range/],
    [["split", join(tmp, "nope.pcap"), "--shards", "2", "--out-dir", join(tmp, "nope-out")], /no such file/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.is(r.code, 1, args.join(" "));
    assert.is(r.err.trim().split("\n").length, 1, r.err);
    assert.match(r.err, re);
    assert.not.ok(existsSync(args[args.length - 1]), `${args[args.length - 1]} not made`);
  }
});

test.run();
