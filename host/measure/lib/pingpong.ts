// The 64-byte TCP ping-pong client the tap benchmarks run inside a namespace
// (host/io/netns.ts inNs): `node -e PINGPONG host n size`.
/** Node script: one connection to `host`:7, N round trips of `size` bytes; prints the RTTs (µs) as JSON (argv: host n size). */
export const PINGPONG = `
const net = require("node:net");
const [host, n, size] = [process.argv[1], +process.argv[2], +process.argv[3]];
const s = net.connect({ host, port: 7 }); s.setNoDelay(true);
const msg = Buffer.alloc(size, 0x5a); const rtt = []; let got = 0; let t = 0;
s.on("connect", () => { t = process.hrtime.bigint(); s.write(msg); });
s.on("data", (d) => { got += d.length; while (got >= size) { got -= size;
  const now = process.hrtime.bigint(); rtt.push(Number(now - t) / 1000);
  if (rtt.length === n) { console.log(JSON.stringify(rtt)); s.destroy(); return; }
  t = process.hrtime.bigint(); s.write(msg); } });
setTimeout(() => { console.log(JSON.stringify(rtt)); process.exit(0); }, 30000).unref();
`;
