import type { Command } from "commander";
import { buildApp } from "../apps/build.ts";
import { examples, out } from "./cli-util.ts";

interface BuildRaw {
  out?: string;
  entry?: string;
  debug?: boolean;
}

const EXAMPLES = examples(
  ["the example HTTP/1.1 responder", "ixwasm app build examples/http"],
  ["the faulty module of the containment tests, unoptimised", "ixwasm app build examples/faulty --debug"],
  [
    "(as root) serve the responder on a tap; then: ip netns exec ixwns curl http://198.18.0.2:8080/",
    "ixwasm tap --ifname ixw0 --netns ixwns --app-module examples/http/app.wasm",
  ],
);

export function register(program: Command): void {
  const app = program
    .command("app")
    .description("app modules: server apps written with the SDK (sdk/), run isolated from the dataplane")
    .addHelpText("after", EXAMPLES);
  app
    .command("build")
    .description("compile DIR/app.ts into an app module (DIR/app.wasm) and check it loads")
    .argument("<dir>", "the app's directory")
    .option("--out <file>", "output file (default DIR/app.wasm)")
    .option("--entry <file>", "entry file in DIR (default app.ts)")
    .option("--debug", "keep assertions, no optimisation")
    .addHelpText("after", EXAMPLES)
    .action(async (dir: string, o: BuildRaw) => {
      const r = await buildApp(dir, o);
      out(`${r.out}: app module, port ${r.mod.port}${r.mod.flags & 1 ? " (TCP and UDP)" : ""}\n`);
    });
}
