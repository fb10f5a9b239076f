// Capture writer: classic pcap (µs or ns) and pcapng (one section, one interface
// per link type written, EPBs with nanosecond if_tsresol). Buffered: records are
// gathered in one 1 MiB buffer and written with one syscall per buffer.
import { closeSync, openSync, writeSync } from "node:fs";
import { timeToNsTicks } from "./timestamp.ts";

export type WriteFormat = "pcap" | "pcap-ns" | "pcapng";

export interface WriterOptions {
  format?: WriteFormat;
  linktype?: number;
  snaplen?: number;
}

const BUF = 1 << 20;

/** The format a file name asks for: .pcapng → pcapng, otherwise pcap (µs). */
export function formatForPath(path: string): WriteFormat {
  return path.endsWith(".pcapng") ? "pcapng" : "pcap";
}

export class TraceWriter {
  readonly format: WriteFormat;
  records = 0;
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(BUF);
  private len = 0;
  private readonly snaplen: number;
  private readonly ifaceOf = new Map<number, number>(); // linktype -> pcapng interface id
  private readonly defaultLinktype: number;
  private readonly ticks = { hi: 0, lo: 0 };

  constructor(
    readonly path: string,
    opts: WriterOptions = {},
  ) {
    this.format = opts.format ?? formatForPath(path);
    this.snaplen = opts.snaplen ?? 262144;
    this.defaultLinktype = opts.linktype ?? 1;
    this.fd = openSync(path, "w");
    if (this.format === "pcapng") this.sectionHeader();
    else this.pcapHeader();
  }

  private room(n: number): void {
    if (this.len + n > BUF) this.flush();
  }

  flush(): void {
    let off = 0;
    while (off < this.len) off += writeSync(this.fd, this.buf, off, this.len - off);
    this.len = 0;
  }

  private pcapHeader(): void {
    const b = this.buf;
    b.writeUInt32LE(this.format === "pcap-ns" ? 0xa1b23c4d : 0xa1b2c3d4, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt16LE(4, 6);
    b.writeInt32LE(0, 8);
    b.writeUInt32LE(0, 12);
    b.writeUInt32LE(this.snaplen, 16);
    b.writeUInt32LE(this.defaultLinktype, 20);
    this.len = 24;
  }

  private sectionHeader(): void {
    const b = this.buf;
    // SHB: type, length, byte-order magic, version 1.0, section length unknown (-1).
    b.writeUInt32LE(0x0a0d0d0a, 0);
    b.writeUInt32LE(28, 4);
    b.writeUInt32LE(0x1a2b3c4d, 8);
    b.writeUInt16LE(1, 12);
    b.writeUInt16LE(0, 14);
    b.writeInt32LE(-1, 16);
    b.writeInt32LE(-1, 20);
    b.writeUInt32LE(28, 24);
    this.len = 28;
  }

  private iface(linktype: number): number {
    let id = this.ifaceOf.get(linktype);
    if (id !== undefined) return id;
    id = this.ifaceOf.size;
    this.ifaceOf.set(linktype, id);
    // IDB with if_tsresol = 9 (nanoseconds) and end of options.
    const total = 20 + 8 + 4;
    this.room(total);
    const b = this.buf;
    let p = this.len;
    b.writeUInt32LE(1, p);
    b.writeUInt32LE(total, p + 4);
    b.writeUInt16LE(linktype, p + 8);
    b.writeUInt16LE(0, p + 10);
    b.writeUInt32LE(this.snaplen, p + 12);
    b.writeUInt16LE(9, p + 16); // if_tsresol
    b.writeUInt16LE(1, p + 18);
    b.writeUInt32LE(9, p + 20); // value 9 + 3 bytes padding
    b.writeUInt32LE(0, p + 24); // opt_endofopt
    b.writeUInt32LE(total, p + 28);
    this.len = p + total;
    return id;
  }

  /** Appends one frame: bytes src[off, off+caplen), captured at sec.nsec, original length len. */
  write(
    src: Uint8Array,
    off: number,
    caplen: number,
    sec: number,
    nsec: number,
    len = caplen,
    linktype = this.defaultLinktype,
  ): void {
    if (caplen > this.snaplen) caplen = this.snaplen;
    this.records++;
    if (this.format === "pcapng") {
      const id = this.iface(linktype);
      const padded = (caplen + 3) & ~3;
      const total = 32 + padded;
      this.room(total);
      const b = this.buf;
      const p = this.len;
      timeToNsTicks(sec, nsec, this.ticks);
      b.writeUInt32LE(6, p);
      b.writeUInt32LE(total, p + 4);
      b.writeUInt32LE(id, p + 8);
      b.writeUInt32LE(this.ticks.hi, p + 12);
      b.writeUInt32LE(this.ticks.lo, p + 16);
      b.writeUInt32LE(caplen, p + 20);
      b.writeUInt32LE(len, p + 24);
      b.set(src.subarray(off, off + caplen), p + 28);
      b.fill(0, p + 28 + caplen, p + 28 + padded);
      b.writeUInt32LE(total, p + 28 + padded);
      this.len = p + total;
    } else {
      this.room(16 + caplen);
      const b = this.buf;
      const p = this.len;
      b.writeUInt32LE(sec, p);
      b.writeUInt32LE(this.format === "pcap-ns" ? nsec : Math.floor(nsec / 1000), p + 4);
      b.writeUInt32LE(caplen, p + 8);
      b.writeUInt32LE(len, p + 12);
      b.set(src.subarray(off, off + caplen), p + 16);
      this.len = p + 16 + caplen;
    }
  }

  /**
   * pcapng interface id for a link type, writing its IDB on first use. For callers of
   * writeRecords that format EPBs themselves (the caller must use the id returned).
   */
  interfaceFor(linktype: number): number {
    return this.format === "pcapng" ? this.iface(linktype) : 0;
  }

  /**
   * Fast path for generators that format whole records in their own buffer (pcap
   * record headers, or pcapng EPBs naming an id from interfaceFor): appends
   * src[off, off+len), which holds `records` records, with no copy.
   */
  writeRecords(src: Uint8Array, off: number, len: number, records: number): void {
    this.flush();
    const end = off + len;
    while (off < end) off += writeSync(this.fd, src, off, end - off);
    this.records += records;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
