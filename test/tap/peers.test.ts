// `ixwasm tap --app netpipe|sockperf` against the real Debian clients (netpipe-tcp
// 3.7.2's NPtcp, sockperf 3.7), which do not accept a plain echo server. The CLI
// runs as a child process with its own namespace (unique name per run and test,
// 198.18.0.0/15 only), removed in finally. Needs root and /dev/net/tun (CI is
// root); without them, or without the tools, these tests FAIL (never skip).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  inNsText,
  needTapHost,
  needTool,
  tapNames,
  withTap as withTapIn,
  type RunningTap,
} from "../helpers/tap.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("peers");
const names = tapNames("ixp");

// NPtcp 3.7.2's block sizes with its defaults (-l 1, -p 3), as a real run prints them.
const NP_SIZES = [
  1, 2, 3, 4, 6, 8, 12, 13, 16, 19, 21, 24, 27, 29, 32, 35, 45, 48, 51, 61, 64, 67, 93, 96, 99, 125, 128, 131,
  189, 192, 195, 253, 256, 259, 381, 384, 387, 509, 512, 515, 765, 768, 771, 1021, 1024, 1027, 1533, 1536,
  1539, 2045, 2048, 2051, 3069, 3072, 3075, 4093, 4096, 4099,
];

/** `ixwasm tap --app <app>` with the tools its peers need checked first. */
async function withTap(app: string, body: (t: RunningTap) => Promise<void>): Promise<void> {
  needTapHost();
  for (const tool of ["NPtcp", "sockperf"])
    needTool(tool, "apt-get install netpipe-tcp sockperf (.ci/run does)");
  await withTapIn(names(), ["--app", app, "--duration", "90"], body);
}

function inNs(ns: string, cmd: string[], timeoutMs: number) {
  return inNsText(ns, cmd, { cwd: tmp, timeoutMs });
}

test("NPtcp -u 4096 -n 20 against tap --app netpipe: every size of its schedule, a positive time each, clean end", async () => {
  await withTap("netpipe", async (t) => {
    const outFile = join(tmp, "np.out");
    const r = inNs(t.ns, ["NPtcp", "-h", "198.18.0.2", "-u", "4096", "-n", "20", "-o", outFile], 60000);
    assert.is(r.code, 0, `NPtcp exit: ${r.out}${r.err}`);
    const rows = readFileSync(outFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/).map(Number));
    assert.equal(
      rows.map((x) => x[0]),
      NP_SIZES,
      "one row per size, in NPtcp's order",
    );
    for (const [size, mbps, secs] of rows) {
      assert.ok(mbps > 0 && secs > 0 && secs < 0.1, `size ${size}: ${mbps} Mbps in ${secs} s`);
    }
    assert.match(r.err, /4099 bytes\s+20 times/, "the last block ran");
    const { code, report } = await t.stop();
    assert.is(code, 0, t.stderr());
    assert.is(report.app, "netpipe");
    assert.is(report.port, 5002);
    assert.is(report.counters.tcp_passive_opens, 1);
    assert.is(
      report.counters.tcp_rst_sent ?? 0,
      0,
      "no reset: the stream matched NPtcp's protocol to the end",
    );
  });
});

/** The figures of sockperf's [Valid Duration] summary. */
function sockperfResult(text: string) {
  const valid = /\[Valid Duration\] RunTime=[\d.]+ sec; SentMessages=(\d+); ReceivedMessages=(\d+)/.exec(
    text,
  );
  const lost =
    /# dropped messages = (\d+); # duplicated messages = (\d+); # out-of-order messages = (\d+)/.exec(text);
  const p50 = /percentile 50\.000 =\s*([\d.]+)/.exec(text);
  return {
    sent: Number(valid?.[1] ?? -1),
    received: Number(valid?.[2] ?? -1),
    dropped: Number(lost?.[1] ?? -1),
    duplicated: Number(lost?.[2] ?? -1),
    outOfOrder: Number(lost?.[3] ?? -1),
    p50: Number(p50?.[1] ?? -1),
  };
}

test("sockperf ping-pong over TCP and UDP against tap --app sockperf: messages answered, none dropped, duplicated or out of order", async () => {
  await withTap("sockperf", async (t) => {
    for (const proto of [["--tcp"], []]) {
      const r = inNs(
        t.ns,
        ["sockperf", "ping-pong", "-i", "198.18.0.2", "-p", "11111", "-t", "2", ...proto],
        30000,
      );
      const text = r.out + r.err;
      const name = proto.length ? "TCP" : "UDP";
      assert.is(r.code, 0, `sockperf ${name}: ${text}`);
      const s = sockperfResult(text);
      assert.ok(s.received > 100, `${name}: ${s.received} replies`);
      assert.ok(s.sent - s.received <= 1, `${name}: sent ${s.sent}, received ${s.received}`);
      assert.equal([s.dropped, s.duplicated, s.outOfOrder], [0, 0, 0], name);
      assert.ok(s.p50 > 0, `${name}: a latency`);
    }
    const { code, report } = await t.stop();
    assert.is(code, 0, t.stderr());
    assert.is(report.app, "sockperf");
    assert.is(report.counters.tcp_rst_sent ?? 0, 0);
  });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
