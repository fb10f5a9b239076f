// The public corpus (../shared/traces beside the checkout, or $IXWASM_CORPUS):
// read in place, never copied into the project.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { requireOracle } from "./oracle.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CORPUS = process.env.IXWASM_CORPUS ?? join(ROOT, "../shared/traces");
export const HAVE_CORPUS = existsSync(join(CORPUS, "MANIFEST.tsv"));
export const OWN_TRACES = join(ROOT, "traces");
/** Captures of real servers (traces/record-servers.sh): serve's fidelity set, larger than the unit-test set. */
export const SERVER_TRACES = join(OWN_TRACES, "servers");

export interface ManifestRow {
  file: string;
  format: string;
  linktype: string;
  packets: number;
  /** tshark's error text for corrupt files */
  error: string | null;
  tcp_packets: number;
  tcp_streams: number;
  ipv4_packets: number;
  ipv6_packets: number;
  bytes: number;
}

export function manifest(): ManifestRow[] {
  if (!HAVE_CORPUS) return [];
  const lines = readFileSync(join(CORPUS, "MANIFEST.tsv"), "utf8").trim().split("\n");
  const head = lines[0].split("\t");
  return lines.slice(1).map((l) => {
    const c = Object.fromEntries(l.split("\t").map((v, i) => [head[i], v]));
    const m = /^(\d+)(?: \(then error: (.*)\))?$/.exec(c.packets);
    return {
      file: c.file,
      format: c.format,
      linktype: c.linktype,
      packets: Number(m?.[1] ?? NaN),
      error: m?.[2] ?? null,
      tcp_packets: Number(c.tcp_packets),
      tcp_streams: Number(c.tcp_streams),
      ipv4_packets: Number(c.ipv4_packets),
      ipv6_packets: Number(c.ipv6_packets),
      bytes: Number(c.bytes),
    };
  });
}

/**
 * True when the corpus is there; else, through requireOracle, a failing test under
 * CI or a "note: missing oracle" line: register the corpus cases only when true.
 */
export function corpusNote(what = "the corpus cases"): boolean {
  return requireOracle("the public corpus", HAVE_CORPUS, `not at ${CORPUS}: set IXWASM_CORPUS`, what);
}

/** Captures the project recorded itself (traces/*.pcap, *.pcapng). */
export function ownTraces(): string[] {
  if (!existsSync(OWN_TRACES)) return [];
  return readdirSync(OWN_TRACES)
    .filter((f) => /\.(pcap|pcapng)$/.test(f))
    .map((f) => join(OWN_TRACES, f));
}
