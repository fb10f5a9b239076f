// host/measure/lib/bigtrace.ts: the benchmarks' repeated captures keep time
// going forward, also when the source spans years (pcap's 32-bit seconds would
// overflow: the ladder of `replay --report html` crashed on the corpus's
// example2.pcap, 2010 to 2015).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { TraceWriter } from "../../host/io/writer.ts";
import { loopTrace } from "../../host/measure/lib/bigtrace.ts";
import { readAll } from "../helpers/records.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir("bigtrace");
const frame = new Uint8Array(60).fill(7);
/** loopTrace writes its loops (and their .json) with the bench's cached captures, named by PID: removed at the end. */
const made: string[] = [];

function source(name: string, secs: number[]): string {
  const path = join(dir, name);
  const w = new TraceWriter(path, { format: "pcap" });
  for (const s of secs) w.write(frame, 0, frame.length, s, 0, frame.length);
  w.close();
  return path;
}

test("a capture spanning years, repeated: every record read back, time increasing, past 2^32 s", () => {
  const src = source("years.pcap", [1.2e9, 1.3e9, 1.4e9]);
  const big = loopTrace(src, 24 + 76 * 3 * 50, `years-${process.pid}`);
  made.push(big.path, big.path + ".json");
  const { recs, error } = readAll(big.path);
  assert.is(error, null);
  assert.is(recs.length, big.packets);
  assert.is(big.packets, 150);
  for (let i = 1; i < recs.length; i++)
    assert.ok(recs[i].sec > recs[i - 1].sec, `record ${i} goes back in time`);
  assert.ok(recs[recs.length - 1].sec > 2 ** 32, "the last pass is past 2^32 s");
});

test("a short capture stays pcap", () => {
  const src = source("short.pcap", [1.7e9, 1.7e9 + 1]);
  const big = loopTrace(src, 24 + 76 * 2 * 10, `short-${process.pid}`);
  made.push(big.path, big.path + ".json");
  const { recs, error } = readAll(big.path);
  assert.is(error, null);
  assert.is(recs.length, 20);
  for (let i = 1; i < recs.length; i++) assert.ok(recs[i].sec > recs[i - 1].sec);
});

test.after(() => {
  for (const p of made) rmSync(p, { force: true });
});

test.run();
