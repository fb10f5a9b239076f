// `npm run bench [-- section ...] [--json | --markdown]`: the benchmark suite (bench/suite.ts).
// IXWASM_BENCH_RUNS sets the repetitions (default 5).
import { runBench } from "./suite.ts";

const args = process.argv.slice(2);
await runBench({
  sections: args.filter((a) => !a.startsWith("--")),
  json: args.includes("--json"),
  markdown: args.includes("--markdown"),
  runs: Number(process.env.IXWASM_BENCH_RUNS ?? 5),
});
