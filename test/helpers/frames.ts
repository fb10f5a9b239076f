// Frames for the tests: the host's one builder (host/io/frames.ts, written apart
// from the core's wire code on purpose), plus the two MACs the test cores and
// their peers use.
export * from "../../host/io/frames.ts";

export const MAC_A = Buffer.from("020000000001", "hex");
export const MAC_B = Buffer.from("020000000002", "hex");
export const BROADCAST = Buffer.from("ffffffffffff", "hex");
