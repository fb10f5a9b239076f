// The C programs of `ixwasm bench tap`'s sparse part (host/measure/tap-sparse.ts),
// built with gcc as the bench builds them, and the reflector's TypeScript twin
// (host/measure/tap-reflect-js.ts): each tap reflector must answer ping
// and UDP in both modes with checksums the kernel accepts (its own counters:
// ping's raw socket gets a reply even when the kernel's ICMP drops it as a
// checksum error), and count what it did; the
// memcached client must time every GET against the core's memcached. Namespaces
// with "tapbusy" in their names, 198.18.0.0/15 only, removed in finally. Needs
// root, gcc, ping and socat: without them these tests FAIL (never skip).
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import {
  buildTapNatives,
  pingPongRun,
  startReflector,
  stopReflector,
  type TapNatives,
} from "../../host/measure/tap-sparse.ts";
import { Teardown } from "../../host/io/netns.ts";
import { ROOT, inNs, inNsText, needTapHost, needTool, tapNames, withTap } from "../helpers/tap.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir("tapbusy-natives");
const names = tapNames("tapbusy");
let exe: TapNatives;

/** The namespace's SNMP counters of one protocol line of /proc/net/snmp ("Icmp", "Udp"). */
function snmp(ns: string, proto: string): Record<string, number> {
  const lines = inNsText(ns, ["cat", "/proc/net/snmp"]).out.split("\n");
  const [head, vals] = lines.filter((l) => l.startsWith(`${proto}:`));
  const keys = head.split(/\s+/).slice(1);
  const v = vals.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(keys.map((k, i) => [k, v[i]]));
}

test.before(() => {
  needTapHost();
  for (const t of ["gcc", "ping", "socat"]) needTool(t);
  exe = buildTapNatives(ROOT, dir);
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const impl of ["c", "js"] as const)
  for (const mode of ["block", "busy"] as const)
    test(`tap-reflect (${impl}) ${mode}: ping and UDP reflected with valid checksums, counts at SIGTERM`, async () => {
      const td = new Teardown();
      const procs: ChildProcess[] = [];
      try {
        const cmd = impl === "c" ? exe.reflect : exe.reflectJs;
        const r = await startReflector(cmd, mode, td, procs, names().ifname);
        const p = inNsText(r.ns, ["ping", "-c", "5", "-i", "0.02", "-s", "22", "-W", "2", "198.18.4.2"]);
        assert.is(p.code, 0, `ping: ${p.out}${p.err}`);
        assert.match(p.out, /5 received/);
        // The datagram comes back from 198.18.4.2:7 to socat's port: socat prints it.
        const u = inNs(r.ns, ["socat", "-t", "1", "-", "UDP4:198.18.4.2:7"], { input: "reflected\n" });
        assert.is(u.out.toString(), "reflected\n", u.err);
        const icmp = snmp(r.ns, "Icmp");
        assert.is(icmp.InCsumErrors, 0, "ICMP checksums valid");
        assert.is(icmp.InEchoReps, 5, "the kernel took every reply");
        assert.is(snmp(r.ns, "Udp").InCsumErrors, 0, "UDP checksum valid");
        const { code, counts: c } = await stopReflector(r);
        assert.is(code, 0);
        // 5 echo requests, 1 datagram, at least one ARP request; everything answered.
        assert.ok(c.rx >= 7 && c.tx >= 7, JSON.stringify(c));
        assert.is(c.errors, 0);
        if (mode === "busy") assert.is(c.polls, 0, "busy never polls");
        else assert.ok(c.polls >= 1);
      } finally {
        for (const p of procs) if (p.exitCode === null) process.kill(p.pid!, "SIGKILL");
        td.run();
      }
    });

test("icmp-pingpong: round trips in ns against the reflector, each reply matched, arrival before wake-up", async () => {
  const td = new Teardown();
  const procs: ChildProcess[] = [];
  try {
    const r = await startReflector(exe.reflect, "busy", td, procs, names().ifname);
    inNsText(r.ns, ["ping", "-c", "2", "-i", "0.05", "-q", "198.18.4.2"]); // the neighbour entry
    const p = pingPongRun(exe.pingPong, r.ns, "198.18.4.2", 0.3);
    assert.ok(p.n > 100 && p.lost === 0, JSON.stringify(p));
    // A reply is timestamped on arrival, then the client wakes: arrival ≤ wake-up, both well under 1 ms.
    assert.ok(p.arrival.mean_ns > 0 && p.arrival.mean_ns <= p.woken.mean_ns, JSON.stringify(p));
    assert.ok(p.arrival.p50_ns < 1e6, JSON.stringify(p));
    // The bench's min row: the fastest round trip, above zero and no slower than the median.
    assert.ok(p.arrival.min_ns > 0 && p.arrival.min_ns <= p.arrival.p50_ns, JSON.stringify(p));
    // With the reflector stopped nothing answers: every request is lost, and the client says so (exit 1).
    process.kill(r.child.pid!, "SIGSTOP");
    const none = inNsText(r.ns, [exe.pingPong, "198.18.4.2", "0.2", "0"], { timeoutMs: 20000 });
    process.kill(r.child.pid!, "SIGCONT");
    assert.is(none.code, 1, none.err);
    assert.match(none.err, /no reply/);
    // Every request the client counted was answered by the reflector (warm-up and ping's too).
    const { counts: c } = await stopReflector(r);
    assert.ok(c.tx >= p.n + 2000, JSON.stringify(c));
  } finally {
    for (const p of procs) if (p.exitCode === null) process.kill(p.pid!, "SIGKILL");
    td.run();
  }
});

test("mc-get: times every GET against tap --app memcached", async () => {
  await withTap(names(), ["--app", "memcached", "--duration", "30"], async (t) => {
    const r = inNsText(t.ns, [exe.mcGet, "198.18.0.2", "11211", "5", "2000"], { timeoutMs: 20000 });
    assert.is(r.code, 0, r.err);
    const us = JSON.parse(r.out) as number[];
    assert.is(us.length, 5);
    for (const x of us) assert.ok(x > 0 && x < 1e6, `round trip ${x} µs`);
    const { report } = await t.stop();
    assert.ok(report.counters.tcp_passive_opens >= 1);
    assert.is(report.counters.tcp_rst_sent ?? 0, 0);
  });
});

test.run();
