#!/usr/bin/env node
// `npm run fuzz -- --frames N --seed S [--app echo|memcached|both] [--time S]`:
// long fuzzing runs of the core; `--replay FILE.pcap` reruns a reproducer.
// Exit status 0 when nothing was found, 1 on a finding or an error.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { replay, runFuzz } from "./run.ts";

const ROOT = fileURLToPath(
  new URL(import.meta.url.includes("/dist/") ? "../../.." : "../..", import.meta.url),
);

const USAGE = `usage: npm run fuzz -- [options]
  --frames N          frames to fuzz, stack and decoder together (default 100000)
  --seed S            seed of the run (default 1)
  --app A             echo, memcached or both (alternate per epoch; default both)
  --time S            stop after S seconds whatever the frame count
  --debug             use the debug core (assertions kept; slower)
  --out DIR           where reproducers go (default $TMPDIR/ixwasm-fuzz)
  --corpus DIR        public corpus (default $IXWASM_CORPUS or ../shared/traces)
  --epoch N           frames per stack epoch before the drain check (default 10000)
  --decoder-ratio R   decoder frames per stack frame (default 1)
  --replay FILE.pcap  rerun a reproducer (its .json sidecar beside it)
  --json              print the report as JSON`;

function fail(problem: string, fix: string): never {
  process.stderr.write(`ixwasm fuzz: ${problem}; ${fix}\n`);
  process.exit(1);
}

function num(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    fail(`--${name} ${v} is not a non-negative number`, `give e.g. --${name} 1000`);
  return n;
}

function main(): void {
  let args;
  try {
    args = parseArgs({
      options: {
        frames: { type: "string" },
        seed: { type: "string" },
        app: { type: "string" },
        time: { type: "string" },
        debug: { type: "boolean" },
        out: { type: "string" },
        corpus: { type: "string" },
        epoch: { type: "string" },
        "decoder-ratio": { type: "string" },
        replay: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    fail((e as Error).message, "see --help");
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  if (args.replay) {
    const r = replay(args.replay, args.debug ? true : undefined);
    if (r.finding) {
      console.log(`reproduced: ${r.finding}`);
      console.log(`(recorded: ${r.meta.finding})`);
      process.exit(1);
    }
    console.log(`not reproduced (recorded: ${r.meta.finding})`);
    return;
  }
  const app = args.app ?? "both";
  if (app !== "echo" && app !== "memcached" && app !== "both")
    fail(`unknown app ${app}`, "use echo, memcached or both");
  const outDir = args.out ?? join(tmpdir(), "ixwasm-fuzz");
  const report = runFuzz({
    frames: num(args.frames, "frames", 100_000),
    seed: num(args.seed, "seed", 1),
    app,
    timeS: num(args.time, "time", 0),
    debug: args.debug ?? false,
    outDir,
    corpus: args.corpus ?? process.env.IXWASM_CORPUS ?? join(ROOT, "../shared/traces"),
    own: join(ROOT, "traces"),
    epochFrames: num(args.epoch, "epoch", 10_000),
    decoderRatio: num(args["decoder-ratio"], "decoder-ratio", 1),
    log: args.json ? undefined : (l) => console.log(l),
  });
  if (args.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(
      `seed ${report.seed}: ${report.frames} frames in ${report.seconds.toFixed(1)} s (${report.framesPerSec}/s): ` +
        `stack ${report.stackFrames} (${report.stackFramesPerSec}/s, ${report.epochs} epochs, ${report.connections} connections), ` +
        `decoder ${report.decoderFrames} (${report.decoderFramesPerSec}/s); seeds: ${report.seedFrames} frames from ${report.seedFiles} captures`,
    );
    console.log(`${report.findings.length} findings`);
    for (const f of report.findings) {
      console.log(`  ${f.target} epoch ${f.epoch}: ${f.message}`);
      if (f.replay) console.log(`    reproducer ${f.pcap}\n    replay: ${f.replay}`);
    }
  }
  process.exit(report.findings.length ? 1 : 0);
}

main();
