// A kernel-side client for the app-module tap tests (test/tap/app-module-workers.test.ts),
// run inside the tap's namespace: N echo connections held open; optionally a
// connection from a chosen local port that makes the faulty module misbehave
// (examples/faulty, rport=); then a second message on each held connection, and M
// fresh connections. Prints one JSON line: what each connection got back.
// Usage: node module-conns.mjs HOST PORT N [TRIGGER_PORT] [M]
import net from "node:net";

const [host, portS, nS, triggerS = "0", mS = "0"] = process.argv.slice(2);
const port = Number(portS);
const n = Number(nS);
const trigger = Number(triggerS);
const m = Number(mS);
const WAIT_MS = 3000;

function open(localPort) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localPort: localPort || undefined });
    const c = { s, got: "", closed: false, error: null };
    s.on("data", (d) => (c.got += d));
    s.on("error", (e) => (c.error = e.code ?? e.message));
    s.on("close", () => (c.closed = true));
    s.on("connect", () => resolve(c));
    setTimeout(() => resolve(c), WAIT_MS);
  });
}

/** Sends msg and waits until the echo is complete, the connection ends, or WAIT_MS pass. */
async function echo(c, msg) {
  const want = c.got + msg;
  if (!c.closed) c.s.write(msg);
  const t0 = Date.now();
  while (c.got.length < want.length && !c.closed && Date.now() - t0 < WAIT_MS)
    await new Promise((r) => setTimeout(r, 5));
  return c.got === want;
}

const held = [];
for (let i = 0; i < n; i++) held.push(await open(0));
const first = await Promise.all(held.map((c, i) => echo(c, `first ${i}\n`)));
let triggered = null;
if (trigger) {
  const t = await open(trigger);
  t.s.write("misbehave\n");
  const t0 = Date.now();
  while (!t.closed && Date.now() - t0 < WAIT_MS) await new Promise((r) => setTimeout(r, 5));
  triggered = { got: t.got, closed: t.closed, error: t.error };
  await new Promise((r) => setTimeout(r, 200));
}
const second = [];
for (let i = 0; i < n; i++) second.push(await echo(held[i], `second ${i}\n`));
const fresh = [];
for (let i = 0; i < m; i++) {
  const c = await open(0);
  fresh.push(await echo(c, `fresh ${i}\n`));
  c.s.end();
}
for (const c of held) c.s.destroy();
console.log(
  JSON.stringify({
    first,
    second,
    reset: held.map((c) => c.error),
    triggered,
    fresh,
  }),
);
process.exit(0);
