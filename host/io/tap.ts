// A Linux tap device driven with direct syscalls through koffi (a prebuilt FFI
// from the npm registry): open(/dev/net/tun), ioctl(TUNSETIFF), then read(2) and
// write(2) with a raw address inside a core's shared WebAssembly.Memory, so the
// kernel copies each frame straight into a posted RX mbuf and straight out of a
// TX mbuf (no JS copy, no Buffer per frame).
//
// Why koffi and not fs.readSync or an N-API addon (docs/design/tap.md):
// fs.readSync on an empty non-blocking fd throws an Error for EAGAIN (~31 µs on
// the AMD VM, against 4.7 µs through koffi). Koffi is an N-API addon itself: a
// plain addon's read(2) measured the same (~80 ns over C's 120-130 on the Intel
// VM), needs a compiler at install time, and koffi ships binaries.
//
// One fd per queue (IFF_MULTI_QUEUE when there are several), all non-blocking;
// wait() blocks in poll(2) on all of them when the caller found them empty.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { UsageError } from "./errors.ts";

const O_RDWR = 0o2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_MULTI_QUEUE = 0x0100;
const IFF_NO_PI = 0x1000;
const IFREQ_BYTES = 40; // struct ifreq: name[16], then the union (flags: short at 16)
const IFNAMSIZ = 16;
const POLLIN = 0x0001;
const POLLFD_BYTES = 8; // struct pollfd { int fd; short events; short revents; }

export const EAGAIN = 11;
export const EINTR = 4;
export const EIO = 5;
const ENOENT = 2;
const EPERM = 1;
const EACCES = 13;
const EBUSY = 16;
const EINVAL = 22;
const ENODEV = 19;

/** The libc calls we use, bound once. Addresses are plain numbers (< 2^53 on x86-64 Linux). */
interface Libc {
  open(path: string, flags: number): number;
  ioctl(fd: number, req: number, arg: Buffer): number;
  read(fd: number, addr: number, n: number): number;
  write(fd: number, addr: number, n: number): number;
  poll(fds: Buffer, n: number, timeoutMs: number): number;
  close(fd: number): number;
  strerror(e: number): string;
  errno(): number;
  address(view: Uint8Array): number;
}

let libc: Libc | null = null;

/** Loads koffi and binds libc on first use (other commands never pay for it). */
export function loadLibc(): Libc {
  if (libc) return libc;
  const require = createRequire(import.meta.url);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require("koffi") as typeof import("koffi");
  const lib = koffi.load("libc.so.6");
  // Pointers into WASM memory are declared as uintptr_t so a call passes a
  // number (base + offset) instead of a typed-array view made per frame.
  const read = lib.func("intptr_t read(int fd, uintptr_t buf, size_t n)");
  const write = lib.func("intptr_t write(int fd, uintptr_t buf, size_t n)");
  libc = {
    open: lib.func("int open(const char *path, int flags)"),
    ioctl: lib.func("int ioctl(int fd, unsigned long req, void *arg)"),
    read: read as Libc["read"],
    write: write as Libc["write"],
    poll: lib.func("int poll(void *fds, unsigned long n, int timeout)"),
    close: lib.func("int close(int fd)"),
    strerror: lib.func("const char *strerror(int e)"),
    errno: () => koffi.errno(),
    address: (v: Uint8Array) => Number(koffi.address(v)) + v.byteOffset,
  };
  return libc;
}

export interface TapOpenOptions {
  ifname: string;
  queues: number;
}

/** Checks the name the kernel would take (IFNAMSIZ - 1 bytes, no '/', ':' or spaces). */
export function checkIfname(name: string): void {
  if (!name || Buffer.byteLength(name) >= IFNAMSIZ || /[/:\s]/.test(name) || name === "." || name === "..")
    throw new UsageError(
      `invalid interface name "${name}"`,
      "use 1 to 15 characters without '/', ':' or spaces",
    );
}

export class TapDevice {
  readonly fds: number[] = [];
  private readonly c: Libc;
  private readonly pollfds: Buffer;
  private closed = false;
  /** Per-queue counts of read/write failures other than EAGAIN (e.g. EIO while the link is down). */
  readonly readErrors: number[];
  readonly writeErrors: number[];
  lastErrno = 0;

  private constructor(
    readonly ifname: string,
    readonly queues: number,
  ) {
    this.c = loadLibc();
    this.pollfds = Buffer.alloc(POLLFD_BYTES * queues);
    this.readErrors = new Array<number>(queues).fill(0);
    this.writeErrors = new Array<number>(queues).fill(0);
  }

  /**
   * Creates the tap (or attaches to an existing persistent tap of the same name
   * and flags) with one non-blocking fd per queue. The device disappears when
   * the last fd closes, unless it was made persistent by someone else.
   */
  static open(o: TapOpenOptions): TapDevice {
    checkIfname(o.ifname);
    if (!existsSync("/dev/net/tun"))
      throw new UsageError(
        "/dev/net/tun does not exist",
        "load the tun module (modprobe tun) or run where tap devices exist",
      );
    const dev = new TapDevice(o.ifname, o.queues);
    try {
      for (let q = 0; q < o.queues; q++) dev.fds.push(dev.openQueue(o.queues > 1));
    } catch (e) {
      dev.close();
      throw e;
    }
    for (let q = 0; q < o.queues; q++) {
      dev.pollfds.writeInt32LE(dev.fds[q], q * POLLFD_BYTES);
      dev.pollfds.writeInt16LE(POLLIN, q * POLLFD_BYTES + 4);
    }
    return dev;
  }

  /**
   * A device over queue fds another thread opened (fds are process-wide): a
   * tap worker's view of the queues it serves. It polls only these fds; the
   * opener keeps ownership and closes them (never close() an adopted device).
   */
  static adopt(ifname: string, fds: number[]): TapDevice {
    const dev = new TapDevice(ifname, fds.length);
    fds.forEach((fd, q) => {
      dev.fds.push(fd);
      dev.pollfds.writeInt32LE(fd, q * POLLFD_BYTES);
      dev.pollfds.writeInt16LE(POLLIN, q * POLLFD_BYTES + 4);
    });
    dev.closed = true;
    return dev;
  }

  private openQueue(multi: boolean): number {
    const c = this.c;
    const fd = c.open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      const e = c.errno();
      if (e === EACCES || e === EPERM)
        throw new UsageError(
          "cannot open /dev/net/tun: permission denied",
          "run as root (tap devices need CAP_NET_ADMIN)",
        );
      if (e === ENOENT || e === ENODEV)
        throw new UsageError(
          "/dev/net/tun is not usable (no tun driver)",
          "load the tun module (modprobe tun)",
        );
      throw new UsageError(`cannot open /dev/net/tun: ${c.strerror(e)}`);
    }
    const ifr = Buffer.alloc(IFREQ_BYTES);
    ifr.write(this.ifname, 0, "utf8");
    ifr.writeUInt16LE(IFF_TAP | IFF_NO_PI | (multi ? IFF_MULTI_QUEUE : 0), IFNAMSIZ);
    if (c.ioctl(fd, TUNSETIFF, ifr) < 0) {
      const e = c.errno();
      c.close(fd);
      if (e === EPERM || e === EACCES)
        throw new UsageError(
          `cannot create tap ${this.ifname}: permission denied`,
          "run as root (CAP_NET_ADMIN)",
        );
      if (e === EBUSY)
        throw new UsageError(
          `interface ${this.ifname} already exists and is in use`,
          "pick another --ifname",
        );
      if (e === EINVAL)
        throw new UsageError(
          `interface ${this.ifname} already exists and is not a ${multi ? "multi-queue " : ""}tap`,
          "pick another --ifname (or delete it with `ip link del`)",
        );
      throw new UsageError(`TUNSETIFF ${this.ifname}: ${c.strerror(e)}`);
    }
    return fd;
  }

  /** Raw address of a view's first byte (the view must stay alive and never move: a WASM memory's buffer does not). */
  address(view: Uint8Array): number {
    return this.c.address(view);
  }

  /** Reads one frame into addr (at most max bytes). Returns its length, 0 when the queue is empty, -1 on another error. */
  read(q: number, addr: number, max: number): number {
    const n = this.c.read(this.fds[q], addr, max);
    if (n > 0) return n;
    const e = this.c.errno();
    if (n < 0 && (e === EAGAIN || e === EINTR)) return 0;
    this.lastErrno = e;
    this.readErrors[q]++;
    return -1;
  }

  /** Writes one frame from addr. Returns true if the kernel took it (EIO while the link is down counts as an error). */
  write(q: number, addr: number, len: number): boolean {
    const n = this.c.write(this.fds[q], addr, len);
    if (n === len) return true;
    this.lastErrno = n < 0 ? this.c.errno() : 0;
    this.writeErrors[q]++;
    return false;
  }

  /** Blocks up to timeoutMs in poll(2) on every queue; returns a bit mask of readable queues (low 31). */
  wait(timeoutMs: number): number {
    const n = this.c.poll(this.pollfds, this.queues, timeoutMs);
    if (n <= 0) return 0;
    let mask = 0;
    for (let q = 0; q < this.queues && q < 31; q++)
      if (this.pollfds.readInt16LE(q * POLLFD_BYTES + 6) & POLLIN) mask |= 1 << q;
    return mask;
  }

  strerror(e: number): string {
    return this.c.strerror(e);
  }

  /** Closes every queue fd (a non-persistent tap is then removed by the kernel). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.fds) this.c.close(fd);
  }
}
