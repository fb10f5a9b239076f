// Malformed captures through the installed command (dist/host/cli.js, built by
// `npx tsc -p tsconfig.build.json`): the public corpus's broken files (MANIFEST
// format "corrupt", read in place) and corruptions generated here from traces/.
// inspect, dump and replay --mode raw must never crash: the records before the
// fault, then exactly one error line on stderr, no stack trace, exit code 1.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CORPUS, ROOT, corpusNote, manifest } from "../helpers/corpus.ts";
import { tempDir } from "../helpers/tmp.ts";

corpusNote();
const CLI = join(ROOT, "dist/host/cli.js");
const tmp = tempDir("malformed");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// replay is checked too when the installed command has it.
const HAVE_REPLAY = /--mode/.test(run("replay", "--help").out);

/** Runs every reader command on path; returns the packets each gave before the error. */
function checkBroken(path: string, want: number, error?: RegExp): void {
  const d = run("dump", path, "--jsonl");
  const i = run("inspect", path, "--json");
  const runs: [string, typeof d][] = [
    ["dump", d],
    ["inspect", i],
  ];
  if (HAVE_REPLAY) runs.push(["replay", run("replay", path, "--mode", "raw")]);
  for (const [cmd, r] of runs) {
    assert.is(r.code, 1, `${cmd}: exit code (stderr: ${r.err})`);
    const lines = r.err.split("\n").filter((l) => l !== "");
    assert.is(lines.length, 1, `${cmd}: one error line, got:\n${r.err}`);
    assert.match(lines[0], /^ixwasm: /, `${cmd}: error line`);
    assert.not.match(r.err, /\n\s+at |Error:|node:internal/, `${cmd}: no stack trace`);
    if (error) assert.match(lines[0], error, `${cmd}: the reason`);
  }
  const dumped = d.out.split("\n").filter((l) => l !== "").length;
  assert.is(dumped, want, "dump: records before the fault");
  if (i.out.trim()) {
    const j = JSON.parse(i.out);
    assert.is(j.packets, want, "inspect: packets before the fault");
    assert.ok(j.error, "inspect --json names the error");
  } else assert.is(want, 0, "inspect printed nothing: only right for a file with no readable header");
}

// ---- the public corpus --------------------------------------------------------
// tshark keeps the first record of fuzz-2021-10-13.pcap (its caplen 524501 is above
// the 262144 limit and tshark cuts it); ixwasm refuses that record (docs/commands/inspect.md, "Errors").
const DIFFERS: Record<string, number> = { "fuzz-2021-10-13.pcap": 0 };

const corrupt = manifest().filter((r) => r.format === "corrupt");
for (const row of corrupt) {
  test(`corpus ${row.file}: packets before the fault, one error line, exit 1`, () => {
    checkBroken(join(CORPUS, row.file), DIFFERS[row.file] ?? row.packets);
  });
}

// ---- corruptions generated from the project's own traces ------------------------
const PCAP = readFileSync(join(ROOT, "traces/http-kernel.pcap"));
const PCAPNG = readFileSync(join(ROOT, "traces/udp-echo-v6.pcapng"));

/** Byte offset of record k (0-based) in a little-endian classic pcap. */
function recordAt(b: Buffer, k: number): number {
  let off = 24;
  for (let i = 0; i < k; i++) off += 16 + b.readUInt32LE(off + 8);
  return off;
}

function pcapRecords(b: Buffer): number {
  let n = 0;
  for (let off = 24; off + 16 <= b.length; off += 16 + b.readUInt32LE(off + 8)) n++;
  return n;
}

/** Offsets of the pcapng blocks and how many of them are packets (EPB/SPB/OPB). */
function ngBlocks(b: Buffer): { off: number; type: number; packet: boolean }[] {
  const out = [];
  for (let off = 0; off + 12 <= b.length; off += b.readUInt32LE(off + 4)) {
    const type = b.readUInt32LE(off);
    out.push({ off, type, packet: type === 6 || type === 3 || type === 2 });
  }
  return out;
}

function write(name: string, b: Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, b);
  return p;
}

const N = pcapRecords(PCAP);

const CASES: [string, () => [Buffer, number, RegExp]][] = [
  ["empty file", () => [Buffer.alloc(0), 0, /shorter than a file header/]],
  [
    "bad magic",
    () => {
      const b = Buffer.from(PCAP);
      b.writeUInt32LE(0x12345678, 0);
      return [b, 0, /not a pcap or pcapng file \(magic/];
    },
  ],
  ["truncated file header", () => [PCAP.subarray(0, 10), 0, /file header/]],
  [
    "huge caplen in record 3",
    () => {
      const b = Buffer.from(PCAP);
      b.writeUInt32LE(0x7fffffff, recordAt(b, 2) + 8);
      return [b, 2, /record claims 2147483647 captured bytes/];
    },
  ],
  [
    "caplen above the file's snaplen",
    () => {
      const b = Buffer.from(PCAP);
      b.writeUInt32LE(100, 16); // snaplen 100; record 1 (a SYN) fits, a data record does not
      let k = 0;
      while (b.readUInt32LE(recordAt(b, k) + 8) <= 100) k++;
      return [b, k, /snaplen/];
    },
  ],
  [
    "truncated last record",
    () => [PCAP.subarray(0, recordAt(PCAP, N - 1) + 16 + 5), N - 1, /file ends inside a record/],
  ],
  [
    "file ends inside a record header",
    () => [PCAP.subarray(0, recordAt(PCAP, 4) + 9), 4, /file ends inside a record/],
  ],
  [
    "mid-file garbage",
    () => {
      const at = recordAt(PCAP, 3);
      const b = Buffer.concat([PCAP.subarray(0, at), Buffer.alloc(64, 0xff), PCAP.subarray(at)]);
      return [b, 3, /captured bytes/];
    },
  ],
  [
    "pcapng: block length not a multiple of 4",
    () => {
      const b = Buffer.from(PCAPNG);
      const blocks = ngBlocks(b);
      const k = blocks.findIndex(
        (x, i) => x.packet && blocks.slice(0, i).filter((y) => y.packet).length === 2,
      );
      b.writeUInt32LE(13, blocks[k].off + 4);
      return [b, 2, /invalid length 13/];
    },
  ],
  [
    "pcapng: trailing length differs",
    () => {
      const b = Buffer.from(PCAPNG);
      const blocks = ngBlocks(b);
      const k = blocks.findIndex(
        (x, i) => x.packet && blocks.slice(0, i).filter((y) => y.packet).length === 1,
      );
      const len = b.readUInt32LE(blocks[k].off + 4);
      b.writeUInt32LE(len + 4, blocks[k].off + len - 4);
      return [b, 1, /trailing length differs/];
    },
  ],
  [
    "pcapng: huge block length",
    () => {
      const b = Buffer.from(PCAPNG);
      const blocks = ngBlocks(b);
      const k = blocks.findIndex(
        (x, i) => x.packet && blocks.slice(0, i).filter((y) => y.packet).length === 3,
      );
      b.writeUInt32LE(0xfffffff0, blocks[k].off + 4);
      return [b, 3, /./];
    },
  ],
  [
    "pcapng: cut inside a block",
    () => {
      const blocks = ngBlocks(PCAPNG);
      const k = blocks.findIndex(
        (x, i) => x.packet && blocks.slice(0, i).filter((y) => y.packet).length === 2,
      );
      return [PCAPNG.subarray(0, blocks[k].off + 20), 2, /./];
    },
  ],
];

for (const [name, make] of CASES) {
  test(`generated: ${name}`, () => {
    const [bytes, want, error] = make();
    checkBroken(
      write(`${name.replace(/\W+/g, "-")}.pcap${name.startsWith("pcapng") ? "ng" : ""}`, bytes),
      want,
      error,
    );
  });
}

test("the malformed corpus: every MANIFEST corrupt file was run", () => {
  if (corrupt.length === 0) return; // no corpus here (see the note above)
  assert.is(corrupt.length, 10);
});

test.run();
