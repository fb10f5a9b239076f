// The fuzzer's randomness: host/io/prng.ts's mulberry32, so a run is a pure
// function of its seed and any finding can be regenerated from the seed alone (the
// reproducer file is the shortcut that needs no regeneration). Seed 0 maps to a
// fixed non-zero state, as it always has, so recorded seeds keep their runs.
import { Mulberry32, type Rng } from "../io/prng.ts";

export type { Rng };

export function fuzzRng(seed: number): Rng {
  return new Mulberry32(seed >>> 0 || 0x9e3779b9);
}

/** A 16-bit value near a boundary, the kind that breaks length arithmetic. */
export function interesting16(rng: Rng): number {
  return rng.pick([
    0, 1, 2, 3, 4, 7, 8, 19, 20, 39, 40, 59, 60, 127, 128, 255, 256, 1500, 0x7fff, 0x8000, 0xfffe, 0xffff,
  ]);
}

/** A 32-bit value near a boundary (or, one time in seven, any). */
export function interesting32(rng: Rng): number {
  return rng.pick([0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, rng.u32()]);
}
