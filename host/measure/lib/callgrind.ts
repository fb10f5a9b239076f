// Reads a callgrind profile (one dump of one thread, `positions: line`,
// `events: Ir`) and splits its instructions into the program's own work and two
// services of the V8 runtime that run when a threshold is crossed rather than
// per unit of work: the garbage collector (heap growth, a new wasm memory's
// address-space check) and the compilers (tier-up of a function after enough
// calls). Each arrives as a lump of 0.1-50 M instructions that lands in one
// counting window or another; subtracting them is what lets two windows of
// different length be compared (docs/measurement/instructions.md).

export interface IrSplit {
  /** every instruction of the dump */
  total: number;
  /** inside V8's garbage collector (inclusive of what it calls) */
  gc: number;
  /** inside V8's compilers: TurboFan, Sparkplug, Maglev, lazy bytecode compilation */
  compile: number;
}

const GC = [
  "v8::internal::Heap::",
  "v8::internal::Sweeper",
  "v8::internal::MarkCompactCollector",
  "v8::internal::MinorMarkCompactCollector",
  "v8::internal::ScavengerCollector",
  "v8::internal::IncrementalMarking",
  "v8::internal::ArrayBufferSweeper",
  "v8::internal::MemoryReducer",
  "v8::internal::PagedSpaceBase::ContributeToSweepingMain",
];
const COMPILE = [
  "v8::internal::compiler::",
  "v8::internal::baseline::",
  "v8::internal::maglev::",
  "v8::internal::Compiler::",
  "v8::internal::Runtime_Compile",
  "v8::internal::Runtime_InstallBaselineCode",
];

type Kind = 0 | 1 | 2; // own work, gc, compile

function kindOf(name: string): Kind {
  if (GC.some((p) => name.startsWith(p))) return 1;
  if (COMPILE.some((p) => name.startsWith(p))) return 2;
  return 0;
}

/**
 * A service's cost is the inclusive cost of every call into it from outside it
 * (callgrind's `calls=` lines carry the callee's inclusive cost), where
 * "outside" is a function the service never calls: a helper the collector runs
 * (its job runner, its tracer) may call back into it, and that call is already
 * inside the first one. A collection inside a compilation counts in both (the
 * window is then reported as not steady anyway).
 */
export function splitIr(profile: string): IrSplit {
  const names = new Map<string, string>(); // compressed id → name
  const resolve = (v: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(v);
    if (!m) return v;
    if (m[2] !== undefined) names.set(m[1], m[2]);
    return names.get(m[1]) ?? v;
  };
  let total = 0;
  const arcs = new Map<string, Map<string, number>>(); // callee → caller → inclusive Ir
  let fn = "";
  let callee = "";
  let inCall = false;
  for (const line of profile.split("\n")) {
    const c = line.charCodeAt(0);
    if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42) {
      // a cost line: position, then Ir (absent when zero)
      const sp = line.indexOf(" ");
      const ir = sp < 0 ? 0 : Number(line.slice(sp + 1));
      if (inCall) {
        let from = arcs.get(callee);
        if (!from) arcs.set(callee, (from = new Map()));
        from.set(fn, (from.get(fn) ?? 0) + ir);
        inCall = false;
      } else total += ir;
    } else if (line.startsWith("fn=")) fn = resolve(line.slice(3));
    else if (line.startsWith("cfn=")) callee = resolve(line.slice(4));
    else if (line.startsWith("calls=")) inCall = true;
  }
  // callers → callees, for the descendants of each service
  const calls = new Map<string, string[]>();
  for (const [name, from] of arcs)
    for (const caller of from.keys()) {
      let to = calls.get(caller);
      if (!to) calls.set(caller, (to = []));
      to.push(name);
    }
  const split = [0, 0, 0];
  for (const k of [1, 2] as const) {
    const entries = [...arcs.keys()].filter((name) => kindOf(name) === k);
    const inside = new Set(entries); // the service and all it calls
    for (const stack = [...entries]; stack.length;)
      for (const next of calls.get(stack.pop()!) ?? [])
        if (!inside.has(next)) {
          inside.add(next);
          stack.push(next);
        }
    for (const name of entries)
      for (const [caller, ir] of arcs.get(name)!) if (!inside.has(caller)) split[k] += ir;
  }
  return { total, gc: split[1], compile: split[2] };
}
