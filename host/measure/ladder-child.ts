// Child of the cost ladder (host/measure/ladder.ts): one run in a process of
// its own, started with --no-liftoff. argv: the LadderRunSpec as JSON. Warms
// up and prints "ready"; then for each line on stdin ("round N") runs that
// round and prints its chunk costs (RoundChunks) as one line of JSON; exits at
// the end of stdin.
import { createInterface } from "node:readline";
import { ladderRound, warmLadder, type LadderRunSpec } from "./ladder-run.ts";

const spec = JSON.parse(process.argv[2]) as LadderRunSpec;
warmLadder(spec);
process.stdout.write("ready\n");
for await (const line of createInterface({ input: process.stdin })) {
  const round = /^round (\d+)$/.exec(line.trim());
  if (!round) throw new Error(`cost ladder child: unknown request ${line}`);
  process.stdout.write(JSON.stringify(ladderRound(spec, Number(round[1]))) + "\n");
}
