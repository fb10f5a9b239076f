// Shared set-up of the tests that run `ixwasm tap` (and friends) in namespaces of
// their own: the root check, unique names, `ip netns exec`, the CLI child with
// its ready line, and removal of whatever is left (a crash, a failed assertion).
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The CLI from source (the tap tests run it with tsx, not from dist/). */
export const CLI = join(ROOT, "host/cli.ts");

/** Root and /dev/net/tun, or the test FAILS (never skips): CI runs as root. */
export function needTapHost(): void {
  assert.ok(
    process.getuid?.() === 0,
    `these tests need root (CAP_NET_ADMIN to create taps and namespaces); CI runs as root`,
  );
  assert.ok(existsSync("/dev/net/tun"), "/dev/net/tun is missing: load the tun module");
}

export function needTool(tool: string, hint = "apt-get install it"): void {
  assert.is(spawnSync("sh", ["-c", `command -v ${tool}`]).status, 0, `${tool} is missing (${hint})`);
}

/**
 * Unique names per run and per call, `${prefix}<pid><letter>` and
 * `${prefix}ns<pid><letter>` (IFNAMSIZ: at most 15 characters).
 */
export function tapNames(prefix: string): () => { ifname: string; netns: string } {
  let seq = 0;
  return () => {
    const id = `${process.pid % 100000}${String.fromCharCode(97 + seq++)}`;
    return { ifname: `${prefix}${id}`, netns: `${prefix}ns${id}` };
  };
}

export function removeNetns(ns: string): void {
  if (existsSync(`/run/netns/${ns}`)) spawnSync("ip", ["netns", "del", ns]);
}

export function removeLink(ifname: string): void {
  if (spawnSync("ip", ["link", "show", "dev", ifname]).status === 0) spawnSync("ip", ["link", "del", ifname]);
}

export function cleanup(ns: string, ifname: string): void {
  removeNetns(ns);
  removeLink(ifname);
}

export interface InNsOptions {
  input?: Buffer | string;
  timeoutMs?: number;
  cwd?: string;
}

/** Runs a program inside the namespace; bounded in time (15 s unless told). */
export function inNs(ns: string, cmd: string[], opts: InNsOptions = {}) {
  const r = spawnSync("ip", ["netns", "exec", ns, ...cmd], {
    input: opts.input,
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 15000,
    maxBuffer: 8 << 20,
  });
  return { code: r.status, out: r.stdout ?? Buffer.alloc(0), err: (r.stderr ?? Buffer.alloc(0)).toString() };
}

/** inNs with stdout as text. */
export function inNsText(ns: string, cmd: string[], opts: InNsOptions = {}) {
  const r = inNs(ns, cmd, opts);
  return { code: r.code, out: r.out.toString(), err: r.err };
}

/** Waits (polling every 20 ms, at most `ms`) until ok() holds. */
export async function until(what: string, ok: () => boolean, ms = 10000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface RunningTap {
  ns: string;
  ifname: string;
  child: ChildProcess;
  stderr: () => string;
  /** SIGTERM (or the given signal) by PID, then the exit code and the JSON report. */
  stop(
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; report: Record<string, any>; stderr: string }>;
}

/**
 * `ixwasm tap --ifname <ifname> --netns <netns> --report json --no-stats` plus
 * `args`, started and waited for (its "ready" line, at most 20 s).
 */
export async function startTap(
  names: { ifname: string; netns: string },
  args: string[],
): Promise<RunningTap> {
  const { ifname, netns } = names;
  const argv = ["--import", "tsx", CLI, "tap", "--ifname", ifname, "--netns", netns];
  argv.push("--report", "json", "--no-stats", ...args);
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const t0 = Date.now();
  while (!err.includes("ready")) {
    if (child.exitCode !== null || Date.now() - t0 > 20000) {
      if (child.exitCode === null) process.kill(child.pid!, "SIGKILL");
      cleanup(netns, ifname);
      throw new Error(`ixwasm tap did not become ready: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    ns: netns,
    ifname,
    child,
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

/** startTap, the body, then the tap killed (by PID) if still running and its namespace and link removed. */
export async function withTap(
  names: { ifname: string; netns: string },
  args: string[],
  body: (t: RunningTap) => Promise<void> | void,
): Promise<void> {
  needTapHost();
  const t = await startTap(names, args);
  try {
    await body(t);
  } finally {
    if (t.child.exitCode === null) process.kill(t.child.pid!, "SIGKILL");
    cleanup(t.ns, t.ifname);
  }
}
