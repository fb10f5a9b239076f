// `ixwasm replay FILE` without --mode: serve when the capture holds TCP handshakes
// (at any speed and --loop), track otherwise (issue 5).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../helpers/corpus.ts";
import { readAll } from "../helpers/records.ts";
import { TraceWriter } from "../../host/io/writer.ts";
import { tempDir } from "../helpers/tmp.ts";

const HTTP = join(ROOT, "traces/http-kernel.pcap");
const tmp = tempDir("default-mode");

function reportOf(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(ROOT, "host/cli.ts"), "replay", ...args, "--report", "json"],
    {
      encoding: "utf8",
    },
  );
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}
const modeOf = (...args: string[]): string => reportOf(...args).mode;

test("handshakes in the capture, top speed: serve", () => {
  assert.is(modeOf(HTTP), "serve");
});

test("no handshake in the capture: track", () => {
  // The same conversations without their SYN and SYN-ACK: they start mid-stream.
  const { recs } = readAll(HTTP);
  const path = join(tmp, "midstream.pcap");
  const w = new TraceWriter(path, { format: "pcap" });
  let kept = 0;
  for (const r of recs) {
    if (r.data[47] & 0x02) continue; // TCP SYN bit (Ethernet 14 + IPv4 20 + flags at 13)
    w.write(r.data, 0, r.caplen, r.sec, r.nsec, r.len);
    kept++;
  }
  w.close();
  assert.ok(kept > 100 && kept < recs.length);
  assert.is(modeOf(path), "track");
});

test("--stages reports the mode the plain replay runs (issue 16 item 7)", () => {
  const plain = modeOf(HTTP);
  assert.is(plain, "serve");
  assert.is(modeOf(HTTP, "--stages", "1"), plain);
  const mid = join(tmp, "midstream.pcap"); // the test above wrote it: no handshake, tracked
  assert.is(modeOf(mid, "--stages", "1"), modeOf(mid));
  // Serve is measured on one core: --workers is refused, not reported as if it ran.
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(ROOT, "host/cli.ts"), "replay", HTTP, "--workers", "2", "--stages", "1"],
    { encoding: "utf8" },
  );
  assert.is(r.status, 1);
  assert.match(r.stderr, /measure serve on one core/);
});

test("paced speed and --loop: still serve; an --app asks for serve", () => {
  assert.is(modeOf(HTTP, "--speed", "x1000"), "serve");
  assert.is(modeOf(HTTP, "--loop", "2"), "serve");
  assert.is(modeOf(join(ROOT, "traces/nc-echo.pcap"), "--app", "echo"), "serve");
  assert.is(modeOf(HTTP, "--mode", "raw"), "raw");
});

test("--workers 2: the mode is chosen from the workers' own pre-scans, and they serve from them as with --mode serve", () => {
  const auto = reportOf(HTTP, "--workers", "2");
  const given = reportOf(HTTP, "--workers", "2", "--mode", "serve");
  assert.is(auto.mode, "serve");
  assert.is(auto.workers, 2);
  for (const k of ["packets_in", "flows", "fidelity", "worker_packets"]) assert.equal(auto[k], given[k], k);
  assert.ok(auto.prescan_s >= 0 && auto.prescan_s < 60, `prescan_s ${auto.prescan_s}`);
  assert.is(
    modeOf(join(tmp, "midstream.pcap"), "--workers", "2"),
    "track",
    "no handshake: track, on workers too",
  );
});

test.run();
