// Log-bucketed histogram (HDR-style: 16 linear sub-buckets per power of two,
// so any value is within 1/16 of its bucket's lower bound) for latencies and
// service times: p50, p90, p99, p999, max, and the CDF points a chart draws.
const SUB = 16;

export class LogHist {
  private readonly counts = new Map<number, number>();
  total = 0;
  max = 0;

  /** Adds `weight` samples of value v (≥ 0; any unit). */
  add(v: number, weight = 1): void {
    const b = LogHist.bucket(v);
    this.counts.set(b, (this.counts.get(b) ?? 0) + weight);
    this.total += weight;
    if (v > this.max) this.max = v;
  }

  /** Bucket index of v: values below 1 share bucket 0..SUB-1 linearly in [0, 1). */
  static bucket(v: number): number {
    if (v < 1) return Math.max(0, Math.floor(v * SUB));
    const e = Math.floor(Math.log2(v));
    const frac = v / 2 ** e - 1; // [0, 1)
    return SUB * (e + 1) + Math.min(SUB - 1, Math.floor(frac * SUB));
  }

  /** Lower bound of bucket b. */
  static low(b: number): number {
    if (b < SUB) return b / SUB;
    const e = Math.floor(b / SUB) - 1;
    return 2 ** e * (1 + (b % SUB) / SUB);
  }

  quantile(q: number): number {
    if (!this.total) return 0;
    const want = q * this.total;
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
      seen += this.counts.get(b)!;
      if (seen >= want) return Math.min(this.max, LogHist.low(b + 1));
    }
    return this.max;
  }

  summary(): HistSummary {
    const r = (x: number) => Math.round(x * 100) / 100;
    return {
      samples: this.total,
      p50: r(this.quantile(0.5)),
      p90: r(this.quantile(0.9)),
      p99: r(this.quantile(0.99)),
      p999: r(this.quantile(0.999)),
      max: r(this.max),
      cdf: this.cdf(),
    };
  }

  /**
   * The buckets as JSON (a replay report's `histograms`): what `report merge` adds
   * up to take the percentiles of several shards' samples together (percentiles
   * themselves cannot be merged).
   */
  toJSON(): HistJson {
    const buckets = [...this.counts.entries()].sort((x, y) => x[0] - y[0]);
    return { sub: SUB, total: this.total, max: this.max, buckets };
  }

  /** A histogram from its JSON (toJSON); throws on a shape it cannot read. */
  static fromJSON(j: HistJson): LogHist {
    if (!j || j.sub !== SUB || !Array.isArray(j.buckets))
      throw new Error(`a histogram with ${j?.sub} sub-buckets (this build uses ${SUB})`);
    const h = new LogHist();
    for (const [b, k] of j.buckets) {
      h.counts.set(b, (h.counts.get(b) ?? 0) + k);
      h.total += k;
    }
    h.max = j.max;
    return h;
  }

  /** Adds another histogram's samples to this one. */
  merge(o: LogHist): void {
    for (const [b, k] of o.counts) this.counts.set(b, (this.counts.get(b) ?? 0) + k);
    this.total += o.total;
    if (o.max > this.max) this.max = o.max;
  }

  /** A histogram of these samples. */
  static of(values: ArrayLike<number>): LogHist {
    const h = new LogHist();
    for (let i = 0; i < values.length; i++) h.add(values[i]);
    return h;
  }

  /** [upper bound of bucket, fraction of samples ≤ it] for every non-empty bucket. */
  cdf(): [number, number][] {
    const out: [number, number][] = [];
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
      seen += this.counts.get(b)!;
      out.push([Math.round(Math.min(this.max, LogHist.low(b + 1)) * 1000) / 1000, seen / this.total]);
    }
    return out;
  }
}

/** A LogHist's buckets: [bucket index, samples], sub-buckets per power of two, sample count and largest sample. */
export interface HistJson {
  sub: number;
  total: number;
  max: number;
  buckets: [number, number][];
}

export interface HistSummary {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  cdf: [number, number][];
}
