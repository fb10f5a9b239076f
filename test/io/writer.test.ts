import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { TraceWriter, type WriteFormat } from "../../host/io/writer.ts";
import { ticksToTime, timeToNsTicks } from "../../host/io/timestamp.ts";
import { readAll } from "../helpers/records.ts";
import { CORPUS, corpusNote } from "../helpers/corpus.ts";
import { ETH_IPV4, MAC_A, MAC_B, PROTO_UDP, eth, ip4, ipv4, udp } from "../helpers/frames.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("writer");

/** A valid Ethernet/IPv4/UDP frame (checksums right) so tshark has something real to decode. */
function udpFrame(i: number): Buffer {
  const [src, dst] = [ip4("198.18.0.1"), ip4("198.18.0.2")];
  const payload = Buffer.alloc(10 + (i % 50), i & 0xff);
  const pkt = ipv4(src, dst, PROTO_UDP, udp(src, dst, 40000 + i, 9, payload), { id: i & 0xffff, frag: 0 });
  return eth(MAC_B, MAC_A, ETH_IPV4, pkt);
}

const times = [
  [1700000000, 123456789],
  [1700000000, 999999999],
  [4294967295, 1],
  [0, 0],
];

for (const format of ["pcap", "pcap-ns", "pcapng"] as WriteFormat[]) {
  test(`write → read round trip (${format}), and tshark reads it clean`, () => {
    const path = join(tmp, `rt.${format === "pcapng" ? "pcapng" : "pcap"}`);
    const w = new TraceWriter(path, { format });
    const frames = Array.from({ length: 300 }, (_, i) => udpFrame(i));
    frames.forEach((f, i) => {
      const [sec, nsec] = times[i % times.length];
      w.write(f, 0, f.length, sec, nsec, f.length + (i % 2));
    });
    w.close();
    const { recs, error, reader } = readAll(path);
    assert.is(error, null);
    assert.is(
      reader!.format,
      format === "pcapng" ? "pcapng-le" : format === "pcap" ? "pcap-us-le" : "pcap-ns-le",
    );
    assert.is(recs.length, 300);
    recs.forEach((r, i) => {
      const [sec, nsec] = times[i % times.length];
      assert.ok(r.data.equals(frames[i]), `frame ${i} bytes`);
      assert.is(r.len, frames[i].length + (i % 2));
      assert.is(r.sec, sec);
      assert.is(r.nsec, format === "pcap" ? Math.floor(nsec / 1000) * 1000 : nsec);
    });
    // tshark: every frame read, no malformed packet, no expert errors.
    const out = execFileSync(
      "tshark",
      ["-r", path, "-T", "fields", "-e", "frame.number", "-e", "_ws.malformed", "-e", "udp.srcport"],
      {
        encoding: "utf8",
      },
    );
    const lines = out.trim().split("\n");
    assert.is(lines.length, 300);
    assert.is(lines.filter((l) => l.split("\t")[1] !== "").length, 0, "no malformed frames");
    assert.is(lines[7].split("\t")[2], String(40007));
  });
}

test("ticksToTime and timeToNsTicks are exact against BigInt", () => {
  const out = { sec: 0, nsec: 0 };
  const t = { hi: 0, lo: 0 };
  const cases: [bigint, number][] = [
    [1732560000123456789n, 1e9],
    [18446744073709551615n, 1e9],
    [1732560000123456n, 1e6],
    [123n, 1e3],
    [(1n << 40n) + 12345n, 2 ** 20],
    // hi between 2^21 and 2^23: above 2^53 ticks, where a double cannot hold the count exactly
    [(0x300000n << 32n) + 0x12345677n, 1e9],
    [(0x7fffffn << 32n) + 0xfffffffdn, 1e9],
  ];
  for (const [ticks, units] of cases) {
    ticksToTime(Number(ticks >> 32n), Number(ticks & 0xffffffffn), units, out);
    const u = BigInt(units);
    assert.is(BigInt(out.sec), ticks / u, `sec of ${ticks}`);
    assert.is(out.nsec, Math.floor((Number(ticks % u) * 1e9) / units), `nsec of ${ticks}`);
  }
  for (const [sec, nsec] of [
    [1732560000, 123456789],
    [4294967295, 999999999],
    [0, 1],
  ]) {
    timeToNsTicks(sec, nsec, t);
    assert.is((BigInt(t.hi) << 32n) | BigInt(t.lo), BigInt(sec) * 1000000000n + BigInt(nsec));
  }
});

// Without the corpus the differential test still runs on its generated file; the corpus files are the part not run.
const WITH_CORPUS = corpusNote(
  "pcap-parser on the corpus's classic pcaps (the generated file is still compared)",
);

test("pcap-parser agrees with our reader on every classic µs pcap of the corpus", async () => {
  const { default: pcapParser } = (await import("pcap-parser")) as unknown as {
    default: { parse(path: string): NodeJS.EventEmitter };
  };
  const { readdirSync, readFileSync } = await import("node:fs");
  const files: string[] = [];
  if (WITH_CORPUS) {
    for (const f of readdirSync(CORPUS)) {
      if (!/\.pcap$/.test(f)) continue;
      const magic = readFileSync(join(CORPUS, f)).subarray(0, 4).toString("hex");
      if (magic === "d4c3b2a1" || magic === "a1b2c3d4") files.push(join(CORPUS, f));
    }
  }
  const gen = join(tmp, "diff.pcap");
  const w = new TraceWriter(gen, { format: "pcap" });
  for (let i = 0; i < 500; i++) w.write(udpFrame(i), 0, udpFrame(i).length, 1000 + i, i * 1000);
  w.close();
  files.push(gen);
  let compared = 0;
  const refused: string[] = []; // files pcap-parser cannot open (e.g. a byte-swapped version field)
  for (const f of files) {
    const ours = readAll(f);
    const theirs = await new Promise<
      {
        h: {
          timestampSeconds: number;
          timestampMicroseconds: number;
          capturedLength: number;
          originalLength: number;
        };
        d: Buffer;
      }[]
    >((resolve) => {
      const got: { h: never; d: Buffer }[] = [];
      const p = pcapParser.parse(f);
      p.on("packet", (pk: { header: never; data: Buffer }) =>
        got.push({ h: pk.header, d: Buffer.from(pk.data) }),
      );
      p.on("end", () => resolve(got));
      p.on("error", () => refused.push(f));
    });
    // pcap-parser has no length limit and stops silently at a truncated end: compare the records both accept.
    const n = Math.min(ours.recs.length, theirs.length);
    if (refused.includes(f)) continue;
    if (!ours.error) assert.is(theirs.length, ours.recs.length, `${f}: record count`);
    for (let i = 0; i < n; i++) {
      const a = ours.recs[i];
      const b = theirs[i];
      assert.is(a.caplen, b.h.capturedLength, `${f} #${i + 1} caplen`);
      assert.is(a.len, b.h.originalLength, `${f} #${i + 1} len`);
      assert.is(a.sec, b.h.timestampSeconds, `${f} #${i + 1} sec`);
      if (b.h.timestampMicroseconds < 1e6)
        assert.is(a.nsec, b.h.timestampMicroseconds * 1000, `${f} #${i + 1} usec`);
      assert.ok(a.data.equals(b.d), `${f} #${i + 1} bytes`);
      compared++;
    }
  }
  assert.ok(compared >= 500, `compared ${compared} records`);
  console.log(
    `note: pcap-parser differential: ${files.length - refused.length} files, ${compared} records identical; refused by pcap-parser: ${refused.map((f) => f.split("/").pop()).join(", ") || "none"}`,
  );
});

for (const format of ["pcap", "pcapng"] as WriteFormat[]) {
  test(`records longer than the snap length are cut to it, the original length kept (${format})`, () => {
    const path = join(tmp, `snap.${format}`);
    const w = new TraceWriter(path, { format, snaplen: 100 });
    const f = udpFrame(200);
    const big = Buffer.concat([f, Buffer.alloc(200 - f.length, 9)]);
    w.write(big, 0, big.length, 1, 0);
    w.close();
    const { recs, error } = readAll(path);
    assert.is(error, null);
    assert.equal(
      recs.map((r) => [r.caplen, r.len]),
      [[100, 200]],
    );
    assert.ok(recs[0].data.equals(big.subarray(0, 100)));
  });
}

test.run();
