// Errors the host reports to users: one line naming the problem, and where.

/** A capture that cannot be read past some record. The records before it stay valid. */
export class TraceError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly packet: number,
    readonly reason: string,
  ) {
    super(`${file}: ${reason} (byte offset ${offset}, packet ${packet})`);
    this.name = "TraceError";
  }
}

/** A problem with how the program was invoked or its environment, with the fix. */
export class UsageError extends Error {
  constructor(
    readonly problem: string,
    readonly fix?: string,
  ) {
    super(fix ? `${problem}; ${fix}` : problem);
    this.name = "UsageError";
  }
}
