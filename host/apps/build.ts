// `ixwasm app build DIR`: compiles DIR/app.ts with the SDK's asc settings
// (sdk/asconfig.json: stub runtime, -O3, an imported memory the host bounds) into
// DIR/app.wasm, then loads it as the commands would, so a module that builds but
// is not an app module fails here, not at serve time.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../io/errors.ts";
import { loadAppModule, type AppModule } from "./module.ts";

/** The repository root (where package.json names ixwasm): sdk/ is there. */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(d, "package.json");
    if (existsSync(p) && JSON.parse(readFileSync(p, "utf8")).name === "ixwasm") return d;
    const up = dirname(d);
    if (up === d) throw new Error("ixwasm's package.json not found above host/apps");
    d = up;
  }
}

export interface BuildOptions {
  /** Output file (default DIR/app.wasm). */
  out?: string;
  /** Entry file in DIR (default app.ts). */
  entry?: string;
  /** asc's debug target: assertions kept, no optimisation. */
  debug?: boolean;
}

/** The asc arguments that build the module (docs/design/app-modules.md shows them). */
export function ascArgs(dir: string, o: BuildOptions = {}): string[] {
  const root = repoRoot();
  return [
    join(dir, o.entry ?? "app.ts"),
    "--config",
    join(root, "sdk", "asconfig.json"),
    "--target",
    o.debug ? "debug" : "release",
    "-o",
    o.out ?? join(dir, "app.wasm"),
  ];
}

export async function buildApp(
  dirArg: string,
  o: BuildOptions = {},
): Promise<{ out: string; mod: AppModule }> {
  const dir = resolve(dirArg);
  const entry = join(dir, o.entry ?? "app.ts");
  if (!existsSync(entry))
    throw new UsageError(`no ${entry}`, "an app's entry file is DIR/app.ts (or --entry)");
  let asc: typeof import("assemblyscript/asc");
  try {
    asc = await import("assemblyscript/asc");
  } catch {
    throw new UsageError(
      "the AssemblyScript compiler is not installed",
      "run `npm install` in the ixwasm repository (assemblyscript is a development dependency)",
    );
  }
  const out = resolve(o.out ?? join(dir, "app.wasm"));
  let log = "";
  const sink = { write: (s: string | Uint8Array) => ((log += String(s)), true) };
  const { error } = await asc.main(ascArgs(dir, { ...o, out }), { stdout: sink, stderr: sink });
  if (error) throw new UsageError(`asc failed on ${entry}:\n${log.trim()}`);
  // checked as the commands load it; metered when it is served (module-meter.ts), not here
  return { out, mod: loadAppModule(out, { meter: false }) };
}
