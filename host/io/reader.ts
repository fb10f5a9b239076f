// Streaming pcap/pcapng reader. It reads large chunks straight into the core's
// staging region (one SharedArrayBuffer, no intermediate copy) and frames records
// into fixed 32-byte descriptors there (assembly/mem/desc.ts), so a whole batch
// reaches the core in one call and no JS object is made per packet. Memory use is
// the staging region, whatever the file size.
//
// Formats: classic pcap (µs and ns magic, both byte orders) and pcapng (both byte
// orders, several sections, several interfaces with their own link type,
// if_tsresol and if_tsoffset; EPB, SPB and the obsolete packet block; custom
// blocks surface as non-packet records because tshark numbers them as frames;
// other blocks are skipped).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { Core } from "../core/core.ts";
import { TraceError } from "./errors.ts";
import { ticksToTime } from "./timestamp.ts";

// The descriptor's layout and flags come from abi/table.ts (as assembly/mem/desc.ts's).
import { DESC_BYTES, DESC_F_NO_TS, DESC_F_NOT_PACKET, DESC_F_TS_INVALID } from "../core/abi.gen.ts";
import { DESC_S_FLAGS, DESC_W_CAPLEN, DESC_W_IFACE, DESC_W_LEN, DESC_W_LINKTYPE } from "../core/abi.gen.ts";
import { DESC_W_NSEC, DESC_W_OFF, DESC_W_SEC } from "../core/abi.gen.ts";
export { DESC_BYTES, DESC_F_NO_TS, DESC_F_NOT_PACKET, DESC_F_TS_INVALID };

/** Largest captured length accepted for one record (libpcap's and Wireshark's limit). */
export const MAX_RECORD = 262144;

export type TraceFormat =
  "pcap-us-le" | "pcap-us-be" | "pcap-ns-le" | "pcap-ns-be" | "pcapng-le" | "pcapng-be";

interface Iface {
  linktype: number;
  snaplen: number;
  unitsPerSec: number;
  offsetSec: number;
}

const PCAPNG_SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_OPB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const BLOCK_CUSTOM = 0x00000bad;
const BLOCK_CUSTOM_NOCOPY = 0x40000bad;
const NOT_PACKET_LINKTYPE = 0xffff;

export interface ReaderOptions {
  /** Cap on records per batch (defaults to the core's descriptor slots). */
  batch?: number;
  /** Bytes read per refill (default 1 MiB, at least two maximal records): small enough that frames are decoded while still in cache (8 MiB reads measured 15 % slower). */
  chunkBytes?: number;
}

export class TraceReader {
  readonly path: string;
  format!: TraceFormat;
  /** Link types in the order the file declares them (pcap: one; pcapng: per interface). */
  readonly linktypes: number[] = [];
  /** Records framed so far (packets and non-packet records), i.e. the last record's number. */
  records = 0;
  readonly fileSize: number;

  private readonly fd: number;
  private readonly u8: Uint8Array;
  private readonly dv: DataView;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private readonly base: number; // staging offset in linear memory
  private readonly cap: number; // staging bytes
  private readonly descBase: number;
  private readonly maxBatch: number;
  private readonly chunk: number;
  private bufStart = 0; // file offset of staging[0]
  private fill = 0; // valid bytes in staging
  private pos = 0; // parse position in staging
  private skip = 0; // bytes of an oversized non-packet block still to skip in the file
  private pending: TraceError | null = null;
  private done = false;
  // pcap
  private le = true;
  private nano = false;
  private linktype = 0;
  /** pcap: the file header's snap length (pcapng: per interface, not here). */
  snaplen = 0;
  // pcapng
  private ng = false;
  private ifaces: Iface[] = [];
  private readonly t = { sec: 0, nsec: 0 };
  private readonly wasmFrame: (
    pos: number,
    end: number,
    first: number,
    max: number,
    swap: boolean,
    nano: boolean,
    linktype: number,
    snaplen: number,
  ) => number;
  private readonly wasmFramedEnd: () => number;
  /** The core's shard filter (assembly/flow/shard.ts) when it is configured as one shard of several, else null. */
  private readonly keep: ((count: number) => number) | null;

  constructor(path: string, core: Core, opts: ReaderOptions = {}) {
    this.path = path;
    const st = core.regions.staging;
    if (st.bytes < 2 * MAX_RECORD) throw new Error(`staging region too small (${st.bytes} bytes)`);
    this.base = st.offset;
    this.cap = st.bytes;
    this.u8 = core.u8;
    this.dv = new DataView(core.memory.buffer);
    this.u32 = core.u32;
    this.f64 = core.f64;
    this.descBase = core.regions.desc.offset;
    this.maxBatch = Math.min(opts.batch ?? Infinity, core.regions.desc.bytes / DESC_BYTES);
    this.chunk = Math.max(
      opts.chunkBytes ?? Number(process.env.IXWASM_READ_CHUNK ?? 1 << 20),
      2 * MAX_RECORD + 64,
    );
    this.wasmFrame = core.exports.framePcap as TraceReader["wasmFrame"];
    this.wasmFramedEnd = core.exports.pcapFramedEnd as () => number;
    this.keep = core.config.shards > 1 ? (core.exports.shardKeep as (count: number) => number) : null;
    this.fd = openSync(path, "r");
    this.fileSize = fstatSync(this.fd).size;
    try {
      this.refill();
      this.readHeader();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  close(): void {
    if (!this.done) closeSync(this.fd);
    this.done = true;
  }

  /** File offset of the next unparsed byte (progress). */
  get offset(): number {
    return this.bufStart + this.pos;
  }

  /**
   * Frames the next batch of records into descriptors 0..n-1 and returns n; 0 at the
   * end. A bad record ends the stream: the records before it are returned first, and
   * the following call throws the TraceError.
   */
  next(): number {
    for (;;) {
      if (this.pending) {
        const e = this.pending;
        this.pending = null;
        this.close();
        throw e;
      }
      if (this.done) return 0;
      const n = this.ng ? this.framePcapng() : this.framePcap();
      if (n > 0) {
        // One shard of several (replay --shard): the core keeps its own records, moved down
        // in order, in one call per batch; a batch with none of them frames the next one
        // (not a refill: the staging may still hold whole records).
        const k = this.keep ? this.kept(n) : n;
        if (k > 0) return k;
        continue;
      }
      if (this.pending) continue;
      if (this.atEof()) {
        if (this.fill > this.pos) this.fail(`file ends inside a record (${this.fill - this.pos} bytes left)`);
        else this.close();
        continue;
      }
      this.refill();
    }
  }

  private kept(n: number): number {
    const k = this.keep!(n);
    if (k >>> 0 === 0xffffffff) throw new Error("shard filter: the core's RSS key is not the symmetric one");
    return k;
  }

  private atEof(): boolean {
    return this.bufStart + this.fill + this.skip >= this.fileSize;
  }

  private fail(reason: string, at = this.bufStart + this.pos): void {
    this.pending = new TraceError(this.path, at, this.records + 1, reason);
  }

  /** Moves the unparsed tail to the front of staging and reads as much as fits. */
  private refill(): void {
    const keep = this.fill - this.pos;
    if (this.pos > 0 && keep > 0) this.u8.copyWithin(this.base, this.base + this.pos, this.base + this.fill);
    this.bufStart += this.pos + this.skip;
    this.skip = 0;
    this.fill = keep;
    this.pos = 0;
    // Read about one chunk at a time (at least one whole record's worth): the core
    // decodes the frames while the kernel's copy still has them in cache.
    const target = Math.min(this.cap, keep + this.chunk);
    while (this.fill < target) {
      const want = Math.min(target - this.fill, this.fileSize - (this.bufStart + this.fill));
      if (want <= 0) break;
      const got = readSync(this.fd, this.u8, this.base + this.fill, want, this.bufStart + this.fill);
      if (got <= 0) break;
      this.fill += got;
    }
  }

  private readHeader(): void {
    if (this.fill < 4)
      throw new TraceError(this.path, 0, 0, "not a pcap or pcapng file (shorter than a file header)");
    const m = this.dv.getUint32(this.base, false);
    if (m === PCAPNG_SHB) {
      this.ng = true;
      if (this.fill < 12) throw new TraceError(this.path, 0, 0, "file ends inside the pcapng section header");
      const bom = this.dv.getUint32(this.base + 8, true);
      if (bom !== BOM && bom !== 0x4d3c2b1a)
        throw new TraceError(this.path, 8, 0, "pcapng section header has no valid byte-order magic");
      this.format = bom === BOM ? "pcapng-le" : "pcapng-be";
      return; // the SHB itself is parsed as the first block
    }
    const magics: Record<number, [boolean, boolean]> = {
      0xa1b2c3d4: [false, false],
      0xd4c3b2a1: [true, false],
      0xa1b23c4d: [false, true],
      0x4d3cb2a1: [true, true],
    };
    const kind = magics[m];
    if (!kind)
      throw new TraceError(
        this.path,
        0,
        0,
        `not a pcap or pcapng file (magic 0x${m.toString(16).padStart(8, "0")})`,
      );
    [this.le, this.nano] = kind;
    this.format = `pcap-${this.nano ? "ns" : "us"}-${this.le ? "le" : "be"}` as TraceFormat;
    if (this.fill < 24) throw new TraceError(this.path, 0, 0, "file ends inside the pcap file header");
    const major = this.dv.getUint16(this.base + 4, this.le);
    const minor = this.dv.getUint16(this.base + 6, this.le);
    // Like Wireshark, accept any major version from 2 on (some writers store the
    // version in the other byte order); only versions before 2 are refused.
    if (major < 2) throw new TraceError(this.path, 4, 0, `unsupported pcap version ${major}.${minor}`);
    this.snaplen = this.dv.getUint32(this.base + 16, this.le);
    // The top bits of the link-type word carry FCS information (pcap-savefile(5)).
    this.linktype = this.dv.getUint32(this.base + 20, this.le) & 0xffff;
    this.linktypes.push(this.linktype);
    this.pos = 24;
  }

  private writeDesc(
    n: number,
    off: number,
    caplen: number,
    len: number,
    linktype: number,
    flags: number,
    sec: number,
    nsec: number,
    iface: number,
  ): void {
    const d = (this.descBase + n * DESC_BYTES) >>> 2;
    const u32 = this.u32;
    u32[d + DESC_W_OFF] = off;
    u32[d + DESC_W_CAPLEN] = caplen;
    u32[d + DESC_W_LEN] = len;
    u32[d + DESC_W_LINKTYPE] = linktype | (flags << DESC_S_FLAGS);
    u32[d + DESC_W_NSEC] = nsec;
    u32[d + DESC_W_IFACE] = iface;
    this.f64[(d + DESC_W_SEC) >>> 1] = sec;
  }

  /** Classic pcap: the record walk runs in the core (wire/pcap.ts); errors are found and worded here. */
  private framePcap(): number {
    const n = this.wasmFrame(
      this.base + this.pos,
      this.base + this.fill,
      0,
      this.maxBatch,
      !this.le,
      this.nano,
      this.linktype,
      this.snaplen,
    );
    this.pos = this.wasmFramedEnd() - this.base;
    this.records += n;
    if (n < this.maxBatch && this.fill - this.pos >= 16) {
      const caplen = this.dv.getUint32(this.base + this.pos + 8, this.le);
      if (caplen > MAX_RECORD)
        this.fail(`record claims ${caplen} captured bytes, more than the ${MAX_RECORD} allowed`);
      else if (this.snaplen && caplen > this.snaplen)
        this.fail(`record claims ${caplen} captured bytes, more than the file's snaplen ${this.snaplen}`);
    }
    return n;
  }

  private framePcapng(): number {
    const dv = this.dv;
    const base = this.base;
    let n = 0;
    while (n < this.maxBatch) {
      const avail = this.fill - this.pos;
      if (avail < 12) break;
      const p = base + this.pos;
      let le = this.le;
      const type = dv.getUint32(p, le);
      if (type === PCAPNG_SHB) {
        const bom = dv.getUint32(p + 8, true);
        if (bom === BOM) le = true;
        else if (bom === 0x4d3c2b1a) le = false;
        else {
          this.fail("pcapng section header has no valid byte-order magic");
          break;
        }
      }
      const total = dv.getUint32(p + 4, le);
      if (total < 12 || total % 4 !== 0) {
        this.fail(`pcapng block of type 0x${type.toString(16)} has invalid length ${total}`);
        break;
      }
      const isPacket =
        type === BLOCK_EPB ||
        type === BLOCK_SPB ||
        type === BLOCK_OPB ||
        type === BLOCK_IDB ||
        type === PCAPNG_SHB;
      if (total > avail) {
        if (total > this.cap - 64) {
          if (isPacket || type === BLOCK_CUSTOM || type === BLOCK_CUSTOM_NOCOPY) {
            this.fail(
              `pcapng block of type 0x${type.toString(16)} is ${total} bytes long, more than this reader accepts`,
            );
            break;
          }
          // A huge block we do not need (e.g. decryption secrets): skip it in the file.
          if (this.bufStart + this.pos + total > this.fileSize) {
            this.fail(`file ends inside a pcapng block of ${total} bytes`);
            break;
          }
          this.skip = total - avail;
          this.pos = this.fill;
          break;
        }
        break; // need more data
      }
      if (dv.getUint32(p + total - 4, le) !== total) {
        this.fail(
          `pcapng block of type 0x${type.toString(16)}: trailing length differs from leading length ${total}`,
        );
        break;
      }
      const ok = this.ngBlock(n, p, type, total, le);
      if (ok < 0) break;
      n += ok;
      this.pos += total;
    }
    return n;
  }

  /** Handles one complete block; returns descriptors written (0/1) or -1 after fail(). */
  private ngBlock(n: number, p: number, type: number, total: number, le: boolean): number {
    const dv = this.dv;
    switch (type) {
      case PCAPNG_SHB: {
        if (total < 28) return this.ngFail("pcapng section header block too short");
        const major = dv.getUint16(p + 12, le);
        const minor = dv.getUint16(p + 14, le);
        if (major !== 1) return this.ngFail(`unsupported pcapng section version ${major}.${minor}`);
        if (!this.checkOptions(p + 24, p + total - 4, le)) return -1;
        this.le = le;
        this.ifaces = [];
        return 0;
      }
      case BLOCK_IDB: {
        if (total < 20) return this.ngFail("pcapng interface description block too short");
        const iface: Iface = {
          linktype: dv.getUint16(p + 8, le),
          snaplen: dv.getUint32(p + 12, le),
          unitsPerSec: 1e6,
          offsetSec: 0,
        };
        if (!this.checkOptions(p + 16, p + total - 4, le, iface)) return -1;
        this.ifaces.push(iface);
        this.linktypes.push(iface.linktype);
        return 0;
      }
      case BLOCK_EPB:
      case BLOCK_OPB: {
        if (total < 32) return this.ngFail("pcapng packet block too short");
        const ifi = type === BLOCK_EPB ? dv.getUint32(p + 8, le) : dv.getUint16(p + 8, le);
        const iface = this.ifaces[ifi];
        if (!iface) return this.ngFail(`packet on interface ${ifi}, which the section does not describe`);
        const caplen = dv.getUint32(p + 20, le);
        if (caplen > MAX_RECORD)
          return this.ngFail(`record claims ${caplen} captured bytes, more than the ${MAX_RECORD} allowed`);
        if (iface.snaplen && caplen > iface.snaplen)
          return this.ngFail(
            `record claims ${caplen} captured bytes, more than interface ${ifi}'s snaplen ${iface.snaplen}`,
          );
        if (caplen > total - 32)
          return this.ngFail(`packet block of ${total} bytes cannot hold ${caplen} captured bytes`);
        ticksToTime(dv.getUint32(p + 12, le), dv.getUint32(p + 16, le), iface.unitsPerSec, this.t);
        this.records++;
        this.writeDesc(
          n,
          p + 28,
          caplen,
          dv.getUint32(p + 24, le),
          iface.linktype,
          0,
          this.t.sec + iface.offsetSec,
          this.t.nsec,
          ifi,
        );
        return 1;
      }
      case BLOCK_SPB: {
        if (total < 16) return this.ngFail("pcapng simple packet block too short");
        const iface = this.ifaces[0];
        if (!iface) return this.ngFail("simple packet block before any interface description");
        const len = dv.getUint32(p + 8, le);
        let caplen = Math.min(len, total - 16);
        if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
        this.records++;
        this.writeDesc(n, p + 12, caplen, len, iface.linktype, DESC_F_NO_TS, 0, 0, 0);
        return 1;
      }
      case BLOCK_CUSTOM:
      case BLOCK_CUSTOM_NOCOPY: {
        // Not a packet, but tshark shows it as a frame: keep numbering aligned.
        this.records++;
        const len = total - 16;
        this.writeDesc(n, p + 12, len, len, NOT_PACKET_LINKTYPE, DESC_F_NOT_PACKET | DESC_F_NO_TS, 0, 0, 0);
        return 1;
      }
      default:
        return 0; // NRB, ISB, DSB, unknown: skipped
    }
  }

  private ngFail(reason: string): number {
    this.fail(reason);
    return -1;
  }

  /** Walks an option list [from, to); reads if_tsresol/if_tsoffset into iface. */
  private checkOptions(from: number, to: number, le: boolean, iface?: Iface): boolean {
    const dv = this.dv;
    let q = from;
    while (q + 4 <= to) {
      const code = dv.getUint16(q, le);
      const len = dv.getUint16(q + 2, le);
      if (code === 0) return true; // opt_endofopt
      const padded = (len + 3) & ~3;
      if (q + 4 + padded > to) {
        this.fail(
          `pcapng option ${code} of length ${len} runs past the end of its block`,
          this.bufStart + (q - this.base),
        );
        return false;
      }
      if (iface && code === 9 && len >= 1) {
        const v = this.u8[q + 4];
        iface.unitsPerSec = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
      } else if (iface && code === 14 && len >= 8) {
        iface.offsetSec = Number(dv.getBigInt64(q + 4, le));
      }
      q += 4 + padded;
    }
    return true;
  }
}
