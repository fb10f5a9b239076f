// The bench's Markdown figures table (host/measure/lib/figures.ts): what row() prints
// is what the table says, with its spread, under the section it came from.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { row } from "../../host/measure/suite.ts";
import { summarize } from "../../host/measure/lib/stats.ts";
import {
  beginSection,
  collectedFigures,
  figuresMarkdown,
  recordFigure,
  resetFigures,
} from "../../host/measure/lib/figures.ts";

test("row() records its figure under the current section", () => {
  resetFigures();
  beginSection("ingest");
  const s = summarize([2e6, 1e6, 3e6]);
  const line = row("ixwasm inspect", s, "packets/s");
  assert.match(line, /2\.00 M packets\/s/);
  beginSection("cost");
  recordFigure("checksum, WASM", summarize([10, 12, 11, 11, 11]), "ns/frame");
  const f = collectedFigures();
  assert.equal(f.length, 2);
  assert.equal(f[0].section, "ingest");
  assert.equal(f[0].summary.median, 2e6);
  assert.equal(f[1].section, "cost");
  assert.equal(f[1].summary.median, 11);
});

test("the Markdown table has one row per figure with median, range and CV", () => {
  resetFigures();
  beginSection("pair");
  recordFigure("ixwasm | pair", summarize([700e3, 800e3, 750e3]), "round trips/s");
  const md = figuresMarkdown(collectedFigures(), "test machine", "npm run bench -- pair --markdown");
  const lines = md.trimEnd().split("\n");
  assert.equal(lines[0], "Produced by `npm run bench -- pair --markdown` on test machine.");
  assert.equal(lines[2], "| section | figure | median | min – max | CV | runs |");
  assert.equal(lines.length, 5);
  // the pipe inside the name is escaped, so the row keeps 6 cells
  assert.equal(
    lines[4],
    "| pair | ixwasm \\| pair | 750.00 k round trips/s | 700.00 k – 800.00 k | 6.7 % | 3 |",
  );
});

test.run();
