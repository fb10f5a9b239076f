#!/usr/bin/env node
// `npm run mutate [-- --only id,id] [--doc] [--no-baseline] [--keep]`: the project's own
// mutation check. Each mutant of test/mutate/mutants.mjs (one exact text replacement)
// is applied to ONE scratch copy of the repository (a detached git worktree of HEAD
// under os.tmpdir(), plus the uncommitted and untracked files of this checkout), the
// parts it touches are rebuilt (assembly/ -> both WASM cores; host/ -> dist/ when a
// suite runs the built CLI), and the suites named by the mutant run under a time bound.
// Killed = a failing suite or a timeout; a mutant that does not compile counts as
// killed but is reported apart. Survivors are printed; the exit code is 1 if the kill
// rate is below 95 % or a mutant is stale (its `find` text no longer matches once).
// Sequential on purpose: the machine has 2 cores and a suite run uses both.
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  realpathSync,
  mkdirSync,
} from "node:fs";
import { cpus, tmpdir, platform, release } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MUTANTS, matchCount, suiteFiles } from "./mutants.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const KILL_TARGET = 0.95;

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = value("--only")?.split(",").filter(Boolean);
const writeDoc = flag("--doc");
const baseline = !flag("--no-baseline");
const keep = flag("--keep");

const selected = only ? MUTANTS.filter((m) => only.includes(m.id)) : MUTANTS;
if (only) {
  const unknown = only.filter((id) => !MUTANTS.some((m) => m.id === id));
  if (unknown.length) {
    console.error(`unknown mutant id(s): ${unknown.join(", ")}`);
    process.exit(2);
  }
}

const active = new Set(); // process groups running now (ended on SIGINT)

function run(cmd, argv, { cwd, env = {}, timeoutMs = 0, stopOn = null } = {}) {
  return new Promise((done) => {
    const t0 = Date.now();
    // Own process group: a timeout ends the runner and every suite it started.
    const child = spawn(cmd, argv, {
      cwd,
      env: { ...process.env, FORCE_COLOR: "0", ...env },
      detached: true,
    });
    active.add(child.pid);
    let out = "";
    let stopped = false;
    // SIGTERM first: the runner (test/run.mjs) then ends its suites, which run in
    // process groups of their own that a SIGKILL of this group would leave behind
    // (a suite a mutant made loop went on spinning for 15 min); SIGKILL after 3 s.
    let killTimer = null;
    const stop = () => {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      killTimer ??= setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 3000);
    };
    child.stdout.on("data", (d) => {
      out += d;
      // A mutant is killed by its first failing suite: no need to run the rest.
      if (stopOn && !stopped && stopOn.test(out)) {
        stopped = true;
        stop();
      }
    });
    child.stderr.on("data", (d) => (out += d));
    let timedOut = false;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            stop();
          }, timeoutMs)
        : null;
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      active.delete(child.pid);
      done({ code: stopped ? 1 : (code ?? 1), out, timedOut, stopped, ms: Date.now() - t0 });
    });
  });
}

const git = (...a) => spawnSync("git", a, { cwd: ROOT, encoding: "utf8" });

// ---- the scratch copy --------------------------------------------------------------
const scratch = mkdtempSync(join(tmpdir(), "ixwasm-mutate-"));
rmSync(scratch, { recursive: true });
let worktreeAdded = false;
function cleanup() {
  if (keep) return console.log(`scratch copy kept at ${scratch}`);
  if (worktreeAdded) git("worktree", "remove", "--force", scratch);
  rmSync(scratch, { recursive: true, force: true });
  git("worktree", "prune");
}
process.on("SIGINT", () => {
  const signal = (sig) => {
    for (const pid of active)
      try {
        process.kill(-pid, sig);
      } catch {}
  };
  signal("SIGTERM"); // test/run.mjs ends its suites' groups on it (see stop above)
  setTimeout(() => {
    signal("SIGKILL");
    cleanup();
    process.exit(130);
  }, 1000);
});

const add = git("worktree", "add", "--detach", scratch, "HEAD");
if (add.status !== 0) {
  console.error(add.stderr);
  process.exit(2);
}
worktreeAdded = true;
// This checkout's uncommitted and untracked files, so a new test counts before its commit.
const dirty = git("ls-files", "-z", "-m", "-o", "--exclude-standard").stdout.split("\0").filter(Boolean);
for (const f of dirty) {
  if (f === "node_modules" || !existsSync(join(ROOT, f)) || statSync(join(ROOT, f)).isDirectory()) continue;
  mkdirSync(dirname(join(scratch, f)), { recursive: true });
  cpSync(join(ROOT, f), join(scratch, f));
}
symlinkSync(realpathSync(join(ROOT, "node_modules")), join(scratch, "node_modules"));
const env = {
  // The corpus sits beside the real checkout (test/helpers/corpus.ts), not beside the scratch copy.
  IXWASM_CORPUS: process.env.IXWASM_CORPUS ?? resolve(ROOT, "../shared/traces"),
};
if (!existsSync(join(env.IXWASM_CORPUS, "MANIFEST.tsv")))
  console.log(`note: no corpus at ${env.IXWASM_CORPUS} (set IXWASM_CORPUS): its test cases do not run`);

const bin = (p) => join(scratch, "node_modules", p);
const ASC = [bin("assemblyscript/bin/asc.js")];
// The release and test cores without binaryen's -O3 (same semantics, built in a
// third of the time); the baseline is built the same way, so every mutant is judged
// against it. The test and debug cores are built from assembly/test-core.ts (the
// release core plus the test hooks the TCP and app suites drive).
const buildWasm = (target) =>
  run(
    process.execPath,
    [
      ...ASC,
      target === "release" ? "assembly/core.ts" : "assembly/test-core.ts",
      "--target",
      target,
      ...(target !== "debug" ? ["--optimizeLevel", "0"] : []),
    ],
    {
      cwd: scratch,
    },
  );
const buildGen = () =>
  run(process.execPath, [...ASC, "assembly/gen/frame.ts", "--target", "gen"], { cwd: scratch });
const buildHost = () =>
  run(process.execPath, [bin("typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: scratch });

async function buildCores() {
  // The three cores in parallel (two cores of CPU: the unoptimised builds are short).
  const builds = await Promise.all([buildWasm("release"), buildWasm("test"), buildWasm("debug")]);
  const failed = builds.find((b) => b.code !== 0);
  return failed ? failed.out.trim().split("\n").slice(-6).join("\n") : null;
}

function restoreBuild() {
  for (const dir of ["build", "dist"]) {
    rmSync(join(scratch, dir), { recursive: true, force: true });
    cpSync(join(scratch, `${dir}.pristine`), join(scratch, dir), { recursive: true });
  }
}

// Suites that run the built CLI (dist/) need a host rebuild for a host/ mutant.
const usesDist = (file) => readFileSync(join(scratch, file), "utf8").includes("dist/host/cli.js");

function suitesOf(m) {
  return suiteFiles(scratch, m.suites);
}

async function runSuites(files, timeoutMs, stopEarly = false) {
  const r = await run(process.execPath, ["test/run.mjs", ...files], {
    cwd: scratch,
    env,
    timeoutMs,
    stopOn: stopEarly ? /^FAIL \S+: .*\n/m : null,
  });
  const failed = /^failed: (.*)$/m.exec(r.out)?.[1] ?? /^FAIL (\S+?):? /m.exec(r.out)?.[1] ?? "";
  const times = {};
  for (const mm of r.out.matchAll(/^(?:ok  |FAIL) (\S+): .*\((\d+) ms\)$/gm)) times[mm[1]] = Number(mm[2]);
  return { ...r, failed, times };
}

const results = [];
const t00 = Date.now();
try {
  // Stale mutants first: a list that no longer matches the code is a failure of its own.
  const stale = [];
  for (const m of selected) {
    const src = readFileSync(join(scratch, m.file), "utf8");
    const n = matchCount(src, m.find);
    const suites = suitesOf(m);
    if (n !== 1 || suites.length === 0)
      stale.push({ m, why: n !== 1 ? `find matches ${n} times` : "no suite matches" });
  }
  for (const s of stale) console.log(`STALE ${s.m.id}: ${s.why} (${s.m.file})`);

  console.log(`building the scratch copy at ${scratch}`);
  const err = await buildCores();
  const gen = await buildGen();
  const host = await buildHost();
  if (err || gen.code || host.code)
    throw new Error(`the unmutated tree does not build:\n${err ?? gen.out + host.out}`);
  for (const dir of ["build", "dist"])
    cpSync(join(scratch, dir), join(scratch, `${dir}.pristine`), { recursive: true });

  const live = selected.filter((m) => !stale.some((s) => s.m === m));
  // Baseline: every suite used passes on the unmutated tree (else "killed" means nothing),
  // and its time sets the mutants' time bound.
  let times = {};
  if (baseline) {
    const all = [...new Set(live.flatMap(suitesOf))].sort();
    console.log(`baseline: ${all.length} suites`);
    const b = await runSuites(all, 0);
    if (b.code !== 0)
      throw new Error(`baseline fails (${b.failed}):\n${b.out.split("\n").slice(-40).join("\n")}`);
    times = b.times;
    console.log(`baseline ok (${Math.round(b.ms / 1000)} s)`);
  }

  let i = 0;
  for (const m of live) {
    i++;
    const file = join(scratch, m.file);
    const pristine = readFileSync(file, "utf8");
    writeFileSync(
      file,
      pristine.replace(m.find, () => m.replace),
    );
    const files = suitesOf(m);
    const t0 = Date.now();
    let status;
    let detail = "";
    try {
      let buildErr = null;
      if (m.file.startsWith("assembly/")) buildErr = await buildCores();
      else if (m.file.startsWith("host/") && files.some(usesDist)) {
        const h = await buildHost();
        if (h.code) buildErr = h.out.trim().split("\n").slice(-6).join("\n");
      }
      if (buildErr) {
        status = "unbuildable";
        detail = buildErr.split("\n")[0];
      } else {
        // A suite's baseline time x3 (machine load varies), at least two minutes.
        const bound = baseline
          ? Math.max(120_000, 3 * files.reduce((s, f) => s + (times[f] ?? 60_000), 0))
          : 900_000;
        const r = await runSuites(files, bound, true);
        if (r.timedOut) {
          status = "killed";
          detail = `timeout after ${Math.round(bound / 1000)} s`;
        } else if (r.code !== 0) {
          status = "killed";
          detail = r.failed || `exit ${r.code}`;
        } else status = "survived";
      }
    } finally {
      writeFileSync(file, pristine);
      if (m.file.startsWith("assembly/") || m.file.startsWith("host/")) restoreBuild();
    }
    const ms = Date.now() - t0;
    results.push({ m, status, detail, ms });
    console.log(
      `[${i}/${live.length}] ${m.id} (${m.area}): ${status}${detail ? ` (${detail})` : ""} ${Math.round(ms / 1000)} s`,
    );
  }

  const wallS = Math.round((Date.now() - t00) / 1000);
  const killed = results.filter((r) => r.status === "killed").length;
  const unbuildable = results.filter((r) => r.status === "unbuildable").length;
  const survivors = results.filter((r) => r.status === "survived");
  // The usual mutation score: equivalent mutants (declared in the list, and only if
  // they did survive) leave the denominator; nothing else does.
  const equivalent = survivors.filter((r) => r.m.known?.kind === "equivalent").length;
  const scored = results.length - equivalent;
  const rate = scored ? (killed + unbuildable) / scored : 0;

  console.log("\narea                 mutants  killed  unbuildable  survived");
  const areas = [...new Set(results.map((r) => r.m.area))];
  for (const a of areas) {
    const rs = results.filter((r) => r.m.area === a);
    const c = (s) => rs.filter((r) => r.status === s).length;
    console.log(
      `${a.padEnd(20)} ${String(rs.length).padStart(7)} ${String(c("killed")).padStart(7)} ${String(c("unbuildable")).padStart(12)} ${String(c("survived")).padStart(9)}`,
    );
  }
  console.log(
    `\n${results.length} mutants: ${killed} killed, ${unbuildable} unbuildable, ${survivors.length} survived (${equivalent} equivalent), ${stale.length} stale; kill rate ${(100 * rate).toFixed(1)} % of ${scored} non-equivalent (target ${100 * KILL_TARGET} %); ${wallS} s`,
  );
  if (survivors.length) {
    console.log("\nsurvivors:");
    for (const { m } of survivors)
      console.log(
        `  ${m.id} (${m.file}): ${m.why}${m.known ? `\n    known: ${m.known.kind}: ${m.known.reason}` : ""}`,
      );
  }
  if (writeDoc)
    updateDoc({ results, killed, unbuildable, survivors, stale, rate, wallS, equivalent, scored });
  process.exitCode = rate < KILL_TARGET || stale.length ? 1 : 0;
} catch (e) {
  console.error(String(e.message ?? e));
  process.exitCode = 2;
} finally {
  cleanup();
}

function updateDoc({ results, killed, unbuildable, survivors, stale, rate, wallS, equivalent, scored }) {
  const doc = join(ROOT, "docs/testing.md");
  const START = "<!-- mutate:results:start -->";
  const END = "<!-- mutate:results:end -->";
  const text = existsSync(doc) ? readFileSync(doc, "utf8") : `# Testing\n\n${START}\n${END}\n`;
  const cpu = cpus();
  const holes = survivors.filter((r) => r.m.known?.kind === "holes-branch").length;
  const corpus = existsSync(join(env.IXWASM_CORPUS, "MANIFEST.tsv"))
    ? env.IXWASM_CORPUS
    : "absent (its cases did not run)";
  const lines = [
    START,
    `- Command: \`npm run mutate${only ? ` -- --only ${only.join(",")}` : ""}\``,
    `- Machine: ${cpu[0]?.model ?? "?"}, ${cpu.length} cores (shared with other jobs), ${platform()} ${release()}, Node ${process.version}`,
    `- Date: ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}; wall time ${Math.floor(wallS / 60)} min ${wallS % 60} s`,
    `- Corpus: ${corpus}`,
    "",
    `${results.length} mutants: ${killed} killed, ${unbuildable} unbuildable, ${survivors.length} survived ` +
      `(${equivalent} equivalent, ${holes} awaiting the holes branch), ${stale.length} stale. ` +
      `Kill rate ${(100 * rate).toFixed(1)} % of the ${scored} non-equivalent mutants` +
      (holes
        ? `; ${((100 * (killed + unbuildable + holes)) / scored).toFixed(1)} % once the holes branch's tests are in.`
        : "."),
    "",
    "| area | mutants | killed | unbuildable | survived |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const a of [...new Set(results.map((r) => r.m.area))]) {
    const rs = results.filter((r) => r.m.area === a);
    const c = (s) => rs.filter((r) => r.status === s).length;
    lines.push(`| ${a} | ${rs.length} | ${c("killed")} | ${c("unbuildable")} | ${c("survived")} |`);
  }
  lines.push("");
  if (survivors.length) {
    lines.push("Survivors:", "");
    for (const { m } of survivors)
      lines.push(
        `- \`${m.id}\` (${m.file}): ${m.why}` +
          (m.known ? `. **${m.known.kind}**: ${m.known.reason}` : ". **not yet explained**"),
      );
  } else lines.push("No survivors.");
  const unb = results.filter((r) => r.status === "unbuildable");
  if (unb.length) lines.push("", `Unbuildable: ${unb.map((r) => `\`${r.m.id}\``).join(", ")}.`);
  lines.push(END);
  const i = text.indexOf(START);
  const j = text.indexOf(END);
  const next =
    i >= 0 && j > i
      ? text.slice(0, i) + lines.join("\n") + text.slice(j + END.length)
      : text + "\n" + lines.join("\n") + "\n";
  mkdirSync(dirname(doc), { recursive: true });
  writeFileSync(doc, next);
  console.log(`wrote ${relative(ROOT, doc)}`);
}
