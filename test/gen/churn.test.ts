// gen churn: hundreds of thousands of connections open at once in flat memory
// (an idle connection is a function of its number, not state), every one of them a
// complete conversation, and the concurrency the options ask for.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { generate } from "../../host/gen/index.ts";
import { genOptions } from "../../host/gen/run.ts";
import { inspect } from "../../host/inspect/inspect.ts";
import { CliExit } from "../../host/commands/cli-util.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("gen-churn");

test("300 k concurrent connections: all complete, peak = --conns, memory flat", () => {
  const out = join(tmp, "churn.pcap");
  const rss0 = process.memoryUsage().rss;
  const r = generate(genOptions("churn", { out, conns: 300_000, rate: 300_000, response: 200, quiet: true }));
  const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(r.peak_concurrent >= 299_000 && r.peak_concurrent <= 300_000, `peak ${r.peak_concurrent}`);
  assert.ok(r.connections >= 299_000, `${r.connections} connections`);
  assert.is(r.memory.bytes_per_connection, 0);
  assert.ok(r.memory.peak_bursts < 2000, `${r.memory.peak_bursts} bursts in flight`);
  assert.ok(grew < 64, `RSS grew ${grew.toFixed(1)} MB`);
  assert.is(r.packets, r.connections * 9); // handshake, request/response/ACK, FIN/FIN/ACK
  const i = inspect(out);
  assert.is(i.packets, r.packets);
  assert.is(i.tcp_flows, r.connections);
  rmSync(out);
});

test("a slot reopens on a fresh port: two generations, no tuple reused while open", () => {
  const out = join(tmp, "gen2.pcap");
  const r = generate(genOptions("churn", { out, conns: 5000, rate: 50000, duration: 0.25e9, quiet: true }));
  assert.ok(r.connections > 12000, `${r.connections}`);
  assert.ok(r.peak_concurrent <= 5000);
  assert.is(inspect(out).tcp_flows, r.connections);
});

test("impossible plans fail with the fix", () => {
  const f = (flags: object) => {
    try {
      genOptions("churn", { out: join(tmp, "x.pcap"), ...flags });
      return "";
    } catch (e) {
      assert.instance(e, CliExit);
      return (e as Error).message;
    }
  };
  assert.match(f({ conns: 10, rate: 1e7 }), /lower --rate or raise --conns/);
  assert.match(f({ conns: 1_000_000, clients: 2 }), /--clients 32 or more/);
  assert.is(f({ conns: 1_000_000, rate: 100_000 }), "");
});

test.run();
