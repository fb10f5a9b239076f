// The fuzzer in CI: a bounded slice (a frame budget and a 45 s cap) over both apps
// with 0 findings, plus checks that the fuzzer itself works: its TX checker
// rejects what it must, a run is a function of its seed, and a recorded epoch
// replays to the same result.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { checkTx, fixChecksums, tcpFrame } from "../../host/fuzz/packet.ts";
import { mutate, retarget } from "../../host/fuzz/mutate.ts";
import { fuzzRng } from "../../host/fuzz/rng.ts";
import { replay, runFuzz, stackEpoch } from "../../host/fuzz/run.ts";
import { loadSeeds, seedFiles } from "../../host/fuzz/seeds.ts";
import { ENDPOINTS } from "../../host/fuzz/stack.ts";
import { writeMeta, writePcap } from "../../host/fuzz/repro.ts";
import { CORPUS, OWN_TRACES, corpusNote } from "../helpers/corpus.ts";
import { tempDir } from "../helpers/tmp.ts";

corpusNote();
const out = tempDir("fuzz");
const seeds = loadSeeds(seedFiles(CORPUS, OWN_TRACES), 120);

test("seeds: frames from the captures, Ethernet for the stack and raw for the decoder", () => {
  assert.ok(seeds.files.length >= 5, `${seeds.files.length} captures`);
  assert.ok(seeds.eth.length > 300 && seeds.raw.length >= seeds.eth.length);
});

test("TX checker: a good segment passes; bad checksum, group source MAC, oversize and SYN+RST fail", () => {
  // The checker judges frames the core sends, so build one from the core to the peer.
  const core = {
    ...ENDPOINTS,
    mac: ENDPOINTS.peerMac,
    peerMac: ENDPOINTS.mac,
    ip4: ENDPOINTS.peer4,
    peer4: ENDPOINTS.ip4,
  };
  const ok = tcpFrame(core, { v6: false, sport: 40000, dport: 7, seq: 1, ack: 2, flags: 0x10, win: 100 });
  assert.is(checkTx(ok, ENDPOINTS), null);
  const bad = Buffer.from(ok);
  bad[bad.length - 1] ^= 1;
  bad[50] ^= 1; // checksum field
  assert.match(checkTx(bad, ENDPOINTS) ?? "", /checksum/);
  const group = Buffer.from(ok);
  group.fill(0xff, 6, 12);
  assert.match(checkTx(group, ENDPOINTS) ?? "", /source MAC/);
  const big = tcpFrame(core, {
    v6: false,
    sport: 1,
    dport: 7,
    seq: 1,
    ack: 2,
    flags: 0x10,
    win: 1,
    data: Buffer.alloc(1461),
  });
  assert.match(checkTx(big, ENDPOINTS) ?? "", /MTU/);
  const synRst = Buffer.from(ok);
  synRst[47] = 0x06;
  fixChecksums(synRst);
  assert.match(checkTx(synRst, ENDPOINTS) ?? "", /flags/);
});

test("mutations are a function of the seed", () => {
  const gen = (seed: number) => {
    const rng = fuzzRng(seed);
    return Array.from({ length: 200 }, () =>
      mutate(retarget(rng.pick(seeds.eth), ENDPOINTS, rng, 7), rng).toString("hex"),
    ).join();
  };
  assert.is(gen(42), gen(42));
  assert.is.not(gen(42), gen(43));
});

test("a recorded epoch replays: same frames, same polls, no finding", () => {
  const r = stackEpoch(seeds, fuzzRng(7), "memcached", true, 1500);
  assert.is(r.finding, undefined, r.finding?.message);
  const pcap = join(out, "epoch.pcap");
  writePcap(pcap, r.target.frames, r.target.times);
  writeMeta(join(out, "epoch.json"), {
    version: 1,
    target: "stack",
    app: "memcached",
    debug: true,
    seed: 7,
    epoch: 0,
    finding: "none",
    polls: r.target.polls,
    command: "",
    drained: true,
  } as Parameters<typeof writeMeta>[1]);
  assert.is(replay(pcap).finding, null);
});

test("bounded slice: echo and memcached, stack and decoder, 0 findings", () => {
  const frames = Number(process.env.IXWASM_FUZZ_FRAMES ?? 1_000_000);
  const r = runFuzz({
    frames,
    seed: 20240601,
    app: "both",
    timeS: 45,
    outDir: out,
    seeds,
    epochFrames: 5000,
    debug: true, // assertions kept: an AS abort is a finding too
  });
  console.log(
    `note: fuzz slice ${r.frames} frames in ${r.seconds.toFixed(1)} s (${r.framesPerSec}/s; stack ${r.stackFrames}, ` +
      `${r.connections} connections, decoder ${r.decoderFrames}), ${r.findings.length} findings`,
  );
  const msg = r.findings.map((f) => `${f.message}${f.replay ? `\n  replay: ${f.replay}` : ""}`).join("\n");
  assert.is(r.findings.length, 0, msg);
  assert.ok(r.frames >= Math.min(frames, 50_000), `only ${r.frames} frames in the time cap`);
  assert.ok(r.connections > 10, "stateful peers connected");
});

test.run();
