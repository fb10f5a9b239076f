// `--shard I/N`: which share of a capture's flows this process replays
// (docs/design/scale-out.md). The assignment itself is the core's
// (assembly/flow/shard.ts: flow group mod N, the groups --workers N would deal);
// this module only says which shard, from the command line or from the batch
// engine that started the process, and what the core's config words are.
//
// Where the shard comes from, first match wins:
//   --shard I/N                              explicit
//   SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT  a Slurm job array: I = ID - SLURM_ARRAY_TASK_MIN
//                                            (so --array=1-3 works as 0-2 does); an array
//                                            with steps or gaps is refused, not guessed at
//   JOB_COMPLETION_INDEX                     a Kubernetes Indexed Job; N from --shard-count
//                                            or IXWASM_SHARD_COUNT (the pod does not know
//                                            its Job's completions otherwise)
// `--shard 0/1` is the whole capture: it turns an engine's default off.
import { UsageError } from "../io/errors.ts";

/** The RETA has 128 flow groups: at most one shard per group. */
export const MAX_SHARDS = 128;

export interface ShardSpec {
  index: number;
  count: number;
}

export type ShardSource = "option" | "slurm" | "k8s";

export interface ShardChoice extends ShardSpec {
  source: ShardSource;
}

/** Parses "I/N" (0 ≤ I < N ≤ 128); a UsageError names what is wrong. */
export function parseShard(s: string, what = "--shard"): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  if (!m)
    throw new UsageError(`${what} ${JSON.stringify(s)} is not I/N`, "write e.g. --shard 0/3 (shard 0 of 3)");
  return checkShard(Number(m[1]), Number(m[2]), what);
}

function checkShard(index: number, count: number, what: string): ShardSpec {
  if (!(count >= 1 && count <= MAX_SHARDS))
    throw new UsageError(
      `${what}: ${count} shards is out of range`,
      `use 1..${MAX_SHARDS} (one shard per flow group at most)`,
    );
  if (!(index >= 0 && index < count))
    throw new UsageError(
      `${what}: shard index ${index} is out of range for ${count} shards`,
      `use 0..${count - 1}`,
    );
  return { index, count };
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | null {
  const v = env[name];
  if (v === undefined || v === "") return null;
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`${name}=${JSON.stringify(v)} is not a whole number`);
  return Number(v);
}

/**
 * The shard this process replays: --shard, else the engine's environment, else null
 * (the whole capture). shardCount: --shard-count (for JOB_COMPLETION_INDEX).
 */
export function chooseShard(
  option: string | undefined,
  shardCount: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ShardChoice | null {
  if (option !== undefined) {
    const s = parseShard(option);
    if (shardCount !== undefined && shardCount !== s.count)
      throw new UsageError(`--shard-count ${shardCount} differs from --shard ${option}`, "give one of them");
    return { ...s, source: "option" };
  }
  const id = envInt(env, "SLURM_ARRAY_TASK_ID");
  if (id !== null) {
    const count = envInt(env, "SLURM_ARRAY_TASK_COUNT");
    if (count === null) throw new UsageError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
    const min = envInt(env, "SLURM_ARRAY_TASK_MIN") ?? 0;
    const max = envInt(env, "SLURM_ARRAY_TASK_MAX") ?? min + count - 1;
    if (max - min + 1 !== count)
      throw new UsageError(
        `the Slurm array ${min}-${max} has ${count} tasks: steps or gaps`,
        "submit a dense array (--array=0-N-1), or give --shard I/N",
      );
    return { ...checkShard(id - min, count, "SLURM_ARRAY_TASK_ID"), source: "slurm" };
  }
  const k = envInt(env, "JOB_COMPLETION_INDEX");
  if (k !== null) {
    const count = shardCount ?? envInt(env, "IXWASM_SHARD_COUNT");
    if (count === null)
      throw new UsageError(
        `JOB_COMPLETION_INDEX=${k} but no shard count`,
        "give --shard-count N (the Job's completions) or set IXWASM_SHARD_COUNT",
      );
    return { ...checkShard(k, count, "JOB_COMPLETION_INDEX"), source: "k8s" };
  }
  if (shardCount !== undefined)
    throw new UsageError("--shard-count needs JOB_COMPLETION_INDEX", "or give --shard I/N");
  return null;
}

/** The core config words of a core that reads as this shard (none: the whole capture). */
export function shardConfig(s: ShardSpec | null | undefined): { shard: number; shards: number } {
  return s && s.count > 1 ? { shard: s.index, shards: s.count } : { shard: 0, shards: 1 };
}
