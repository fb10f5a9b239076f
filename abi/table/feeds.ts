// The apps' feeds: layouts in R_APP that an app of the core and the host module
// feeding it both read (the mirror app's feed ring and status words, the liveplay
// app's header, flow and turn records). Part of the ABI table (abi/table.ts).
//
// One generated file per app on each side (assembly/abi/<app>.gen.ts,
// host/core/<app>.gen.ts): each app names its records' fields F_*, FS_*, ... as it
// always did, so the two apps' names would clash in one file. What only the app
// reads (the rest of the mirror's flow record, its pools' links; liveplay's flow
// states) stays in the app.
import type { SharedLayout } from "./types.ts";

// ---- mirror (assembly/apps/mirror.ts; host/replay/serve/mirror-feed.ts) ----------------
export const MIRROR: SharedLayout = {
  name: "mirror",
  coreUser: "assembly/apps/mirror.ts",
  hostUser: "host/replay/serve/mirror-feed.ts",
  about:
    "The mirror app's feed: replay serve's ring of recorded server segments, the app's status words, its sizing",
  groups: [
    {
      title: "R_APP layout (byte offsets from the region's start)",
      type: "usize",
      entries: [
        { name: "FEED_HEAD", value: 0, doc: "u32 bytes produced (free-running; the host, Atomics)" },
        { name: "FEED_TAIL", value: 64, doc: "u32 bytes consumed (free-running; the app), own cache line" },
        { name: "W_KEY", value: 192, doc: "40-byte flow key scratch for the host's tcpPreset" },
        { name: "FEED_OFF", value: 256, doc: "the feed ring" },
        { name: "FEED_BYTES", value: 512 << 10, doc: "bytes of the feed ring; flow records follow it" },
      ],
    },
    {
      title: "status words the app writes after each step (writeStatus; u32 at these offsets in R_APP)",
      type: "usize",
      entries: [
        {
          name: "W_WORK",
          value: 128,
          doc: "flows with something due that needs another step (moreDue): the host polls again",
        },
        { name: "W_CMDS", value: 132, doc: "commands issued in the last step" },
        { name: "W_ACCEPTED", value: 136, doc: "connections accepted" },
        { name: "W_UNKNOWN", value: 140, doc: "SYNs of no announced flow (rejected)" },
        { name: "W_CHUNKS", value: 144, doc: "FR_DATA / FR_DGRAM records stored" },
        {
          name: "W_DUP_BYTES",
          value: 148,
          doc: "FR_DATA bytes already stored (the capture's retransmissions)",
        },
        { name: "W_GAP_BYTES", value: 152, doc: "bytes the capture lost, sent as zeros" },
        { name: "W_CLOSES", value: 156, doc: "CMD_CLOSE issued" },
        { name: "W_RESETS", value: 160, doc: "CMD_ABORT issued" },
        { name: "W_ERRORS", value: 164, doc: "commands refused, bad records" },
        { name: "W_NO_MEM", value: 168, doc: "records left in the feed for want of blocks or chunks" },
        { name: "W_BLOCKS_FREE", value: 172, doc: "stream blocks free" },
        { name: "W_SENT_HI", value: 176, doc: "bytes SENDV took, u64: its high word" },
        { name: "W_SENT_LO", value: 180, doc: "... and its low word" },
        { name: "W_UDP_SENT", value: 184, doc: "UDP datagrams sent" },
        { name: "W_UDP_UNKNOWN", value: 188, doc: "client datagrams of no announced UDP flow" },
      ],
    },
    {
      title: "feed record kinds (FH_KIND)",
      type: "u32",
      entries: [
        { name: "FR_WRAP", value: 0, doc: "skip to the ring's start" },
        { name: "FR_FLOW", value: 1, doc: "payload = the flow key (the client's SYN direction)" },
        {
          name: "FR_DATA",
          value: 2,
          doc: "server stream bytes [off, off+len), sent after `req` client bytes (+1 for its FIN) had arrived",
        },
        {
          name: "FR_FIN",
          value: 3,
          doc: "the server closed after `req` client bytes (off = 1: the FIN rode on the last data segment)",
        },
        { name: "FR_RST", value: 4, doc: "the server reset after `req` client bytes" },
        {
          name: "FR_DGRAM",
          value: 5,
          doc: "a UDP flow's server datagram, sent after `req` client datagrams of the flow",
        },
        {
          name: "FR_DONE",
          value: 6,
          doc: "the capture has nothing more for the flow: the app frees its slot once the connection is not open",
        },
      ],
    },
    {
      title: "feed record header (u32 fields); the payload follows it, the record is padded to 8",
      type: "usize",
      record: "FR_HDR",
      entries: [
        { name: "FR_HDR", value: 32, doc: "bytes of a record's header" },
        { name: "FH_KIND", value: 0, doc: "FR_*" },
        { name: "FH_FLOW", value: 4, doc: "the flow's slot" },
        { name: "FH_OFF", value: 8, doc: "server stream offset (FR_DATA); FR_FIN: 1 if it rode on data" },
        { name: "FH_REQ", value: 12, doc: "client bytes (datagrams) that must have arrived first" },
        { name: "FH_LEN", value: 16, doc: "payload bytes" },
      ],
    },
    {
      title: "flow records (after the feed ring, one per flow slot); the rest of the record is the app's",
      type: "usize",
      record: "FLOW_BYTES",
      entries: [
        { name: "FLOW_BYTES", value: 192, doc: "bytes of a flow record" },
        { name: "F_STATE", value: 0, doc: "FS_*" },
      ],
    },
    {
      title: "flow states (F_STATE)",
      type: "u32",
      entries: [
        { name: "FS_NONE", value: 0, doc: "never announced" },
        { name: "FS_ANNOUNCED", value: 1, doc: "FR_FLOW came; waits for the client's SYN" },
        { name: "FS_OPEN", value: 2, doc: "accepted" },
        { name: "FS_DEAD", value: 3, doc: "the connection is gone" },
        { name: "FS_UDP", value: 4, doc: "a UDP flow" },
        { name: "FS_FREE", value: 5, doc: "the host may announce another flow in this slot" },
      ],
    },
    {
      title: "sizing: what mirrorInit carves out of R_APP (the host's mirrorAppBytes adds it up)",
      type: "usize",
      entries: [
        {
          name: "BLK",
          value: 2048,
          type: "u32",
          doc: "bytes of a stream block (blocks have a u32 link each)",
        },
        {
          name: "CHUNK_BYTES",
          value: 16,
          doc: "a chunk record (TCP: end, req, next; UDP: block, req, next, length)",
        },
        { name: "CHUNKS_PER_BLK", value: 2, type: "u32", doc: "chunk records the pool holds per block" },
        { name: "IOV_MAX", value: 40, doc: "SENDV spans of one flow's step (its span array)" },
        {
          name: "MAX_DIRTY",
          value: 8192,
          type: "u32",
          doc: "flows stepped in one app step, each with its span array; more wait for the next step",
        },
      ],
    },
  ],
};

// ---- liveplay (assembly/apps/liveplay.ts; host/tap/liveplay-feed.ts) -------------------
// The host writes the header, the flow and turn records and the payload before the
// first poll; the app writes its status after every step and its results into the
// same records, which the host reads after the run.
export const LIVEPLAY: SharedLayout = {
  name: "liveplay",
  coreUser: "assembly/apps/liveplay.ts",
  hostUser: "host/tap/liveplay-feed.ts",
  about:
    "The liveplay app's feed: the header, flow and turn records the host writes, the status and results the app writes back",
  groups: [
    {
      title: "header: the host writes it (u32 at these offsets in R_APP), H_MAGIC last",
      type: "usize",
      record: "LP_HDR_BYTES",
      entries: [
        { name: "LP_HDR_BYTES", value: 256, doc: "bytes of the header and status" },
        { name: "H_MAGIC", value: 0, doc: "LP_MAGIC once the tables are written (the app starts then)" },
        { name: "H_FLOWS", value: 4, doc: "flow records" },
        { name: "H_CONC", value: 8, doc: "flows open at once at most" },
        {
          name: "H_TIMEOUT_US",
          value: 12,
          doc: "a response (connect, close) not complete after this times out",
        },
        { name: "H_SCAN_US", value: 16, doc: "period of the deadline scan (0: 1000)" },
        { name: "H_FLAGS", value: 20, doc: "HF_*" },
        { name: "H_FAMILY", value: 24, doc: "the server's address family (4)" },
        { name: "H_PORT", value: 28, doc: "the server's port" },
        { name: "H_FLOWS_OFF", value: 32, doc: "flow records (offsets from the start of R_APP)" },
        { name: "H_TURNS_OFF", value: 36, doc: "turn records" },
        { name: "H_DATA_OFF", value: 40, doc: "payload bytes (T_REQ_OFF, T_RESP_OFF count from here)" },
        { name: "H_SLOTS_OFF", value: 44, doc: "H_CONC u32 slots: the open flows' ids" },
        { name: "H_ADDR", value: 48, size: 16, doc: "the server's address, wire order" },
        {
          name: "H_SCRATCH_OFF",
          value: 64,
          doc: "CFG_EVQ_SLOTS descriptors: the previous step's results, copied",
        },
      ],
    },
    {
      title: "status: the app writes it after every step",
      type: "usize",
      record: "LP_HDR_BYTES",
      entries: [
        { name: "S_STARTED", value: 128, doc: "flows started" },
        { name: "S_DONE", value: 132, doc: "flows ended" },
        { name: "S_ACTIVE", value: 136, doc: "flows open" },
        { name: "S_TURNS", value: 140, doc: "turns completed" },
        { name: "S_MISMATCH", value: 144, doc: "responses that differ" },
        { name: "S_TIMEOUTS", value: 148, doc: "responses timed out" },
        { name: "S_ERRORS", value: 152, doc: "commands refused (timers, SENDV errors)" },
        { name: "S_BAD", value: 156, doc: "1: the header did not fit R_APP" },
        { name: "S_TX", value: 160, size: 8, doc: "request bytes the stack took" },
        { name: "S_RX", value: 168, size: 8, doc: "response bytes received" },
      ],
    },
    {
      title: "header constants",
      type: "u32",
      entries: [
        { name: "LP_MAGIC", value: 0x3159504c, hex: true, doc: '"LPY1": tables written' },
        { name: "HF_COMPARE", value: 1, doc: "H_FLAGS: compare response bytes (else only count them)" },
      ],
    },
    {
      title: "flow record (host: the host writes it before the run; the rest is the app's, read after it)",
      type: "usize",
      record: "LP_FLOW_BYTES",
      entries: [
        { name: "LP_FLOW_BYTES", value: 128, doc: "bytes of a flow record" },
        { name: "F_STATE", value: 0, doc: "the app's flow state" },
        { name: "F_HANDLE", value: 4, doc: "the connection's handle" },
        { name: "F_TURN0", value: 8, doc: "host: its first turn record" },
        { name: "F_NTURNS", value: 12, doc: "host: its turns" },
        { name: "F_CUR", value: 16, doc: "current turn (index within the flow)" },
        { name: "F_SENT", value: 20, doc: "request bytes of the current turn the stack took" },
        { name: "F_RCVD", value: 24, doc: "response bytes of the current turn" },
        { name: "F_OFFERED", value: 28, doc: "bytes of the SENDV awaiting its result" },
        { name: "F_BLOCKED", value: 32, doc: "the stack took less than offered: wait for EV_TCP_SENT" },
        { name: "F_CLOSE", value: 36, doc: "host: CK_*" },
        { name: "F_START_US", value: 40, doc: "host: start no earlier than this (µs after the first step)" },
        { name: "F_BITS", value: 44, doc: "B_*" },
        { name: "F_T0", value: 48, size: 8, doc: "current turn's start (µs)" },
        { name: "F_DEADLINE", value: 56, size: 8, doc: "what the flow waits for gives up then (0: nothing)" },
        { name: "F_RESULT", value: 64, doc: "RES_* (RES_RUNNING while running)" },
        { name: "F_DEAD", value: 68, doc: "DEAD_* reason + 1 (0: not dead)" },
        { name: "F_MISMATCH", value: 72, doc: "responses that differ" },
        { name: "F_TIMEOUTS", value: 76, doc: "responses timed out" },
        { name: "F_SLOT", value: 80, doc: "its slot at H_SLOTS_OFF" },
        { name: "F_EXTRA", value: 84, doc: "response bytes beyond the captured ones" },
        { name: "F_T_CONNECT", value: 88, size: 8, doc: "µs: CMD_CONNECT sent" },
        { name: "F_T_OPEN", value: 96, size: 8, doc: "µs: connected" },
        { name: "F_T_END", value: 104, size: 8, doc: "µs: ended" },
        { name: "F_GEN", value: 112, doc: "think-timer generation" },
        { name: "F_FLAGS", value: 116, doc: "host: FF_*" },
        { name: "F_BEYOND", value: 120, doc: "response bytes after the capture's end (open-ended flows)" },
      ],
    },
    {
      title: "F_FLAGS bits (host)",
      type: "u32",
      entries: [{ name: "FF_OPEN_END", value: 1, doc: "the capture holds no FIN/RST from the server" }],
    },
    {
      title: "F_BITS bits (app)",
      type: "u32",
      entries: [
        { name: "B_EOF", value: 1, doc: "the server closed its side" },
        { name: "B_THINK", value: 2, doc: "waiting for the think timer before the current turn" },
        { name: "B_BEGUN", value: 4, doc: "the current turn's request is being sent / its response awaited" },
        { name: "B_CLOSE_TIMEOUT", value: 8, doc: "the close timed out (aborted)" },
      ],
    },
    {
      title: "captured close (F_CLOSE, host): who ended the session",
      type: "u32",
      entries: [
        { name: "CK_CLIENT_FIN", value: 0, host: "client-fin", doc: "the client closed (FIN)" },
        { name: "CK_CLIENT_RST", value: 1, host: "client-rst", doc: "the client reset" },
        { name: "CK_SERVER_FIN", value: 2, host: "server-fin", doc: "the server closed first" },
      ],
    },
    {
      title: "outcomes (F_RESULT); the host names them",
      type: "u32",
      entries: [
        { name: "RES_RUNNING", value: 0, host: "running", doc: "not ended" },
        { name: "RES_OK", value: 1, host: "ok", doc: "every turn answered with the captured bytes" },
        { name: "RES_MISMATCH", value: 2, host: "mismatch", doc: "every turn answered, some bytes differ" },
        { name: "RES_TIMEOUT", value: 3, host: "timeout", doc: "some response not complete in time" },
        {
          name: "RES_REFUSED",
          value: 4,
          host: "refused",
          doc: "connect failed (RST, or CMD_CONNECT refused)",
        },
        { name: "RES_CONNECT_TIMEOUT", value: 5, host: "connect-timeout", doc: "connect timed out" },
        {
          name: "RES_DIED",
          value: 6,
          host: "died",
          doc: "reset / timed out by TCP before the turns were done",
        },
        {
          name: "RES_SERVER_CLOSED",
          value: 7,
          host: "server-closed",
          doc: "the server closed before answering every turn",
        },
      ],
    },
    {
      title: "turn record (host: the host writes it; app: the app's result)",
      type: "usize",
      record: "LP_TURN_BYTES",
      entries: [
        { name: "LP_TURN_BYTES", value: 32, doc: "bytes of a turn record" },
        { name: "T_REQ_OFF", value: 0, doc: "host: the request's offset in the data area" },
        { name: "T_REQ_LEN", value: 4, doc: "host: its bytes" },
        { name: "T_RESP_OFF", value: 8, doc: "host: the captured response's offset in the data area" },
        { name: "T_RESP_LEN", value: 12, doc: "host: its bytes" },
        {
          name: "T_CMP_LEN",
          value: 16,
          doc: "host: leading response bytes the capture holds (the rest is only counted)",
        },
        { name: "T_THINK_US", value: 20, doc: "host: wait this long before sending (paced speeds)" },
        {
          name: "T_LAT_US",
          value: 24,
          doc: "app: request start -> last response byte; LAT_NONE / LAT_TIMEOUT",
        },
        { name: "T_MISS", value: 28, doc: "app: first differing response offset, or MISS_NONE" },
      ],
    },
    {
      title: "turn results (the host writes the NONE values first)",
      type: "u32",
      entries: [
        { name: "LAT_NONE", value: 0xffffffff, doc: "not run" },
        { name: "LAT_TIMEOUT", value: 0xfffffffe, hex: true, doc: "timed out" },
        { name: "MISS_NONE", value: 0xffffffff, doc: "no differing byte" },
      ],
    },
  ],
};
