// Differential check: the dispatcher's lean tuple walk (flow/extract.ts, via
// hashBatch) against the full frame decoder (wire/decode.ts, via decodeBatch) on
// every frame of the public corpus: wherever both report an unfragmented
// TCP/UDP tuple, hashBatch must hash exactly the decoder's tuple; hashBatch must
// never report ports the decoder did not see, and must find ports wherever the
// decoder does (untruncated). One intended difference is skipped and counted:
// for TCP inside a UDP tunnel (GTP-U, VXLAN) the decoder reports the inner TCP
// ports the way tshark does, while hashBatch hashes the outer UDP tuple as NIC
// RSS would.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { SCRATCH_BASE, createCore } from "../../host/core/core.ts";
import { CORPUS, corpusNote } from "../helpers/corpus.ts";
import { readAll } from "../helpers/records.ts";
import {
  DESC_S_FLAGS,
  DESC_W_CAPLEN,
  DESC_W_LEN,
  DESC_W_LINKTYPE,
  DESC_W_OFF,
  DESC_WORDS,
} from "../../host/core/abi.gen.ts";

type Fn = (...a: number[]) => number;
const SUM_F_IP = 1;
const SUM_F_PORTS = 2;
const SUM_F_FRAG = 16;
const SUM_F_TRUNC = 32;
const SUM_F_ANY_TCP = 1 << 11;
const SUM_F_ANY_UDP = 1 << 12;
const HB_F_PORTS = 4;

if (corpusNote("the hashBatch/decoder comparison"))
  test("hashBatch hashes the tuple wire/decode reports, on every corpus frame", () => {
    const core = createCore({ stagingBytes: 4 << 20, descSlots: 512, mbufs: 0, ringSlots: 0, flows: 16 });
    const f = core.exports as unknown as Record<string, Fn>;
    let agree = 0;
    let tunnels = 0;
    const problems: string[] = [];
    for (const name of readdirSync(CORPUS).sort()) {
      if (!/\.(pcap|pcapng|cap)$/.test(name)) continue;
      const { recs } = readAll(join(CORPUS, name));
      for (let s = 0; s < recs.length; s += 512) {
        const batch = recs.slice(s, s + 512);
        let at = core.regions.staging.offset;
        const d32 = core.regions.desc.offset >>> 2;
        batch.forEach((r, i) => {
          core.u8.set(r.data, at);
          const w = d32 + i * DESC_WORDS;
          core.u32[w + DESC_W_OFF] = at;
          core.u32[w + DESC_W_CAPLEN] = r.caplen;
          core.u32[w + DESC_W_LEN] = r.len;
          core.u32[w + DESC_W_LINKTYPE] = r.linktype | (r.flags << DESC_S_FLAGS);
          at += (r.caplen + 7) & ~7;
        });
        f.decodeBatch(batch.length);
        assert.is(f.hashBatch(batch.length), batch.length);
        for (let i = 0; i < batch.length; i++) {
          const sum = core.regions.decode.offset + i * 64;
          const sf = core.u16[sum >>> 1];
          const ipver = core.u8[sum + 2];
          const sp = core.u16[(sum + 4) >>> 1];
          const dp = core.u16[(sum + 6) >>> 1];
          const hb = SCRATCH_BASE + i * 8;
          const mine = core.u32[hb >>> 2];
          const mineFlags = core.u8[hb + 7];
          const wirePorts = (sf & SUM_F_IP) !== 0 && (sf & SUM_F_PORTS) !== 0 && (sf & SUM_F_FRAG) === 0;
          const where = `${name} #${s + i + 1}`;
          if (wirePorts && (sf & SUM_F_ANY_TCP) !== 0 && (sf & SUM_F_ANY_UDP) !== 0) {
            tunnels++;
          } else if (wirePorts) {
            const want =
              (ipver === 4
                ? f.rssHashV4At(sum + 32, sum + 48, sp, dp)
                : f.rssHashV6At(sum + 32, sum + 48, sp, dp)) >>> 0;
            if (!(mineFlags & HB_F_PORTS)) {
              if (!(sf & SUM_F_TRUNC)) problems.push(`${where}: decoder has ports, hashBatch not`);
            } else if (want !== mine)
              problems.push(`${where}: hash ${mine.toString(16)} != ${want.toString(16)}`);
            else agree++;
          } else if (mineFlags & HB_F_PORTS)
            problems.push(`${where}: hashBatch found ports the decoder did not`);
        }
      }
    }
    console.log(
      `  ${agree} frames agree, ${problems.length} differ, ${tunnels} TCP-in-UDP-tunnel frames skipped`,
    );
    assert.equal(problems.slice(0, 10), []);
    assert.ok(agree > 1000);
  });

test.run();
