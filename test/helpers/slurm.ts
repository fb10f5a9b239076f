// A single-node Slurm cluster for one test, from Debian's packages (munge,
// slurmctld, slurmd, slurm-client; 22.05 on bookworm): its config, keys, state
// and logs in a temporary directory, the node on 127.0.0.1 with this machine's
// CPUs, free ports of its own. The daemons run in the foreground as children of
// the test (munged -F, slurmctld -D, slurmd -D), so their PIDs are known and
// stop() ends exactly those, first asking the cluster to cancel the jobs the test
// submitted (their steps are slurmd's children).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, hostname } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { tempDir } from "./tmp.ts";

export const SLURM_TOOLS = [
  "munged",
  "slurmctld",
  "slurmd",
  "sbatch",
  "squeue",
  "scontrol",
  "scancel",
  "sinfo",
];

/** The tools on PATH (or /usr/sbin), and root (slurmd runs jobs as their user). */
export function haveSlurm(): boolean {
  if (process.getuid?.() !== 0) return false;
  return SLURM_TOOLS.every(
    (t) =>
      spawnSync("sh", ["-c", `command -v ${t} || test -x /usr/sbin/${t}`], { stdio: "ignore" }).status === 0,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SlurmCluster {
  readonly env: Record<string, string>;
  private readonly procs: { name: string; p: ChildProcess; exited: boolean }[] = [];
  readonly jobs: string[] = [];

  private constructor(readonly dir: string) {
    this.env = { SLURM_CONF: join(dir, "slurm.conf") };
  }

  /** Starts munged, slurmctld and slurmd; resolves when the node is idle (bounded). */
  static async start(): Promise<SlurmCluster> {
    const dir = tempDir("slurm");
    chmodSync(dir, 0o755); // munged refuses a socket directory others cannot traverse... or write
    const c = new SlurmCluster(dir);
    try {
      await c.boot();
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  private async boot(): Promise<void> {
    const d = this.dir;
    for (const s of ["state", "spool", "log"]) mkdirSync(join(d, s));
    const key = join(d, "munge.key");
    writeFileSync(key, randomBytes(1024), { mode: 0o600 });
    const sock = join(d, "munge.socket");
    const [ctld, slurmdPort] = [await freePort(), await freePort()];
    const node = hostname().split(".")[0];
    writeFileSync(
      this.env.SLURM_CONF,
      [
        "ClusterName=ixwasmtest",
        `SlurmctldHost=${node}(127.0.0.1)`,
        `SlurmctldPort=${ctld}`,
        `SlurmdPort=${slurmdPort}`,
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        `AuthInfo=socket=${sock}`,
        `StateSaveLocation=${d}/state`,
        `SlurmdSpoolDir=${d}/spool`,
        `SlurmctldPidFile=${d}/slurmctld.pid`,
        `SlurmdPidFile=${d}/slurmd.pid`,
        `SlurmctldLogFile=${d}/log/slurmctld.log`,
        `SlurmdLogFile=${d}/log/slurmd.log`,
        // No cgroups, no accounting daemon: processes tracked by their parent, jobs forgotten once done.
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none",
        "MpiDefault=none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "SchedulerType=sched/backfill",
        "ReturnToService=2",
        `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus().length} State=UNKNOWN`,
        "PartitionName=test Nodes=ALL Default=YES MaxTime=10 State=UP",
        "",
      ].join("\n"),
    );
    this.run("munged", [
      "-F",
      `--key-file=${key}`,
      `--socket=${sock}`,
      `--pid-file=${d}/munged.pid`,
      `--log-file=${d}/log/munged.log`,
      `--seed-file=${d}/munge.seed`,
    ]);
    for (let k = 0; k < 50 && !existsSync(sock); k++) await sleep(100);
    if (!existsSync(sock)) throw new Error(`munged did not start: ${this.logs()}`);
    this.run("slurmctld", ["-D", "-i", "-f", this.env.SLURM_CONF]);
    this.run("slurmd", ["-D", "-N", node, "-f", this.env.SLURM_CONF]);
    // Up when the node is idle: a bounded wait (a slurmd registers within seconds).
    for (let k = 0; k < 150; k++) {
      const s = this.tool("sinfo", ["-h", "-o", "%t"]);
      if (s.status === 0 && s.stdout.trim() === "idle") return;
      if (this.procs.some((p) => p.exited)) break;
      await sleep(200);
    }
    throw new Error(`the Slurm node did not become idle: ${this.logs()}`);
  }

  private run(name: string, args: string[]): void {
    const p = spawn(name, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...this.env } });
    const entry = { name, p, exited: false };
    let out = "";
    p.stdout!.on("data", (b) => (out += b));
    p.stderr!.on("data", (b) => (out += b));
    p.on("exit", () => {
      entry.exited = true;
      writeFileSync(join(this.dir, "log", `${name}.out`), out);
    });
    this.procs.push(entry);
  }

  /** A client tool (sbatch, squeue, scontrol...) against this cluster. */
  tool(name: string, args: string[], env: Record<string, string> = {}) {
    return spawnSync(name, args, {
      encoding: "utf8",
      env: { ...process.env, ...env, ...this.env },
      timeout: 30_000,
    });
  }

  /** The state of a job (COMPLETED, FAILED, PENDING, ...), "" once the controller has forgotten it. */
  jobState(id: string): string {
    const r = this.tool("scontrol", ["show", "job", id]);
    return /JobState=(\w+)/.exec(r.stdout)?.[1] ?? "";
  }

  /** The last lines of the daemons' logs, for a failure message. */
  logs(): string {
    const tail = (f: string) => {
      const p = join(this.dir, "log", f);
      return existsSync(p) ? readFileSync(p, "utf8").trim().split("\n").slice(-6).join(" | ") : "";
    };
    return ["munged.log", "slurmctld.log", "slurmd.log", "munged.out", "slurmctld.out", "slurmd.out"]
      .map((f) => `${f}: ${tail(f)}`)
      .join("\n");
  }

  /** Cancels the test's jobs, then ends the daemons this cluster started (by PID), bounded. */
  async stop(): Promise<void> {
    if (this.jobs.length && this.procs.some((p) => p.name === "slurmctld" && !p.exited))
      this.tool("scancel", this.jobs);
    for (const { p, exited } of [...this.procs].reverse())
      if (!exited && p.pid) process.kill(p.pid, "SIGTERM");
    for (let k = 0; k < 50 && this.procs.some((p) => !p.exited); k++) await sleep(100);
    for (const { p, exited } of this.procs) if (!exited && p.pid) process.kill(p.pid, "SIGKILL");
    for (let k = 0; k < 20 && this.procs.some((p) => !p.exited); k++) await sleep(100);
  }

  /** The daemons still running (none after stop()). */
  alive(): string[] {
    return this.procs.filter((p) => !p.exited).map((p) => `${p.name} ${p.p.pid}`);
  }
}
