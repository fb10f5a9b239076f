// Summary statistics for repeated measurements: the median is the figure, and
// min, max and the coefficient of variation say how much to trust it.
export interface Summary {
  median: number;
  min: number;
  max: number;
  cv: number;
  runs: number;
}

export function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { median, min: s[0], max: s[s.length - 1], cv: mean ? sd / mean : 0, runs: xs.length };
}

export function fmt(x: number, digits = 2): string {
  if (x >= 1e9) return (x / 1e9).toFixed(digits) + " G";
  if (x >= 1e6) return (x / 1e6).toFixed(digits) + " M";
  if (x >= 1e3) return (x / 1e3).toFixed(digits) + " k";
  return x.toFixed(digits);
}
