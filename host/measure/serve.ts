// Serve mode's speed (issue 5: aim 2 M packets/s, one worker): replay --mode
// serve at top speed on a generated memcached ETC capture (gen etc, 500 k
// packets, 16 connections), the mirror answering every request, fidelity
// checked on each run. Beside it, track mode on the same file as the baseline
// (no answers, no fidelity).
//
// Figures: the serve pass's packets per second of wall time (the pre-scan is
// made once and not counted, as the report's pps), and packets per CPU-second of
// the whole replay() call (process.cpuUsage: less sensitive to a loaded machine),
// warm (the first run compiles and tiers the code up and is not counted).
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGen } from "../gen/run.ts";
import { replay } from "../replay/replay.ts";
import { prescan, type Prescan } from "../replay/serve/prescan.ts";
import { summarize, type Summary } from "./lib/stats.ts";

const PACKETS = 500_000;

export interface ServeBench {
  file: string;
  packets: number;
  serve_pps: Summary;
  serve_pps_per_cpu_s: Summary;
  track_pps: Summary;
  polls: number;
  fidelity: string;
}

function etcTrace(): string {
  const path = join(tmpdir(), `ixwasm-bench-serve-etc-${PACKETS}.pcap`);
  if (!existsSync(path)) runGen("etc", { out: path, packets: PACKETS, conns: 16, quiet: true, seed: 1 });
  return path;
}

/** The pre-scan is read-only to runServe (its per-flow state lives in the run): reused as is. */
function freshPrescan(pre: Prescan): Prescan {
  return pre;
}

export function benchServe(runs: number): ServeBench {
  const file = etcTrace();
  const pre = prescan(file);
  const pps: number[] = [];
  const perCpu: number[] = [];
  const track: number[] = [];
  let polls = 0;
  let fidelity = "";
  let packets = 0;
  for (let i = 0; i <= runs; i++) {
    const c0 = process.cpuUsage();
    const r = replay(file, { mode: "serve", prescan: freshPrescan(pre) });
    const c = process.cpuUsage(c0);
    const f = r.fidelity!;
    if (f.segments_matching !== f.segments_compared)
      throw new Error(`serve bench: fidelity ${JSON.stringify(f)}`);
    const t = replay(file, { mode: "track" });
    if (i === 0) continue; // warm-up
    packets = r.packets_in;
    pps.push(r.pps);
    perCpu.push(r.packets_in / ((c.user + c.system) / 1e6));
    track.push(t.pps);
    polls = r.serve!.polls;
    fidelity = `${f.segments_matching}/${f.segments_compared}`;
  }
  return {
    file,
    packets,
    serve_pps: summarize(pps),
    serve_pps_per_cpu_s: summarize(perCpu),
    track_pps: summarize(track),
    polls,
    fidelity,
  };
}

export function formatServeBench(
  b: ServeBench,
  row: (name: string, s: Summary, unit: string) => string,
): string[] {
  return [
    `gen etc, ${b.packets} packets, 16 connections (${b.file}); serve: mirror, top speed, one worker; fidelity ${b.fidelity} segments; ${b.polls} polls`,
    row("serve packets/s (serve pass, wall)", b.serve_pps, "pkt/s"),
    row("serve packets per CPU-second", b.serve_pps_per_cpu_s, "pkt/s"),
    row("track packets/s (same file)", b.track_pps, "pkt/s"),
  ];
}
