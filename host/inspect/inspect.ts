// `ixwasm inspect`: what a capture holds, counted by the WASM core in one pass.
import {
  DESC_BYTES,
  DESC_F_NO_TS,
  DESC_F_NOT_PACKET,
  DESC_F_TS_INVALID,
  type TraceFormat,
} from "../io/reader.ts";
import { formatTs } from "../io/timestamp.ts";
import { readCounters } from "../report/counters.ts";
import { openTrace } from "../core/open-capture.ts";
import { TraceError } from "../io/errors.ts";
import { DESC_FLAGS, DESC_NSEC, DESC_SEC } from "../core/abi.gen.ts";

export interface InspectReport {
  file: string;
  format: TraceFormat;
  linktypes: number[];
  packets: number;
  bytes: number;
  first_ts: string | null;
  last_ts: string | null;
  ipv4: number;
  ipv6: number;
  tcp: number;
  udp: number;
  tcp_flows: number;
  /** Records that are not packets (pcapng custom blocks, which tshark numbers as frames). */
  not_packets: number;
  non_ip: number;
  unknown_link: number;
  truncated: number;
  fragments: number;
  /** Set when the capture is corrupt: the counts cover the records before the fault. */
  error?: string;
}

export function inspect(path: string): InspectReport {
  const { core, reader } = openTrace(path);
  const run = core.exports.inspectBatch as (n: number) => void;
  const dv = new DataView(core.memory.buffer);
  const desc = core.regions.desc.offset;
  let first: string | null = null;
  let last: string | null = null;
  let error: TraceError | undefined;
  const tsOf = (i: number): string | null => {
    const d = desc + i * DESC_BYTES;
    const f = dv.getUint16(d + DESC_FLAGS, true);
    if (f & (DESC_F_NO_TS | DESC_F_NOT_PACKET)) return null;
    return formatTs(
      dv.getFloat64(d + DESC_SEC, true),
      dv.getUint32(d + DESC_NSEC, true),
      (f & DESC_F_TS_INVALID) !== 0,
    );
  };
  try {
    for (;;) {
      const n = reader.next();
      if (n === 0) break;
      run(n);
      for (let i = 0; first === null && i < n; i++) first = tsOf(i);
      for (let i = n - 1; i >= 0; i--) {
        const t = tsOf(i);
        if (t !== null) {
          last = t;
          break;
        }
      }
    }
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    error = e;
  } finally {
    reader.close();
  }
  const c = readCounters(core);
  const report: InspectReport = {
    file: path,
    format: reader.format,
    linktypes: reader.linktypes,
    packets: c.rx_frames,
    bytes: c.rx_bytes,
    first_ts: first,
    last_ts: last,
    ipv4: c.ipv4,
    ipv6: c.ipv6,
    tcp: c.tcp,
    udp: c.udp,
    tcp_flows: c.tcp_flows,
    not_packets: c.not_packet,
    non_ip: c.non_ip,
    unknown_link: c.unknown_link,
    truncated: c.truncated,
    fragments: c.fragments,
  };
  if (error) {
    report.error = error.message;
    Object.defineProperty(report, "cause", { value: error, enumerable: false });
  }
  return report;
}

export function formatInspect(r: InspectReport): string {
  const rows: [string, string | number][] = [
    ["file", r.file],
    ["format", r.format],
    ["link types", r.linktypes.join(", ")],
    ["packets", r.packets],
    ["bytes (captured)", r.bytes],
    ["first timestamp", r.first_ts ?? "-"],
    ["last timestamp", r.last_ts ?? "-"],
    ["IPv4 packets", r.ipv4],
    ["IPv6 packets", r.ipv6],
    ["TCP packets", r.tcp],
    ["UDP packets", r.udp],
    ["TCP flows", r.tcp_flows],
  ];
  if (r.not_packets) rows.push(["non-packet records", r.not_packets]);
  if (r.non_ip) rows.push(["non-IP frames", r.non_ip]);
  if (r.unknown_link) rows.push(["unknown link type", r.unknown_link]);
  if (r.truncated) rows.push(["truncated headers", r.truncated]);
  if (r.fragments) rows.push(["IP fragments", r.fragments]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n";
}
