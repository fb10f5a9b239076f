// An ETC capture replayed with the real memcached app answering (serve mode,
// `--app memcached`): every response stream must equal the generated server's,
// whose answers test/gen/memcached.test.ts checks (each GET that follows its
// SET returns that value; misses answer END / "Not found"). Equal streams, so
// every GET got the right value from the WASM memcached.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { runGen } from "../../host/gen/run.ts";
import { replay } from "../../host/replay/replay.ts";
import { segments } from "./capture.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("gen-serve");

/** Server → client payload per connection, reassembled by sequence number. */
function responseStreams(path: string, port: number): Map<string, Buffer> {
  const bySeq = new Map<string, Map<number, Buffer>>();
  for (const s of segments(path)) {
    if (s.sport !== port || s.payload.length === 0) continue;
    const k = `${s.dst}:${s.dport}`;
    const m = bySeq.get(k) ?? new Map<number, Buffer>();
    m.set(s.seq, Buffer.from(s.payload));
    bySeq.set(k, m);
  }
  const out = new Map<string, Buffer>();
  for (const [k, m] of bySeq)
    out.set(k, Buffer.concat([...m.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1])));
  return out;
}

for (const protocol of ["ascii", "binary"]) {
  test(`ETC (${protocol}) served by the WASM memcached: every response stream equals the generated server's`, () => {
    const cap = join(tmp, `etc-${protocol}.pcap`);
    const out = join(tmp, `etc-${protocol}-out.pcap`);
    runGen("etc", { out: cap, duration: 20e6, seed: 5, protocol, quiet: true });
    const r = replay(cap, { mode: "serve", app: "memcached", out });
    assert.is(r.error ?? null, null);
    const want = responseStreams(cap, 11211);
    const got = responseStreams(out, 11211);
    assert.ok(want.size >= 8, `${want.size} connections`);
    let bytes = 0;
    for (const [k, w] of want) {
      const g = got.get(k);
      assert.ok(g, `connection ${k} answered`);
      if (!g!.equals(w)) {
        let i = 0;
        while (i < w.length && w[i] === g![i]) i++;
        assert.unreachable(
          `${k}: first difference at byte ${i}: ${JSON.stringify(w.subarray(i, i + 40).toString())} vs ${JSON.stringify(g!.subarray(i, i + 40).toString())}`,
        );
      }
      bytes += w.length;
    }
    assert.ok(bytes > 10_000, `${bytes} response bytes compared`);
  });
}

test.run();
