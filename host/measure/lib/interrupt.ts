// A bench stopped by Ctrl-C or SIGTERM must still remove what it made: network
// namespaces, veth pairs, servers that spin a CPU. Its sections spend most of
// their time in synchronous steps (a client run by spawnSync for seconds), when
// no signal handler can run, and their cleanup is in `finally` blocks. So the
// handler only records the signal; each section's loop calls interruptPoint()
// between steps, which lets the handler run (one turn of the event loop) and
// throws once a signal has come, and the section's `finally` tears down as after
// any error. A second signal ends the process at once. Only the sections that
// make such things catch signals (Section.interruptible); the others end at the
// first signal, as any process does. Ctrl-C also reaches the bench's children
// (one process group): the step under way then fails with its own error, and
// interruptedBy() tells the caller that a signal was the cause.

let caught: NodeJS.Signals | null = null;

export class BenchInterrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

/** Installs the handlers for a bench run; returns their removal. */
export function catchInterrupts(say: (line: string) => void): () => void {
  caught = null;
  const on = (sig: NodeJS.Signals) => {
    if (caught !== null) process.exit(130); // asked twice: no cleanup wanted
    caught = sig;
    say(`${sig}: stopping after the current step, then removing what the bench made (again to stop at once)`);
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) process.on(s, on);
  return () => {
    for (const s of signals) process.off(s, on);
  };
}

/** The signal caught since catchInterrupts(), or null. */
export function interruptedBy(): NodeJS.Signals | null {
  return caught;
}

/** Between two steps of a section: throws BenchInterrupted once a signal has come. */
export async function interruptPoint(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  if (caught !== null) throw new BenchInterrupted(caught);
}
