// The tap path's floor from Node: native/tap-reflect.c written in TypeScript
// over the same FFI the tap uses (host/io/tap.ts: koffi read(2), write(2),
// poll(2)), with the same turn-around in place and the same 20 ms slices
// between turns of the event loop as `ixwasm tap`. `ixwasm bench tap` runs it
// beside the C reflector and the tap: C → this is what Node and koffi cost a
// frame; this → the tap is what ixwasm's loop and core cost.
//   ARP request (RFC 826): answered for any address, with our MAC.
//   IPv4 ICMP echo request: type 0, checksum patched incrementally (RFC 1624
//     eqn. 3); addresses swapped (a swap leaves the IP header checksum valid).
//   IPv4 UDP/TCP: addresses and ports swapped (checksums stay valid: the
//     pseudo-header sums both addresses).
//   Anything else: dropped. MACs swapped (ours as the source).
//
// Usage: node tap-reflect-js.js IFNAME busy|block
// Prints "ready" on stderr once the tap exists, serves until SIGTERM/SIGINT,
// then prints its counts as one JSON object on stdout (the C reflector's keys).
// Ends by itself after 900 s.
import { TapDevice } from "../io/tap.ts";

const MAC = [0x02, 0x00, 0xc6, 0x12, 0x04, 0x02];
const SLICE_MS = 20;
const LIFETIME_MS = 900_000;

/** Turns the frame in f[0..n) around in place; returns its length to send, or 0 to drop. */
export function reflect(f: Uint8Array, n: number): number {
  if (n < 14) return 0;
  f.copyWithin(0, 6, 12); // destination: the sender
  f.set(MAC, 6);
  const type = (f[12] << 8) | f[13];
  if (type === 0x0806) {
    const a = 14;
    if (n < 42 || f[a + 6] !== 0 || f[a + 7] !== 1) return 0; // requests only
    f[a + 7] = 2;
    const asked = f[a + 24] | (f[a + 25] << 8) | (f[a + 26] << 16) | (f[a + 27] << 24);
    f.copyWithin(a + 18, a + 8, a + 18); // target: the asker's MAC and address
    f.set(MAC, a + 8); // sender: us, with the address asked for
    f[a + 14] = asked & 0xff;
    f[a + 15] = (asked >>> 8) & 0xff;
    f[a + 16] = (asked >>> 16) & 0xff;
    f[a + 17] = asked >>> 24;
    return n;
  }
  if (type !== 0x0800 || n < 34) return 0;
  const ip = 14;
  const ihl = (f[ip] & 15) * 4;
  if (ihl < 20 || n < ip + ihl + 8) return 0;
  for (let i = 0; i < 4; i++) {
    const t = f[ip + 12 + i];
    f[ip + 12 + i] = f[ip + 16 + i];
    f[ip + 16 + i] = t;
  }
  const l4 = ip + ihl;
  switch (f[ip + 9]) {
    case 1: {
      if (f[l4] !== 8) return 0;
      f[l4] = 0;
      // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m = 0x0800 (type 8, code 0), m' = 0.
      let s = (~((f[l4 + 2] << 8) | f[l4 + 3]) & 0xffff) + (~0x0800 & 0xffff);
      s = (s & 0xffff) + (s >>> 16);
      s = (s & 0xffff) + (s >>> 16);
      const c = ~s & 0xffff || 0xffff; // all-zero id, seq and data: 0x0000 would fail a folding receiver
      f[l4 + 2] = c >>> 8;
      f[l4 + 3] = c & 0xff;
      return n;
    }
    case 6:
    case 17: {
      const p0 = f[l4];
      const p1 = f[l4 + 1];
      f[l4] = f[l4 + 2];
      f[l4 + 1] = f[l4 + 3];
      f[l4 + 2] = p0;
      f[l4 + 3] = p1;
      return n;
    }
    default:
      return 0;
  }
}

function main(argv: string[]): void {
  const [ifname, mode] = argv;
  if (!ifname || (mode !== "busy" && mode !== "block")) {
    process.stderr.write("usage: tap-reflect-js IFNAME busy|block\n");
    process.exit(2);
  }
  const busy = mode === "busy";
  const dev = TapDevice.open({ ifname, queues: 1 });
  const buf = Buffer.allocUnsafeSlow(2048); // off the V8 heap: its address does not move
  const addr = dev.address(buf);
  const c = { rx: 0, tx: 0, reads: 0, empty_reads: 0, writes: 0, polls: 0, errors: 0 };
  let stop = false;
  const end = () => (stop = true);
  process.on("SIGTERM", end);
  process.on("SIGINT", end);
  const die = setTimeout(() => process.exit(3), LIFETIME_MS);
  process.stderr.write("ready\n");
  const slice = () => {
    const until = performance.now() + SLICE_MS;
    for (let k = 1; ; k++) {
      if ((k & 63) === 0 && performance.now() >= until) break; // the clock read amortized over 64 reads
      const n = dev.read(0, addr, buf.length);
      c.reads++;
      if (n > 0) {
        c.rx++;
        const out = reflect(buf, n);
        if (out) {
          c.writes++;
          if (dev.write(0, addr, out)) c.tx++;
          else c.errors++;
        }
        continue;
      }
      if (n < 0) c.errors++; // EIO until the link is up
      c.empty_reads++;
      if (!busy) {
        c.polls++;
        dev.wait(SLICE_MS);
        if (performance.now() >= until) break;
      }
    }
    if (!stop) return setImmediate(slice);
    clearTimeout(die);
    dev.close();
    process.stdout.write(JSON.stringify(c) + "\n");
  };
  setImmediate(slice);
}

if (process.argv[1] && /tap-reflect-js\.[jt]s$/.test(process.argv[1])) main(process.argv.slice(2));
