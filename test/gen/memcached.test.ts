// gen etc/usr: the model's parameters come back out of the written capture, and
// every response is what a memcached fed the same requests in order would answer.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { generate } from "../../host/gen/index.ts";
import { genOptions, type GenFlags } from "../../host/gen/run.ts";
import { ETC_IA, ETC_SMALL_SHARE, etcKeyMean } from "../../host/gen/dist.ts";
import { checkMemcached, memcachedMessages, segments } from "./capture.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("gen-mc");

function gen(workload: "etc" | "usr", flags: GenFlags) {
  const out = join(tmp, `${workload}-${flags.protocol ?? "ascii"}-${flags.seed ?? 1}.pcapng`);
  const report = generate(genOptions(workload, { out, quiet: true, ...flags }));
  return { out, report };
}

const within = (x: number, target: number, rel: number, what: string) =>
  assert.ok(
    Math.abs(x - target) <= rel * Math.abs(target),
    `${what}: ${x} not within ${rel * 100} % of ${target}`,
  );

test("etc ascii: key size, GET:SET, small values and inter-arrival recovered from the capture", () => {
  const { out, report } = gen("etc", { duration: 2e9, conns: 32 });
  const segs = segments(out);
  const m = memcachedMessages(segs, 11211, false);
  const reqs = m.requests;
  assert.ok(reqs.length > 90000, `${reqs.length} requests`);
  assert.is(reqs.length, report.requests);
  const keyMean = reqs.reduce((a, r) => a + r.key.length, 0) / reqs.length;
  within(keyMean, etcKeyMean(4), 0.02, "mean key size");
  const sets = reqs.filter((r) => r.op === "set");
  const ratio = (reqs.length - sets.length) / sets.length;
  within(ratio, 30, 0.05, "GET:SET");
  const small = sets.filter((r) => r.value!.length <= 14).length / sets.length;
  assert.ok(Math.abs(small - ETC_SMALL_SHARE) <= 0.03, `small-value share ${small} vs ${ETC_SMALL_SHARE}`);
  // Inter-arrival at the server: gaps between first request segments (one server).
  const firsts: number[] = [];
  const seen = new Set<string>();
  for (const s of segs) {
    if (s.dport !== 11211 || s.payload.length === 0) continue;
    const head = s.payload.subarray(0, 4).toString("latin1");
    if (head !== "get " && head !== "set ") continue;
    const id = `${s.src}:${s.sport}:${s.seq}`;
    if (seen.has(id)) continue;
    seen.add(id);
    firsts.push(s.t);
  }
  const ia = (firsts[firsts.length - 1] - firsts[0]) / (firsts.length - 1) / 1000;
  within(ia, ETC_IA.sigmaUs / (1 - ETC_IA.xi), 0.03, "mean inter-arrival (µs)");
  // The report says the same as the capture.
  within(report.memcached!.key_size.mean, keyMean, 1e-9, "reported key mean");
  assert.is(report.memcached!.sets, sets.length);
});

test("etc ascii: every GET returns the value last SET (or a miss), every SET is STORED", () => {
  const { out, report } = gen("etc", { duration: 0.5e9, conns: 8, keys: 500 });
  const c = checkMemcached(memcachedMessages(segments(out), 11211, false));
  assert.is(c.unanswered, 0);
  assert.is(c.wrong, 0);
  assert.is(c.gets + c.sets, report.requests);
  assert.is(Math.round(report.memcached!.hit_ratio * report.memcached!.gets), c.hits);
  assert.ok(c.hits > c.gets / 2, `hits ${c.hits} of ${c.gets}`);
});

test("etc binary: the same semantics through the binary protocol, including multi-segment values", () => {
  const { out, report } = gen("etc", { duration: 0.5e9, conns: 8, keys: 300, protocol: "binary", seed: 7 });
  const m = memcachedMessages(segments(out), 11211, true);
  const c = checkMemcached(m);
  assert.is(c.unanswered, 0);
  assert.is(c.wrong, 0);
  assert.is(c.gets + c.sets, report.requests);
  assert.ok(
    m.requests.some((r) => (r.value?.length ?? 0) > 1448),
    "some SET spans more than one segment",
  );
});

test("usr: 20-byte keys, 2-byte values, 99 % GETs", () => {
  const { out, report } = gen("usr", { duration: 0.5e9, protocol: "binary" });
  const m = memcachedMessages(segments(out), 11211, true);
  const c = checkMemcached(m);
  assert.is(c.wrong, 0);
  assert.ok(m.requests.every((r) => r.key.length === 20));
  assert.ok(m.requests.filter((r) => r.op === "set").every((r) => r.value!.length === 2));
  const getShare = c.gets / (c.gets + c.sets);
  assert.ok(Math.abs(getShare - 0.99) < 0.003, `GET share ${getShare}`);
  assert.is(report.memcached!.gets, c.gets);
});

test("zipf: the hottest key's share matches k^-s / H(n, s)", () => {
  const keys = 1000;
  const s = 1.0;
  const { out } = gen("etc", { duration: 0.5e9, keys, zipf: s, seed: 3 });
  const m = memcachedMessages(segments(out), 11211, false);
  const freq = new Map<string, number>();
  for (const r of m.requests) freq.set(r.key, (freq.get(r.key) ?? 0) + 1);
  const top = Math.max(...freq.values()) / m.requests.length;
  let h = 0;
  for (let k = 1; k <= keys; k++) h += Math.pow(k, -s);
  within(top, 1 / h, 0.1, "hottest key share");
  // uniform: no key stands out
  const u = memcachedMessages(
    segments(gen("etc", { duration: 0.3e9, keys, zipf: 0, seed: 4 }).out),
    11211,
    false,
  );
  const uf = new Map<string, number>();
  for (const r of u.requests) uf.set(r.key, (uf.get(r.key) ?? 0) + 1);
  assert.ok(Math.max(...uf.values()) < (5 * u.requests.length) / keys);
});

test("saturated: requests wait for a free connection, answers stay right", () => {
  const { out, report } = gen("etc", {
    rate: 1e6,
    conns: 4,
    servers: 2,
    clients: 2,
    duration: 0.02e9,
    seed: 11,
  });
  assert.ok(report.memcached!.delayed_requests > 100, `${report.memcached!.delayed_requests} delayed`);
  const c = checkMemcached(memcachedMessages(segments(out), 11211, false));
  assert.is(c.unanswered, 0);
  assert.is(c.wrong, 0);
  assert.is(c.gets + c.sets, report.requests);
});

test.run();
