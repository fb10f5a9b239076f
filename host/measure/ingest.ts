// Ingest: how fast a capture gets from disk through the core, `inspect` style
// (framing, full decode, TCP-flow counting), against pcap-parser and a plain-JS
// record walk over the same file, measured side by side in one run.
import { closeSync, openSync, readSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { inspect } from "../inspect/inspect.ts";
import { summarize, type Summary } from "./lib/stats.ts";

export interface IngestResult {
  file: string;
  packets: number;
  bytes: number;
  ixwasm_pps: Summary;
  ixwasm_mbps: Summary;
  pcap_parser_pps: Summary;
  plain_js_pps: Summary;
  ratio_vs_pcap_parser: number;
  max_rss_mb: number;
}

function timeIt(fn: () => number | Promise<number>): Promise<[number, number]> {
  const t0 = process.hrtime.bigint();
  return Promise.resolve(fn()).then((n) => [n, Number(process.hrtime.bigint() - t0) / 1e9]);
}

/** The floor for any JS reader: a DataView walk over 4 MiB chunks, counting records. */
export function plainJsCount(path: string): number {
  const fd = openSync(path, "r");
  const buf = Buffer.allocUnsafe(4 << 20);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  let fill = readSync(fd, buf, 0, buf.length, null);
  let pos = 24;
  let n = 0;
  for (;;) {
    if (fill - pos < 16 || fill - pos < 16 + dv.getUint32(pos + 8, true)) {
      buf.copy(buf, 0, pos, fill);
      fill -= pos;
      pos = 0;
      const got = readSync(fd, buf, fill, buf.length - fill, null);
      if (got <= 0) break;
      fill += got;
      continue;
    }
    pos += 16 + dv.getUint32(pos + 8, true);
    n++;
  }
  closeSync(fd);
  return n;
}

// pcap-parser is a devDependency, and the shipped CLI loads this file (`ixwasm
// bench` → bench/suite.ts → here): benchIngest loads it, before it times anything.
type PcapParse = (typeof import("pcap-parser"))["parse"];

export function pcapParserCount(parse: PcapParse, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const p = parse(path);
    p.on("packet", () => n++);
    p.on("end", () => resolve(n));
    p.on("error", reject);
  });
}

/** Peak resident memory of a separate `ixwasm inspect` process on the file (MB). */
export function inspectMaxRss(path: string): number {
  const cli = fileURLToPath(new URL("../cli.js", import.meta.url));
  const code = `process.on("exit",()=>process.stderr.write("MAXRSS "+process.resourceUsage().maxRSS+"\\n"));process.argv=[process.argv[0],${JSON.stringify(cli)},"inspect",${JSON.stringify(path)},"--json"];await import(${JSON.stringify(cli)});`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" });
  const m = /MAXRSS (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`inspect child failed: ${r.stderr}`);
  return Number(m[1]) / 1024;
}

export async function benchIngest(
  file: { path: string; packets: number; bytes: number },
  runs = 5,
): Promise<IngestResult> {
  const ix: number[] = [];
  const ixMB: number[] = [];
  const pp: number[] = [];
  const js: number[] = [];
  const { parse } = await import("pcap-parser");
  // Warm-up: page cache and the JIT tiers (AS-NOTES §6).
  inspect(file.path);
  for (let i = 0; i < runs; i++) {
    // Interleaved, so drift in the machine's load hits every reader alike.
    const [n1, t1] = await timeIt(() => inspect(file.path).packets);
    if (n1 !== file.packets) throw new Error(`inspect counted ${n1}, expected ${file.packets}`);
    ix.push(n1 / t1);
    ixMB.push(file.bytes / t1 / 1e6);
    const [n2, t2] = await timeIt(() => pcapParserCount(parse, file.path));
    if (n2 !== file.packets) throw new Error(`pcap-parser counted ${n2}`);
    pp.push(n2 / t2);
    const [n3, t3] = await timeIt(() => plainJsCount(file.path));
    if (n3 !== file.packets) throw new Error(`plain JS counted ${n3}`);
    js.push(n3 / t3);
  }
  const ixwasm_pps = summarize(ix);
  const pcap_parser_pps = summarize(pp);
  return {
    file: file.path,
    packets: file.packets,
    bytes: file.bytes,
    ixwasm_pps,
    ixwasm_mbps: summarize(ixMB),
    pcap_parser_pps,
    plain_js_pps: summarize(js),
    ratio_vs_pcap_parser: ixwasm_pps.median / pcap_parser_pps.median,
    max_rss_mb: Math.round(inspectMaxRss(file.path)),
  };
}
