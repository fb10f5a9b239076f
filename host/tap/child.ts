// `ixwasm tap` as a child process in a namespace of its own, for the benchmarks
// (host/measure/tap-peers.ts, bench/) and the tests (test/helpers/tap.ts): started,
// waited for until it prints "ready", stopped by PID, its JSON report read. One
// copy, so every caller bounds the wait and cleans up the same way.
import { spawn, type ChildProcess } from "node:child_process";
import { removeLink, removeNetns } from "../io/netns.ts";

export interface TapChildOptions {
  /** The repository root: the child's working directory. */
  root: string;
  /** Node arguments that run the CLI: ["dist/host/cli.js"] or ["--import", "tsx", "host/cli.ts"]. */
  cli: string[];
  ifname: string;
  netns: string;
  /** More options after `tap --ifname --netns --report json --no-stats`. */
  args: string[];
  /** How long to wait for "ready" (default 20 s); past it the child is killed and its namespace removed. */
  readyMs?: number;
}

export interface RunningTap {
  ns: string;
  ifname: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** The signal (SIGTERM unless told) by PID, SIGKILL 10 s later if still alive; the exit code and the JSON report. */
  stop(
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; report: Record<string, any>; stderr: string }>;
}

export async function startTap(o: TapChildOptions): Promise<RunningTap> {
  const argv = [...o.cli, "tap", "--ifname", o.ifname, "--netns", o.netns, "--report", "json", "--no-stats"];
  const child = spawn(process.execPath, [...argv, ...o.args], {
    cwd: o.root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const readyMs = o.readyMs ?? 20000;
  const t0 = Date.now();
  while (!err.includes("ready")) {
    if (child.exitCode !== null || Date.now() - t0 > readyMs) {
      if (child.exitCode === null) process.kill(child.pid!, "SIGKILL");
      removeNetns(o.netns);
      removeLink(o.ifname);
      throw new Error(`ixwasm tap did not become ready within ${readyMs / 1000} s: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    ns: o.netns,
    ifname: o.ifname,
    child,
    stdout: () => out,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null) process.kill(child.pid!, signal);
      const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, "SIGKILL"), 10000);
      const code = await exited;
      clearTimeout(timer);
      return { code, report: out ? JSON.parse(out) : {}, stderr: err };
    },
  };
}
