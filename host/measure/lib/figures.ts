// The figures a bench run produced, collected as they are printed, so the
// run can end with one Markdown table (`--markdown`): docs/figures.md's bench
// table is this output, pasted with the command that made it, never typed.
import { fmt, type Summary } from "./stats.ts";

export interface Figure {
  section: string;
  name: string;
  unit: string;
  summary: Summary;
}

const figures: Figure[] = [];
let section = "";

/** Names the section whose figures follow (runBench calls it before each section). */
export function beginSection(name: string): void {
  section = name;
}

/** Records one figure of the current section. */
export function recordFigure(name: string, s: Summary, unit: string): void {
  figures.push({ section, name, unit, summary: s });
}

export function collectedFigures(): readonly Figure[] {
  return figures;
}

/** Forgets the figures (tests run several benches in one process). */
export function resetFigures(): void {
  figures.length = 0;
  section = "";
}

const cell = (s: string) => s.replaceAll("|", "\\|");

/** The figures as a Markdown table: median with min–max and the coefficient of variation. */
export function figuresMarkdown(list: readonly Figure[], machine: string, command: string): string {
  return [`Produced by \`${command}\` on ${machine}.`, "", ...figureRows(list, true)].join("\n") + "\n";
}

/** The table's lines (header included), with or without the section column. */
export function figureRows(list: readonly Figure[], withSection: boolean): string[] {
  const head = withSection ? "| section " : "";
  const lines = [
    `${head}| figure | median | min – max | CV | runs |`,
    `${withSection ? "|---" : ""}|---|---|---|---|---|`,
  ];
  for (const f of list) {
    const s = f.summary;
    lines.push(
      `${withSection ? `| ${cell(f.section)} ` : ""}| ${cell(f.name)} | ${fmt(s.median)} ${cell(f.unit)} | ${fmt(s.min)} – ${fmt(s.max)} | ${(s.cv * 100).toFixed(1)} % | ${s.runs} |`,
    );
  }
  return lines;
}
