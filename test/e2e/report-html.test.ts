// The HTML report in a real browser: Debian chromium driven by playwright-core.
// Every chart must be drawn with data points, with no console errors; a
// screenshot goes to a temp dir (not kept in the repository).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT } from "../helpers/corpus.ts";
import { requireOracle } from "../helpers/oracle.ts";
import { CHROMIUM, launchChromium, watchPage } from "../helpers/browser.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("html");
const HTML = join(tmp, "report.html");

test("replay --report html: one self-contained file, offline", async () => {
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "host/cli.ts"),
      "replay",
      join(ROOT, "traces/http-kernel.pcap"),
      "--mode",
      "track",
      "--workers",
      "2",
      "--loop",
      "100",
      "--stages",
      "2",
      "--report",
      "html",
      "--report-file",
      HTML,
    ],
    { encoding: "utf8", cwd: ROOT },
  );
  assert.is(r.status, 0, r.stderr);
  const html = readFileSync(HTML, "utf8");
  // Offline: no external scripts, stylesheets or fetches.
  assert.not.match(html, /<script[^>]+src=/);
  assert.not.match(html, /<link[^>]+href=/);
  assert.ok(statSync(HTML).size > 40_000, "uPlot is inlined");
});

if (
  requireOracle(
    "chromium",
    existsSync(CHROMIUM),
    `${CHROMIUM}: apt-get install chromium; .ci/run installs it`,
    "the browser check",
  )
)
  test("the report in chromium: every chart drawn, no console errors, no network requests", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const { errors, requests } = watchPage(page);
      await page.goto(`file://${HTML}`);
      await page.waitForFunction(() => (window as any).ixwasmCharts?.workers !== undefined); // eslint-disable-line @typescript-eslint/no-explicit-any
      const charts = (await page.evaluate(() => (window as any).ixwasmCharts)) as Record<string, number>; // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const id of ["stages", "ladder", "batches", "latency", "workers"])
        assert.ok(charts[id] > 0, `chart ${id} has data points (${charts[id]})`);
      // Each chart's canvas has drawn (non-blank) pixels.
      const inked = await page.evaluate(() =>
        Array.from(document.querySelectorAll(".chart")).map((div) => {
          const c = div.querySelector("canvas");
          if (!c) return [div.id, 0];
          const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
          return [div.id, n];
        }),
      );
      for (const [id, n] of inked) assert.ok((n as number) > 500, `chart ${id} drew pixels (${n})`);
      assert.equal(errors, [], `console errors: ${errors.join("; ")}`);
      assert.equal(requests, [], "no network requests");
      const shot = join(tmp, "report.png");
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 10_000);
      console.log(`screenshot: ${shot}`);
    } finally {
      await browser.close();
    }
  });

test.run();
