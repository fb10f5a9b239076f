// liveplay without a network: the capture → turns split (host/trace/liveplay-feed.ts)
// on the project's own memcached recording and on made-up segments, and the
// liveplay app (assembly/apps/liveplay.ts) in a core wired back to back with a
// server core (virtual time, deterministic): ixwasm's own memcached, whose
// version string differs from Debian's, and a sink that never answers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { createCore, type Core } from "../../host/core.ts";
import { Link } from "../../host/dispatch/link.ts";
import { serverAppBytes, stackConfig } from "../../host/stack-config.ts";
import {
  feedStatus,
  planFeed,
  readResults,
  scanSessions,
  splitTurns,
  writeFeed,
  type FeedOptions,
  type Session,
} from "../../host/trace/liveplay-feed.ts";
import { ROOT } from "../helpers/corpus.ts";

const MC = join(ROOT, "traces/memcached-ascii.pcap");
const txt = (s: Session, which: "client" | "server", off: number, len: number) =>
  (which === "client" ? s.client : s.server).subarray(off, off + len).toString("latin1");

test("memcached-ascii.pcap: 9 sessions to 11211, each command a turn with its captured answer", () => {
  const r = scanSessions(MC, 11211);
  assert.is(r.error, null);
  assert.is(r.sessions.length, 9);
  assert.equal(r.skipped, {});
  assert.ok(r.sessions.every((s) => s.skip === null));
  assert.equal(
    r.sessions.map((s) => s.turns.length),
    [2, 3, 2, 2, 2, 2, 2, 4, 12],
  );
  // libmemcached closes after the server answered "quit" by closing; the `add` session's client closed first.
  assert.equal(
    r.sessions.map((s) => s.close),
    [
      "server-fin",
      "server-fin",
      "server-fin",
      "server-fin",
      "client-fin",
      "server-fin",
      "server-fin",
      "server-fin",
      "server-fin",
    ],
  );
  const s = r.sessions[8];
  const t = s.turns;
  assert.is(txt(s, "client", t[3].reqOff, t[3].reqLen), "incr counter 1\r\n");
  assert.is(txt(s, "server", t[3].respOff, t[3].respLen), "42\r\n");
  assert.is(txt(s, "client", t[8].reqOff, t[8].reqLen), "get greeting\r\n");
  assert.is(txt(s, "server", t[8].respOff, t[8].respLen), "END\r\n");
  assert.is(txt(s, "client", t[11].reqOff, t[11].reqLen), "quit\r\n");
  assert.is(t[11].respLen, 0, "quit is answered by a close, not bytes");
  // turns tile both streams exactly
  let c = 0;
  let v = 0;
  for (const x of t) {
    assert.is(x.reqOff, c);
    assert.is(x.respOff, v);
    assert.is(x.cmpLen, x.respLen, "every response byte was captured");
    c += x.reqLen;
    v += x.respLen;
  }
  assert.is(c, s.client.length);
  assert.is(v, s.server.length);
  // the 20 kB value crossed in many segments: still one turn each way
  const big = r.sessions[3];
  assert.is(big.turns[0].respLen, 20034);
  assert.ok(txt(big, "server", 20034 - 7, 7) === "\r\nEND\r\n");
});

test("a port nobody talks to: no sessions", () => {
  const r = scanSessions(MC, 80);
  assert.is(r.sessions.length, 0);
});

const seg = (off: number, data: string, req: number, ts: number, have = data.length) => ({
  off,
  len: data.length,
  data: Buffer.from(data.slice(0, have)),
  req,
  ts,
});

test("turns: server speaks first, retransmissions ignored, a lost server segment stops comparison, a last request without answer", () => {
  const cseg = [seg(0, "HELO a\r\n", 0, 1.1), seg(8, "DATA\r\n", 0, 1.3), seg(14, "QUIT\r\n", 0, 1.6)];
  const sseg = [
    seg(0, "220 hi\r\n", 0, 1.0),
    seg(8, "250 ok\r\n", 8, 1.2),
    seg(8, "250 ok\r\n", 8, 1.25), // the capture's retransmission
    seg(16, "354 go", 14, 1.4),
    seg(26, "more\r\n", 14, 1.5, 0), // [22, 26) never captured, [26, 32) cut by the snap length
  ];
  const have = new Uint8Array(32);
  have.fill(1, 0, 22);
  const turns = splitTurns(20, sseg, cseg, have);
  assert.equal(
    turns.map((t) => [t.reqOff, t.reqLen, t.respOff, t.respLen, t.cmpLen]),
    [
      [0, 0, 0, 8, 8], // the greeting: nothing to send, 8 bytes to wait for
      [0, 8, 8, 8, 8],
      [8, 6, 16, 16, 6], // compared up to the first byte the capture lacks
      [14, 6, 32, 0, 0],
    ],
  );
  assert.is(turns[1].reqTs, 1.1);
  assert.is(turns[2].endTs, 1.5);
  assert.is(turns[3].reqTs, 1.6);
});

// ---- the app against a server core --------------------------------------------------
const CLIENT_IP = Buffer.from([198, 18, 0, 2]);
const SERVER_IP = Buffer.from([198, 18, 0, 1]);

function runAgainst(app: number, sessions: Session[], o: Partial<FeedOptions>, maxMs = 30_000) {
  const fo: FeedOptions = {
    concurrency: 1,
    timeoutUs: 200_000,
    compare: true,
    speedFactor: 0,
    addr: SERVER_IP,
    port: 11211,
    evqSlots: 0,
    ...o,
  };
  const sc = stackConfig(fo.concurrency + sessions.length, 512);
  fo.evqSlots = sc.evqSlots!;
  const feed = planFeed(sessions, fo);
  const client = createCore({
    ...sc,
    timers: fo.concurrency + 64,
    app: 9,
    appBytes: feed.bytes,
    macLo: 0x0000c602,
    macHi: 0x0201,
    ipv4: CLIENT_IP.readUInt32LE(0),
    mslMs: 1000,
  });
  writeFeed(client, feed, fo);
  const server: Core = createCore({
    ...stackConfig(64, 512),
    app,
    appPort: 11211,
    appBytes: serverAppBytes(app === 3 ? "memcached" : "sink", 64),
    macLo: 0x0000c602,
    macHi: 0x0101,
    ipv4: SERVER_IP.readUInt32LE(0),
  });
  const link = new Link(client, server);
  const cp = client.exports.poll as (n: number) => number;
  const sp = server.exports.poll as (n: number) => number;
  let now = 0;
  for (let i = 0; now < maxMs * 1e6 && feedStatus(client).done < sessions.length; i++) {
    now += 20_000; // 20 µs of virtual time per round
    cp(now);
    sp(now);
    link.pump(now);
  }
  return { results: readResults(client, feed), status: feedStatus(client), virtualMs: now / 1e6 };
}

test("against ixwasm's memcached: every turn answered; the version turns differ where the version string does", () => {
  const { sessions } = scanSessions(MC, 11211);
  const { results, status } = runAgainst(3, sessions, { concurrency: 1 });
  assert.is(status.done, 9);
  assert.is(status.timeouts, 0);
  // "VERSION 1.6.18\r\n" captured, "VERSION 1.6.18-ixwasm\r\n" here: byte 14 differs, 7 bytes more
  assert.is(results[0].result, "mismatch");
  assert.equal(results[0].turns[0].mismatchAt, 14);
  assert.is(results[0].extraBytes, 7);
  for (const i of [1, 2, 3, 4, 5, 6, 7])
    assert.is(results[i].result, "ok", `session ${i}: ${JSON.stringify(results[i])}`);
  assert.is(results[8].result, "mismatch");
  assert.equal(
    results[8].turns.map((t) => t.mismatchAt),
    [null, null, null, null, null, null, null, null, null, null, 14, null],
  );
  for (const r of results) {
    assert.ok(
      r.turns.every((t) => t.latencyUs !== null && !t.timedOut),
      "every turn answered in full",
    );
    assert.is(r.dead, "closed");
    assert.ok(r.connectUs !== null && r.connectUs > 0);
  }
  assert.is(status.rxBytes, 20420 + 2 * 7);
});

test("two sessions open at once against memcached: each gets its own answers", () => {
  const { sessions } = scanSessions(MC, 11211);
  // session 0 asks the version, session 1 sets two keys: independent of each other
  const { results, status } = runAgainst(3, [sessions[0], sessions[1]], { concurrency: 2 });
  assert.is(status.done, 2);
  assert.is(results[1].result, "ok");
  assert.is(results[0].result, "mismatch");
});

test("against a sink that never answers: each turn with a response times out, the flow goes on and ends", () => {
  const { sessions } = scanSessions(MC, 11211);
  const { results, status } = runAgainst(2, [sessions[8]], { timeoutUs: 50_000, compare: false });
  assert.is(status.done, 1);
  const r = results[0];
  assert.is(r.result, "timeout");
  assert.is(r.timeouts, 11, "11 turns expect an answer");
  assert.ok(r.turns.slice(0, 11).every((t) => t.timedOut));
  assert.ok(r.turns[11].latencyUs !== null, "quit needs no answer");
  assert.is(r.closeTimedOut, true, "the server never closed as it did in the capture: aborted");
});

test.run();
