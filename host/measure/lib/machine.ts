// The machine a figure was measured on: always printed next to the figure.
import { cpus, loadavg, totalmem } from "node:os";

export interface Machine {
  cpu: string;
  cores: number;
  memory_gib: number;
  node: string;
  platform: string;
  /** 1/5/15-minute load averages at the start: a noisy neighbour shows here. */
  load: number[];
}

export function machine(): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? "unknown",
    cores: c.length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    load: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function describe(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node}, ${m.platform}, load ${m.load.join("/")}`;
}
