// Starting a worker thread on a module of ours, from the TypeScript sources
// (tests, `node --import tsx`) or from the compiled dist/ alike. Node 20 cannot
// start a .ts worker even with tsx loaded in the parent (AS-NOTES §6), so a .ts
// entry is started through a tiny bootstrap that registers tsx first.
import { Worker } from "node:worker_threads";

export function workerUrl(base: string, name: string): URL {
  const ext = base.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`${name.startsWith(".") ? "" : "./"}${name}${ext}`, base);
}

export function spawnWorker(entry: URL, workerData: unknown): Worker {
  if (entry.pathname.endsWith(".ts")) {
    const code = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(entry, { workerData });
}
