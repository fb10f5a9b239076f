// `--report html`: one self-contained offline HTML file (uPlot's script and
// stylesheet inlined, the report's JSON embedded) with stage-cost bars, the
// cost ladder, the batch histogram, the batch service-time CDF, per-worker
// throughput over time, the fidelity summary and the run's metadata; in serve
// mode the worst flows and per-flow time-sequence (Stevens) charts
// (host/report/timeseq.ts).
//
// Every chart sets window.ixwasmCharts[id] = data points drawn, and the
// time-sequence charts keep their uPlot instance in window.ixwasmPlots[id],
// which the browser test (test/e2e/report-html.test.ts) checks.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ServeView } from "./timeseq.ts";

export interface HtmlInput {
  /** the replay report, with its cost section (host/measure/cost.ts) when measured */
  report: object;
  /** host/measure/ladder.ts result, when measured */
  ladder: object | null;
  /** serve: per-flow fidelity and the time-sequence charts' data (host/report/timeseq.ts) */
  serve?: ServeView | null;
  /** how the run was started */
  command: string;
}

function uplotAssets(): { js: string; css: string } {
  const req = createRequire(import.meta.url);
  const dir = dirname(req.resolve("uplot/package.json"));
  return {
    js: readFileSync(join(dir, "dist/uPlot.iife.min.js"), "utf8"),
    css: readFileSync(join(dir, "dist/uPlot.min.css"), "utf8"),
  };
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** JSON safe inside a <script> element. */
const scriptJson = (x: unknown) => JSON.stringify(x).replace(/</g, "\\u003c");

export function renderHtml(input: HtmlInput): string {
  const { js, css } = uplotAssets();
  const r = input.report as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const title = `ixwasm cost: ${r.trace} (${r.mode})`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>${css}</style>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#666;font-size:12px}.chart{margin:8px 0}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="note">${esc(input.command)}</p>
<h2>Run</h2><table id="meta"></table>
<h2>Stage cost (ns per packet; estimated cycles)</h2><div id="stages" class="chart"></div><table id="stagetable"></table>
<p class="note" id="stagenote"></p>
<h2>Cost ladder (no stage timers)</h2><div id="ladder" class="chart"></div><table id="laddertable"></table>
<h2>Batch sizes (core calls)</h2><div id="batches" class="chart"></div>
<h2>Batch service time CDF (µs, per packet)</h2><div id="latency" class="chart"></div>
<p class="note" id="latnote"></p>
<h2>Per-worker throughput over time (packets/s)</h2><div id="workers" class="chart"></div>
<h2>Fidelity</h2><table id="fidelity"></table>
<p class="note" id="fidnote"></p>
<div id="worst"></div>
<div id="timeseq"></div>
<script type="application/json" id="data">${scriptJson({ report: r, ladder: input.ladder, serve: input.serve ?? null, command: input.command })}</script>
<script>${js}</script>
<script>${CLIENT}</script>
</body></html>
`;
}

// Browser side: plain JS run once on load.
const CLIENT = `
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const R = D.report, C = R.cost || null;
window.ixwasmCharts = {};
const W = Math.min(1000, document.body.clientWidth - 20);
function row(t, cells, cls) {
  const tr = document.createElement("tr");
  for (const [i, c] of cells.entries()) {
    const td = document.createElement(cls === "th" ? "th" : "td");
    td.textContent = c;
    if (i > 0 && cls !== "th") td.className = "n";
    tr.appendChild(td);
  }
  document.getElementById(t).appendChild(tr);
}
function empty(id, why) {
  const p = document.createElement("p");
  p.className = "note";
  p.textContent = why;
  document.getElementById(id).appendChild(p);
  window.ixwasmCharts[id] = 0;
}
function bars(id, names, series, ylabel) {
  const xs = names.map((_, i) => i);
  const opts = {
    width: W, height: 260,
    scales: { x: { time: false, range: [-0.6, names.length - 0.4] }, y: { range: (u, lo, hi) => [0, hi * 1.1 || 1] } },
    axes: [{ values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? names[t] ?? "" : "")), splits: () => xs }, { label: ylabel, size: 80 }],
    series: [{}, ...series.map((s, k) => ({ label: s.label, fill: s.color, stroke: s.color, paths: uPlot.paths.bars({ size: [0.7 / series.length, 80], align: series.length === 1 ? 0 : k === 0 ? -1 : 1, gap: 0 }) }))],
    legend: { show: series.length > 1 },
  };
  new uPlot(opts, [xs, ...series.map((s) => s.values)], document.getElementById(id));
  window.ixwasmCharts[id] = series.reduce((a, s) => a + s.values.filter((v) => v != null).length, 0);
}
function lines(id, xs, series, xlabel, ylabel, logx) {
  const opts = {
    width: W, height: 260,
    scales: { x: { time: false, distr: logx ? 3 : 1 }, y: {} },
    axes: [{ label: xlabel }, { label: ylabel, size: 80 }],
    series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: true, size: 4 } }))],
  };
  new uPlot(opts, [xs, ...series.map((s) => s.values)], document.getElementById(id));
  window.ixwasmCharts[id] = series.reduce((a, s) => a + s.values.filter((v) => v != null).length, 0);
}
const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"];

// Run metadata.
const m = R.machine || {};
row("meta", ["capture", R.trace + " (" + R.format + ")"]);
row("meta", ["mode", R.mode + (R.app ? ", app " + R.app : "") + ", " + R.workers + " worker(s), speed " + R.speed + ", loops " + R.loops]);
row("meta", ["packets", R.packets_in + " in, " + R.packets_processed + " processed, " + R.packets_out + " out"]);
row("meta", ["rate", R.pps + " packets/s, " + R.mbps + " Mbit/s over " + R.duration_s + " s"]);
row("meta", ["machine", m.cpu + ", " + m.cores + " cores, " + m.platform]);
row("meta", ["Node", m.node]);
if (C) row("meta", ["stage-cost runs", C.stage_cost.runs + " timed + " + C.stage_cost.runs + " untimed, alternating"]);

// Stage cost.
if (C) {
  const s = C.stage_cost;
  bars("stages", s.stages.map((x) => x.name), [
    { label: "ns/packet (median)", values: s.stages.map((x) => x.ns_per_packet), color: "#4e79a7" },
  ], "ns/packet");
  row("stagetable", ["stage", "ns/packet", "min", "max", "est. cycles"], "th");
  for (const x of s.stages) row("stagetable", [x.name, x.ns_per_packet, x.min, x.max, x.cycles_per_packet_est]);
  row("stagetable", ["sum of stages", s.sum_ns_per_packet, "", "", ""]);
  row("stagetable", ["total (core clock)", s.total_ns_per_packet.median, s.total_ns_per_packet.min, s.total_ns_per_packet.max, Math.round(s.total_ns_per_packet.median * s.mhz_estimated / 1000)]);
  row("stagetable", ["residual", s.residual_ns_per_packet + " (" + s.residual_pct + " %)", "", "", ""]);
  row("stagetable", ["timers on / off (host clock)", s.overhead.timed_ns_per_packet.median + " / " + s.overhead.untimed_ns_per_packet.median, "", "", "overhead " + s.overhead.overhead_pct + " %"]);
  document.getElementById("stagenote").textContent = s.method + ". Cycles estimated at " + s.mhz_estimated + " MHz.";
} else empty("stages", "no stage cost in this report (run replay with --stages)");

// Ladder.
const L = D.ladder;
if (L && L.rungs.some((g) => g.ns_per_packet)) {
  const rungs = L.rungs.filter((g) => g.ns_per_packet);
  bars("ladder", rungs.map((g) => g.name), [
    { label: "ns/packet", values: rungs.map((g) => g.ns_per_packet.median), color: "#59a14f" },
    { label: "increment", values: rungs.map((g) => g.increment_ns), color: "#f28e2b" },
  ], "ns/packet");
  row("laddertable", ["rung", "ns/packet", "min", "max", "increment", "± band"], "th");
  for (const g of L.rungs) row("laddertable", [g.name, g.ns_per_packet ? g.ns_per_packet.median.toFixed(2) : "-", g.ns_per_packet ? g.ns_per_packet.min.toFixed(2) : "", g.ns_per_packet ? g.ns_per_packet.max.toFixed(2) : "", g.increment_ns ?? "", g.band_ns ?? ""]);
} else empty("ladder", "no cost ladder measured");

// Batch histogram.
const bh = (C && C.batch_histogram) || R.batch_histogram || {};
const bk = Object.keys(bh);
if (bk.length) bars("batches", bk, [{ label: "core calls", values: bk.map((k) => bh[k]), color: "#76b7b2" }], "calls");
else empty("batches", "no batches");

// Latency CDF: per-packet batch service time (or the paced run's latency quantiles).
if (C && C.batch_service_us.cdf.length) {
  const cdf = C.batch_service_us.cdf;
  lines("latency", cdf.map((p) => p[0]), [{ label: "fraction of packets ≤ x", values: cdf.map((p) => p[1]), color: "#e15759" }], "µs", "CDF", true);
  const b = C.batch_service_us;
  document.getElementById("latnote").textContent = "Each packet waits for its batch's whole core call. p50 " + b.p50 + " µs, p90 " + b.p90 + ", p99 " + b.p99 + ", p999 " + b.p999 + ", max " + b.max + " (" + b.samples + " packets; log buckets, 1/16 resolution).";
} else if (R.latency_us) {
  const q = R.latency_us;
  lines("latency", [q.p50, q.p99, q.p999], [{ label: "fraction ≤ x", values: [0.5, 0.99, 0.999], color: "#e15759" }], "µs", "CDF", true);
} else empty("latency", "no latency in this run");

// Per-worker throughput.
if (C && C.timeline.t_ms.length) {
  const t = C.timeline;
  lines("workers", t.t_ms, t.workers_pps.map((v, w) => ({ label: "worker " + w, values: v, color: COLORS[w % COLORS.length] })), "ms", "packets/s", false);
} else empty("workers", "no timeline");

// Fidelity: per capture, then the worst flows.
const F = R.fidelity;
if (F && typeof F === "object") {
  row("fidelity", ["segments matched", F.segments_matching + " of " + F.segments_compared + " (" + F.segments_pct + " %)"]);
  row("fidelity", ["missing (capture only)", String(F.segments_missing)]);
  row("fidelity", ["extra (core only)", String(F.segments_extra)]);
  row("fidelity", ["payload bytes matched", F.bytes_matching + " of " + F.bytes_compared]);
  row("fidelity", ["retransmissions", "capture " + F.retransmissions_capture + ", core " + F.retransmissions_core + " (not compared)"]);
  if (F.datagrams_compared || F.datagrams_extra)
    row("fidelity", ["UDP datagrams matched", F.datagrams_matching + " of " + F.datagrams_compared + ", missing " + F.datagrams_missing + ", extra " + F.datagrams_extra]);
  for (const x of F.first_mismatches || []) row("fidelity", ["mismatch", x.flow + " offset " + x.offset + ": " + x.what]);
  document.getElementById("fidnote").textContent = "Compared: each first transmission of a server segment with payload, SYN or FIN, and RSTs, by offset from the ISN. Excluded: " + F.excluded + ".";
} else {
  row("fidelity", ["score", "not applicable: fidelity is scored in serve mode with the mirror app"]);
}
const dropped = Object.values(R.drops || {}).reduce((a, b) => a + (b || 0), 0);
row("fidelity", ["accounting", R.packets_in + " in = " + R.packets_processed + " processed + " + dropped + " dropped for a reason"]);
const S = D.serve;
function el(parent, tag, text, cls) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = text;
  if (cls) e.className = cls;
  parent.appendChild(e);
  return e;
}
if (S) {
  const wd = document.getElementById("worst");
  el(wd, "h2", "Worst flows (first pass)");
  if (S.worst_flows.length) {
    const t = el(wd, "table");
    t.id = "worsttable";
    row("worsttable", ["flow", "conversation", "compared", "matched", "differing", "missing", "extra", "matched %"], "th");
    for (const w of S.worst_flows) row("worsttable", [String(w.flow), w.name, w.compared, w.matching, w.differing, w.missing, w.extra, w.pct]);
  }
  el(wd, "p", S.worst_flows.length ? "The " + S.worst_flows.length + " flows (of " + S.flows_scored + " scored) with most differing, missing and extra segments; the flow number is what --flow takes." : "No flow has a mismatch (" + S.flows_scored + " flows scored).", "note");
}

// Time-sequence (Stevens) charts: x the time since the flow's first packet, y
// the offset from the server's ISN; each segment a bar from its first to its
// last sequence number, with a point at its end.
// Drawn in this order: the client's lines under the segments, the marks on top.
const TS = [
  { key: "window", label: "client ACK + window", color: "#9467bd" },
  { key: "ack", label: "client ACK", color: "#2ca02c" },
  { key: "capture", label: "capture's server segments", color: "#1f5fbf" },
  { key: "core", label: "core's segments", color: "#f28e2b" },
  { key: "mismatch", label: "mismatch", color: "#d62728" },
];
window.ixwasmPlots = {};
function segBars(from) {
  return (u, si, i0, i1) => {
    const p = new Path2D();
    const xs = u.data[0], ys = u.data[si];
    for (let i = i0; i <= i1; i++) {
      if (ys[i] == null) continue;
      const x = u.valToPos(xs[i], "x", true);
      p.moveTo(x, u.valToPos(from[i], "y", true));
      p.lineTo(x, u.valToPos(ys[i], "y", true));
    }
    return { stroke: p, fill: null, clip: null, flags: 0 };
  };
}
// Tick labels with as many decimals as the tick spacing needs (uPlot's default rounds 0.0005 to 0).
function secs(u, ticks) {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  let dec = 0;
  while (dec < 9 && Math.abs(step * 10 ** dec - Math.round(step * 10 ** dec)) > 1e-6) dec++;
  return ticks.map((t) => t.toFixed(dec));
}
// ACK + window far above the data (a large window on a short flow) would squash
// the segments into one line: that series starts hidden (its legend entry shows
// it, and the scale follows). The test shows it before it counts pixels.
function windowHides(c) {
  let lo = Infinity, hi = -Infinity, top = -Infinity;
  for (const k of ["capture", "core", "ack"])
    for (const v of c[k]) if (v != null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  for (const v of c.window) if (v != null) top = Math.max(top, v);
  return top > hi && top - lo > 4 * Math.max(hi - lo, 1) ? top : 0;
}
function timeseq(id, c, parent) {
  const box = el(parent, "div", null, "chart");
  box.id = id;
  const series = [{ label: "time (s)" }];
  const hideWindow = windowHides(c) > 0;
  for (const s of TS) {
    const base = { label: s.label, stroke: s.color, width: 2, spanGaps: true, show: !(hideWindow && s.key === "window") };
    // The core's segments often lie on the capture's: the capture's are wide, the core's thin on top.
    if (s.key === "capture")
      series.push({ ...base, width: 6, paths: segBars(c.capture_from), points: { show: true, size: 10, stroke: s.color, fill: s.color } });
    else if (s.key === "core")
      series.push({ ...base, paths: segBars(c.core_from), points: { show: true, size: 4, stroke: s.color, fill: s.color } });
    else if (s.key === "mismatch")
      series.push({ ...base, paths: () => null, points: { show: true, size: 12, width: 2, stroke: s.color, fill: "rgba(0,0,0,0)" } });
    else series.push({ ...base, width: 1.5, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } });
  }
  const opts = {
    width: W, height: 320,
    scales: { x: { time: false }, y: {} },
    axes: [{ label: "time since the flow's first packet (s)", values: secs }, { label: "relative sequence number", size: 90 }],
    cursor: { drag: { x: true, y: true, uni: 30 } }, // drag to zoom (double-click: back)
    series,
  };
  const u = new uPlot(opts, [c.x, ...TS.map((s) => c[s.key])], box);
  window.ixwasmPlots[id] = u;
  window.ixwasmCharts[id] = TS.reduce((a, s) => a + c.points[s.key], 0);
}
if (S) {
  const td = document.getElementById("timeseq");
  el(td, "h2", "Time-sequence charts (server bytes)");
  el(td, "p", S.charts.length + " flow(s) charted, " + S.chosen + ". Capture's segments at capture time, the core's at the core's clock; a ring marks a segment that differs, is missing (on the capture's) or extra (on the core's). At most " + S.max_points + " points per series." + (S.unmatched.length ? " Not charted: --flow " + S.unmatched.join(", ") + " (no such flow, or not TCP)." : ""), "note");
  S.charts.forEach((c, k) => {
    const f = c.fidelity;
    el(td, "h3", "flow " + c.flow + ": " + c.name);
    const top = windowHides(c);
    el(td, "p", (f ? f.matching + " of " + f.compared + " segments matched, missing " + f.missing + ", extra " + f.extra + ". " : "") + c.clock + "." + Object.entries(c.cut).filter(([, n]) => n > 0).map(([s, n]) => " " + s + ": " + n + " points past the cap not drawn.").join("") + (top ? " The client's ACK + window reaches " + top.toLocaleString("en") + ", far above the segments: hidden, click its legend entry to show it." : ""), "note");
    timeseq("ts" + k, c, td);
  });
}
window.ixwasmReady = true;
`;
