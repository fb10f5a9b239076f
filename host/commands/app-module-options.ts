// The options every command that serves (pair, tap, replay --mode serve) takes for an
// app module (docs/design/app-modules.md), parsed in one place.
import { Option, type Command } from "commander";
import { wholeNumber } from "./cli-util.ts";
import { loadAppModule } from "../apps/module.ts";
import { DEFAULT_APP_TIMEOUT_MS, type OnAppFault, type ServedModule } from "../apps/module-host.ts";
import type { AppModule } from "../apps/module.ts";

export interface AppModuleRaw {
  appModule?: string;
  appOptions?: string;
  appPort?: number;
  appMemory: number;
  appTimeout: number;
  onAppFault: OnAppFault;
  appThread?: boolean;
}

export function addAppModuleOptions(cmd: Command): Command {
  return cmd
    .option(
      "--app-module <file.wasm>",
      "serve with an app module built with the SDK (`ixwasm app build DIR`), in a memory of its own, instead of a built-in app",
    )
    .option(
      "--app-thread",
      "with --app-module: run the module in a worker thread of its own (the stack keeps serving while it computes; a thread hop each way per batch) instead of metered in the serving thread",
    )
    .option("--app-options <s>", "with --app-module: the module's options string (e.g. conns=64)", "")
    .option(
      "--app-port <port>",
      "with --app-module: serve this port instead of the module's own",
      wholeNumber,
    )
    .option("--app-memory <MiB>", "with --app-module: the most memory the module may have", wholeNumber, 256)
    .option(
      "--app-timeout <ms>",
      "with --app-module: a batch the module has not answered within this is a fault (the watchdog)",
      wholeNumber,
      DEFAULT_APP_TIMEOUT_MS,
    )
    .addOption(
      new Option(
        "--on-app-fault <what>",
        "with --app-module: after a fault (trap, timeout, garbage, memory) its connections are reset; then restart the module or leave it down",
      )
        .choices(["restart", "abort"])
        .default("restart"),
    );
}

/** The module and how to run it, or undefined without --app-module. */
export function appModuleFrom(o: AppModuleRaw): ServedModule | undefined {
  if (!o.appModule) return undefined;
  const mod = loadAppModule(o.appModule, {
    options: o.appOptions,
    port: o.appPort,
    memoryBytes: o.appMemory * (1 << 20),
  });
  return { mod, onFault: o.onAppFault, timeoutMs: o.appTimeout, thread: !!o.appThread };
}
