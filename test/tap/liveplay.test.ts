// `ixwasm liveplay` against Debian's memcached. The test records its own capture:
// memcached in a namespace, tcpdump on that namespace's loopback, and kernel
// clients (a bounded Node script: 1,000 connections open at once, each a set,
// a get and a miss of its own key; plus libmemcached's memccp). Then a fresh
// memcached in a second namespace, and the CLI from dist/ plays every captured
// session against it through a tap: every flow must succeed, byte for byte.
// Second: traces/memcaslap-cut.pcap, whose 4 sessions each end on a request
// whose answer the capture does not hold: every flow ok, the live answers to
// those requests reported apart (beyond the capture); the same capture with one
// captured answer byte changed still fails.
// Namespaces have unique names and are removed in finally; addresses are in
// 198.18.0.0/15. Needs root, /dev/net/tun, tcpdump, memcached, memccp: FAILS
// without them (never skips).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inNsText, needTapHost, needTool, removeLink, removeNetns, until } from "../helpers/tap.ts";
import { spawnInNs } from "../../host/io/netns.ts";
import { scanSessions } from "../../host/tap/liveplay-feed.ts";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLI = join(ROOT, "dist/host/cli.js");
const id = `${process.pid % 100000}`;
const REC_NS = `ixwlpr${id}`;
const PLAY_NS = `ixwlpp${id}`;
const CUT_NS = `ixwlpc${id}`;
const IFNAME = `ixwlp${id}`;
const SERVER = "198.18.200.1";
const CONNS = 1000;
const started: ChildProcess[] = [];

function must(args: string[]): void {
  const r = spawnSync(args[0], args.slice(1), { encoding: "utf8", timeout: 10000 });
  assert.is(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
}

const inNs = (ns: string, cmd: string[], timeoutMs = 30000) => inNsText(ns, cmd, { timeoutMs });

/** A long-running program in a namespace; its stderr is kept. */
function startIn(ns: string, cmd: string[]): { child: ChildProcess; err: () => string } {
  const child = spawnInNs(ns, cmd, ["ignore", "ignore", "pipe"]);
  started.push(child);
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  return { child, err: () => err };
}

async function stop(child: ChildProcess, sig: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  process.kill(child.pid!, sig);
  const t = setTimeout(() => child.exitCode === null && process.kill(child.pid!, "SIGKILL"), 5000);
  await gone;
  clearTimeout(t);
}

const listening = (ns: string) => () => inNs(ns, ["ss", "-Hltn", "sport = :11211"]).out.includes("11211");

// Kernel clients: N connections open at once, then on each a set, a get and a
// get of a key nobody set, one at a time; every answer checked; then close.
const CLIENT = `
const net = require("node:net");
const [host, n] = [process.argv[1], +process.argv[2]];
let open = 0, ok = 0, bad = 0, done = 0;
const socks = [];
const finish = (good) => { good ? ok++ : bad++; if (++done === n) { console.log(JSON.stringify({ ok, bad })); } };
for (let i = 0; i < n; i++) {
  const s = net.connect({ host, port: 11211 });
  const val = "v".repeat(1 + (i * 37) % 3000) + i;
  const steps = [
    ["set k" + i + " 7 0 " + val.length + "\\r\\n" + val + "\\r\\n", "STORED\\r\\n"],
    ["get k" + i + "\\r\\n", "VALUE k" + i + " 7 " + val.length + "\\r\\n" + val + "\\r\\nEND\\r\\n"],
    ["get none" + i + "\\r\\n", "END\\r\\n"],
  ];
  let k = 0, got = "", settled = false;
  const settle = (g) => { if (!settled) { settled = true; finish(g); s.end(); } };
  s.setTimeout(20000, () => { s.destroy(); settle(false); });
  s.on("error", () => settle(false));
  s.on("data", (d) => {
    got += d.toString("latin1");
    if (got.length < steps[k][1].length) return;
    if (got !== steps[k][1]) return settle(false);
    got = "";
    if (++k === steps.length) return settle(true);
    s.write(steps[k][0]);
  });
  s.on("connect", () => { if (++open === n) for (const x of socks) x.write(x.first); });
  s.first = steps[0][0];
  socks.push(s);
}`;
const RAISE_NOFILE = ["sh", "-c", 'ulimit -n 16384 && exec "$0" "$@"'];
/** memcached on TCP 11211 only, one thread, room for every session at once; `extra` before the rest. */
const memcached = (extra: string[]) => [
  ...RAISE_NOFILE,
  ...["memcached", "-u", "nobody", ...extra, "-p", "11211", "-U", "0", "-t", "1", "-m", "64", "-c", "4096"],
];

function cleanup(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, "SIGKILL");
  for (const ns of [REC_NS, PLAY_NS, CUT_NS]) removeNetns(ns);
  removeLink(IFNAME);
}

test("records 1,000 memcached sessions with tcpdump, plays them all at once against a fresh memcached: every flow succeeds", async () => {
  needTapHost();
  for (const t of ["tcpdump", "memcached", "memccp", "ss", "nc"]) needTool(t);
  assert.ok(existsSync(CLI), "dist/ is not built: run `npm run build`");
  const dir = tempDir("liveplay");
  const pcap = join(dir, "memcached.pcap");
  try {
    // ---- 1. the recording ----------------------------------------------------
    must(["ip", "netns", "add", REC_NS]);
    must(["ip", "-n", REC_NS, "link", "set", "lo", "up"]);
    must(["ip", "-n", REC_NS, "addr", "add", `${SERVER}/24`, "dev", "lo"]);
    const mc1 = startIn(REC_NS, memcached(["-l", SERVER]));
    await until("memcached (recording)", listening(REC_NS));
    // The server's address sits on the namespace's loopback: record there.
    const dump = startIn(REC_NS, [
      "tcpdump",
      "-i",
      "lo",
      "-B",
      "65536",
      "-n",
      "-s",
      "0",
      "-U",
      "-w",
      pcap,
      "tcp port 11211",
    ]);
    await until("tcpdump", () => dump.err().includes("listening on"));
    const r = inNs(REC_NS, [...RAISE_NOFILE, process.execPath, "-e", CLIENT, SERVER, String(CONNS)], 60000);
    assert.is(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out), { ok: CONNS, bad: 0 }, "every recorded session answered as expected");
    const file = join(dir, "libmemcached-value");
    writeFileSync(file, "a value copied by memccp\n".repeat(40));
    const cp = inNs(REC_NS, ["memccp", `--servers=${SERVER}`, file]);
    assert.is(cp.code, 0, `memccp: ${cp.err}`);
    // tcpdump may lag behind 1,000 sessions (on a busy machine it went 500 ms
    // without writing, and SIGINT drops what it has not written yet): stop it
    // only once the last session, memccp's, is in the file (bounded).
    const last = Buffer.from("libmemcached-value");
    for (let i = 0; i < 120 && !readFileSync(pcap).includes(last); i++)
      await new Promise((res) => setTimeout(res, 250));
    // then its close: until the file stops growing (bounded)
    let size = -1;
    for (let i = 0; i < 100 && statSync(pcap).size !== size; i++) {
      size = statSync(pcap).size;
      await new Promise((res) => setTimeout(res, 500));
    }
    await stop(dump.child, "SIGINT");
    // A capture that lost packets would not hold every session whole: say so, not "1000 != 1001".
    assert.match(dump.err(), /^0 packets dropped by kernel/m, `tcpdump: ${dump.err()}`);
    await stop(mc1.child);
    must(["ip", "netns", "del", REC_NS]);

    // ---- 2. a fresh memcached, and liveplay ----------------------------------
    must(["ip", "netns", "add", PLAY_NS]);
    must(["ip", "-n", PLAY_NS, "link", "set", "lo", "up"]);
    // No address yet: liveplay puts the server's on the tap; memcached listens on all.
    const mc2 = startIn(PLAY_NS, memcached([]));
    await until("memcached (fresh)", listening(PLAY_NS));
    const lp = spawnSync(
      process.execPath,
      [
        CLI,
        "liveplay",
        pcap,
        "--ifname",
        IFNAME,
        "--netns",
        PLAY_NS,
        "--server",
        `${SERVER}:11211`,
        "--concurrency",
        "5000",
        // generous: this checks answers, not speed (a busy 2-vCPU machine, 1,001 SYNs at once)
        "--timeout",
        "20000",
        "--report",
        "json",
        "--no-stats",
        "--time-limit",
        "120",
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 180000, maxBuffer: 64 << 20 },
    );
    assert.is(lp.status, 0, `liveplay exit (stderr: ${lp.stderr})`);
    const rep = JSON.parse(lp.stdout);
    assert.is(rep.schema, "ixwasm-liveplay/1");
    assert.is(rep.stop_reason, "done");
    assert.is(rep.error, null);
    assert.is(rep.server, `${SERVER}:11211`);
    assert.is(rep.sessions_in_capture, CONNS + 1);
    assert.equal(rep.skipped, {});
    assert.is(rep.concurrency, CONNS + 1, "every session open at once");
    assert.equal(rep.flows, {
      played: CONNS + 1,
      succeeded: CONNS + 1,
      failed: 0,
      by_result: { ok: CONNS + 1 },
      open_ended: 0,
    });
    assert.is(rep.bytes.beyond_capture, 0);
    // 3 turns per node session; memccp: its set, then quit
    assert.is(rep.turns.total, CONNS * 3 + 2);
    assert.is(rep.turns.completed, rep.turns.total);
    assert.is(rep.turns.timed_out, 0);
    assert.is(rep.turns.mismatched, 0);
    assert.is(rep.bytes.requests_sent, rep.bytes.requests);
    assert.is(
      rep.bytes.responses_received,
      rep.bytes.responses_expected,
      "not a byte more or less than captured",
    );
    assert.is(rep.latency_us.samples, CONNS * 3 + 1, "every turn with a response has a latency");
    assert.ok(rep.latency_us.p50 > 0 && rep.latency_us.p50 <= rep.latency_us.p99);
    for (const f of rep.per_flow) {
      assert.is(f.result, "ok", JSON.stringify(f));
      assert.is(f.dead, "closed");
      assert.is(f.first_mismatch, null);
      assert.is(f.extra_bytes, 0);
    }
    assert.ok(existsSync(`/run/netns/${PLAY_NS}`), "the server's namespace is left in place");
    assert.is(inNs(PLAY_NS, ["ip", "link", "show", "dev", IFNAME]).code, 1, "the tap is gone");
    // the server saw the values: the last session's key is there, set by the core
    const n = CONNS - 1;
    const get = inNs(PLAY_NS, [
      "sh",
      "-c",
      `printf 'get k${n}\\r\\nquit\\r\\n' | nc -N -w 2 127.0.0.1 11211`,
    ]);
    assert.match(get.out, new RegExp(`^VALUE k${n} 7 `));
    await stop(mc2.child);
  } finally {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Liveplay from dist/ against the namespace's memcached: exit code and JSON report. */
function liveplay(pcap: string, ns: string): { status: number | null; rep: any; stderr: string } {
  const lp = spawnSync(
    process.execPath,
    [CLI, "liveplay", pcap, "--ifname", IFNAME, "--netns", ns, "--server", `${SERVER}:11211`].concat([
      "--timeout",
      "20000",
      "--report",
      "json",
      "--no-stats",
      "--time-limit",
      "120",
    ]),
    { cwd: ROOT, encoding: "utf8", timeout: 180000, maxBuffer: 64 << 20 },
  );
  return { status: lp.status, rep: lp.stdout ? JSON.parse(lp.stdout) : null, stderr: lp.stderr };
}

/**
 * A copy of a µs little-endian Ethernet pcap with byte `at` of the payload of
 * frame `frame` (0-based) XORed with 0x20, its TCP checksum recomputed (RFC 9293 §3.1).
 */
function flipPayloadByte(pcap: Buffer, frame: number, at: number): Buffer {
  const b = Buffer.from(pcap);
  let p = 24;
  for (let i = 0; i < frame; i++) p += 16 + b.readUInt32LE(p + 8);
  const ip = p + 16 + 14;
  const tcp = ip + (b[ip] & 15) * 4;
  const tcpLen = b.readUInt16BE(ip + 2) - (tcp - ip);
  b[tcp + (b[tcp + 12] >> 4) * 4 + at] ^= 0x20;
  b.writeUInt16BE(0, tcp + 16);
  let sum =
    b.readUInt16BE(ip + 12) + b.readUInt16BE(ip + 14) + b.readUInt16BE(ip + 16) + b.readUInt16BE(ip + 18);
  sum += 6 + tcpLen;
  for (let i = 0; i < tcpLen; i += 2) sum += i + 1 < tcpLen ? b.readUInt16BE(tcp + i) : b[tcp + i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, tcp + 16);
  return b;
}

test("a capture that ends before the last answers (memcaslap-cut.pcap): every flow ok, the answers beyond it reported apart; a changed captured answer still fails", async () => {
  needTapHost();
  for (const t of ["memcached", "ss", "tshark"]) needTool(t);
  assert.ok(existsSync(CLI), "dist/ is not built: run `npm run build`");
  const cut = join(ROOT, "traces/memcaslap-cut.pcap");
  const dir = tempDir("liveplay-cut");
  try {
    must(["ip", "netns", "add", CUT_NS]);
    must(["ip", "-n", CUT_NS, "link", "set", "lo", "up"]);
    const mc = startIn(CUT_NS, memcached([]));
    await until("memcached", listening(CUT_NS));
    // What memcached answers the uncaptured last request of each session: the
    // length of the captured answers to the same verb ("set": STORED, "get": the 32-byte value).
    const { sessions } = scanSessions(cut, 11211);
    const verb = (s: (typeof sessions)[0], t: (typeof s.turns)[0]) =>
      s.client.subarray(t.reqOff, t.reqOff + 4).toString("latin1");
    const want = sessions.map((s) => {
      const last = s.turns[s.turns.length - 1];
      assert.is(last.respLen, 0);
      const lens = new Set(
        s.turns.filter((t) => t.respLen && verb(s, t) === verb(s, last)).map((t) => t.respLen),
      );
      assert.is(lens.size, 1);
      return [...lens][0];
    });

    const a = liveplay(cut, CUT_NS);
    assert.is(a.status, 0, `liveplay exit (stderr: ${a.stderr})`);
    assert.is(a.rep.stop_reason, "done");
    assert.equal(a.rep.flows, { played: 4, succeeded: 4, failed: 0, by_result: { ok: 4 }, open_ended: 4 });
    assert.is(a.rep.turns.mismatched, 0);
    assert.is(a.rep.turns.completed, a.rep.turns.total);
    assert.equal(
      a.rep.per_flow.map((f: any) => [f.open_end, f.beyond_capture_bytes, f.extra_bytes, f.first_mismatch]),
      want.map((n) => [true, n, 0, null]),
    );
    const beyond = want.reduce((x, y) => x + y, 0);
    assert.is(a.rep.bytes.beyond_capture, beyond);
    assert.is(a.rep.bytes.responses_received, a.rep.bytes.responses_expected + beyond);

    // One byte of a captured answer changed: the 10th server segment with payload
    // (tshark: frame numbers from 1), its 4th byte. The flow it belongs to fails there.
    const ts = spawnSync(
      "tshark",
      ["-n", "-r", cut, "-Y", "tcp.srcport==11211 && tcp.len>0", "-T", "fields"].concat([
        "-e",
        "frame.number",
        "-e",
        "tcp.dstport",
      ]),
      { encoding: "utf8", timeout: 30000 },
    );
    assert.is(ts.status, 0, ts.stderr);
    const srv = ts.stdout.trim().split("\n");
    const [frameNo, port] = srv[9].split("\t").map(Number);
    const turn = srv.slice(0, 9).filter((l) => Number(l.split("\t")[1]) === port).length;
    const bad = join(dir, "memcaslap-changed.pcap");
    writeFileSync(bad, flipPayloadByte(readFileSync(cut), frameNo - 1, 3));
    const b = liveplay(bad, CUT_NS);
    assert.is(b.status, 1, "a real difference fails the run");
    assert.equal(b.rep.flows.by_result, { ok: 3, mismatch: 1 });
    const f = b.rep.per_flow.find((x: any) => x.result === "mismatch");
    assert.ok(f.capture.startsWith(`198.18.0.1:${port} `), f.capture);
    assert.equal([f.first_mismatch.turn, f.first_mismatch.offset], [turn, 3]);
    assert.is(f.mismatches, 1);
    assert.equal(
      b.rep.per_flow.map((x: any) => x.beyond_capture_bytes),
      want,
      "the answers beyond the capture are still counted apart",
    );
    await stop(mc.child);
  } finally {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
