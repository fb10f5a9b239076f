// App modules on a tap, against real kernel clients (docs/design/app-modules.md):
// the HTTP/1.1 example answers curl (keep-alive, Connection: close); a module stuck
// in an endless loop in a thread of its own (--app-thread) is stopped by the
// watchdog while the stack keeps answering ping, its connection is reset, and the restarted module echoes for another
// address of the same namespace. Needs root and /dev/net/tun: without them these
// tests FAIL (never skip).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { buildApp } from "../../host/apps/build.ts";
import { ROOT, inNs, needTapHost, needTool, tapNames, withTap } from "../helpers/tap.ts";
import { tempDir } from "../helpers/tmp.ts";

needTapHost();
const tmp = tempDir("tapmod");
const http = join(tmp, "http.wasm");
const faulty = join(tmp, "faulty.wasm");
await buildApp(join(ROOT, "examples/http"), { out: http });
await buildApp(join(ROOT, "examples/faulty"), { out: faulty });
const names = tapNames("ixm");

test("the HTTP example answers curl: two requests on one connection, then Connection: close", async () => {
  needTool("curl");
  await withTap(names(), ["--app-module", http, "--duration", "60"], async (t) => {
    const r = inNs(t.ns, [
      "curl",
      "-s",
      "-m",
      "5",
      "http://198.18.0.2:8080/a",
      "http://198.18.0.2:8080/b",
      "-w",
      "%{num_connects}\n",
    ]);
    assert.is(r.code, 0, r.err.toString());
    const body = "hello from an ixwasm app module\n";
    // two answers, and curl reused the first connection for the second (0 new connects)
    assert.is(r.out.toString(), `${body}1\n${body}0\n`);
    const c = inNs(t.ns, [
      "curl",
      "-s",
      "-m",
      "5",
      "-i",
      "-H",
      "Connection: close",
      "http://198.18.0.2:8080/",
    ]);
    assert.match(
      c.out.toString(),
      /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\nContent-Length: 32\r\n\r\n/,
    );
    const { code, report } = await t.stop();
    assert.is(code, 0, t.stderr());
    assert.ok(report.module.batches > 0);
    assert.is(report.counters.tcp_passive_opens, 2);
    assert.is(
      Object.values(report.module.faults as Record<string, number>).reduce((a, b) => a + b, 0),
      0,
    );
  });
});

test("a module stuck in a loop in a thread of its own: ping answered meanwhile, its connection reset, the restarted module serves", async () => {
  needTool("nc", "apt-get install netcat-openbsd");
  // --app-thread: the stack keeps serving while the module's thread spins (in the serving
  // thread the core would wait out the timeout, as it waits for a built-in app's run)
  const args = [
    "--app-module",
    faulty,
    "--app-options",
    "mode=2,octet=1",
    "--app-timeout",
    "1500",
    "--app-thread",
  ];
  await withTap(names(), [...args, "--duration", "60"], async (t) => {
    // the kernel side (198.18.0.1) makes the module loop at its first bytes
    const stuck = spawn("ip", ["netns", "exec", t.ns, "nc", "-N", "-w", "8", "198.18.0.2", "7"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let got = "";
    stuck.stdout.on("data", (d) => (got += d));
    stuck.stdin.end("make it loop\n");
    const stuckDone = new Promise<number | null>((r) => stuck.on("exit", (c) => r(c)));
    await new Promise((r) => setTimeout(r, 300));
    const p = inNs(t.ns, ["ping", "-c", "3", "-i", "0.2", "-W", "1", "198.18.0.2"]);
    assert.is(p.code, 0, `ping while the module loops: ${p.out}${p.err}`);
    await stuckDone;
    assert.is(got, "", "no echo from the stuck module");
    // a second address: the restarted module echoes for it
    const add = spawnSync("ip", [
      "netns",
      "exec",
      t.ns,
      "ip",
      "addr",
      "add",
      "198.18.0.3/24",
      "dev",
      t.ifname,
    ]);
    assert.is(add.status, 0, String(add.stderr));
    const ok = inNs(t.ns, ["nc", "-N", "-w", "5", "-s", "198.18.0.3", "198.18.0.2", "7"], {
      input: "served after the restart\n",
    });
    assert.is(ok.out.toString(), "served after the restart\n", ok.err.toString());
    const { code, report } = await t.stop();
    assert.is(code, 0, t.stderr());
    const m = report.module;
    assert.is(m.faults.timeout, 1);
    assert.is(m.restarts, 1);
    assert.ok(m.fault_resets >= 1);
    assert.equal(
      m.checks.map((c: { mbuf_pool: number; tcb_table: number }) => [c.mbuf_pool, c.tcb_table]),
      [[0, 0]],
    );
  });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
