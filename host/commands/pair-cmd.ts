import { Option, type Command } from "commander";
import { formatPair, pairOneThread, pairTwoThreads, type PairOptions } from "./pair.ts";
import { fail, out, probability, wholeNumber } from "./cli-util.ts";

interface Raw {
  app: "echo" | "memcached";
  conns: number;
  msgs: number;
  size: number;
  loss: number;
  reorder: number;
  dup: number;
  corrupt: number;
  rate: number;
  seed: number;
  workers: string;
  timeout: number;
  json?: boolean;
  stages?: boolean;
}

export function register(program: Command): void {
  program
    .command("pair")
    .description(
      "a load-generating client core and a server core back to back: every byte verified, round trips/s, retransmissions, latency",
    )
    .addOption(new Option("--app <app>", "server app").choices(["echo", "memcached"]).default("echo"))
    .option("--conns <n>", "connections", wholeNumber, 16)
    .option("--msgs <n>", "messages (echo) or set+get pairs (memcached) per connection", wholeNumber, 1000)
    .option("--size <bytes>", "message (echo) or value (memcached) size", wholeNumber, 64)
    .option("--loss <p>", "probability a frame is lost", probability, 0)
    .option("--reorder <p>", "probability a frame is held back behind the next", probability, 0)
    .option("--dup <p>", "probability a frame is duplicated", probability, 0)
    .option("--corrupt <p>", "probability a frame gets one bit flipped", probability, 0)
    .option(
      "--rate <mbps>",
      "rate limit of each direction in Mbit/s (token bucket; 0 = none)",
      wholeNumber,
      0,
    )
    .option("--seed <n>", "seed of the fault injector", wholeNumber, 1)
    .addOption(
      new Option("--workers <n>", "1: both cores in one thread; 2: one worker thread each")
        .choices(["1", "2"])
        .default("2"),
    )
    .option("--timeout <s>", "give up after this many seconds", wholeNumber, 60)
    .option("--stages", "time poll()'s sections in both cores and report ns per round trip")
    .option("--json", "print the report as JSON")
    .action(async (o: Raw) => {
      const opts: PairOptions = {
        app: o.app,
        conns: o.conns,
        msgs: o.msgs,
        size: o.size,
        workers: o.workers === "1" ? 1 : 2,
        faults: {
          loss: o.loss,
          reorder: o.reorder,
          dup: o.dup,
          corrupt: o.corrupt,
          rateBps: (o.rate * 1e6) / 8,
          seed: o.seed,
        },
        timeoutS: o.timeout,
        stages: !!o.stages,
      };
      const r = opts.workers === 1 ? pairOneThread(opts) : await pairTwoThreads(opts);
      out(o.json ? JSON.stringify(r, null, 2) + "\n" : formatPair(r));
      if (r.errors > 0) fail(`${r.errors} response(s) differed from what was sent`);
      if (!r.completed)
        fail(
          `only ${r.round_trips} of ${r.expected_round_trips} round trips completed within ${o.timeout} s`,
        );
    });
}
