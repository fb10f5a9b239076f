// Shared set-up of the tests that run `ixwasm tap` (and friends) in namespaces of
// their own: the root check, unique names and removal of whatever is left (a
// crash, a failed assertion); `ip netns exec` and the CLI child with its ready
// line come from the host's one copy (host/io/netns.ts, host/tap/child.ts).
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { removeLink, removeNetns } from "../../host/io/netns.ts";
import { startTap as startTapChild, type RunningTap } from "../../host/tap/child.ts";

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

export { inNs, inNsText, removeLink, removeNetns, type InNsOptions } from "../../host/io/netns.ts";
export type { RunningTap } from "../../host/tap/child.ts";

export function cleanup(ns: string, ifname: string): void {
  removeNetns(ns);
  removeLink(ifname);
}

/** Waits (polling every 20 ms, at most `ms`) until ok() holds. */
export async function until(what: string, ok: () => boolean, ms = 10000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * `ixwasm tap --ifname <ifname> --netns <netns> --report json --no-stats` plus
 * `args`, from source, started and waited for (its "ready" line, at most 20 s).
 */
export function startTap(names: { ifname: string; netns: string }, args: string[]): Promise<RunningTap> {
  return startTapChild({ root: ROOT, cli: ["--import", "tsx", CLI], ...names, args });
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
