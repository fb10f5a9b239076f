// Reads a generated capture back for the gen tests: TCP segments per connection,
// and memcached requests/responses reassembled from the byte streams (ASCII and
// binary), each request stamped with the time its last byte arrived.
import { readAll } from "../helpers/records.ts";

export interface Segment {
  t: number; // ns since the first packet
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: number;
  seq: number;
  ack: number;
  payload: Buffer;
}

export function segments(path: string): Segment[] {
  const { recs, error } = readAll(path);
  if (error) throw error;
  const out: Segment[] = [];
  const t0 = recs.length ? recs[0].sec * 1e9 + recs[0].nsec : 0;
  for (const r of recs) {
    const d = r.data;
    if (d.readUInt16BE(12) !== 0x0800 || d[23] !== 6) continue;
    const ihl = (d[14] & 15) * 4;
    const tcp = 14 + ihl;
    const doff = (d[tcp + 12] >> 4) * 4;
    const end = 14 + d.readUInt16BE(16);
    out.push({
      t: r.sec * 1e9 + r.nsec - t0,
      src: d.subarray(26, 30).join("."),
      dst: d.subarray(30, 34).join("."),
      sport: d.readUInt16BE(tcp),
      dport: d.readUInt16BE(tcp + 2),
      flags: d[tcp + 13],
      seq: d.readUInt32BE(tcp + 4),
      ack: d.readUInt32BE(tcp + 8),
      payload: d.subarray(tcp + doff, end),
    });
  }
  return out;
}

export interface McRequest {
  conn: string;
  t: number; // arrival of the request's last byte
  op: "get" | "set";
  key: string;
  value?: Buffer;
}

export interface McResponse {
  conn: string;
  hit?: boolean; // GET responses
  value?: Buffer;
  stored?: boolean; // SET responses
}

/** Parses one message at the front of buf; returns [message, bytes used] or null if incomplete. */
type Parser<T> = (buf: Buffer, conn: string) => [T, number] | null;

const CRLF = Buffer.from("\r\n");

const asciiRequest: Parser<Omit<McRequest, "t">> = (b, conn) => {
  const eol = b.indexOf(CRLF);
  if (eol < 0) return null;
  const parts = b.subarray(0, eol).toString("latin1").split(" ");
  if (parts[0] === "get") return [{ conn, op: "get", key: parts[1] }, eol + 2];
  if (parts[0] !== "set") throw new Error(`unexpected request line ${parts.join(" ")}`);
  const n = Number(parts[4]);
  if (b.length < eol + 2 + n + 2) return null;
  if (b[eol + 2 + n] !== 13 || b[eol + 3 + n] !== 10) throw new Error("set value not followed by CRLF");
  return [
    { conn, op: "set", key: parts[1], value: Buffer.from(b.subarray(eol + 2, eol + 2 + n)) },
    eol + 4 + n,
  ];
};

const asciiResponse: Parser<McResponse> = (b, conn) => {
  const eol = b.indexOf(CRLF);
  if (eol < 0) return null;
  const line = b.subarray(0, eol).toString("latin1");
  if (line === "END") return [{ conn, hit: false }, eol + 2];
  if (line === "STORED") return [{ conn, stored: true }, eol + 2];
  const parts = line.split(" ");
  if (parts[0] !== "VALUE") throw new Error(`unexpected response line ${line}`);
  const n = Number(parts[3]);
  const need = eol + 2 + n + 7;
  if (b.length < need) return null;
  if (b.subarray(eol + 2 + n, need).toString("latin1") !== "\r\nEND\r\n")
    throw new Error("VALUE not ended by END");
  return [{ conn, hit: true, value: Buffer.from(b.subarray(eol + 2, eol + 2 + n)) }, need];
};

const binRequest: Parser<Omit<McRequest, "t">> = (b, conn) => {
  if (b.length < 24) return null;
  if (b[0] !== 0x80) throw new Error(`bad request magic ${b[0]}`);
  const body = b.readUInt32BE(8);
  if (b.length < 24 + body) return null;
  const kl = b.readUInt16BE(2);
  const el = b[4];
  const key = b.subarray(24 + el, 24 + el + kl).toString("latin1");
  if (b[1] === 0x00) return [{ conn, op: "get", key }, 24 + body];
  if (b[1] !== 0x01) throw new Error(`unexpected opcode ${b[1]}`);
  return [{ conn, op: "set", key, value: Buffer.from(b.subarray(24 + el + kl, 24 + body)) }, 24 + body];
};

const binResponse: Parser<McResponse> = (b, conn) => {
  if (b.length < 24) return null;
  if (b[0] !== 0x81) throw new Error(`bad response magic ${b[0]}`);
  const body = b.readUInt32BE(8);
  if (b.length < 24 + body) return null;
  const status = b.readUInt16BE(6);
  if (b[1] === 0x01) return [{ conn, stored: status === 0 }, 24 + body];
  if (status === 1) return [{ conn, hit: false }, 24 + body];
  const el = b[4];
  return [{ conn, hit: true, value: Buffer.from(b.subarray(24 + el, 24 + body)) }, 24 + body];
};

/** Requests and responses per connection, from a capture of `gen etc|usr`. */
export function memcachedMessages(
  segs: Segment[],
  port: number,
  binary: boolean,
): { requests: McRequest[]; responses: Map<string, McResponse[]>; requestsByConn: Map<string, McRequest[]> } {
  const bufs = new Map<string, Buffer>();
  const requests: McRequest[] = [];
  const requestsByConn = new Map<string, McRequest[]>();
  const responses = new Map<string, McResponse[]>();
  const rq = binary ? binRequest : asciiRequest;
  const rs = binary ? binResponse : asciiResponse;
  for (const s of segs) {
    if (s.payload.length === 0) continue;
    const toServer = s.dport === port;
    const conn = toServer ? `${s.src}:${s.sport}>${s.dst}` : `${s.dst}:${s.dport}>${s.src}`;
    const id = conn + (toServer ? ">" : "<");
    let b = Buffer.concat([bufs.get(id) ?? Buffer.alloc(0), s.payload]);
    for (;;) {
      const m = toServer ? rq(b, conn) : rs(b, conn);
      if (!m) break;
      b = b.subarray(m[1]);
      if (toServer) {
        const r = { ...(m[0] as Omit<McRequest, "t">), t: s.t };
        requests.push(r);
        const l = requestsByConn.get(conn) ?? [];
        l.push(r);
        requestsByConn.set(conn, l);
      } else {
        const l = responses.get(conn) ?? [];
        l.push(m[0] as McResponse);
        responses.set(conn, l);
      }
    }
    bufs.set(id, Buffer.from(b));
  }
  return { requests, responses, requestsByConn };
}

/**
 * Replays the requests in arrival order against a plain key → value map, as one
 * memcached would, and counts responses that disagree. Returns counts.
 */
export function checkMemcached(m: ReturnType<typeof memcachedMessages>): {
  gets: number;
  hits: number;
  sets: number;
  wrong: number;
  unanswered: number;
} {
  const index = new Map<McRequest, McResponse | undefined>();
  let unanswered = 0;
  for (const [conn, reqs] of m.requestsByConn) {
    const resp = m.responses.get(conn) ?? [];
    if (resp.length !== reqs.length) unanswered += Math.abs(reqs.length - resp.length);
    reqs.forEach((r, i) => index.set(r, resp[i]));
  }
  const store = new Map<string, Buffer>();
  let gets = 0;
  let hits = 0;
  let sets = 0;
  let wrong = 0;
  const order = m.requests.map((r, i) => [r, i] as const).sort((a, b) => a[0].t - b[0].t || a[1] - b[1]);
  for (const [r] of order) {
    const resp = index.get(r);
    if (!resp) continue;
    if (r.op === "set") {
      sets++;
      store.set(r.key, r.value!);
      if (!resp.stored) wrong++;
    } else {
      gets++;
      const v = store.get(r.key);
      if (resp.hit) hits++;
      if (v === undefined ? resp.hit : !resp.hit || !v.equals(resp.value!)) wrong++;
    }
  }
  return { gets, hits, sets, wrong, unanswered };
}
