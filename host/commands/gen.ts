import { Argument, type Command } from "commander";
import { WORKLOADS, type WorkloadName } from "../gen/index.ts";
import { count, duration, runGen, type GenFlags } from "../gen/run.ts";
import { examples, probability } from "./cli-util.ts";

function num(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
  return n;
}

export function register(program: Command): void {
  program
    .command("gen")
    .description(
      "write a synthetic datacenter workload as a capture: complete TCP conversations with valid checksums, deterministic by seed",
    )
    .addArgument(
      new Argument(
        "<workload>",
        "echo (IX echo benchmark), etc / usr (memcached, Atikoglu et al. 2012), incast (partition/aggregate), churn (many short connections)",
      ).choices(WORKLOADS),
    )
    .option("--out <file>", "capture to write (.pcapng → pcapng, otherwise pcap)")
    .option("--format <fmt>", "pcap (µs), pcap-ns or pcapng (ns)")
    .option("--seed <n>", "random seed: the same seed writes the same bytes (default 1)", count)
    .option("--clients <n>", "client hosts, 198.18.0.1 up", count)
    .option("--servers <n>", "server hosts, 198.19.0.1 up", count)
    .option("--conns <n>", "connections (churn: open at once)", count)
    .option(
      "--duration <time>",
      "stop starting new work after this capture time (2s, 500ms; bare = seconds)",
      duration("s"),
    )
    .option(
      "--packets <n>",
      "stop starting new work after this many packets (open conversations still finish)",
      count,
    )
    .option(
      "--rate <r>",
      "etc/usr: requests/s per server (default: the ETC inter-arrival model, ~52.7k/s); churn: connections/s (50k); incast: rounds/s; echo: messages/s per connection (default closed loop)",
      count,
    )
    .option("--mss <bytes>", "MSS in the SYNs (default 1460); segments carry MSS − 12 bytes", count)
    .option("--rtt <time>", "round-trip time between the hosts (default 20us; bare = µs)", duration("us"))
    .option("--port <n>", "server port (echo 7, etc/usr 11211, incast 5001, churn 8080)", count)
    .option("--messages <n>", "echo: messages per connection (default 10000)", count)
    .option(
      "--size <bytes>",
      "echo: message size (64); incast: answer per sender (32768); churn: request size (100)",
      count,
    )
    .option("--response <bytes>", "churn: response size (1000)", count)
    .option("--requests <n>", "churn: requests per connection (1)", count)
    .option("--protocol <p>", "etc/usr: ascii or binary memcached protocol (default ascii)")
    .option("--zipf <s>", "etc/usr: key popularity exponent, 0 = uniform (default 0.99)", num)
    .option("--keys <n>", "etc/usr: key space (default 10000)", count)
    .option("--get-ratio <p>", "etc/usr: share of GETs (etc 30/31, usr 0.99)", probability)
    .option("--json", "print the realised statistics as JSON")
    .option("--quiet", "print nothing unless --json")
    .addHelpText(
      "after",
      examples(
        [
          "100 ms of the ETC memcached workload, then the core serves it",
          "ixwasm gen etc --duration 100ms --out etc.pcap",
        ],
        ["", "ixwasm replay etc.pcap"],
        [
          "IX's echo benchmark: 8 connections of 100 messages each, seed 7, as pcapng",
          "ixwasm gen echo --conns 8 --messages 100 --seed 7 --out echo.pcapng",
        ],
      ),
    )
    .action((workload: WorkloadName, o: GenFlags) => {
      runGen(workload, o);
    });
}
