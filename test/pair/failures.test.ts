// `ixwasm pair` names each kind of failure: connections that failed to open,
// were reset or timed out, responses that differed (where), and runs that ran
// out of time; the CLI exits 1 for any of them. Each is provoked on the virtual
// clock through the link's test hook.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pairOneThread, type PairOptions } from "../../host/pair/pair.ts";
import { formatPair, pairFailures } from "../../host/report/pair.ts";
import { ROOT } from "../helpers/corpus.ts";

const base: PairOptions = {
  app: "echo",
  conns: 1,
  msgs: 5,
  size: 64,
  workers: 1,
  faults: {},
  timeoutS: 600,
  clock: "virtual",
};

// Ethernet + IPv4 + TCP as the cores send them.
const tcpOff = (f: Uint8Array) => 14 + (f[14] & 15) * 4;
const isTcp = (f: Uint8Array) => f[12] === 0x08 && f[13] === 0x00 && f[23] === 6;
const payloadLen = (f: Uint8Array) =>
  ((f[16] << 8) | f[17]) - (f[14] & 15) * 4 - (f[tcpOff(f) + 12] >> 4) * 4;
const payloadOff = (f: Uint8Array) => tcpOff(f) + (f[tcpOff(f) + 12] >> 4) * 4;

/** Rewrites the 16-bit word at byte off of f (even offset from the TCP header) keeping the TCP checksum right (RFC 1624 eqn. 3). */
function rewrite16(f: Uint8Array, off: number, word: number): void {
  const c = tcpOff(f) + 16;
  const old = (f[off] << 8) | f[off + 1];
  let sum = (~((f[c] << 8) | f[c + 1]) & 0xffff) + (~old & 0xffff) + word;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const hc = ~sum & 0xffff;
  f[off] = word >> 8;
  f[off + 1] = word & 0xff;
  f[c] = hc >> 8;
  f[c + 1] = hc & 0xff;
}

/** A filter that rewrites the n-th (from 1) server→client data segment with fn. */
function nthServerData(n: number, fn: (f: Uint8Array) => void) {
  let seen = 0;
  return (dir: "ab" | "ba", f: Uint8Array) => {
    if (dir === "ba" && isTcp(f) && payloadLen(f) > 0 && ++seen === n) fn(f);
    return true;
  };
}

test("a response changed in flight: counted as differed, with its connection, request, offset and bytes", () => {
  let original = -1;
  const r = pairOneThread({
    ...base,
    linkFilter: nthServerData(3, (f) => {
      const p = payloadOff(f) + 10; // offset 10 of the third answer (one segment each)
      original = f[p];
      rewrite16(f, p, ((f[p] ^ 0x01) << 8) | f[p + 1]);
    }),
  });
  assert.ok(original >= 0, "a segment was changed");
  assert.is(r.responses_differed, 1);
  assert.equal(r.first_difference, {
    conn: 0,
    request: 2,
    offset: 10,
    expected: original,
    got: original ^ 1,
  });
  assert.is(r.errors, 1);
  assert.is(r.connects_failed + r.conns_reset + r.conns_timed_out + r.other_errors, 0);
  assert.is(r.ran_out_of_time, false);
  assert.is(r.round_trips, 5, "the run goes on");
  const hex = (b: number) => "0x" + b.toString(16).padStart(2, "0");
  const why = `connection 0, request 2, offset 10: expected ${hex(original)}, got ${hex(original ^ 1)}`;
  assert.equal(pairFailures(r, 600), [`1 response(s) differed from what was sent (first: ${why})`]);
  assert.ok(formatPair(r).includes(`1: 1 response(s) differed (first: ${why})`), formatPair(r));
});

test("a connection reset mid-run: counted as reset, not as differing bytes", () => {
  const r = pairOneThread({
    ...base,
    // The third answer becomes a RST (its sequence number is the one expected, so it is taken).
    linkFilter: nthServerData(3, (f) => {
      const o = tcpOff(f) + 12;
      rewrite16(f, o, (f[o] << 8) | 0x14); // RST|ACK
    }),
  });
  assert.is(r.conns_reset, 1);
  assert.is(r.responses_differed, 0);
  assert.is(r.first_difference, null);
  assert.is(r.errors, 1);
  assert.is(r.connects_failed, 0);
  assert.is(r.ran_out_of_time, false);
  assert.is(r.round_trips, 2, "two answers before the reset");
  assert.equal(pairFailures(r, 600), ["1 connection(s) reset"]);
  assert.match(formatPair(r), /\nerrors +1: 1 reset\n/);
});

test("nobody listening: every connection failed to open", () => {
  const r = pairOneThread({ ...base, conns: 3, serverPort: 8 });
  assert.is(r.connects_failed, 3);
  assert.is(r.errors, 3);
  assert.is(r.round_trips, 0);
  assert.is(r.ran_out_of_time, false);
  assert.is(r.counters.server.tcp_no_listener, 3);
  assert.equal(pairFailures(r, 600), ["3 connection(s) failed to open"]);
});

test("the server goes silent once connected: the connection times out (retransmissions give up)", () => {
  let data = 0;
  const r = pairOneThread({
    ...base,
    linkFilter: (dir, f) =>
      !(dir === "ba" && isTcp(f) && payloadLen(f) > 0 && ++data >= 2) && !(dir === "ba" && data >= 2),
  });
  assert.is(r.conns_timed_out, 1);
  assert.is(r.errors, 1);
  assert.is(r.round_trips, 1);
  assert.is(r.counters.client.tcp_conn_timeout, 1);
  assert.equal(pairFailures(r, 600), ["1 connection(s) timed out (retransmissions gave up)"]);
});

test("too little time: the run ran out of time, nothing else", () => {
  const r = pairOneThread({ ...base, conns: 2, msgs: 1_000_000, timeoutS: 1 });
  assert.is(r.ran_out_of_time, true);
  assert.is(r.completed, false);
  assert.is(r.errors, 0);
  assert.ok(r.round_trips > 0);
  assert.equal(pairFailures(r, 1), [
    `ran out of time: only ${r.round_trips} of 2000000 round trips completed within 1 s`,
  ]);
  assert.match(formatPair(r), "(INCOMPLETE: ran out of time)");
});

test("CLI: exit 1 with each failure named; the --json report has the named fields", () => {
  const cli = join(ROOT, "dist/host/cli.js");
  const run = (...a: string[]) =>
    spawnSync(process.execPath, [cli, "pair", "--workers", "1", "--clock", "virtual", ...a], {
      encoding: "utf8",
    });
  const refused = run("--conns", "2", "--msgs", "3", "--server-port", "8", "--json");
  assert.is(refused.status, 1);
  assert.is(refused.stderr, "ixwasm: 2 connection(s) failed to open\n");
  const j = JSON.parse(refused.stdout);
  assert.is(j.connects_failed, 2);
  for (const k of ["conns_reset", "conns_timed_out", "responses_differed", "other_errors"])
    assert.is(j[k], 0, k);
  assert.is(j.first_difference, null);
  assert.is(j.ran_out_of_time, false);
  assert.is(j.clock, "virtual");
  const ok = run("--conns", "2", "--msgs", "3", "--loss", "0.05", "--seed", "3");
  assert.is(ok.status, 0, ok.stderr);
});

test.run();
