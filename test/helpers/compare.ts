// Compares `dump` records with tshark-derived expectations, field by field, with
// the rules of the public corpus's truth files: transport fields only where the
// first transport header follows the outermost IP header (plain TCP/UDP; not
// fragments), ack only when the ACK flag is set, proto skipped for IPv6 whose
// tshark value is an extension header.
import type { DumpRecord } from "../../host/inspect/dump.ts";

/** A tshark-derived expectation: dump's record without its own flags (frag may be absent). */
export type Expected = Omit<DumpRecord, "frag" | "ts_invalid" | "truncated" | "not_packet"> & {
  frag?: boolean;
};

const EXT6 = new Set([0, 43, 44, 50, 51, 60, 135]);

/** Nanoseconds of a decimal seconds string, as a BigInt (exact). */
function tsNs(ts: string): bigint {
  const neg = ts.startsWith("-");
  const [s, f = ""] = ts.replace("-", "").split(".");
  const v = BigInt(s) * 1000000000n + BigInt((f + "000000000").slice(0, 9));
  return neg ? -v : v;
}

/**
 * Field-by-field differences, at most `limit`. With `headersOnly` the frame's
 * own fields (n, caplen, len, ts) are left out: the wire-layer test compares
 * the core's decode summaries, which have none.
 */
export function compareRecords(
  expected: Expected[],
  ours: DumpRecord[],
  limit = 10,
  headersOnly = false,
): string[] {
  const bad: string[] = [];
  if (expected.length !== ours.length) bad.push(`records: ours ${ours.length}, expected ${expected.length}`);
  const n = Math.min(expected.length, ours.length);
  for (let i = 0; i < n && bad.length < limit; i++) {
    const t = expected[i];
    const o = ours[i];
    const diff = (k: keyof Expected & keyof DumpRecord) => {
      if (t[k] !== o[k])
        bad.push(`#${t.n} ${k}: ours ${JSON.stringify(o[k])}, expected ${JSON.stringify(t[k])}`);
    };
    (headersOnly ? (["src", "dst"] as const) : (["n", "caplen", "len", "src", "dst"] as const)).forEach(diff);
    if (!headersOnly && t.ts !== null) {
      const d = o.ts === null ? null : tsNs(t.ts) - tsNs(o.ts);
      if (d === null || d > 1n || d < -1n) bad.push(`#${t.n} ts: ours ${o.ts}, expected ${t.ts}`);
    }
    const v6 = t.src !== null && t.src.includes(":");
    if (t.proto !== null && !(v6 && EXT6.has(t.proto))) diff("proto");
    if (t.frag) continue;
    if (t.proto === 6 && t.flags !== null) {
      (["sport", "dport", "flags", "seq", "payload"] as const).forEach(diff);
      if (t.flags & 0x10) diff("ack");
    } else if (t.proto === 17 && t.sport !== null) {
      (["sport", "dport"] as const).forEach(diff);
    }
  }
  return bad;
}

export function readJsonl<T>(text: string): T[] {
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}
