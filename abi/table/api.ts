// The app API: descriptor layout, event, command and result codes, app ids. Part of the ABI table (abi/table.ts).
import type { Code, Constant, FlagBit } from "./types.ts";

// ---- the app API (assembly/api/abi.ts says what each kind carries) -------------------

/** Fields of the 32-byte event/command descriptor (byte offsets). */
export const API_DESC: Constant[] = [
  { name: "DESC_SIZE", value: 32, doc: "bytes of one event or command descriptor" },
  { name: "D_KIND", value: 0, doc: "u16: EV_* or CMD_*" },
  { name: "D_FLAGS", value: 2, doc: "u16: per kind (SENDV_EOR), else 0" },
  { name: "D_HANDLE", value: 4, doc: "u32: TCB slot | generation << 24" },
  { name: "D_COOKIE", value: 8, doc: "u32: the app's own word for the connection" },
  { name: "D_A", value: 12, doc: "u32 argument a" },
  { name: "D_B", value: 16, doc: "u32 argument b" },
  { name: "D_C", value: 20, doc: "u32 argument c" },
  { name: "D_D", value: 24, doc: "u32 argument d" },
  { name: "D_RET", value: 28, doc: "i32: the command's result (RET_*, or a count)" },
  { name: "SPAN_SIZE", value: 8, doc: "bytes of a SENDV span {ptr u32, len u32}" },
];

/** Event kinds (stack -> app), u16. */
export const EVENTS: Code[] = [
  { name: "EV_TCP_KNOCK", value: 1, doc: "a connection asks to be accepted" },
  { name: "EV_TCP_CONNECTED", value: 2, doc: "an active open finished (a = RET_OK or an error)" },
  { name: "EV_TCP_RECV", value: 3, doc: "bytes received (a = ptr, b = length; 0 = FIN)" },
  { name: "EV_TCP_SENT", value: 4, doc: "bytes acknowledged (a), send room now (b)" },
  { name: "EV_TCP_DEAD", value: 5, doc: "the connection is gone (a = DEAD_*)" },
  { name: "EV_UDP_RECV", value: 6, doc: "a datagram (a = ptr, b = length, c = flow key, d = mbuf)" },
  { name: "EV_TIMER", value: 7, doc: "an app timer fired (a = timer id)" },
];

/** Command kinds (app -> stack), u16. */
export const COMMANDS: Code[] = [
  { name: "CMD_ACCEPT", value: 101, doc: "accept a knocking connection" },
  { name: "CMD_REJECT", value: 102, doc: "refuse it (RST)" },
  { name: "CMD_CONNECT", value: 103, doc: "open a connection (ret = the handle)" },
  { name: "CMD_SENDV", value: 104, doc: "queue spans of bytes (ret = bytes accepted)" },
  { name: "CMD_RECV_DONE", value: 105, doc: "give received bytes back (re-opens the window)" },
  { name: "CMD_CLOSE", value: 106, doc: "FIN after queued data" },
  { name: "CMD_ABORT", value: 107, doc: "RST now" },
  { name: "CMD_UDP_SEND", value: 108, doc: "send a datagram" },
  { name: "CMD_TIMER", value: 109, doc: "start an app timer" },
];

/** D_FLAGS bits of CMD_SENDV, u16. */
export const SENDV_FLAGS: FlagBit[] = [
  {
    name: "SENDV_EOR",
    bit: 0,
    doc: "these bytes end a record (Linux's MSG_EOR): no segment carries bytes of this SENDV and a later one",
  },
];

/** Command results (D_RET), i32; counts are >= 0. */
export const RESULTS: Code[] = [
  { name: "RET_OK", value: 0, doc: "" },
  { name: "RET_BADHANDLE", value: -1, doc: "stale or never-valid handle" },
  { name: "RET_NOMEM", value: -2, doc: "mbufs, spans or TCBs exhausted" },
  { name: "RET_INVAL", value: -3, doc: "bad argument (span outside memory, bad family...)" },
  { name: "RET_STATE", value: -4, doc: "command not valid in this connection state" },
  { name: "RET_NOROUTE", value: -5, doc: "no neighbour / address for the destination" },
  { name: "RET_AGAIN", value: -6, doc: "queue full; retry next iteration" },
];

/** EV_TCP_DEAD reasons (its a), u32. */
export const DEAD_REASONS: Code[] = [
  { name: "DEAD_CLOSED", value: 0, host: "closed", doc: "orderly close finished (both FINs acknowledged)" },
  { name: "DEAD_RESET", value: 1, host: "reset", doc: "RST received" },
  { name: "DEAD_TIMEOUT", value: 2, host: "timeout", doc: "retransmissions / persist probes gave up" },
  { name: "DEAD_REFUSED", value: 3, host: "refused", doc: "connect answered by RST" },
  { name: "DEAD_ABORTED", value: 4, host: "aborted", doc: "the app aborted, or resources ran out" },
];

/** App ids (CFG_APP; assembly/apps/registry.ts maps each to its operations). */
export const APPS: Code[] = [
  { name: "APP_NONE", value: 0, doc: "no app: replay modes, the bare stack" },
  { name: "APP_ECHO", value: 1, host: "echo", doc: "TCP + UDP echo, zero-copy" },
  { name: "APP_SINK", value: 2, host: "sink", doc: "accept, discard, count" },
  { name: "APP_MEMCACHED", value: 3, host: "memcached", doc: "memcached 1.6 ASCII + binary" },
  { name: "APP_MIRROR", value: 4, host: "mirror", doc: "replay serve's server mirror" },
  {
    name: "APP_ECHO_CLIENT",
    value: 5,
    host: "echoClient",
    doc: "load generator for `pair --app echo`",
  },
  {
    name: "APP_MEMCACHED_CLIENT",
    value: 6,
    host: "memcachedClient",
    doc: "load generator for `pair --app memcached`",
  },
  { name: "APP_NETPIPE", value: 7, host: "netpipe", doc: "NPtcp's receiver (netpipe-tcp 3.7.2), zero-copy" },
  { name: "APP_SOCKPERF", value: 8, host: "sockperf", doc: "sockperf 3.7 server, TCP + UDP, zero-copy" },
  {
    name: "APP_LIVEPLAY",
    value: 9,
    host: "liveplay",
    doc: "client of `ixwasm liveplay`: captured sessions against a live server",
  },
];
