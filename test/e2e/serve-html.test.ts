// The serve HTML report (issue 16 items 5 and 7): the default replay's mode, its
// fidelity per capture and per flow, and the time-sequence charts, checked in
// Debian chromium through playwright-core: no console errors, each chart's
// uPlot instance holds the series the report embedded, and its canvas shows
// pixels of every series' colour.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { CORPUS, ROOT, corpusNote } from "../helpers/corpus.ts";
import { requireOracle } from "../helpers/oracle.ts";
import { CHROMIUM, launchChromium, watchPage } from "../helpers/browser.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("timeseq");
const HTTP = join(ROOT, "traces/http-kernel.pcap");
/** A capture with holes: the core cannot send what the capture lost, so flows 0 and 2 have missing segments (flow 1 none). */
const BIG = join(CORPUS, "bigtransfer.pcap");
/** The charts' series in their order on the page. */
const SERIES = ["window", "ack", "capture", "core", "mismatch"] as const;
/** The page's series colours (host/report/html.ts TS), as RGB. */
const COLORS: Record<(typeof SERIES)[number], [number, number, number]> = {
  capture: [0x1f, 0x5f, 0xbf],
  core: [0xf2, 0x8e, 0x2b],
  ack: [0x2c, 0xa0, 0x2c],
  window: [0x94, 0x67, 0xbd],
  mismatch: [0xd6, 0x27, 0x28],
};

interface Chart {
  flow: number;
  x: number[];
  points: Record<(typeof SERIES)[number], number>;
}
interface Page {
  report: { mode: string; fidelity: { segments_compared: number } | null };
  serve: { charts: Chart[]; worst_flows: { flow: number; missing: number }[]; flows_scored: number } | null;
}

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "host/cli.ts"), ...args], {
    encoding: "utf8",
    cwd: ROOT,
  });
}

function htmlReport(name: string, ...args: string[]): { file: string; data: Page } {
  const file = join(tmp, name);
  const r = cli("replay", ...args, "--stages", "1", "--report", "html", "--report-file", file);
  assert.is(r.status, 0, r.stderr);
  const html = readFileSync(file, "utf8");
  assert.not.match(html, /<script[^>]+src=/);
  const m = /<script type="application\/json" id="data">(.*?)<\/script>/s.exec(html);
  assert.ok(m, "the report's data is embedded");
  return { file, data: JSON.parse(m![1]) as Page };
}

const pages: { file: string; data: Page; marks: boolean }[] = [];

test("replay CAPTURE --report html: the default (serve) run, fidelity and time-sequence data", () => {
  const { file, data } = htmlReport("http.html", HTTP);
  assert.is(data.report.mode, "serve", "the plain replay serves this capture");
  assert.ok(data.report.fidelity && data.report.fidelity.segments_compared > 0);
  const s = data.serve!;
  assert.ok(s, "serve detail embedded");
  assert.is(s.flows_scored, 5);
  // No mismatch in this capture: the default picks the 4 flows with most segments compared.
  assert.is(s.charts.length, 4);
  assert.equal(s.worst_flows, []);
  for (const c of s.charts) {
    for (const k of ["capture", "core", "ack", "window"] as const) assert.ok(c.points[k] > 0, `${k} points`);
    assert.is(c.points.mismatch, 0);
  }
  pages.push({ file, data, marks: false });
});

test("--report json: --stages and the plain replay report the same mode", () => {
  const plain = cli("replay", HTTP, "--report", "json");
  const staged = cli("replay", HTTP, "--report", "json", "--stages", "1");
  assert.is(plain.status, 0, plain.stderr);
  assert.is(staged.status, 0, staged.stderr);
  assert.is(JSON.parse(staged.stdout).mode, JSON.parse(plain.stdout).mode);
  assert.is(JSON.parse(plain.stdout).mode, "serve");
});

test("--flow: a number, a tuple (either direction), a bad one", () => {
  const bad = cli(
    "replay",
    HTTP,
    "--report",
    "html",
    "--report-file",
    join(tmp, "x.html"),
    "--flow",
    "1.2.3:80",
  );
  assert.is(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /--flow 1\.2\.3:80/);
  const noHtml = cli("replay", HTTP, "--flow", "1");
  assert.is(noHtml.status, 1);
  assert.match(noHtml.stderr, /--report html/);
});

if (corpusNote("the time-sequence marks on a capture with holes"))
  test("--flow on a capture with holes: the flows named, mismatches marked, worst flows listed", () => {
    // Flow 1 by its tuple, server end first (flow 2's sequence numbers span 5 GB: its window line lies on its ACKs).
    const { file, data } = htmlReport(
      "big.html",
      BIG,
      "--flow",
      "0",
      "--flow",
      "192.168.56.101:63988-192.168.56.1:59763",
    );
    const s = data.serve!;
    assert.equal(
      s.charts.map((c) => c.flow),
      [0, 1],
    );
    assert.is(s.charts[0].points.mismatch, 4, "flow 0: its 4 missing segments marked");
    assert.is(s.charts[1].points.mismatch, 0);
    assert.equal(
      s.worst_flows.map((w) => [w.flow, w.missing]),
      [
        [2, 5],
        [0, 4],
      ],
    );
    pages.push({ file, data, marks: true });
  });

if (
  requireOracle(
    "chromium",
    existsSync(CHROMIUM),
    `${CHROMIUM}: apt-get install chromium; .ci/run installs it`,
    "the browser check of the time-sequence charts",
  )
)
  test("in chromium: each time-sequence chart holds the embedded series and has drawn them", async () => {
    assert.ok(pages.length > 0, "the reports above were written");
    const browser = await launchChromium();
    try {
      for (const { file, data, marks } of pages) {
        const page = await browser.newPage();
        const { errors, requests } = watchPage(page);
        await page.goto(`file://${file}`);
        await page.waitForFunction(() => (window as any).ixwasmReady === true); // eslint-disable-line @typescript-eslint/no-explicit-any
        const charts = data.serve!.charts;
        // A series the page hid at first (ACK + window far above the segments) is shown, as its legend entry does.
        const hidden = (await page.evaluate(
          (n) =>
            Array.from({ length: n }, (_, k) => {
              const u = (window as any).ixwasmPlots["ts" + k]; // eslint-disable-line @typescript-eslint/no-explicit-any
              const off: string[] = [];
              (u?.series ?? []).forEach((s: { show: boolean; label: string }, i: number) => {
                if (i > 0 && !s.show) {
                  off.push(s.label);
                  u.setSeries(i, { show: true });
                }
              });
              return off;
            }),
          charts.length,
        )) as string[][];
        for (const off of hidden)
          assert.ok(
            off.every((l) => l === "client ACK + window"),
            `hidden: ${off}`,
          );
        const got = (await page.evaluate(
          ({ n, colors }) =>
            Array.from({ length: n }, (_, k) => {
              const u = (window as any).ixwasmPlots["ts" + k]; // eslint-disable-line @typescript-eslint/no-explicit-any
              if (!u) return null;
              const data = (u.data as (number | null)[][]).map((col) => ({
                length: col.length,
                points: col.filter((v) => v != null).length,
              }));
              // Pixels of each series' colour in the plot's canvas (a little anti-aliasing allowed).
              const c = u.ctx.canvas as HTMLCanvasElement;
              const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
              const inked = colors.map(() => 0);
              for (let i = 0; i < d.length; i += 4) {
                if (d[i + 3] < 200) continue;
                colors.forEach(([r, g, b]: number[], s: number) => {
                  if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) <= 24) inked[s]++;
                });
              }
              return { data, inked, labels: (u.series as { label: string }[]).map((x) => x.label) };
            }),
          { n: charts.length, colors: SERIES.map((s) => COLORS[s]) },
        )) as ({ data: { length: number; points: number }[]; inked: number[]; labels: string[] } | null)[];
        charts.forEach((c, k) => {
          const g = got[k];
          assert.ok(g, `chart ts${k} (flow ${c.flow}) drawn`);
          assert.is(g!.data.length, 1 + SERIES.length, `flow ${c.flow}: x and ${SERIES.length} series`);
          assert.is(g!.data[0].length, c.x.length);
          SERIES.forEach((s, i) => {
            assert.is(g!.data[i + 1].length, c.x.length, `flow ${c.flow} ${s}: aligned`);
            assert.is(
              g!.data[i + 1].points,
              c.points[s],
              `flow ${c.flow} ${s}: the points the report embedded`,
            );
            if (s === "mismatch" && (!marks || c.points.mismatch === 0)) return;
            assert.ok(c.points[s] > 0, `flow ${c.flow} ${s}: points`);
            assert.ok(g!.inked[i] >= 10, `flow ${c.flow} ${s}: ${g!.inked[i]} pixels of its colour`);
          });
        });
        assert.equal(errors, [], `console errors: ${errors.join("; ")}`);
        assert.equal(requests, [], "no network requests");
        await page.screenshot({ path: file.replace(/\.html$/, ".png"), fullPage: true });
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });

test.run();
