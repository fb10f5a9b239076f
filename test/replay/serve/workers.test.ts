// replay --mode serve --workers N (host/replay/serve/workers.ts): every worker
// reads the capture and serves the flows the flow hash gives it. What must not
// depend on N: the counts, the flows served and tracked, the fidelity's compared
// and matching segments, and each flow's SYN and data segments in --out. What
// may: when the core is polled follows each worker's own packets, so pure ACKs,
// output timestamps, and at a close whether the client's FIN or the mirror's
// came first (a duplicate FIN after a passive close meets no TCB and is answered
// with a RST: counted as an extra segment) — http-range-multiflows shows it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { CORPUS, HAVE_CORPUS, ROOT, corpusNote, ownTraces } from "../../helpers/corpus.ts";
import { readAll } from "../../helpers/records.ts";
import { replay } from "../../../host/replay/replay.ts";
import { serveWorkers, type ServeWorkersReport } from "../../../host/replay/serve/workers.ts";
import { replayWorkers } from "../../../host/replay/workers.ts";
import { unaccounted, type ReplayReport } from "../../../host/report/replay.ts";
import { prescan, prescanWorkers, REC_WORDS } from "../../../host/replay/serve/prescan.ts";
import { tempDir } from "../../helpers/tmp.ts";

corpusNote();
const CORPUS_FILES = [
  "http-range-multiflows.pcap",
  "example2.pcap",
  "kakaotalk_chat.pcap",
  "four_ipv6_http_streams.pcap",
];
const FILES = [...ownTraces(), ...(HAVE_CORPUS ? CORPUS_FILES.map((f) => join(CORPUS, f)) : [])];
const tmp = tempDir("serve-workers");

function same(r: ReplayReport) {
  return {
    packets_in: r.packets_in,
    bytes_in: r.bytes_in,
    packets_processed: r.packets_processed,
    flows: r.flows,
    drops: r.drops,
    unserved: r.serve!.flows_unserved_why,
    delivered: r.serve!.delivered,
    reference: r.serve!.reference,
    tracked: r.serve!.tracked,
    fidelity: {
      ...r.fidelity!,
      first_mismatches: null,
      segments_extra: null,
      segments_pct: null,
    },
    error: r.error,
  };
}

function checkSplit(r: ServeWorkersReport, what: string): void {
  assert.is(unaccounted(r), 0, `${what}: every packet processed or dropped for a reason`);
  assert.is(r.serve!.delivered + r.serve!.reference + r.serve!.tracked, r.packets_processed, what);
  assert.is(r.per_worker.length, r.workers, what);
  assert.is(
    r.per_worker.reduce((a, w) => a + w.packets, 0),
    r.packets_in,
    `${what}: each packet counted by one worker`,
  );
  assert.equal(
    r.worker_packets,
    r.per_worker.map((w) => w.packets),
  );
}

test("1, 2 and 4 workers: same counts, flows and fidelity on own and corpus captures", async () => {
  let split = 0;
  for (const f of FILES) {
    const one = replay(f, { mode: "serve" });
    for (const n of f.includes("/traces/") || f.endsWith("multiflows.pcap") ? [2, 4] : [2]) {
      const r = await serveWorkers(f, { mode: "serve", workers: n });
      checkSplit(r, `${f} × ${n}`);
      assert.equal(same(r), same(one), `${f}: ${n} workers`);
      if (r.per_worker.filter((w) => w.packets > 0).length > 1) split++;
    }
  }
  assert.ok(split >= 3, `flows were spread over several workers in ${split} runs`);
});

test("a worker's pre-scan learns exactly its flows: the shares add up to the whole", () => {
  for (const f of FILES) {
    const all = prescan(f);
    const parts = [0, 1, 2].map((index) => prescan(f, undefined, undefined, { index, workers: 3 }));
    assert.is(
      parts.reduce((a, p) => a + p.flows, 0),
      all.flows,
      f,
    );
    assert.is(
      parts.reduce((a, p) => a + p.served, 0),
      all.served,
      f,
    );
    assert.is(
      parts.reduce((a, p) => a + p.packets, 0),
      all.packets,
      f,
    );
  }
});

test("one pre-scan pass for every worker gives each what its own pre-scan would", () => {
  for (const f of FILES) {
    const one = prescanWorkers(f, 3).pres;
    assert.is(one.length, 3);
    for (let index = 0; index < 3; index++) {
      const own = prescan(f, undefined, undefined, { index, workers: 3 });
      const { ms: _a, rec: ra, ...a } = one[index];
      const { ms: _b, rec: rb, ...b } = own;
      assert.equal(a, b, `${f}: worker ${index}`);
      assert.equal(
        [...ra.subarray(0, a.flows * REC_WORDS)],
        [...rb.subarray(0, b.flows * REC_WORDS)],
        `${f}: worker ${index}'s records`,
      );
    }
  }
});

/** Each flow's data, SYN, FIN and RST segments in --out, in order (pure ACKs left out). */
function segmentsByFlow(path: string): Map<string, string[]> {
  const by = new Map<string, string[]>();
  let prev = -Infinity;
  for (const r of readAll(path).recs) {
    const t = r.sec + r.nsec / 1e9;
    assert.ok(t >= prev, `${path}: records in time order`);
    prev = t;
    const d = r.data;
    if (d[12] !== 0x08 || d[13] !== 0 || d[23] !== 6) continue;
    const l4 = 14 + (d[14] & 15) * 4;
    const end = 14 + ((d[16] << 8) | d[17]);
    const data = d.subarray(l4 + (d[l4 + 12] >> 4) * 4, end);
    const flags = d[l4 + 13];
    if (data.length === 0 && !(flags & 2)) continue; // data and SYNs (see the top of the file)
    const key = `${d.subarray(26, 34).toString("hex")} ${d.readUInt32BE(l4).toString(16)}`;
    const list = by.get(key) ?? [];
    list.push(`${d.readUInt32BE(l4 + 4)} ${flags & 2} ${data.toString("hex")}`);
    by.set(key, list);
  }
  return by;
}

test("--out: the parts merge in time order and every flow's segments equal the one-worker run's", async () => {
  const f = HAVE_CORPUS ? join(CORPUS, "http-range-multiflows.pcap") : ownTraces()[0];
  const a = join(tmp, "one.pcap");
  const b = join(tmp, "two.pcap");
  const one = replay(f, { mode: "serve", out: a });
  const two = await serveWorkers(f, { mode: "serve", workers: 2, out: b });
  assert.is(two.out!.records, two.packets_out, "the merged file holds what the workers sent");
  const sa = segmentsByFlow(a);
  const sb = segmentsByFlow(b);
  assert.ok(sa.size > 0);
  assert.equal([...sb.entries()].sort(), [...sa.entries()].sort());
  assert.is(one.fidelity!.segments_matching, two.fidelity!.segments_matching);
  assert.not.ok(existsSync(join(tmp, ".two.worker0.pcap")), "the parts are removed");
});

test("--loop 2 with 2 workers: the fidelity of the one-worker loop", async () => {
  const f = ownTraces().find((p) => p.endsWith("http-kernel.pcap"))!;
  const one = replay(f, { mode: "serve", loop: 2 });
  const two = await serveWorkers(f, { mode: "serve", workers: 2, loop: 2 });
  assert.equal(same(two), same(one));
});

test("CLI: serve is the default with --workers 2; pps and mbps are refused in one line", () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "host/cli.ts"), "replay", ...args], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
    });
  const f = ownTraces().find((p) => p.endsWith("http-kernel.pcap"))!;
  const r = cli([f, "--workers", "2", "--report", "json"]);
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as ServeWorkersReport;
  assert.is(j.mode, "serve");
  assert.is(j.workers, 2);
  assert.is(j.fidelity!.segments_matching, j.fidelity!.segments_compared);
  const p = cli([f, "--workers", "2", "--speed", "mbps:10"]); // x10: test/replay/workers-out-paced.test.ts
  assert.is(p.status, 1, p.stderr);
  assert.match(p.stderr, /--speed mbps:10 with serve --workers 2 is not available/);
});

test("progress on a TTY: serve and track on workers print a packets/ETA line and clear it at the end", async () => {
  const f = ownTraces().find((p) => p.endsWith("http-kernel.pcap"))!;
  const seen: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => (
    seen.push(String(chunk)),
    true
  )) as typeof process.stderr.write;
  let served: ServeWorkersReport;
  try {
    served = await serveWorkers(f, { mode: "serve", workers: 2, progress: true });
    await replayWorkers(f, { mode: "track", workers: 2, progress: true });
  } finally {
    process.stderr.write = write;
  }
  const lines = seen.filter((l) => /packets .*ETA/.test(l));
  assert.ok(lines.length >= 2, `progress lines: ${JSON.stringify(seen)}`);
  assert.match(seen.at(-1)!, /^\r +\r$/, "the line is cleared at the end");
  assert.is(served.packets_in, 133);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
