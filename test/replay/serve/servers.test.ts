// Serve on captures of real Linux servers (traces/servers/, recorded by
// traces/record-servers.sh over a veth pair, offloads off, no loss): the core
// must cut its segments as each server did — 64 KiB application writes
// (python http.server), sendfile with keep-alive (nginx), pipelined replies
// (redis), small writes under Nagle, 8 KiB bulk writes (socat) — at least
// 99.5 % of the server's segments alike (issue 14). Every flow has its
// handshake, so every flow is served.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SERVER_TRACES } from "../../helpers/corpus.ts";
import { replay } from "../../../host/replay/replay.ts";

// name: the flows in it (the recording script's connections).
const CAPTURES: Record<string, number> = {
  "http-python.pcap": 14,
  "http-nginx.pcap": 6,
  "redis-pipeline.pcap": 26,
  "small-writes.pcap": 3,
  "bulk-socat.pcap": 2,
};

for (const [name, flows] of Object.entries(CAPTURES)) {
  test(`${name}: every flow served, >= 99.5 % of the server's segments reproduced`, () => {
    const path = join(SERVER_TRACES, name);
    assert.ok(existsSync(path), `${path} is missing (traces/record-servers.sh records it)`);
    const r = replay(path, { mode: "serve" });
    assert.is(r.error, null);
    assert.is(r.flows.served, flows, "flows served");
    assert.is(r.flows.tracked, 0, "flows tracked (no handshake)");
    const f = r.fidelity!;
    const share = f.segments_matching / f.segments_compared;
    assert.ok(
      f.segments_compared > 100 && share >= 0.995,
      `${f.segments_matching}/${f.segments_compared}: ${JSON.stringify(f.first_mismatches)}`,
    );
    assert.is(f.segments_missing, 0, "no recorded segment left unsent");
    assert.is(f.retransmissions_core, 0, "no retransmission on a loss-free capture");
  });
}

test.run();
