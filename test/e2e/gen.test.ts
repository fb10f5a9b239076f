// `ixwasm gen` as a user runs it: JSON statistics, a table, and one-line errors
// with the fix (no stack traces) for bad options.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../helpers/tmp.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tmp = tempDir("gen-cli");

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "host/cli.ts"), "gen", ...args], {
    cwd: root,
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("--json: the realised statistics next to the targets", () => {
  const out = join(tmp, "etc.pcapng");
  const r = cli("etc", "--out", out, "--duration", "200ms", "--seed", "9", "--json");
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.is(j.workload, "etc");
  assert.is(j.format, "pcapng");
  assert.ok(existsSync(out));
  for (const k of ["packets", "bytes", "file_bytes", "connections", "requests", "packets_per_s"])
    assert.type(j[k], "number");
  const m = j.memcached;
  for (const k of ["key_size", "value_size", "inter_arrival_us"])
    for (const q of ["mean", "p50", "p99"]) assert.type(m[k][q], "number");
  assert.ok(m.get_set_ratio > 20 && m.get_set_ratio < 45);
  assert.ok(Math.abs(m.inter_arrival_us.mean - m.targets.inter_arrival_us_mean) < 2);
  assert.is(r.err, ""); // no progress line when stderr is not a terminal
});

test("table output names packets, connections and the key/value statistics", () => {
  const r = cli(
    "usr",
    "--out",
    join(tmp, "u.pcap"),
    "--packets",
    "2k",
    "--rate",
    "100k",
    "--protocol",
    "binary",
  );
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /packets\s+\d+/);
  assert.match(r.out, /key size \(B\)\s+mean 20\.00/);
  assert.match(r.out, /GET:SET/);
});

const ERRORS: [string[], RegExp][] = [
  [["etc"], /--out FILE is required/],
  [["etc", "--out", join(tmp, "x.pcap"), "--protocol", "udp"], /unknown --protocol udp; use ascii or binary/],
  [["etc", "--out", join(tmp, "x.pcap"), "--format", "erf"], /unknown --format erf/],
  [["etc", "--out", join(tmp, "x.pcap"), "--conns", "0"], /--conns must be a whole number from 1/],
  [["etc", "--out", join(tmp, "x.pcap"), "--mss", "20"], /--mss must be a whole number from 88 to 9000/],
  [["etc", "--out", join(tmp, "x.pcap"), "--duration", "soon"], /expected a time/],
  [["etc", "--out", join(tmp, "no/such/dir/x.pcap"), "--duration", "1ms"], /cannot write .*no\/such\/dir/],
  [
    ["churn", "--out", join(tmp, "x.pcap"), "--conns", "10", "--rate", "10M"],
    /lower --rate or raise --conns/,
  ],
  [
    ["http", "--out", join(tmp, "x.pcap")],
    /'http' is invalid for argument 'workload'. Allowed choices are echo, etc, usr, incast, churn/,
  ],
];

for (const [args, re] of ERRORS)
  test(`error: ${args.slice(0, 1).concat(args.slice(3)).join(" ")}`, () => {
    const r = cli(...args);
    assert.is.not(r.code, 0);
    assert.match(r.err, re);
    assert.not.match(r.err, /\n\s+at /); // no stack trace
  });

test.run();
