// The repository's root, from this file's place in the source tree
// (host/measure/lib/) or in the build (dist/host/measure/lib/): benchmarks
// build C sources and start the CLI or child scripts by path.
import { fileURLToPath } from "node:url";

export const FROM_DIST = import.meta.url.includes("/dist/");
export const ROOT = fileURLToPath(new URL(FROM_DIST ? "../../../.." : "../../..", import.meta.url));
