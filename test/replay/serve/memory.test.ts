// Serve's memory report (issue 16 §4): the core is sized from what the pre-scan
// found, the report splits it into fixed pools and state per connection that add
// up to the core's memory, and a small run's report predicts a larger run.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { runGen } from "../../../host/gen/run.ts";
import { replay } from "../../../host/replay/replay.ts";
import { prescan } from "../../../host/replay/serve/prescan.ts";
import { serveStreamBytes, STREAM_CAP, STREAM_FLOOR } from "../../../host/replay/serve/sizing.ts";
import { SERVE_MEMORY_SCHEMA, validate } from "../../../host/report/schema.ts";
import { formatReplay, type ReplayReport } from "../../../host/report/replay.ts";
import { tempDir } from "../../helpers/tmp.ts";

const SHARED = "../shared/traces";

function adds(r: ReplayReport): void {
  const sv = r.serve!;
  const m = sv.memory!;
  assert.equal(validate(SERVE_MEMORY_SCHEMA, m), []);
  assert.is(m.total_bytes, sv.core_bytes);
  assert.is(m.connections, sv.capacity);
  const p = m.per_connection;
  assert.ok(
    Math.abs(p.tcb + p.timer + p.flow_table + p.mirror_slot + p.app - p.bytes) < 0.2,
    JSON.stringify(p),
  );
  assert.ok(Math.abs(m.fixed_bytes + p.bytes * m.connections - m.total_bytes) < 1);
  const f = m.fixed;
  const sum =
    f.read +
    f.mbufs.bytes +
    f.rings_queues +
    f.spans.bytes +
    f.mirror_streams.bytes +
    f.mirror_feed +
    f.spare +
    f.other;
  assert.is(sum, m.fixed_bytes, "the fixed pools add up");
  // What is left over (static data, heap reserve, alignment, page rounding) is small.
  assert.ok(f.other >= 0 && f.other < 1 << 20, `other ${f.other}`);
  assert.is(f.mbufs.bytes, f.mbufs.count * f.mbufs.bytes_each);
}

test("npm start's capture: a core of ~32 MiB (was 95.4), fixed pools and ~560 B per connection, in text and JSON", () => {
  const r = replay("traces/http-kernel.pcap", { mode: "serve" });
  adds(r);
  const m = r.serve!.memory!;
  assert.ok(m.total_bytes < 40 << 20, `${m.total_bytes} B`);
  assert.is(
    m.fixed.mirror_streams.bytes,
    m.fixed.mirror_streams.floor + 36 * 1024,
    "streams at the floor (2 MiB of 2 KiB blocks + links)",
  );
  assert.ok(m.per_connection.bytes > 500 && m.per_connection.bytes < 600, `${m.per_connection.bytes} B`);
  assert.is(m.per_connection.tcb, 256);
  const text = formatReplay(r);
  assert.match(text, /core 32\.\d MiB = fixed 32\.\d MiB \+ 5\d\d(\.\d)? B × 257 connections/);
  assert.match(text, /1 M connections +≈ 6\d\d\.\d MiB/);
});

test("the pre-scan's peak in flight covers the largest ACK advance; stream memory within floor and cap", () => {
  for (const f of [
    "traces/servers/bulk-socat.pcap",
    "traces/servers/http-nginx.pcap",
    `${SHARED}/example2.pcap`,
  ]) {
    const pre = prescan(f);
    assert.ok(
      pre.peakInFlight >= pre.maxAckAdvance,
      `${f}: in flight ${pre.peakInFlight} < ${pre.maxAckAdvance}`,
    );
    assert.ok(pre.peakInFlight < 4 << 20, `${f}: in flight ${pre.peakInFlight}`);
    assert.ok(pre.maxBatchBytes > 0 && pre.maxBatchBytes <= 8 << 20);
  }
  assert.is(serveStreamBytes({ peakInFlight: 0, maxBatchBytes: 1000 }), STREAM_FLOOR);
  assert.is(serveStreamBytes({ peakInFlight: 4 << 20, maxBatchBytes: 1 << 20 }), 5 * 1.25 * (1 << 20));
  assert.is(serveStreamBytes({ peakInFlight: 1 << 30, maxBatchBytes: 1 << 20 }), STREAM_CAP);
});

test("a 500-connection run's report predicts a 20,000-connection run's memory within 5 %", () => {
  const dir = tempDir("serve-memory");
  try {
    const run = (conns: number) => {
      const pcap = join(dir, `churn-${conns}.pcap`);
      runGen("churn", { out: pcap, conns, quiet: true });
      const r = replay(pcap, { mode: "serve" });
      assert.is(r.error, null);
      assert.is(r.fidelity!.segments_pct, 100);
      adds(r);
      return r;
    };
    const small = run(500);
    const large = run(20_000);
    const m = small.serve!.memory!;
    const held = large.serve!.peak_held;
    const want = m.fixed_bytes + m.per_connection.bytes * (held + (held >>> 3) + 256);
    const err = (want - large.serve!.core_bytes) / large.serve!.core_bytes;
    assert.ok(
      Math.abs(err) < 0.05,
      `predicted ${want}, took ${large.serve!.core_bytes} (${(err * 100).toFixed(2)} %)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
