// Every workload reads cleanly in tshark: no malformed packets, no expert errors,
// IPv4 and TCP checksums verified good, no TCP analysis flags (retransmissions,
// unseen ACKs, window trouble), and the memcached dissector decodes every message.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { generate, type WorkloadName } from "../../host/gen/index.ts";
import { genOptions, type GenFlags } from "../../host/gen/run.ts";
import { TSHARK_HINT, haveTshark, requireOracle } from "../helpers/oracle.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("gen-tshark");

function tshark(file: string, filter: string, ...extra: string[]): number {
  const out = execFileSync(
    "tshark",
    [
      "-r",
      file,
      "-o",
      "tcp.check_checksum:TRUE",
      "-o",
      "ip.check_checksum:TRUE",
      ...extra,
      "-Y",
      filter,
      "-T",
      "fields",
      "-e",
      "frame.number",
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 1 << 28 },
  );
  return out.split("\n").filter(Boolean).length;
}

const CASES: [WorkloadName, GenFlags, string][] = [
  ["echo", { messages: 200, size: 3000 }, "echo.pcap"],
  ["etc", { duration: 0.1e9 }, "etc.pcapng"],
  ["etc", { duration: 0.1e9, protocol: "binary", mss: 536 }, "etc-binary.pcap"],
  ["usr", { duration: 0.05e9, protocol: "binary" }, "usr.pcap"],
  ["incast", { servers: 16, duration: 0.01e9, size: 20000 }, "incast.pcapng"],
  ["churn", { conns: 3000, rate: 20000, requests: 2, response: 5000 }, "churn.pcap"],
];

const BAD =
  "_ws.malformed || _ws.expert.severity == error || tcp.checksum.status != 1 || ip.checksum.status != 1 || " +
  "tcp.analysis.flags || !(ip.src == 198.18.0.0/15 && ip.dst == 198.18.0.0/15) || !tcp";

const WITH_TSHARK = requireOracle("tshark", haveTshark(), TSHARK_HINT, "tshark's reading of every workload");

for (const [w, flags, name] of WITH_TSHARK ? CASES : []) {
  test(`${name}: 0 malformed, 0 errors, checksums good, no TCP analysis flags`, () => {
    const out = join(tmp, name);
    const r = generate(genOptions(w, { out, quiet: true, ...flags }));
    assert.ok(r.packets > 1000, `${r.packets} packets`);
    assert.is(tshark(out, BAD), 0);
    if (w === "etc" || w === "usr") {
      // Every request and every response decodes as memcache (a message starts a
      // segment of its own; tshark reports a reassembled one on its last segment).
      assert.is(tshark(out, "memcache && tcp.dstport == 11211"), r.requests);
      assert.is(tshark(out, "memcache && tcp.srcport == 11211"), r.requests);
    }
  });
}

test.run();
