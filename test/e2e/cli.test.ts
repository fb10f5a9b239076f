// The installed command, spawned as a user would run it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/corpus.ts";
import { tempDir } from "../helpers/tmp.ts";

const CLI = join(ROOT, "dist/host/cli.js");
const HTTP = join(ROOT, "traces/http-kernel.pcap");
const tmp = tempDir("cli");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("inspect --json: the contract's fields", () => {
  const r = run("inspect", HTTP, "--json");
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  const want = JSON.parse(readFileSync(join(ROOT, "traces/expected/http-kernel.pcap.inspect.json"), "utf8"));
  for (const k of Object.keys(want)) assert.equal(j[k], want[k], k);
});

test("inspect: a readable table", () => {
  const r = run("inspect", HTTP);
  assert.is(r.code, 0);
  assert.match(r.out, /^format\s+pcap-us-le$/m);
  assert.match(r.out, /^TCP flows\s+5$/m);
});

test("dump --jsonl --limit", () => {
  const r = run("dump", HTTP, "--jsonl", "--limit", "3");
  assert.is(r.code, 0, r.err);
  const lines = r.out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.is(lines.length, 3);
  assert.equal(Object.keys(lines[0]).slice(0, 13), [
    "n",
    "ts",
    "caplen",
    "len",
    "src",
    "dst",
    "proto",
    "sport",
    "dport",
    "flags",
    "seq",
    "ack",
    "payload",
  ]);
  assert.is(lines[0].flags, 2, "first packet is a SYN");
  assert.match(lines[0].ts, /^\d+\.\d{9}$/);
});

test("dump text lines", () => {
  const r = run("dump", HTTP, "--limit", "1");
  assert.match(r.out, /^\s+1 \d+\.\d{9}\s+\d+\/\d+\s+198\.18\.0\.1:\d+ > 198\.18\.0\.2:\d+ TCP \[S\]/);
});

test("corrupt capture: records before the fault, then one error line, exit 1, no stack trace", () => {
  const good = readFileSync(HTTP);
  // Keep the header and 3 records, then cut the 4th record short.
  let off = 24;
  for (let i = 0; i < 3; i++) off += 16 + good.readUInt32LE(off + 8);
  const bad = join(tmp, "cut.pcap");
  writeFileSync(bad, good.subarray(0, off + 20));
  const r = run("dump", bad, "--jsonl");
  assert.is(r.code, 1);
  assert.is(r.out.trim().split("\n").length, 3);
  const errLines = r.err.trim().split("\n");
  assert.is(errLines.length, 1, r.err);
  assert.match(
    errLines[0],
    /^ixwasm: .*cut\.pcap: file ends inside a record \(20 bytes left\) \(byte offset \d+, packet 4\)$/,
  );
  const i = run("inspect", bad, "--json");
  assert.is(i.code, 1);
  assert.is(JSON.parse(i.out).packets, 3);
  assert.match(JSON.parse(i.out).error, /packet 4/);
});

test("missing file, not a capture, unknown option: one clear line and a non-zero exit", () => {
  const a = run("inspect", join(tmp, "nope.pcap"));
  assert.is(a.code, 1);
  assert.match(a.err, /^ixwasm: no such file: .*nope\.pcap; check the path\n$/);
  const txt = join(tmp, "t.pcap");
  writeFileSync(txt, "hello world, not a capture");
  const b = run("dump", txt);
  assert.is(b.code, 1);
  assert.match(b.err, /not a pcap or pcapng file \(magic 0x68656c6c\)/);
  const c = run("inspect", HTTP, "--bogus");
  assert.ok(c.code !== 0);
  assert.match(c.err, /unknown option '--bogus'/);
  assert.not.match(c.err + a.err + b.err, /\n\s+at /, "no stack trace");
});

test("--help exits 0 and lists the commands", () => {
  const r = run("--help");
  assert.is(r.code, 0);
  assert.match(r.out, /inspect/);
  assert.match(r.out, /dump/);
});

test.run();
