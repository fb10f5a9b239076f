import { Option, type Command } from "commander";
import { pairOneThread, pairTwoThreads, type PairOptions } from "../pair/pair.ts";
import { formatPair, pairFailures, type PairReport } from "../report/pair.ts";
import { pairServerWorkers, WorkerTrapped } from "../pair/workers.ts";
import { examples, fail, out, probability, wholeNumber } from "./cli-util.ts";
import { UsageError } from "../io/errors.ts";
import { parseRebalance } from "../runtime/control-plane.ts";

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
  clock: "real" | "virtual";
  synRetries: number;
  synackRetries: number;
  sack: "on" | "off";
  checksums: "auto" | "on" | "off";
  json?: boolean;
  stages?: boolean;
  serverWorkers?: number;
  rebalance: string;
  migrateAt?: number;
  onTrap: "abort" | "restart";
  trapWorker?: number;
  trapAt?: number;
  trapAfterMs?: number;
  serverPort?: number;
  timeScale?: number;
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
    .option(
      "--server-workers <n>",
      "server side on the multi-worker dataplane: the client core and the dispatcher in this thread, n (1..16) server worker threads (replaces --workers)",
      wholeNumber,
    )
    .addOption(
      new Option("--rebalance <on|off>", "with --server-workers: move flow groups from busy to idle workers")
        .choices(["on", "off"])
        .default("off"),
    )
    .option(
      "--migrate-at <n>",
      "with --server-workers ≥ 2: after n round trips move every flow group to the next worker",
      wholeNumber,
    )
    .addOption(
      new Option(
        "--on-trap <what>",
        "with --server-workers: a worker that traps stops the run (abort) or restarts with its connections lost",
      )
        .choices(["abort", "restart"])
        .default("abort"),
    )
    // Test-only: make a server worker trap (WASM unreachable) at a round-trip count or a time into the run.
    .addOption(new Option("--trap-worker <i>").argParser(wholeNumber).hideHelp())
    .addOption(new Option("--trap-at <n>").argParser(wholeNumber).hideHelp())
    .addOption(new Option("--trap-after-ms <t>").argParser(wholeNumber).hideHelp())
    // Test-only: the server listens on another port, so every connect is refused.
    .addOption(new Option("--server-port <port>").argParser(wholeNumber).hideHelp())
    // Test-only (the fault sweep): with --workers 2, the cores' clock runs this many times the wall clock.
    .addOption(new Option("--time-scale <n>").argParser(wholeNumber).hideHelp())
    .option("--timeout <s>", "give up after this many seconds", wholeNumber, 60)
    .addOption(
      new Option(
        "--clock <clock>",
        "with --workers 1: real (wall clock) or virtual (fixed steps, idle time skipped to the next timer: deterministic, no waiting on retransmission timers; --timeout then counts virtual seconds)",
      )
        .choices(["real", "virtual"])
        .default("real"),
    )
    .option(
      "--syn-retries <n>",
      "SYN retransmissions before a connect gives up (0 = 6, Linux's tcp_syn_retries: 127 s)",
      wholeNumber,
      0,
    )
    .option(
      "--synack-retries <n>",
      "SYN-ACK retransmissions before a half-open connection gives up (0 = 5, Linux's tcp_synack_retries)",
      wholeNumber,
      0,
    )
    .addOption(
      new Option(
        "--sack <on|off>",
        "negotiate SACK: loss recovery by the SACK scoreboard (RFC 6675); off: NewReno (RFC 6582)",
      )
        .choices(["on", "off"])
        .default("on"),
    )
    .addOption(
      new Option(
        "--checksums <auto|on|off>",
        "IPv4/TCP checksums between the cores: on fills and checks them; off leaves them zero and unchecked (checksum offload, as Linux's loopback); auto: off unless --corrupt can change a byte (the client checks every payload byte either way)",
      )
        .choices(["auto", "on", "off"])
        .default("auto"),
    )
    .option("--stages", "time poll()'s sections in both cores and report ns per round trip")
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      examples(
        [
          "echo: 4 connections of 100 round trips, the two cores on two worker threads",
          "ixwasm pair --conns 4 --msgs 100",
        ],
        [
          "memcached under 1 % frame loss, one thread, virtual clock (deterministic, no waiting for timers)",
          "ixwasm pair --app memcached --loss 0.01 --workers 1 --clock virtual",
        ],
        [
          "the server on 2 dataplane workers, every flow group moved after 500 round trips",
          "ixwasm pair --server-workers 2 --migrate-at 500",
        ],
      ),
    )
    .action(async (o: Raw, cmd: Command) => {
      const sw = o.serverWorkers;
      if (sw === undefined) {
        for (const [flag, given] of [
          ["--rebalance", cmd.getOptionValueSource("rebalance") === "cli"],
          ["--migrate-at", o.migrateAt !== undefined],
          ["--on-trap", cmd.getOptionValueSource("onTrap") === "cli"],
          ["--trap-worker", o.trapWorker !== undefined],
        ] as const)
          if (given) throw new UsageError(`${flag} needs --server-workers`, "add --server-workers N");
      } else {
        if (cmd.getOptionValueSource("workers") === "cli")
          throw new UsageError(
            "--workers and --server-workers cannot be combined",
            "--workers 1|2 places the two cores of the back-to-back pair; --server-workers N puts the server on N dataplane workers",
          );
        if (sw < 1 || sw > 16) throw new UsageError(`--server-workers ${sw} is out of range`, "use 1 to 16");
        if (o.migrateAt !== undefined && sw < 2)
          throw new UsageError(
            "--migrate-at needs at least 2 server workers",
            "use --server-workers 2 or more",
          );
        if (o.trapWorker !== undefined && o.trapWorker >= sw)
          throw new UsageError(`--trap-worker ${o.trapWorker} is not a worker`, `use 0 to ${sw - 1}`);
      }
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
        clock: o.clock,
        synRetries: o.synRetries,
        synackRetries: o.synackRetries,
        sack: o.sack === "on",
        checksums: o.checksums,
        stages: !!o.stages,
        serverWorkers: sw,
        rebalance: parseRebalance(o.rebalance),
        migrateAt: o.migrateAt,
        onTrap: o.onTrap,
        trapWorker: o.trapWorker,
        trapAt: o.trapAt,
        trapAfterMs: o.trapAfterMs,
        serverPort: o.serverPort,
        timeScale: o.timeScale,
      };
      if (o.clock === "virtual" && (sw !== undefined || opts.workers !== 1))
        throw new UsageError("--clock virtual needs --workers 1", "add --workers 1");
      if (sw !== undefined && opts.stages)
        throw new UsageError("--stages is not available with --server-workers", "leave out --stages");
      let r: PairReport;
      try {
        r =
          sw !== undefined
            ? await pairServerWorkers(opts)
            : opts.workers === 1
              ? pairOneThread(opts)
              : await pairTwoThreads(opts);
      } catch (e) {
        if (e instanceof WorkerTrapped) fail(e.message);
        throw e;
      }
      out(o.json ? JSON.stringify(r, null, 2) + "\n" : formatPair(r));
      // With --on-trap restart a trap's lost connections are tolerated: they are reported, not failed.
      const tolerated = opts.onTrap === "restart" && (r.traps?.events.length ?? 0) > 0;
      if (tolerated) {
        if (r.errors_excluding_lost! > 0)
          fail(`${r.errors_excluding_lost} error(s) besides the connections lost to the trap`);
        if (r.round_trips + r.traps!.round_trips_lost !== r.expected_round_trips)
          fail(
            `only ${r.round_trips} of ${r.expected_round_trips} round trips completed within ${o.timeout} s`,
          );
        return;
      }
      // Exit 1 for any failure, each kind named.
      const failures = pairFailures(r, o.timeout);
      if (failures.length) fail(failures.join("; "));
    });
}
