// `ixwasm bench tap` stopped by SIGTERM while its first part runs (a tap and
// the kernel's NPtcp server, each in a namespace of its own, a veth pair
// between the client's namespace and the server's) removes what it made and
// exits 130 (host/measure/lib/interrupt.ts): no namespace, link, process or temp
// dir of it is left. Before, the same signal left every one of them, the tap
// serving on. Every section tears down the same way (its finally block, reached
// from its loop's interruptPoint()); this is the one reached in seconds. Needs
// root and the tools `bench tap` needs (CI installs them); without them it FAILS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, ROOT, needTapHost, needTool } from "../helpers/tap.ts";
import { removeLink, removeNetns } from "../../host/io/netns.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const netns = () =>
  spawnSync("ip", ["netns", "list"], { encoding: "utf8" })
    .stdout.split("\n")
    .map((l) => l.split(" ")[0])
    .filter(Boolean);
const links = () =>
  spawnSync("ip", ["-o", "link"], { encoding: "utf8" })
    .stdout.split("\n")
    .map((l) => l.split(": ")[1]?.split("@")[0])
    .filter(Boolean);

/** Live (not zombie) processes whose parent chain reaches pid. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  const state = new Map<number, string>();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const st = readFileSync(`/proc/${e}/stat`, "utf8");
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(e), Number(f[1]));
      state.set(Number(e), f[0]);
    } catch {} // gone meanwhile
  }
  const out: number[] = [];
  for (const [p] of parent) {
    for (let q = parent.get(p); q !== undefined && q > 1; q = parent.get(q))
      if (q === pid) {
        if (state.get(p) !== "Z") out.push(p);
        break;
      }
  }
  return out;
}
const alive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

test("bench tap: SIGTERM while it runs removes namespaces, links, servers and temp dirs, exit 130", async () => {
  needTapHost();
  for (const t of ["gcc", "NPtcp", "sockperf", "memcached", "memcaslap", "ping"]) needTool(t);
  const tmpBefore = new Set(readdirSync(tmpdir()));
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "bench", "tap", "--runs", "1"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  // The bench's own names (host/measure/tap-peers.ts, tap-sparse.ts): another suite's are not ours to judge or remove.
  const id = child.pid! % 10000;
  const ours = (name: string) => new RegExp(`^ixb[ps][a-z]${id}`).test(name); // ixbpc<id>, ixbpt<id><n>, ixbsr<id><n>…
  const made: number[] = [];
  try {
    // The first part is under way once its tap's namespace exists beside the kernel's two.
    const t0 = Date.now();
    while (!netns().some((n) => n.startsWith(`ixbpt${id}`))) {
      assert.ok(child.exitCode === null, `bench ended before its tap started: ${out}`);
      assert.ok(Date.now() - t0 < 120_000, `no tap namespace within 120 s: ${out}`);
      await sleep(250);
    }
    await sleep(1000); // the tap serving, NPtcp's server started, a step under way
    made.push(...descendants(child.pid!));
    assert.ok(made.length >= 2, `servers running under the bench: ${made.length}`);
    assert.ok(netns().filter(ours).length >= 3, "the tap's and the kernel's namespaces");
    process.kill(child.pid!, "SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), 120_000)));
    const code = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    assert.ok(code !== "timeout", `bench still running 120 s after SIGTERM: ${out}`);
    assert.is(code, 130, out);
    assert.match(out, /interrupted by SIGTERM: what it had made is removed/);
    await sleep(500);
    const left = made.filter(alive);
    assert.equal(left, [], `processes of the bench still running: ${left.join(", ")}`);
    assert.equal(netns().filter(ours), [], "namespaces left");
    assert.equal(links().filter(ours), [], "links left");
    assert.equal(
      readdirSync(tmpdir()).filter((e) => e.startsWith("ixwasm-bench-tap") && !tmpBefore.has(e)),
      [],
      "temp dirs left",
    );
  } finally {
    // Only what this bench made: its children (reparented once it died) and its names.
    for (const p of [...descendants(child.pid!), ...made])
      try {
        if (alive(p)) process.kill(p, "SIGKILL");
      } catch {} // gone meanwhile
    if (child.exitCode === null) child.kill("SIGKILL");
    netns().filter(ours).forEach(removeNetns);
    links().filter(ours).forEach(removeLink);
    for (const e of readdirSync(tmpdir()))
      if (e.startsWith("ixwasm-bench-tap") && !tmpBefore.has(e))
        rmSync(join(tmpdir(), e), { recursive: true, force: true });
  }
});

test.run();
