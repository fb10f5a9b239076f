// `ixwasm inject` against a real tcpdump: every test makes its own namespace
// (unique name, forwarding off, no addresses outside 198.18.0.0/15: none at
// all are needed), the CLI moves its tap into it and waits for SIGUSR1, tcpdump
// starts on the tap inside the namespace, then the frames go out. The injected
// frames keep the capture's own addresses; they only reach the tap's kernel side
// in that namespace (not for its MAC, no route, no forwarding) and tcpdump.
// Needs root and /dev/net/tun: without them these tests FAIL (never skip).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { EthernetConverter, l2Overhead, LT_LOOP, LT_NULL, LT_SLL } from "../../host/tap/inject.ts";
import { CLI, ROOT, cleanup, needTapHost, tapNames, until } from "../helpers/tap.ts";
import { CORPUS, corpusNote } from "../helpers/corpus.ts"; // read in place, never copied into the repository
import { tempDir } from "../helpers/tmp.ts";

const HTTP = join(ROOT, "traces/http-kernel.pcap");
const tmp = tempDir("inject");
const names = tapNames("ixi");

function corpus(name: string): string {
  const p = join(CORPUS, name);
  assert.ok(existsSync(p), `public corpus file ${p} is missing`);
  return p;
}

/** Frames of a classic pcap (either byte order, µs or ns), with their timestamps in seconds. */
function readPcap(path: string): { linktype: number; frames: { ts: number; data: Buffer }[] } {
  const b = readFileSync(path);
  const m = b.readUInt32LE(0);
  const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
  const nano = m === 0xa1b23c4d || m === 0x4d3cb2a1;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const frames: { ts: number; data: Buffer }[] = [];
  let p = 24;
  while (p + 16 <= b.length) {
    const cap = u32(p + 8);
    frames.push({ ts: u32(p) + u32(p + 4) / (nano ? 1e9 : 1e6), data: b.subarray(p + 16, p + 16 + cap) });
    p += 16 + cap;
  }
  return { linktype: u32(20) & 0xffff, frames };
}

/** tshark's per-frame IP addresses (IPv4 or IPv6, all layers), one string per frame. */
function addresses(path: string): string[] {
  const r = spawnSync(
    "tshark",
    [
      "-r",
      path,
      "-T",
      "fields",
      "-E",
      "separator=|",
      "-e",
      "ip.src",
      "-e",
      "ip.dst",
      "-e",
      "ipv6.src",
      "-e",
      "ipv6.dst",
    ],
    { encoding: "utf8", maxBuffer: 64 << 20, timeout: 20000 },
  );
  assert.is(r.status, 0, `tshark -r ${path}: ${r.stderr}`);
  return r.stdout.split("\n").slice(0, -1);
}

function frameLens(path: string): number[] {
  const r = spawnSync("tshark", ["-r", path, "-T", "fields", "-e", "frame.cap_len"], {
    encoding: "utf8",
    timeout: 20000,
  });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.split("\n").slice(0, -1).map(Number);
}

const exitOf = (c: ChildProcess) =>
  new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.on("exit", (code) => r(code))));

/** Kills a child we started, by its PID, if it is still running. */
function end(c: ChildProcess | null, sig: NodeJS.Signals = "SIGKILL"): void {
  if (c && c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, sig);
}

interface Injected {
  report: Record<string, any>;
  captured: string;
  stderr: string;
}

/**
 * A namespace of our own, `ixwasm inject` into it (waiting for SIGUSR1), tcpdump
 * on the tap inside it (incoming frames only: the kernel's own would not count),
 * the signal, then the report and tcpdump's file.
 */
async function inject(file: string, extra: string[]): Promise<Injected> {
  needTapHost();
  const { ifname, netns } = names();
  const captured = join(tmp, `${ifname}.pcap`);
  let inj: ChildProcess | null = null;
  let td: ChildProcess | null = null;
  try {
    assert.is(spawnSync("ip", ["netns", "add", netns]).status, 0, "ip netns add");
    const sc = spawnSync("ip", [
      ...["netns", "exec", netns, "sysctl", "-q", "-w"],
      ...["net.ipv4.ip_forward=0", "net.ipv6.conf.all.forwarding=0"],
    ]);
    assert.is(sc.status, 0, `forwarding off: ${sc.stderr}`);
    const args = ["--import", "tsx", CLI, "inject", file, "--ifname", ifname, "--netns", netns];
    // 60 s: the signal goes as soon as tcpdump listens; the bound matters only on a
    // slow machine (once, in a full run at load 5-8, the 15 s it had ran out).
    args.push("--wait-signal", "60", "--linger-ms", "300", "--report", "json", ...extra);
    inj = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    inj.stdout!.on("data", (d) => (out += d));
    inj.stderr!.on("data", (d) => (err += d));
    const injExit = exitOf(inj);
    await until(`inject ready (${err})`, () => err.includes("ready") || inj!.exitCode !== null, 20000);
    assert.ok(err.includes("ready"), `inject did not get ready: ${err}`);
    // `ip netns exec` execs tcpdump: the PID is tcpdump's.
    td = spawn(
      "ip",
      [
        ...["netns", "exec", netns, "tcpdump", "-Z", "root", "-Q", "in", "-U", "--immediate-mode", "-n"],
        ...["-i", ifname, "-w", captured],
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let tdErr = "";
    td.stderr!.on("data", (d) => (tdErr += d));
    const tdExit = exitOf(td);
    await until("tcpdump", () => tdErr.includes("listening on") || td!.exitCode !== null, 10000);
    assert.ok(tdErr.includes("listening on"), `tcpdump did not start: ${tdErr}`);
    process.kill(inj.pid!, "SIGUSR1");
    const timer = setTimeout(() => end(inj), 20000);
    const code = await injExit;
    clearTimeout(timer);
    assert.is(code, 0, `inject exit code (stderr: ${err})`);
    // The tap is gone with inject: tcpdump ends by itself ("interface disappeared").
    const t2 = setTimeout(() => end(td, "SIGINT"), 5000);
    await tdExit;
    clearTimeout(t2);
    const report = JSON.parse(out) as Record<string, any>;
    assert.is(report.schema, "ixwasm-inject/1");
    assert.is(report.waited_for_signal, true, `SIGUSR1 reached inject (stderr: ${err}; tcpdump: ${tdErr})`);
    assert.is(report.cleanup_errors.length, 0);
    assert.is(
      spawnSync("ip", ["netns", "exec", netns, "ip", "link", "show", ifname]).status,
      1,
      "tap removed",
    );
    return { report, captured, stderr: err };
  } finally {
    end(inj);
    end(td);
    cleanup(netns, ifname);
  }
}

test("Ethernet capture: tcpdump in the namespace counts all 133 frames, byte for byte, in order", async () => {
  const r = await inject(HTTP, []);
  const orig = readPcap(HTTP).frames;
  const got = readPcap(r.captured).frames;
  assert.is(orig.length, 133);
  assert.is(r.report.frames_sent, 133);
  assert.is(r.report.skipped, 0);
  assert.is(r.report.stop_reason, "end");
  assert.is(got.length, 133, "tcpdump counted every frame");
  for (let i = 0; i < 133; i++) assert.ok(got[i].data.equals(orig[i].data), `frame ${i + 1} unchanged`);
});

if (corpusNote("raw_ip.pcap's injection"))
  test("raw IP (101, IPv4 and IPv6) converted to Ethernet: tshark decodes the same addresses", async () => {
    const file = corpus("raw_ip.pcap");
    const r = await inject(file, ["--smac", "02:00:c6:12:00:0a", "--dmac", "02:00:c6:12:00:0b"]);
    const orig = readPcap(file).frames;
    const got = readPcap(r.captured);
    assert.is(got.linktype, 1);
    assert.is(r.report.frames_sent, orig.length);
    assert.equal(r.report.converted, { "101/RAW": orig.length });
    assert.is(got.frames.length, orig.length, "tcpdump counted every frame");
    for (let i = 0; i < orig.length; i++) {
      const f = got.frames[i].data;
      assert.is(f.subarray(0, 12).toString("hex"), "0200c612000b0200c612000a", `frame ${i + 1} MACs`);
      const v = orig[i].data[0] >> 4;
      assert.is(f.readUInt16BE(12), v === 4 ? 0x0800 : 0x86dd, `frame ${i + 1} EtherType`);
      assert.ok(f.subarray(14).equals(orig[i].data), `frame ${i + 1} IP packet unchanged`);
    }
    assert.equal(addresses(r.captured), addresses(file), "IP src/dst as in the original, every frame");
  });

if (corpusNote("sll2-64k.pcap's injection"))
  test("Linux SLL2 with 64 KB GSO frames: over-MTU frames skipped with a reason, the rest converted and counted", async () => {
    const file = corpus("sll2-64k.pcap");
    const lens = frameLens(file);
    const fits = lens.map((l) => l - 20 <= 1500);
    const nFit = fits.filter(Boolean).length;
    assert.ok(nFit > 0 && nFit < lens.length, "the capture has frames on both sides of the MTU");
    const r = await inject(file, []);
    assert.is(r.report.records_read, lens.length);
    assert.is(r.report.frames_sent, nFit);
    assert.is(r.report.skipped, lens.length - nFit);
    assert.equal(r.report.skipped_by_reason, {
      "larger than the MTU (1500 + 14-byte link header)": lens.length - nFit,
    });
    assert.equal(r.report.converted, { "276/LINUX_SLL2": nFit });
    const got = readPcap(r.captured).frames;
    assert.is(got.length, nFit, "tcpdump counted every frame within the MTU");
    const want = addresses(file).filter((_, i) => fits[i]);
    assert.equal(addresses(r.captured), want, "IP src/dst as in the original, in order");
    for (const f of got)
      assert.is(f.data.subarray(0, 12).toString("hex"), "0200c61200010200c6120002", "default MACs");
  });

test("paced at pps:200 (100 frames): order kept, no faster than scheduled, pacing error reported", async () => {
  const r = await inject(HTTP, ["--speed", "pps:200", "--limit", "100"]);
  const rep = r.report;
  assert.is(rep.frames_sent, 100);
  assert.is(rep.stop_reason, "limit");
  assert.is(rep.speed, "pps:200");
  assert.ok(Math.abs(rep.scheduled_s - 0.495) < 1e-9, `scheduled span ${rep.scheduled_s}`);
  assert.ok(rep.duration_s >= 0.495, `took ${rep.duration_s} s, scheduled 0.495 s`);
  for (const k of ["lateness_p50_us", "lateness_p99_us", "gap_error_p50_us", "gap_error_p99_us"])
    assert.ok(Number.isFinite(rep.pacing[k]) && rep.pacing[k] >= -1, `${k} = ${rep.pacing[k]}`);
  const orig = readPcap(HTTP).frames;
  const got = readPcap(r.captured).frames;
  assert.is(got.length, 100);
  for (let i = 0; i < 100; i++) assert.ok(got[i].data.equals(orig[i].data), `frame ${i + 1} in order`);
  // The kernel's receive timestamps: the first and last frames at least the schedule apart
  // (1 ms allowance for where in write(2) the timestamp is taken).
  const span = got[99].ts - got[0].ts;
  assert.ok(span >= 0.494, `tcpdump saw the 100 frames over ${span.toFixed(4)} s`);
});

test("clear errors: bad --mtu, bad MAC, missing file; nothing left behind", () => {
  needTapHost();
  const { ifname, netns } = names();
  const run = (args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", CLI, "inject", ...args], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 20000,
    });
  let r = run([HTTP, "--ifname", ifname, "--mtu", "20000"]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^ixwasm: --mtu 20000 is out of range; use 68 to 9000\n$/);
  r = run([HTTP, "--ifname", ifname, "--smac", "02:00"]);
  assert.match(r.stderr, /--smac "02:00" is not a MAC address/);
  r = run([join(tmp, "none.pcap"), "--ifname", ifname, "--netns", netns]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /no such file/);
  assert.not.ok(existsSync(`/run/netns/${netns}`), "no namespace created");
  assert.is.not(spawnSync("ip", ["link", "show", "dev", ifname]).status, 0, "no tap created");
});

test("conversion rules (no root needed): NULL/LOOP families, SLL protocols, unknown link types", () => {
  const u8 = new Uint8Array(256);
  const smac = Uint8Array.from([2, 0, 0, 0, 0, 1]);
  const dmac = Uint8Array.from([2, 0, 0, 0, 0, 2]);
  const c = new EthernetConverter(u8, 0, new Uint8Array(128), smac, dmac, false, false);
  // NULL, little-endian AF_INET6 (Darwin 30), then an IPv6 header's first byte.
  u8.set([30, 0, 0, 0, 0x60], 100);
  assert.ok(c.convert(100, 44, LT_NULL));
  assert.is(c.start, 90);
  assert.is(c.len, 54);
  assert.equal([...u8.subarray(90, 104)], [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd]);
  assert.is(u8[104], 0x60, "payload untouched");
  // LOOP is network order: AF_INET = 2.
  u8.set([0, 0, 0, 2, 0x45], 100);
  assert.ok(c.convert(100, 24, LT_LOOP));
  assert.is((u8[c.start + 12] << 8) | u8[c.start + 13], 0x0800);
  u8.set([0, 0, 0, 99], 100);
  assert.not.ok(c.convert(100, 24, LT_LOOP));
  assert.match(c.reason, /family 99/);
  // SLL with protocol 0x0004 (802.2 frames): no EtherType to give.
  u8.fill(0, 100, 120);
  u8[115] = 4;
  assert.not.ok(c.convert(100, 40, LT_SLL));
  assert.match(c.reason, /0x0004 is not an EtherType/);
  // Raw IP right at the start of staging: built in the scratch buffer instead.
  u8.set([0x45, 0, 0, 20], 4);
  assert.ok(c.convert(4, 20, 101));
  assert.is.not(c.mem, u8);
  assert.is(c.start, 0);
  assert.is(c.len, 34);
  assert.not.ok(c.convert(0, 10, 147));
  assert.match(c.reason, /link type 147\/\? cannot be converted/);
  // One VLAN tag is allowed above the MTU.
  u8.set([0x81, 0x00, 0, 1, 0x08, 0x00], 12);
  assert.is(l2Overhead(u8, 0, 64), 18);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
