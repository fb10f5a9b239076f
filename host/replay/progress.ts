// The progress line of a long run on a terminal.

/** One line on stderr, rewritten at most 5 times a second: packets, rate, ETA from the file offset. */
export class Progress {
  private readonly t0 = performance.now();
  private last = 0;
  private shown = false;
  tick(packets: number, loop: number, loops: number, offset: number, size: number): void {
    const now = performance.now();
    if (now - this.last < 200) return;
    this.last = now;
    const frac = Math.min(1, (loop + (size ? offset / size : 1)) / loops);
    const el = (now - this.t0) / 1000;
    const eta = frac > 0 ? (el * (1 - frac)) / frac : 0;
    const line = `  ${fmtCount(packets)} packets  ${fmtCount(packets / Math.max(el, 1e-9))}/s  ${(frac * 100).toFixed(0)}%  ETA ${eta.toFixed(0)} s`;
    process.stderr.write(`\r${line.padEnd(60)}`);
    this.shown = true;
  }
  done(): void {
    if (this.shown) process.stderr.write(`\r${" ".repeat(60)}\r`);
  }
}

function fmtCount(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}
