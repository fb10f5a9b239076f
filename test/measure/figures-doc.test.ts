// The generated regions of docs/figures.md (host/measure/lib/figures-doc.ts):
// `ixwasm bench SECTION --figures FILE` rewrites SECTION's region only, keeps
// the prose and the other regions as they were, and writes into the region the
// command that produced it, with the machine, date, load and figures.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { summarize } from "../../host/measure/lib/stats.ts";
import { resetFigures } from "../../host/measure/lib/figures.ts";
import {
  beginMarker,
  commandLine,
  endMarker,
  renderRegion,
  updateRegions,
  type SectionRun,
} from "../../host/measure/lib/figures-doc.ts";
import { row, runBench, SECTIONS, type Section } from "../../host/measure/suite.ts";
import type { Machine } from "../../host/measure/lib/machine.ts";
import { tempDir } from "../helpers/tmp.ts";

const MACHINE: Machine = {
  cpu: "Test CPU",
  cores: 2,
  memory_gib: 24,
  node: "v20.0.0",
  platform: "linux x64",
  load: [1, 2, 3],
};

const fakeRun = (section: string, median: number): SectionRun => ({
  section,
  figures: [
    { section, name: "ladder: raw", unit: "ns/packet", summary: summarize([median - 1, median, median + 1]) },
  ],
  printed: ["", "cost ladder: test", "  raw 19.50"],
  started: new Date("2026-12-07T15:00:00Z"),
  ended: new Date("2026-12-07T15:02:00Z"),
  loadStart: [1.5, 2.5, 3.5],
  loadEnd: [1.25, 2.25, 3.25],
});

const DOC = [
  "# Figures",
  "",
  "Prose before, explaining the cost figures.",
  "",
  beginMarker("cost"),
  "old cost table",
  endMarker("cost"),
  "",
  "Prose between the regions.",
  "",
  beginMarker("pair"),
  "pair table, not rerun",
  endMarker("pair"),
  "",
  "Prose after.",
  "",
].join("\n");

test("a region holds the command, machine, date, load, the figures and the printed lines", () => {
  const r = renderRegion(fakeRun("cost", 20), "ixwasm bench cost --figures docs/figures.md", MACHINE);
  const lines = r.split("\n");
  assert.is(lines[0], beginMarker("cost"));
  assert.is(lines[lines.length - 1], endMarker("cost"));
  assert.ok(lines.includes("Command: `ixwasm bench cost --figures docs/figures.md`"), r);
  assert.ok(lines.includes("Date: 2026-12-07 15:00 to 2026-12-07 15:02 UTC."), r);
  assert.ok(
    lines.includes(
      "Machine: Test CPU, 2 cores, 24 GiB, Node v20.0.0, linux x64; load average (1/5/15 min) 1.5/2.5/3.5 at the start, 1.25/2.25/3.25 at the end.",
    ),
    r,
  );
  assert.ok(lines.includes("| ladder: raw | 20.00 ns/packet | 19.00 – 21.00 | 5.0 % | 3 |"), r);
  assert.ok(lines.includes("cost ladder: test"), r);
});

test("updating one region keeps the prose and the other regions byte for byte", () => {
  const body = renderRegion(fakeRun("cost", 20), "ixwasm bench cost --figures F", MACHINE);
  const out = updateRegions(DOC, [{ section: "cost", body }]);
  const before = DOC.slice(0, DOC.indexOf(beginMarker("cost")));
  const after = DOC.slice(DOC.indexOf(endMarker("cost")) + endMarker("cost").length);
  assert.ok(out.startsWith(before));
  assert.ok(out.endsWith(after));
  assert.is(out, before + body + after);
  assert.not.ok(out.includes("old cost table"));
  assert.ok(out.includes("pair table, not rerun"));
  // a second run replaces the region again, not adds one
  const again = updateRegions(out, [
    { section: "cost", body: renderRegion(fakeRun("cost", 30), "ixwasm bench cost --figures F", MACHINE) },
  ]);
  assert.is(again.split(beginMarker("cost")).length, 2);
  assert.ok(again.includes("| ladder: raw | 30.00 ns/packet |"));
  assert.not.ok(again.includes("| ladder: raw | 20.00 ns/packet |"));
});

test("a section without a region gets one at the end; broken markers leave the file alone", () => {
  const body = renderRegion(fakeRun("gen", 5), "ixwasm bench gen --figures F", MACHINE);
  const out = updateRegions(DOC, [{ section: "gen", body }]);
  assert.is(out, DOC.replace(/\n*$/, "\n\n") + body + "\n");
  const broken = DOC.replace(endMarker("cost"), "");
  assert.throws(() => updateRegions(broken, [{ section: "cost", body }]), /out of order or one is missing/);
  const twice = DOC + beginMarker("cost") + "\n" + endMarker("cost") + "\n";
  assert.throws(() => updateRegions(twice, [{ section: "cost", body }]), /more than one region/);
});

test("commandLine quotes what a shell would split", () => {
  assert.is(
    commandLine(["bench", "cost", "--figures", "docs/figures.md"]),
    "ixwasm bench cost --figures docs/figures.md",
  );
  assert.is(commandLine(["bench", "--figures", "my figures.md"]), "ixwasm bench --figures 'my figures.md'");
});

test("runBench --figures: the sections it ran get regions from their own results and the command given", async () => {
  resetFigures();
  const fake: Section = {
    name: "fake-figures",
    about: "a section for this test",
    async run(ctx) {
      ctx.say(row("fake figure", summarize([10, 11, 12]), "ns/packet"));
      return { ok: true };
    },
  };
  SECTIONS.push(fake);
  try {
    const dir = tempDir("figures");
    const file = join(dir, "figures.md");
    const doc =
      DOC + beginMarker("fake-figures") + "\nstale\n" + endMarker("fake-figures") + "\nTail prose.\n";
    writeFileSync(file, doc);
    const cmd = "ixwasm bench fake-figures --figures " + file;
    const lines: string[] = [];
    await runBench({
      sections: ["fake-figures"],
      runs: 1,
      figures: file,
      command: cmd,
      out: (s) => lines.push(s),
    });
    const out = readFileSync(file, "utf8");
    const i = out.indexOf(beginMarker("fake-figures"));
    const j = out.indexOf(endMarker("fake-figures")) + endMarker("fake-figures").length;
    assert.is(out.slice(0, i), DOC, "everything before the region unchanged");
    assert.is(out.slice(j), "\nTail prose.\n", "everything after it unchanged");
    const region = out.slice(i, j);
    assert.ok(region.includes(`Command: \`${cmd}\``), region);
    assert.ok(region.includes("| fake figure | 11.00 ns/packet | 10.00 – 12.00 | 9.1 % | 3 |"), region);
    // what the section printed is in the region as printed
    assert.ok(region.includes(lines.find((l) => l.includes("fake figure"))!), region);
    assert.not.ok(region.includes("stale"));
  } finally {
    SECTIONS.splice(SECTIONS.indexOf(fake), 1);
  }
});

test.run();
