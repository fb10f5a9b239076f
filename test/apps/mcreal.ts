// The real memcached (Debian's /usr/bin/memcached) as the reference for differential
// tests: a fresh server per scenario on 127.0.0.1 and a free port, ended by PID.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";

// (IXWASM_MEMCACHED: another binary, or a missing path to check what happens without one)
export const MEMCACHED = process.env.IXWASM_MEMCACHED ?? "/usr/bin/memcached";
export const haveMemcached = existsSync(MEMCACHED);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RealServer {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startMemcached(extra: string[] = []): Promise<RealServer> {
  const port = await freePort();
  const args = ["-l", "127.0.0.1", "-p", String(port), "-U", "0", "-m", "64", "-t", "1", ...extra];
  if (process.getuid?.() === 0) args.unshift("-u", "nobody"); // memcached refuses root otherwise
  const proc = spawn(MEMCACHED, args, { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.on("connect", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        process.kill(proc.pid!, "SIGKILL"); // SIGTERM makes memcached linger ~1 s
      }),
  };
}

/** Sends the chunks in order on one connection (a number: wait that many ms first);
 * collects the answer until idle after the last chunk, or closed. */
export async function exchange(
  port: number,
  chunks: (Buffer | number)[],
  idleMs = 120,
  until?: (out: Buffer) => boolean,
): Promise<{ out: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    const parts: Buffer[] = [];
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ out: Buffer.concat(parts), closed });
    };
    // a loaded machine may take a while for the first answer; then idle means done
    let writing = true;
    const arm = () => {
      clearTimeout(timer);
      if (!writing) timer = setTimeout(done, parts.length ? idleMs : Math.max(idleMs, 1500));
    };
    s.setNoDelay(true);
    s.on("connect", async () => {
      for (const c of chunks) {
        if (s.destroyed) break;
        if (typeof c === "number") await new Promise((r) => setTimeout(r, c));
        else s.write(c);
      }
      writing = false;
      arm();
    });
    s.on("data", (d) => {
      parts.push(d);
      if (until?.(Buffer.concat(parts))) done();
      else arm();
    });
    s.on("end", () => {
      closed = true;
      done();
    });
    s.on("error", () => {
      closed = true;
      done();
    });
  });
}
