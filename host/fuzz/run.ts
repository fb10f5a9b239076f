// The fuzzing loop. The stack target runs in epochs: a fresh core, batches of
// stateless mutated frames mixed with stateful peers' segments in advancing
// virtual time, then a drain (resets for every connection the core spoke on,
// time past TIME-WAIT and the retransmission give-up) after which every mbuf
// and TCB must be back. Between epochs the decoder target takes its share.
// Everything derives from the seed: the same arguments give the same run.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DecoderTarget, LINKTYPES } from "./decoder.ts";
import { fragmentSeries, mutate, retarget } from "./mutate.ts";
import { TCP_RST, be32, layers, parseTxTcp, tcpFrame, type TxSeg } from "./packet.ts";
import { Peer, type AppKind } from "./peer.ts";
import { readMeta, readPcap, writeMeta, writePcap, type ReproMeta } from "./repro.ts";
import { fuzzRng, type Rng } from "./rng.ts";
import { loadSeeds, seedFiles, type Seeds } from "./seeds.ts";
import { ENDPOINTS, Finding, StackTarget } from "./stack.ts";

export interface FuzzOptions {
  /** Frames to fuzz in total (stack + decoder). */
  frames: number;
  seed: number;
  app: AppKind | "both";
  /** Wall-clock cap in seconds (0: none). */
  timeS?: number;
  debug?: boolean;
  outDir: string;
  corpus?: string;
  own?: string;
  /** Frames per stack epoch (one core, then a drain). */
  epochFrames?: number;
  /** Decoder frames per stack frame. */
  decoderRatio?: number;
  /** Progress lines (every few seconds). */
  log?: (line: string) => void;
  seeds?: Seeds;
}

export interface FindingRecord {
  target: "stack" | "decoder";
  kind: string;
  message: string;
  epoch: number;
  pcap?: string;
  replay?: string;
}

export interface FuzzReport {
  seed: number;
  frames: number;
  stackFrames: number;
  decoderFrames: number;
  epochs: number;
  connections: number;
  seconds: number;
  framesPerSec: number;
  stackFramesPerSec: number;
  decoderFramesPerSec: number;
  seedFrames: number;
  seedFiles: number;
  findings: FindingRecord[];
}

const MAX_REPROS = 10;

export function runFuzz(o: FuzzOptions): FuzzReport {
  const seeds = o.seeds ?? loadSeeds(seedFiles(o.corpus, o.own));
  if (seeds.eth.length === 0) throw new Error("no seed frames: give a corpus directory or traces/");
  mkdirSync(o.outDir, { recursive: true });
  const rng = fuzzRng(o.seed);
  const debug = o.debug ?? false;
  const epochFrames = o.epochFrames ?? 10_000;
  const ratio = o.decoderRatio ?? 1;
  const t0 = performance.now();
  const deadline = o.timeS ? t0 + o.timeS * 1000 : Infinity;
  const report: FuzzReport = {
    seed: o.seed,
    frames: 0,
    stackFrames: 0,
    decoderFrames: 0,
    epochs: 0,
    connections: 0,
    seconds: 0,
    framesPerSec: 0,
    stackFramesPerSec: 0,
    decoderFramesPerSec: 0,
    seedFrames: seeds.eth.length + seeds.raw.length,
    seedFiles: seeds.files.length,
    findings: [],
  };
  const seen = new Set<string>();
  let stackMs = 0;
  let decMs = 0;
  let lastLog = t0;
  const decoder = new DecoderTarget(debug);
  const record = (f: FindingRecord) => {
    // One finding per kind of fault: the frame bytes and numbers differ between repeats.
    const key = `${f.target}:${f.message.replace(/ \(frame .*$/, "").replace(/\d+/g, "#")}`;
    if (seen.has(key)) return;
    seen.add(key);
    report.findings.push(f);
  };
  while (report.frames < o.frames && performance.now() < deadline) {
    const epoch = report.epochs++;
    const app: AppKind = o.app === "both" ? (epoch % 2 ? "memcached" : "echo") : o.app;
    const budget = Math.min(epochFrames, Math.ceil((o.frames - report.frames) / (1 + ratio)));
    const s0 = performance.now();
    const r = stackEpoch(seeds, fuzzRng(rng.u32()), app, debug, budget, deadline);
    stackMs += performance.now() - s0;
    report.stackFrames += r.frames;
    report.connections += r.connections;
    report.frames += r.frames;
    if (r.finding) {
      const base = join(o.outDir, `stack-seed${o.seed}-epoch${epoch}`);
      const f: FindingRecord = { target: "stack", kind: r.finding.kind, message: r.finding.message, epoch };
      if (report.findings.length < MAX_REPROS)
        saveStackRepro(base, r.target, o.seed, epoch, r.finding, r.drained, f);
      record(f);
    }
    const d0 = performance.now();
    const dr = decoderChunk(decoder, seeds, fuzzRng(rng.u32()), Math.round(r.frames * ratio), o, epoch);
    decMs += performance.now() - d0;
    report.decoderFrames += dr.frames;
    report.frames += dr.frames;
    if (dr.finding) record(dr.finding);
    const now = performance.now();
    if (o.log && now - lastLog > 5000) {
      lastLog = now;
      o.log(
        `${report.frames} frames (${Math.round(report.frames / ((now - t0) / 1000))}/s), ` +
          `${report.epochs} epochs, ${report.findings.length} findings`,
      );
    }
  }
  report.seconds = (performance.now() - t0) / 1000;
  report.framesPerSec = Math.round(report.frames / report.seconds);
  report.stackFramesPerSec = Math.round(report.stackFrames / (stackMs / 1000 || 1));
  report.decoderFramesPerSec = Math.round(report.decoderFrames / (decMs / 1000 || 1));
  return report;
}

interface EpochResult {
  frames: number;
  connections: number;
  finding?: Finding;
  drained: boolean;
  target: StackTarget;
}

/** What the drain needs of every connection the core spoke on: where to aim a reset. */
interface Flow {
  v6: boolean;
  peer: Buffer;
  corePort: number;
  peerPort: number;
  ack: number;
}

/** A connection as the core sees it: the peer's address and both ports. */
function flowKey(s: TxSeg): string {
  return `${Buffer.from(s.peer).toString("hex")}:${s.sport}:${s.dport}`;
}

/** TSval of a TX segment's timestamp option, or null. */
function tsVal(f: Buffer): number | null {
  const L = layers(f);
  if (L.l4 < 0) return null;
  const end = L.l4 + (f[L.l4 + 12] >> 4) * 4;
  for (let p = L.l4 + 20; p < end;) {
    const k = f[p];
    if (k === 0) break;
    if (k === 1) {
      p++;
      continue;
    }
    if (k === 8 && p + 10 <= end) return be32(f, p + 2);
    p += Math.max(2, f[p + 1]);
  }
  return null;
}

export function stackEpoch(
  seeds: Seeds,
  rng: Rng,
  app: AppKind,
  debug: boolean,
  budget: number,
  deadline = Infinity,
): EpochResult {
  const tgt = new StackTarget(app, debug);
  const ep = ENDPOINTS;
  const peers = new Map<string, Peer>();
  const flows = new Map<string, Flow>();
  let connections = 0;
  let drained = false;
  let t = 1e9;
  const route = (tx: Buffer[]) => {
    for (const f of tx) {
      const s = parseTxTcp(f);
      if (!s) continue;
      const key = flowKey(s);
      if (s.flags & TCP_RST) flows.delete(key);
      else
        flows.set(key, {
          v6: s.v6,
          peer: Buffer.from(s.peer),
          corePort: s.sport,
          peerPort: s.dport,
          ack: s.ack,
        });
      const p = peers.get(key);
      if (p) p.onSegment(s, tsVal(f));
    }
  };
  const result = (finding?: Finding, drained = false): EpochResult => ({
    frames: tgt.frameCount,
    connections,
    finding,
    drained,
    target: tgt,
  });
  try {
    route(tgt.step(t));
    let batches = 0;
    while (tgt.frameCount < budget) {
      if ((++batches & 63) === 0 && performance.now() > deadline) break;
      // Open peers now and then: several connections live at once.
      if (peers.size < 6 && rng.chance(0.15)) {
        const v6 = rng.chance(0.3);
        const sport = rng.range(1024, 65535);
        const key = `${(v6 ? ep.peer6 : ep.peer4).toString("hex")}:${tgt.port}:${sport}`;
        if (!peers.has(key)) {
          peers.set(key, new Peer(ep, app, v6, sport, tgt.port, rng));
          connections++;
        }
      }
      const batch: Buffer[] = [];
      for (const [k, p] of peers) {
        batch.push(...p.next());
        if (p.done) peers.delete(k);
      }
      const size = rng.chance(0.1) ? rng.range(40, 90) : rng.range(1, 24);
      while (batch.length < size) {
        const seed = rng.pick(seeds.eth);
        const f = retarget(seed, ep, rng, tgt.port);
        if (rng.chance(0.04)) batch.push(...fragmentSeries(f, rng));
        else batch.push(rng.chance(0.9) ? mutate(f, rng) : f);
      }
      for (const f of batch) tgt.put(f);
      route(tgt.step(t));
      t += rng.chance(0.03) ? rng.range(100, 5000) * 1e6 : rng.range(0, 2000) * 1e3;
    }
    drain(tgt, peers, flows, route, t);
    drained = true;
    tgt.checkDrained();
    return result(undefined, true);
  } catch (e) {
    if (e instanceof Finding) return result(e, drained);
    throw e;
  }
}

/** Resets every connection the core spoke on (again when a challenge ACK says where), then lets time pass. */
function drain(
  tgt: StackTarget,
  peers: Map<string, Peer>,
  flows: Map<string, Flow>,
  route: (tx: Buffer[]) => void,
  t: number,
): void {
  for (const p of peers.values()) {
    tgt.put(p.reset());
    p.done = true;
  }
  peers.clear();
  let quiet = 0;
  for (let round = 0; round < 60; round++) {
    const targets = [...flows.values()];
    flows.clear();
    for (const fl of targets)
      tgt.put(
        tcpFrame(ENDPOINTS, {
          v6: fl.v6,
          peer: fl.peer,
          sport: fl.peerPort,
          dport: fl.corePort,
          seq: fl.ack,
          ack: 0,
          flags: TCP_RST,
          win: 0,
        }),
      );
    t += Math.min(100e6 * 2 ** round, 60e9);
    const before = tgt.frameCount;
    route(tgt.step(t));
    if (flows.size === 0 && tgt.frameCount === before && tgt.tcbsInUse() === 0) {
      if (++quiet >= 3) break; // past 2 MSL with nothing in flight
    } else quiet = 0;
  }
}

function saveStackRepro(
  base: string,
  tgt: StackTarget,
  seed: number,
  epoch: number,
  finding: Finding,
  drained: boolean,
  rec: FindingRecord,
): void {
  const pcap = `${base}.pcap`;
  writePcap(pcap, tgt.frames, tgt.times);
  const command = `npm run fuzz -- --replay ${pcap}`;
  const meta: ReproMeta & { drained: boolean } = {
    version: 1,
    target: "stack",
    app: tgt.app,
    debug: tgt.debug,
    seed,
    epoch,
    finding: finding.message,
    polls: tgt.polls,
    command,
    drained,
  };
  writeMeta(`${base}.json`, meta);
  rec.pcap = pcap;
  rec.replay = command;
}

function decoderChunk(
  dec: DecoderTarget,
  seeds: Seeds,
  rng: Rng,
  n: number,
  o: FuzzOptions,
  epoch: number,
): { frames: number; finding?: FindingRecord } {
  for (let i = 0; i < n; i++) {
    const s = rng.pick(seeds.raw);
    let f = rng.chance(0.95) ? mutate(s.frame, rng, 0.5) : s.frame;
    if (f.length > 65535) f = f.subarray(0, 65535);
    const linktype = rng.chance(0.08) ? rng.pick(LINKTYPES) : s.linktype;
    const wire = rng.chance(0.8)
      ? Math.max(f.length, s.wireLen)
      : rng.chance(0.5)
        ? rng.int(70000)
        : 0xffffffff;
    try {
      dec.run(f, linktype, wire, rng.chance(0.5));
    } catch (e) {
      if (!(e instanceof Finding)) throw e;
      const base = join(o.outDir, `decoder-seed${o.seed}-epoch${epoch}-${i}`);
      const pcap = `${base}.pcap`;
      writePcap(pcap, [Buffer.from(f)], [0], linktype);
      const command = `npm run fuzz -- --replay ${pcap}`;
      const meta: ReproMeta = {
        version: 1,
        target: "decoder",
        app: "",
        debug: o.debug ?? false,
        seed: o.seed,
        epoch,
        finding: e.message,
        polls: [],
        linktypes: [linktype],
        wireLens: [wire],
        command,
      };
      writeMeta(`${base}.json`, meta);
      return {
        frames: i + 1,
        finding: { target: "decoder", kind: e.kind, message: e.message, epoch, pcap, replay: command },
      };
    }
  }
  return { frames: n };
}

/** Replays a reproducer: the same frames, polls and times on a fresh core. Returns the finding, or null. */
export function replay(
  pcapPath: string,
  debugOverride?: boolean,
): { meta: ReproMeta; finding: string | null } {
  const meta = readMeta(pcapPath.replace(/\.pcap$/, ".json")) as ReproMeta & { drained?: boolean };
  const { frames } = readPcap(pcapPath);
  const debug = debugOverride ?? meta.debug;
  try {
    if (meta.target === "decoder") {
      const dec = new DecoderTarget(debug);
      frames.forEach((f, i) => dec.run(f, meta.linktypes![i], meta.wireLens![i], false));
      frames.forEach((f, i) => dec.run(f, meta.linktypes![i], meta.wireLens![i], true));
      return { meta, finding: null };
    }
    const tgt = new StackTarget(meta.app as AppKind, debug);
    let k = 0;
    for (const p of meta.polls) {
      for (let i = 0; i < p.n; i++) tgt.put(frames[k++]);
      tgt.step(p.t);
    }
    if (meta.drained) tgt.checkDrained();
    return { meta, finding: null };
  } catch (e) {
    if (e instanceof Finding) return { meta, finding: e.message };
    throw e;
  }
}
