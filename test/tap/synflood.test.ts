// SYN flood through a real tap (issue 10): `ixwasm tap --app memcached` in a
// namespace this test creates (unique names, 198.18.0.0/15 only), `hping3 --flood
// -S` against the memcached port for 5 s from inside the namespace, while
// memccp/memccat (libmemcached-tools) keep setting and reading keys; every answer
// must be right. Everything is bounded in time; hping3 and the tap are ended by
// PID; the namespace and the tap are removed in finally. Needs root, /dev/net/tun,
// hping3 and libmemcached-tools (.ci/run installs them): without them it FAILS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnInNs } from "../../host/io/netns.ts";
import {
  cleanup,
  inNs as inNsOpts,
  needTapHost,
  needTool,
  startTap,
  type RunningTap,
} from "../helpers/tap.ts";
import { tempDir } from "../helpers/tmp.ts";

const FLOOD_S = 5;
const SERVER = "198.18.0.2";

const inNs = (ns: string, cmd: string[], timeoutMs = 5000) => inNsOpts(ns, cmd, { timeoutMs });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A memcached client that keeps ONE connection open through the flood (run inside
// the namespace): set then get a new key, again and again, for the given seconds,
// checking every answer byte for byte. Its keys ("keeper<i>") are its own: the
// memccp/memccat loop uses k<i>. Prints {"ok":N,"bad":N,"bad_first":...}.
const KEEPER = `
const net = require("node:net");
const [host, secs] = [process.argv[1], Number(process.argv[2])];
const s = net.connect(11211, host);
let buf = "", ok = 0, bad = 0, badFirst = null, i = 0, want = "", phase = "";
const end = Date.now() + secs * 1000;
function next() {
  if (Date.now() > end) { console.log(JSON.stringify({ ok, bad, bad_first: badFirst })); s.destroy(); return; }
  const v = "v" + i + "-" + "y".repeat(i % 100);
  phase = "set"; want = "STORED\\r\\n";
  s.write("set keeper" + i + " 0 0 " + v.length + "\\r\\n" + v + "\\r\\n");
  s.v = v;
}
s.on("connect", next);
s.on("data", (d) => {
  buf += d;
  while (buf.length >= want.length) {
    const got = buf.slice(0, want.length); buf = buf.slice(want.length);
    if (got !== want) { bad++; if (!badFirst) badFirst = { want, got }; }
    if (phase === "set") { phase = "get"; want = "VALUE keeper" + i + " 0 " + s.v.length + "\\r\\n" + s.v + "\\r\\nEND\\r\\n"; s.write("get keeper" + i + "\\r\\n"); }
    else { if (got === want) ok++; if (i === 0) console.log("established"); i++; next(); return; }
  }
});
s.on("error", (e) => { console.log(JSON.stringify({ ok, bad, error: e.message })); });
setTimeout(() => { console.log(JSON.stringify({ ok, bad, bad_first: badFirst, timeout: true })); process.exit(0); }, (secs + 20) * 1000);
`;

test(`hping3 --flood -S for ${FLOOD_S} s against the memcached port: every memcached answer still right`, async () => {
  needTapHost();
  needTool("hping3", "apt-get install hping3");
  const id = `${process.pid % 100000}f`;
  const ifname = `ixw${id}`;
  const netns = `ixwns${id}`;
  const dir = tempDir("synflood");
  let tap: RunningTap | null = null;
  let flood: ChildProcess | null = null;
  try {
    tap = await startTap({ ifname, netns }, ["--app", "memcached", "--duration", "60"]);
    const servers = `--servers=${SERVER}`;
    const value = join(dir, "v");
    // Warm up: one set/get before the flood (ARP, first connection).
    writeFileSync(value, "before the flood");
    assert.is(inNs(netns, ["memccp", servers, value]).code, 0);

    // An established connection before the flood: it must keep being served (issue 10).
    const keeper = spawnInNs(netns, [process.execPath, "-e", KEEPER, SERVER, String(FLOOD_S)]);
    let keeperOut = "";
    let keeperErr = "";
    keeper.stdout!.on("data", (d) => (keeperOut += d));
    keeper.stderr!.on("data", (d) => (keeperErr += d));
    const keeperDone = new Promise<void>((r) => keeper.on("exit", () => r()));
    // The flood starts only once the keeper's connection is up and has had one answer.
    const k0 = Date.now();
    while (!keeperOut.includes("established")) {
      assert.ok(
        keeper.exitCode === null && Date.now() - k0 < 10000,
        `keeper did not connect: ${keeperOut} ${keeperErr}`,
      );
      await sleep(10);
    }
    flood = spawnInNs(netns, ["hping3", "--flood", "-S", "-p", "11211", SERVER]);
    let hpingOut = "";
    flood.stdout!.on("data", (d) => (hpingOut += d));
    flood.stderr!.on("data", (d) => (hpingOut += d));
    const floodExit = new Promise<void>((r) => flood!.on("exit", () => r()));
    const f0 = Date.now();
    let ok = 0;
    let bad = 0;
    let unfinished = 0;
    const failures: string[] = [];
    for (let i = 0; Date.now() - f0 < FLOOD_S * 1000; i++) {
      const key = `k${i}`;
      const file = join(dir, key);
      const content = `value ${i} ${"x".repeat(i % 200)}`;
      writeFileSync(file, content);
      const set = inNs(netns, ["memccp", servers, file]);
      const outFile = join(dir, `${key}.out`);
      const get = inNs(netns, ["memccat", servers, `--file=${outFile}`, key]);
      if (set.code === 0 && get.code === 0 && readFileSync(outFile, "utf8") === content) ok++;
      else if (set.code !== 0 || get.code !== 0) {
        // No answer, not a wrong one: the client's connection never got through (its SYN
        // died in the kernel's full tap queue, or its half-open connection was evicted by
        // the flood before its ACK: the bounded half-open table's trade-off, docs/design/decisions.md).
        unfinished++;
      } else {
        bad++;
        if (failures.length < 5)
          failures.push(
            `${key}: set ${set.code} ${set.err} get ${get.code} ${get.err} wanted ${JSON.stringify(content)} got ${JSON.stringify(existsSync(outFile) ? readFileSync(outFile, "utf8").slice(0, 300) : null)}`,
          );
      }
      rmSync(file, { force: true });
      rmSync(outFile, { force: true });
      await sleep(0);
    }
    const floodS = (Date.now() - f0) / 1000;
    // Frames the kernel dropped on the tap's queue before the core could read them.
    const link = spawnSync("ip", ["-n", netns, "-s", "-j", "link", "show", "dev", ifname], { timeout: 5000 });
    let kernelDrops = NaN;
    try {
      const st = JSON.parse(link.stdout.toString())[0].stats64;
      kernelDrops = st.tx.dropped;
    } catch {
      /* reported as NaN */
    }
    // hping3 prints its totals on SIGINT; ended by PID (the `ip netns exec` process execs hping3).
    process.kill(flood.pid!, "SIGINT");
    const kt = setTimeout(() => flood!.exitCode === null && process.kill(flood!.pid!, "SIGKILL"), 3000);
    await floodExit;
    clearTimeout(kt);
    flood = null;
    const kk = setTimeout(() => keeper.exitCode === null && process.kill(keeper.pid!, "SIGKILL"), 30000);
    await keeperDone;
    clearTimeout(kk);
    const kept = JSON.parse(keeperOut.trim().split("\n").pop() || "{}") as {
      ok?: number;
      bad?: number;
      bad_first?: unknown;
    };
    const { code, report } = await tap.stop();
    tap = null;
    const sent = Number(/(\d+) packets transmitted/.exec(hpingOut)?.[1] ?? NaN);
    const c = report.counters;
    const rate = Math.round(report.rx_frames / floodS);
    console.log(
      `note: SYN flood via tap: hping3 sent ${sent} SYNs in ${floodS.toFixed(1)} s (${Math.round(sent / floodS)}/s);` +
        ` the core saw ${report.rx_frames} frames (≈ ${rate} frames/s held over the flood),` +
        ` passive opens ${c.tcp_passive_opens ?? 0}, half-open evictions ${c.tcp_halfopen_evict ?? 0},` +
        ` RSTs received ${c.tcp_rst_rcvd ?? 0}, tap ring full ${report.host.rx_ring_full},` +
        ` kernel tap queue drops ${kernelDrops};` +
        ` memcached set+get during the flood: on one established connection ${kept.ok} right, ${kept.bad} wrong;` +
        ` with a new connection each (memccp/memccat) ${ok} right, ${bad} wrong, ${unfinished} not completed`,
    );
    assert.is(code, 0, "tap exited cleanly");
    assert.is(bad, 0, failures.join("\n"));
    // The established connection keeps being served, every answer right (its
    // segments share the tap's kernel queue with the flood: drops there are
    // retransmitted). memccp/memccat open a new connection per command, and their
    // SYNs die in the kernel's full tap queue before the core sees them (one reader
    // thread reads ~130k frames/s here; hping3 sends faster): they may complete none,
    // but what completes must be right.
    assert.is(kept.bad, 0, `established connection: ${JSON.stringify(kept)} ${keeperErr}`);
    assert.ok((kept.ok ?? 0) >= 2, `only ${kept.ok} set+get on the established connection in ${FLOOD_S} s`);
    assert.ok(sent > 1000, `hping3 flooded (${sent} SYNs)`);
    assert.ok(report.rx_frames > 1000, "the flood reached the core");
  } finally {
    if (flood && flood.exitCode === null) process.kill(flood.pid!, "SIGKILL");
    if (tap && tap.child.exitCode === null) process.kill(tap.child.pid!, "SIGKILL");
    cleanup(netns, ifname);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
