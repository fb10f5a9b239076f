// pcap-parser ships no types; only what the differential test and the ingest bench use.
declare module "pcap-parser" {
  import type { EventEmitter } from "node:events";
  export function parse(input: string | NodeJS.ReadableStream): EventEmitter;
}
