// liveplay without a network: the capture → turns split (host/tap/liveplay-feed.ts)
// on the project's own memcached recording and on made-up segments, and the
// liveplay app (assembly/apps/liveplay.ts) in a core wired back to back with a
// server core (virtual time, deterministic): ixwasm's own memcached, whose
// version string differs from Debian's, and a sink that never answers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { APP_ID } from "../../host/core/abi.gen.ts";
import { join } from "node:path";
import { createCore, type Core } from "../../host/core/core.ts";
import { Link } from "../../host/runtime/link.ts";
import { serverAppBytes, stackConfig } from "../../host/core/stack-config.ts";
import {
  feedStatus,
  planFeed,
  readResults,
  scanSessions,
  splitTurns,
  writeFeed,
  type FeedOptions,
  type Session,
} from "../../host/tap/liveplay-feed.ts";
import { ROOT } from "../helpers/corpus.ts";

const MC = join(ROOT, "traces/memcached-ascii.pcap");
// memcaslap's 4 sessions, each cut after a request whose answer is not captured (traces/record-memcaslap.sh)
const SLAP = join(ROOT, "traces/memcaslap-cut.pcap");
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

test("memcaslap-cut.pcap: 4 sessions without the server's FIN or RST: open-ended, each ending on a request with no captured answer", () => {
  const r = scanSessions(SLAP, 11211);
  assert.is(r.error, null);
  assert.is(r.sessions.length, 4);
  assert.equal(
    r.sessions.map((s) => [s.skip, s.openEnd]),
    Array(4).fill([null, true]),
  );
  for (const s of r.sessions) {
    const last = s.turns[s.turns.length - 1];
    assert.is(last.respLen, 0, "the last request's answer is not in the capture");
    assert.match(txt(s, "client", last.reqOff, 4), /^(get|set) $/);
    assert.ok(s.turns.length > 100);
  }
  // the server's FIN is in every session of the complete memcached recording
  assert.equal(
    scanSessions(MC, 11211).sessions.map((s) => s.openEnd),
    Array(9).fill(false),
  );
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
    app: APP_ID.liveplay,
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

/** What memcached answers a memcaslap request: its verb's captured answer length (one per verb: 32-byte values). */
function answerLen(s: Session, verb: string): number {
  const lens = new Set(
    s.turns.filter((t) => t.respLen && txt(s, "client", t.reqOff, 4) === verb).map((t) => t.respLen),
  );
  assert.is(lens.size, 1, `${verb}: ${[...lens]}`);
  return [...lens][0];
}

test("a capture that ends before the answers (memcaslap-cut): every flow ok, the live answers to the last requests counted beyond the capture", () => {
  const { sessions } = scanSessions(SLAP, 11211);
  const { results, status } = runAgainst(3, sessions, { concurrency: 4 });
  assert.is(status.done, 4);
  assert.is(status.mismatches, 0);
  assert.is(status.timeouts, 0);
  let beyond = 0;
  sessions.forEach((s, i) => {
    const r = results[i];
    assert.is(r.result, "ok", `session ${i}: ${JSON.stringify({ ...r, turns: undefined })}`);
    assert.is(r.mismatches, 0);
    assert.is(r.extraBytes, 0);
    const last = s.turns[s.turns.length - 1];
    // the answer to the uncaptured last request: "STORED\r\n" or the value, as captured earlier for the verb
    const want = answerLen(s, txt(s, "client", last.reqOff, 4));
    assert.is(r.beyondBytes, want, `session ${i}`);
    beyond += want;
  });
  const captured = sessions.reduce((a, s) => a + s.server.length, 0);
  assert.is(status.rxBytes, captured + beyond);
});

test("memcaslap-cut with the server's end captured (not open-ended): the same answers are extra bytes and a mismatch", () => {
  const { sessions } = scanSessions(SLAP, 11211);
  const closed = sessions.map((s) => ({ ...s, openEnd: false }));
  const { results } = runAgainst(3, closed, { concurrency: 4 });
  closed.forEach((s, i) => {
    const r = results[i];
    assert.is(r.result, "mismatch");
    assert.is(r.beyondBytes, 0);
    assert.is(r.extraBytes, answerLen(s, txt(s, "client", s.turns[s.turns.length - 1].reqOff, 4)));
    // the difference is the last turn's, at the end of its (empty) captured answer
    assert.equal(
      r.turns.map((t, j) => [j, t.mismatchAt]).filter(([, m]) => m !== null),
      [[s.turns.length - 1, 0]],
    );
  });
});

test("memcaslap-cut with one captured answer byte changed: that flow still fails (mismatch at the byte), the others pass", () => {
  const { sessions } = scanSessions(SLAP, 11211);
  const s = sessions[2];
  const server = Buffer.from(s.server);
  const t = s.turns[5];
  assert.ok(t.respLen > 3);
  server[t.respOff + 3] ^= 0x20; // "STORED" -> "STOrED", or a byte of a value's header
  const changed = [sessions[0], sessions[1], { ...s, server }, sessions[3]];
  const { results } = runAgainst(3, changed, { concurrency: 4 });
  assert.equal(
    results.map((r) => r.result),
    ["ok", "ok", "mismatch", "ok"],
  );
  assert.is(results[2].mismatches, 1);
  assert.is(results[2].turns[5].mismatchAt, 3);
  assert.ok(results[2].beyondBytes > 0, "the bytes after the capture's end are still counted apart");
  assert.is(results[2].extraBytes, 0);
});

test.run();
