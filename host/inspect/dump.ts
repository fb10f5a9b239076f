// `ixwasm dump`: one line per record, decoded by the WASM core (decodeBatch).
import { writeSync } from "node:fs";
import type { Core } from "../core/core.ts";
import { formatIPv4, formatIPv6 } from "../io/addr.ts";
import { DESC_BYTES, DESC_F_NO_TS, DESC_F_NOT_PACKET, DESC_F_TS_INVALID } from "../io/reader.ts";
import { formatTs } from "../io/timestamp.ts";
import { openTrace } from "../core/open-capture.ts";
import { DESC_CAPLEN, DESC_FLAGS, DESC_LEN, DESC_NSEC, DESC_SEC } from "../core/abi.gen.ts";
import {
  SUM_ACK,
  SUM_BYTES,
  SUM_DPORT,
  SUM_DST,
  SUM_FLAGS,
  SUM_IPVER,
  SUM_PAYLOAD,
  SUM_PROTO,
} from "../core/abi.gen.ts";
import { SUM_SEQ, SUM_SPORT, SUM_SRC, SUM_TCPFLAGS } from "../core/abi.gen.ts";
import { SUM_F_FRAG, SUM_F_IP, SUM_F_PAYLOAD, SUM_F_PORTS, SUM_F_TCP, SUM_F_TRUNC } from "../core/abi.gen.ts";

export interface DumpRecord {
  n: number;
  ts: string | null;
  caplen: number;
  len: number;
  src: string | null;
  dst: string | null;
  proto: number | null;
  sport: number | null;
  dport: number | null;
  flags: number | null;
  seq: number | null;
  ack: number | null;
  payload: number | null;
  frag: boolean;
  ts_invalid?: true;
  truncated?: true;
  not_packet?: true;
}

/** Reads descriptor i and its decode summary into a plain record (dump is not a fast path). */
export function readRecord(core: Core, i: number, n: number): DumpRecord {
  const d = core.regions.desc.offset + i * DESC_BYTES;
  const s = core.regions.decode.offset + i * SUM_BYTES;
  const u8 = core.u8;
  const dv = new DataView(core.memory.buffer);
  const dflags = dv.getUint16(d + DESC_FLAGS, true);
  const f = dv.getUint16(s + SUM_FLAGS, true);
  const ipver = u8[s + SUM_IPVER];
  const addr = (off: number) => (ipver === 4 ? formatIPv4(u8, off) : formatIPv6(u8, off));
  const ip = (f & SUM_F_IP) !== 0;
  const ports = (f & SUM_F_PORTS) !== 0;
  const tcp = (f & SUM_F_TCP) !== 0;
  const rec: DumpRecord = {
    n,
    ts:
      dflags & DESC_F_NO_TS
        ? null
        : formatTs(
            dv.getFloat64(d + DESC_SEC, true),
            dv.getUint32(d + DESC_NSEC, true),
            (dflags & DESC_F_TS_INVALID) !== 0,
          ),
    caplen: dv.getUint32(d + DESC_CAPLEN, true),
    len: dv.getUint32(d + DESC_LEN, true),
    src: ip ? addr(s + SUM_SRC) : null,
    dst: ip ? addr(s + SUM_DST) : null,
    proto: ip ? u8[s + SUM_PROTO] : null,
    sport: ports ? dv.getUint16(s + SUM_SPORT, true) : null,
    dport: ports ? dv.getUint16(s + SUM_DPORT, true) : null,
    flags: tcp ? dv.getUint16(s + SUM_TCPFLAGS, true) : null,
    seq: tcp ? dv.getUint32(s + SUM_SEQ, true) : null,
    ack: tcp ? dv.getUint32(s + SUM_ACK, true) : null,
    payload: f & SUM_F_PAYLOAD ? dv.getUint32(s + SUM_PAYLOAD, true) : null,
    frag: (f & SUM_F_FRAG) !== 0,
  };
  if (dflags & DESC_F_TS_INVALID) rec.ts_invalid = true;
  if (f & SUM_F_TRUNC) rec.truncated = true;
  if (dflags & DESC_F_NOT_PACKET) rec.not_packet = true;
  return rec;
}

const PROTO_NAMES: Record<number, string> = {
  1: "ICMP",
  6: "TCP",
  17: "UDP",
  58: "ICMPv6",
  47: "GRE",
  132: "SCTP",
};
const TCP_FLAG_NAMES = ["F", "S", "R", "P", ".", "U", "E", "C", "N"];

export function formatText(r: DumpRecord): string {
  const head = `${String(r.n).padStart(6)} ${r.ts ?? "-".padEnd(20)} ${String(r.caplen).padStart(5)}/${String(r.len).padEnd(5)}`;
  if (r.not_packet) return `${head} (not a packet: pcapng custom block)`;
  if (r.src === null) return `${head} (no IP header${r.truncated ? ", truncated" : ""})`;
  const ep = (a: string | null, p: number | null) =>
    p === null ? a : a!.includes(":") ? `[${a}]:${p}` : `${a}:${p}`;
  let line = `${head} ${ep(r.src, r.sport)} > ${ep(r.dst, r.dport)} ${PROTO_NAMES[r.proto!] ?? `proto ${r.proto}`}`;
  if (r.flags !== null) {
    const fl = TCP_FLAG_NAMES.filter((_, i) => r.flags! & (1 << i)).join("");
    line += ` [${fl}] seq ${r.seq} ack ${r.ack}`;
  }
  if (r.payload !== null) line += ` len ${r.payload}`;
  if (r.frag) line += " frag";
  if (r.truncated) line += " truncated";
  return line;
}

export interface DumpOptions {
  jsonl?: boolean;
  limit?: number;
  out?: (chunk: string) => void;
}

/** Runs dump; returns the number of records printed. A TraceError propagates after the records before it are printed. */
export function dump(path: string, opts: DumpOptions = {}): number {
  const write = opts.out ?? ((s: string) => writeSync(1, s));
  const limit = opts.limit ?? Infinity;
  const { core, reader } = openTrace(path);
  const decode = core.exports.decodeBatch as (n: number) => number;
  let printed = 0;
  try {
    while (printed < limit) {
      const n = reader.next();
      if (n === 0) break;
      decode(n);
      const first = reader.records - n + 1;
      let chunk = "";
      for (let i = 0; i < n && printed < limit; i++, printed++) {
        const r = readRecord(core, i, first + i);
        chunk += (opts.jsonl ? JSON.stringify(r) : formatText(r)) + "\n";
      }
      write(chunk);
    }
  } finally {
    reader.close();
  }
  return printed;
}
