// The samplers behind gen: seeded streams are reproducible, the quantile functions
// and the Zipf samplers (alias table and rejection-inversion) give the moments they
// should, and the histogram's quantiles are within its stated error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Xoshiro128 as Rng, hashUnit } from "../../host/io/prng.ts";
import {
  ETC_SMALL_SHARE,
  Hist,
  KeyPermutation,
  Zipf,
  etcKeySizes,
  etcKeyMean,
  etcValueSize,
  gpdMean,
  gpdQuantile,
} from "../../host/gen/dist.ts";

test("Rng: same seed, same stream; units in (0, 1); hashUnit is a pure function", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  let same = 0;
  for (let i = 0; i < 1000; i++) {
    const x = a.unit();
    assert.ok(x > 0 && x < 1);
    assert.is(x, b.unit());
    if (x === c.unit()) same++;
  }
  assert.is(same, 0);
  assert.is(hashUnit(1, 12345678901, 3), hashUnit(1, 12345678901, 3));
  assert.is.not(hashUnit(1, 12345678901, 3), hashUnit(1, 12345678902, 3));
});

test("GPD: sample mean matches θ + σ/(1 − ξ) (the ETC inter-arrival model)", () => {
  const r = new Rng(1);
  let s = 0;
  const n = 400000;
  for (let i = 0; i < n; i++) s += gpdQuantile(r.unit(), 0, 16.0292, 0.154971);
  const m = gpdMean(0, 16.0292, 0.154971);
  assert.ok(Math.abs(s / n - m) / m < 0.01, `${s / n} vs ${m}`);
});

test("ETC values: the table's share below 15 B", () => {
  const r = new Rng(2);
  let small = 0;
  const n = 200000;
  for (let i = 0; i < n; i++) if (etcValueSize(r, 1e6) < 15) small++;
  assert.ok(Math.abs(small / n - ETC_SMALL_SHARE) < 0.005, `${small / n}`);
});

for (const s of [0.5, 0.99, 1, 1.3]) {
  test(`Zipf s=${s}: alias table and rejection-inversion agree with k^-s / H`, () => {
    const n = 5000;
    let h = 0;
    for (let k = 1; k <= n; k++) h += Math.pow(k, -s);
    for (const z of [new Zipf(n, s), new Zipf(n, s).buildAlias()]) {
      const r = new Rng(3);
      const counts = new Float64Array(n + 1);
      const draws = 300000;
      for (let i = 0; i < draws; i++) counts[z.sample(r)]++;
      for (const k of [1, 2, 10]) {
        const want = Math.pow(k, -s) / h;
        const got = counts[k] / draws;
        assert.ok(Math.abs(got - want) < 4 * Math.sqrt(want / draws) + 1e-4, `k=${k}: ${got} vs ${want}`);
      }
    }
  });
}

test("key sizes weighted by popularity have the GEV's mean, even under heavy Zipf", () => {
  const keys = 10000;
  for (const s of [0, 0.99, 1.2]) {
    const perm = new KeyPermutation(keys, 1);
    const sizes = etcKeySizes(perm, s, 4);
    let h = 0;
    for (let r = 1; r <= keys; r++) h += Math.pow(r, -s);
    let mean = 0;
    for (let r = 1; r <= keys; r++) mean += (Math.pow(r, -s) / h) * sizes[perm.index(r)];
    assert.ok(Math.abs(mean - etcKeyMean(4)) / etcKeyMean(4) < 0.01, `s=${s}: ${mean}`);
  }
  // the permutation is a bijection
  const p = new KeyPermutation(1000, 5);
  const seen = new Set<number>();
  for (let r = 1; r <= 1000; r++) {
    const i = p.index(r);
    assert.is(p.rank(i), r);
    seen.add(i);
  }
  assert.is(seen.size, 1000);
});

test("Hist: exact below 1024, < 1 % relative error above", () => {
  const h = new Hist();
  for (let v = 1; v <= 100000; v++) h.add(v);
  assert.is(h.mean(), 50000.5);
  assert.ok(Math.abs(h.quantile(0.5) - 50000) / 50000 < 0.01);
  assert.ok(Math.abs(h.quantile(0.99) - 99000) / 99000 < 0.01);
  assert.is(h.quantile(0.005), 500);
  assert.is(h.countOf(7), 1);
});

test.run();
