// `ixwasm tap --mtu 9000`: jumbo frames through 9216-byte mbufs. An 8 KB ping
// with DF set, a 1 MB nc echo whose segments (tcpdump in the namespace) are
// over 1500 bytes with the core announcing MSS 8960; and with the default MTU,
// a frame over MTU + 14 (the kernel side's MTU raised behind the core's back)
// is counted and dropped. Root and /dev/net/tun needed (these tests FAIL
// without them, never skip); names unique per run, 198.18.0.0/15 only, every
// namespace and link removed in finally.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { inNs, tapNames, withTap as withTapIn, type RunningTap } from "../helpers/tap.ts";
import { tempDir } from "../helpers/tmp.ts";

const names = tapNames("ixj");

const withTap = (extra: string[], body: (t: RunningTap) => Promise<void>) =>
  withTapIn(names(), ["--duration", "60", ...extra], body);

test("--mtu 9000: 8 KB ping with DF, 1 MB nc echo byte-exact in segments over 1500 bytes, MSS 8960 announced", async () => {
  const dir = tempDir("jumbo");
  try {
    await withTap(["--mtu", "9000"], async (t) => {
      const link = inNs(t.ns, ["ip", "-o", "link", "show", "dev", t.ifname]);
      assert.match(link.out.toString(), / mtu 9000 /, "kernel side MTU 9000");

      // -M do: DF set, so the 8008-byte echo must cross unfragmented both ways.
      const p = inNs(t.ns, [
        "ping",
        "-c",
        "2",
        "-i",
        "0.2",
        "-W",
        "2",
        "-s",
        "8000",
        "-M",
        "do",
        "198.18.0.2",
      ]);
      assert.is(p.code, 0, `ping: ${p.out}${p.err}`);
      assert.match(p.out.toString(), /2 received/);
      assert.match(p.out.toString(), /8008 bytes from 198\.18\.0\.2/);

      const pcap = join(dir, "nc.pcap");
      const dump = spawn(
        "ip",
        [
          "netns",
          "exec",
          t.ns,
          "tcpdump",
          "-i",
          t.ifname,
          "-nn",
          "--immediate-mode",
          "-s",
          "128",
          "-U",
          "-w",
          pcap,
          "tcp port 7",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      let dumpErr = "";
      dump.stderr!.on("data", (d) => (dumpErr += d));
      const dumped = new Promise<void>((r) => dump.on("exit", () => r()));
      try {
        for (let i = 0; i < 100 && !dumpErr.includes("listening"); i++)
          await new Promise((r) => setTimeout(r, 50));
        assert.match(dumpErr, /listening/, "tcpdump started");
        const mb = randomBytes(1 << 20);
        const e = inNs(t.ns, ["nc", "-N", "-w", "10", "198.18.0.2", "7"], { input: mb, timeoutMs: 20000 });
        assert.is(e.out.length, mb.length, `echoed bytes (nc stderr: ${e.err})`);
        assert.ok(e.out.equals(mb), "1 MB echoed byte-exact");
      } finally {
        await new Promise((r) => setTimeout(r, 200));
        if (dump.exitCode === null) process.kill(dump.pid!, "SIGTERM");
        const timer = setTimeout(() => dump.exitCode === null && process.kill(dump.pid!, "SIGKILL"), 5000);
        await dumped;
        clearTimeout(timer);
      }
      const rd = spawnSync("tcpdump", ["-r", pcap, "-nn"], { maxBuffer: 64 << 20 });
      const text = rd.stdout.toString();
      assert.ok(text.length > 0, `tcpdump -r: ${rd.stderr} (capture: ${dumpErr})`);
      const synAck = text.split("\n").find((l) => l.includes("198.18.0.2.7 >") && l.includes("[S."));
      assert.ok(synAck, `SYN-ACK captured: ${text.slice(0, 300)}`);
      assert.match(synAck!, /mss 8960/, "the core announces MTU - 40");
      const lens = (dir: string) =>
        text
          .split("\n")
          .filter((l) => l.includes(dir))
          .map((l) => Number(/ length (\d+)/.exec(l)?.[1] ?? 0));
      const toCore = lens("> 198.18.0.2.7:");
      const fromCore = lens("198.18.0.2.7 >");
      const big = (a: number[]) => a.filter((n) => n > 1500).length;
      assert.ok(
        big(toCore) > 50,
        `kernel → core segments over 1500 B: ${big(toCore)} (max ${Math.max(...toCore)})`,
      );
      assert.ok(
        big(fromCore) > 50,
        `core → kernel segments over 1500 B: ${big(fromCore)} (max ${Math.max(...fromCore)})`,
      );
      assert.ok(Math.max(...toCore, ...fromCore) <= 8960, "no segment over the MSS");

      const { code, report, stderr } = await t.stop();
      assert.is(code, 0, stderr);
      assert.is(report.mtu, 9000);
      assert.is(report.host.rx_over_mtu, 0);
      assert.is(report.counters.icmp_echo, 2);
      assert.is(report.counters.rx_drop_nombuf ?? 0, 0);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a frame over MTU + 14 is counted (rx_over_mtu) and dropped", async () => {
  await withTap(["--mtu", "1500"], async (t) => {
    // Raise the kernel side's MTU behind the core's back: the kernel now sends frames the core did not agree to.
    assert.is(inNs(t.ns, ["ip", "link", "set", "dev", t.ifname, "mtu", "4000"]).code, 0);
    const ok = inNs(t.ns, ["ping", "-c", "1", "-W", "2", "-s", "1000", "198.18.0.2"]);
    assert.is(ok.code, 0, `small ping: ${ok.out}${ok.err}`);
    const p = inNs(t.ns, ["ping", "-c", "2", "-i", "0.2", "-W", "1", "-s", "3000", "-M", "do", "198.18.0.2"]);
    assert.is.not(p.code, 0, "no answer to a 3042-byte frame");
    const { code, report, stderr } = await t.stop();
    assert.is(code, 0, stderr);
    assert.is(report.host.rx_over_mtu, 2);
    assert.is(report.per_worker[0].drops.rx_over_mtu, 2);
    assert.is(report.counters.icmp_echo, 1, "only the small ping answered");
  });
});

test.run();
