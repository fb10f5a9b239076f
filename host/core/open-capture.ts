// What every command shares: opening a capture on a core sized for reading it.
import { existsSync, statSync } from "node:fs";
import { createCore, type Core, type CoreConfig } from "./core.ts";
import { UsageError } from "../io/errors.ts";
import { TraceReader } from "../io/reader.ts";

/** A core for decoding captures: staging + descriptors + flow table, no pools. */
export const READ_CORE: Partial<CoreConfig> = {
  stagingBytes: 8 << 20,
  descSlots: 4096,
  mbufs: 0,
  ringSlots: 0,
  flows: 1 << 20,
};

/** The core the pre-scan and the replay read with: staging, descriptors and their decode summaries. */
export function scanCoreConfig(): Partial<CoreConfig> {
  return { stagingBytes: 8 << 20, descSlots: 4096, mbufs: 0, ringSlots: 0, flows: 0 };
}

export function checkFile(path: string): void {
  if (!existsSync(path)) throw new UsageError(`no such file: ${path}`, "check the path");
  if (!statSync(path).isFile())
    throw new UsageError(`not a regular file: ${path}`, "give a pcap or pcapng file");
}

export function openTrace(
  path: string,
  config: Partial<CoreConfig> = READ_CORE,
): { core: Core; reader: TraceReader } {
  checkFile(path);
  const core = createCore(config);
  return { core, reader: new TraceReader(path, core) };
}
