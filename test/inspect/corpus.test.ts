// dump and inspect agree with tshark: on the project's own recordings (always)
// and on every capture of the public corpus (when it is there).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { dump, type DumpRecord } from "../../host/inspect/dump.ts";
import { inspect } from "../../host/inspect/inspect.ts";
import { CORPUS, OWN_TRACES, corpusNote, manifest, ownTraces } from "../helpers/corpus.ts";
import { compareRecords, readJsonl, type Expected } from "../helpers/compare.ts";

corpusNote("dump and inspect on the corpus captures"); // under CI a missing corpus fails here

function dumpRecords(path: string): DumpRecord[] {
  let text = "";
  dump(path, { jsonl: true, out: (s) => (text += s) });
  return readJsonl<DumpRecord>(text);
}

const own = ownTraces();
test("the project's own traces are present", () => {
  assert.ok(own.length >= 5, `traces/ holds ${own.length} captures`);
});

for (const path of own) {
  const name = basename(path);
  test(`own trace ${name}: dump equals tshark's decode`, () => {
    const expected = readJsonl<Expected>(
      readFileSync(join(OWN_TRACES, "expected", `${name}.dump.jsonl`), "utf8"),
    );
    const bad = compareRecords(expected, dumpRecords(path));
    assert.equal(bad, [], bad.join("\n"));
  });
  test(`own trace ${name}: inspect equals tshark's counts`, () => {
    const want = JSON.parse(readFileSync(join(OWN_TRACES, "expected", `${name}.inspect.json`), "utf8"));
    const r = inspect(path);
    assert.is(r.error, undefined);
    for (const k of [
      "format",
      "linktypes",
      "packets",
      "bytes",
      "first_ts",
      "last_ts",
      "ipv4",
      "ipv6",
      "tcp",
      "udp",
      "tcp_flows",
    ])
      assert.equal((r as unknown as Record<string, unknown>)[k], want[k], `${name} ${k}`);
  });
}

for (const row of manifest()) {
  const path = join(CORPUS, row.file);
  const truth = join(CORPUS, "truth", `${row.file}.jsonl`);
  if (existsSync(truth)) {
    test(`corpus ${row.file}: dump equals tshark's truth`, () => {
      const bad = compareRecords(readJsonl<Expected>(readFileSync(truth, "utf8")), dumpRecords(path));
      assert.equal(bad, [], bad.join("\n"));
    });
  }
  if (row.format === "corrupt") continue;
  test(`corpus ${row.file}: inspect counts equal the MANIFEST`, () => {
    const r = inspect(path);
    assert.is(r.error, undefined);
    assert.is(r.format, row.format);
    assert.is(r.packets, row.packets, "frames (pcapng custom blocks included, as tshark counts them)");
    assert.is(r.bytes, row.bytes);
    assert.is(r.ipv4, row.ipv4_packets);
    assert.is(r.ipv6, row.ipv6_packets);
    assert.is(r.tcp, row.tcp_packets);
    // One fuzzed SYN in fuzz-2006-09-29.pcap makes tshark start a stream without a FIN/RST
    // before it (see docs/commands/inspect.md); every other capture agrees exactly.
    const streams = row.file === "fuzz-2006-09-29.pcap" ? row.tcp_streams - 1 : row.tcp_streams;
    assert.is(r.tcp_flows, streams, "tcp_flows vs tshark tcp.stream");
  });
}

test.run();
