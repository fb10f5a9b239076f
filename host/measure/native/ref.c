/* Reference C implementations of four core algorithms, for `ixwasm bench`'s
 * native baselines (host/measure/native.ts): RFC 1071 checksum, table-driven Toeplitz
 * hash, Ethernet/IP/port header parse with the hash, and the flow table's
 * lookup (Fibonacci home slot, linear probing, 40-byte keys). Same algorithms
 * and the same frames as the WASM loops in assembly/stats/kernels.ts.
 *
 * Where the work differs (the C side does a little less; left so, not slowed
 * down): parse_hash knows the frames are Ethernet and returns only the hash,
 * while the core's tupleHash (flow/extract.ts) first branches on the link type
 * and also stores the flags, protocol and IP offset; the C table's size is a
 * compile-time constant (mask and shift are immediates) where the core's is
 * configured at init; gcc inlines flow_find next to key_of and so skips the
 * two key words it knows are zero for IPv4, where the core's flowFind compares
 * all 40 bytes (it serves IPv4 and IPv6 keys).
 *
 * Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID): the machine is
 * shared, and time spent waiting for a CPU is not the code's cost.
 *
 * Input file: the 40-byte RSS key, u32 frame count, then per frame u32 caplen
 * and the bytes (Ethernet IPv4 TCP/UDP, 20-byte IP header).
 * Built twice by the bench: gcc -O3 -march=native (as a user builds for
 * speed; gcc vectorises the checksum loop, AVX2 on this machine) and gcc -O2.
 *
 * Usage: ref FILE REPS RUNS [KERNEL]; prints one JSON object of ns/op per run
 * (only KERNEL's figure when given: the bench alternates it with the WASM loop
 * so both are timed under the same load). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint8_t rss_key[40];
static uint32_t tab[36][256];
static uint8_t **frames;
static uint32_t *caplens;
static uint32_t nframes;

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static volatile uint32_t sink;

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* ---- checksum: 16-bit one's complement sum, 16 bytes per step ---- */
static uint32_t inet_checksum(const uint8_t *p, size_t len) {
  uint64_t s = 0;
  while (len >= 16) {
    uint64_t a, b;
    memcpy(&a, p, 8);
    memcpy(&b, p + 8, 8);
    s += (a & 0xffffffff) + (a >> 32) + (b & 0xffffffff) + (b >> 32);
    p += 16;
    len -= 16;
  }
  while (len >= 2) {
    uint16_t w;
    memcpy(&w, p, 2);
    s += w;
    p += 2;
    len -= 2;
  }
  if (len) s += *p;
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  uint32_t x = (uint32_t)s;
  x = (x & 0xffff) + (x >> 16);
  x = (x & 0xffff) + (x >> 16);
  return ~(((x << 8) | (x >> 8)) & 0xffff) & 0xffff;
}

/* ---- Toeplitz: one 256-entry table per input byte position ---- */
static void toeplitz_init(void) {
  for (int pos = 0; pos < 36; pos++)
    for (int v = 0; v < 256; v++) {
      uint32_t h = 0;
      for (int b = 0; b < 8; b++) {
        if (!(v & (0x80 >> b))) continue;
        int start = pos * 8 + b; /* the 32 key bits from bit `start` */
        uint32_t w = 0;
        for (int k = 0; k < 32; k++) {
          int bit = start + k;
          w = (w << 1) | (bit < 320 ? (rss_key[bit >> 3] >> (7 - (bit & 7))) & 1 : 0);
        }
        h ^= w;
      }
      tab[pos][v] = h;
    }
}

static inline uint32_t rss_v4(const uint8_t *src, const uint8_t *dst, const uint8_t *ports) {
  uint32_t h = 0;
  for (int i = 0; i < 4; i++) h ^= tab[i][src[i]] ^ tab[4 + i][dst[i]] ^ tab[8 + i][ports[i]];
  return h;
}

static inline uint32_t rss_v6(const uint8_t *src, const uint8_t *dst, const uint8_t *ports) {
  uint32_t h = 0;
  for (int i = 0; i < 16; i++) h ^= tab[i][src[i]] ^ tab[16 + i][dst[i]];
  for (int i = 0; i < 4; i++) h ^= tab[32 + i][ports[i]];
  return h;
}

/* ---- header parse: Ethernet (3 VLAN tags) → IPv4/IPv6 (+ext headers) → ports, hash ---- */
static uint32_t parse_hash(const uint8_t *p, uint32_t len) {
  if (len < 14) return 0;
  uint32_t off = 12;
  uint16_t et = be16(p + 12);
  for (int n = 0; n < 3 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); n++) {
    off += 4;
    if (off + 2 > len) return 0;
    et = be16(p + off);
  }
  off += 2;
  if (et == 0x0800) {
    if (off + 20 > len) return 0;
    const uint8_t *ip = p + off;
    uint32_t ihl = (ip[0] & 15) * 4;
    uint8_t proto = ip[9];
    int frag = (be16(ip + 6) & 0x3fff) != 0;
    if (!frag && (proto == 6 || proto == 17) && off + ihl + 4 <= len) return rss_v4(ip + 12, ip + 16, ip + ihl);
    uint8_t zero[4] = {0};
    return rss_v4(ip + 12, ip + 16, zero); /* addresses only: zero bytes add nothing */
  }
  if (et == 0x86dd) {
    if (off + 40 > len) return 0;
    const uint8_t *ip = p + off;
    uint8_t nh = ip[6];
    uint32_t l4 = off + 40;
    for (int n = 0; n < 8 && (nh == 0 || nh == 43 || nh == 60 || nh == 44); n++) {
      if (l4 + 8 > len) return 0;
      uint8_t next = p[l4];
      l4 += nh == 44 ? 8 : (p[l4 + 1] + 1) * 8;
      nh = next;
    }
    if ((nh == 6 || nh == 17) && l4 + 4 <= len) return rss_v6(ip + 8, ip + 24, p + l4);
    return 0;
  }
  return 0;
}

/* ---- flow table: slots (hash, entry + 1), Fibonacci home, linear probing ---- */
#define CAP (1u << 16)
#define SLOTS (1u << 17)
#define FIB 0x9e3779b1u
typedef struct { uint64_t w[5]; } flow_key;
static uint32_t slots[SLOTS][2];
static flow_key entries[CAP];
static uint32_t used;

static inline uint32_t home(uint32_t h) { return (h * FIB) >> (32 - 17); }

static inline int key_eq(const flow_key *a, const flow_key *b) {
  return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) | (a->w[3] ^ b->w[3]) |
          (a->w[4] ^ b->w[4])) == 0;
}

static int flow_find(const flow_key *k, uint32_t h) {
  for (uint32_t i = home(h);; i = (i + 1) & (SLOTS - 1)) {
    uint32_t e = slots[i][1];
    if (!e) return -1;
    if (slots[i][0] == h && key_eq(&entries[e - 1], k)) return (int)(e - 1);
  }
}

static int flow_insert(const flow_key *k, uint32_t h) {
  uint32_t i = home(h);
  for (;; i = (i + 1) & (SLOTS - 1)) {
    uint32_t e = slots[i][1];
    if (!e) break;
    if (slots[i][0] == h && key_eq(&entries[e - 1], k)) return (int)(e - 1);
  }
  if (used == CAP) return -1;
  entries[used] = *k;
  slots[i][0] = h;
  slots[i][1] = ++used;
  return (int)(used - 1);
}

/* Key layout of assembly/flow/key.ts: family, proto, pad, ports, src at 8, dst at 24. */
static inline uint32_t key_of(const uint8_t *f, flow_key *k) {
  memset(k, 0, sizeof *k);
  uint8_t *b = (uint8_t *)k;
  b[0] = 4;
  b[1] = f[23];
  uint16_t sp = be16(f + 34), dp = be16(f + 36);
  memcpy(b + 4, &sp, 2);
  memcpy(b + 6, &dp, 2);
  memcpy(b + 8, f + 26, 4);
  memcpy(b + 24, f + 30, 4);
  return rss_v4(f + 26, f + 30, f + 34);
}

/* `ref buf LEN REPS RUNS`: the checksum of one LEN-byte buffer, REPS times per run
 * (bytes from the bench's generator: x = x * 1103515245 + 12345, byte x >> 24). */
static int checksum_buffer(uint32_t len, uint32_t reps, uint32_t runs) {
  uint8_t *b = malloc(len);
  uint32_t x = 1;
  for (uint32_t i = 0; i < len; i++) b[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 24);
  for (uint32_t run = 0; run < runs; run++) {
    uint32_t acc = 0;
    double t0 = now_ns();
    for (uint32_t r = 0; r < reps; r++) {
      acc += inet_checksum(b, len);
      __asm__ volatile("" ::: "memory"); /* the buffer may have changed: no hoisting the call */
    }
    double t = now_ns() - t0;
    sink = acc;
    printf("{\"buf\":%.3f,\"acc\":%u}\n", t / reps, acc);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "buf") == 0)
    return checksum_buffer((uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]));
  if (argc < 4) {
    fprintf(stderr, "usage: ref FILE REPS RUNS\n");
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  if (!in) {
    perror(argv[1]);
    return 1;
  }
  uint32_t reps = (uint32_t)atoi(argv[2]), runs = (uint32_t)atoi(argv[3]);
  if (fread(rss_key, 1, 40, in) != 40 || fread(&nframes, 4, 1, in) != 1) return 1;
  frames = calloc(nframes, sizeof *frames);
  caplens = calloc(nframes, sizeof *caplens);
  for (uint32_t i = 0; i < nframes; i++) {
    if (fread(&caplens[i], 4, 1, in) != 1) return 1;
    frames[i] = malloc(caplens[i]);
    if (fread(frames[i], 1, caplens[i], in) != caplens[i]) return 1;
  }
  fclose(in);
  toeplitz_init();
  flow_key k;
  for (uint32_t i = 0; i < nframes; i++) {
    uint32_t h = key_of(frames[i], &k);
    flow_insert(&k, h);
  }
  double ops = (double)nframes * reps;
  const char *only = argc > 4 ? argv[4] : NULL;
#define RUN(name) (!only || strcmp(only, name) == 0)
  for (uint32_t run = 0; run < runs; run++) {
    uint32_t acc = 0;
    double t[4] = {0, 0, 0, 0};
    if (RUN("checksum")) {
      double t0 = now_ns();
      for (uint32_t r = 0; r < reps; r++)
        for (uint32_t i = 0; i < nframes; i++) acc += inet_checksum(frames[i] + 14, caplens[i] - 14);
      t[0] = now_ns() - t0;
    }
    if (RUN("toeplitz")) {
      double t0 = now_ns();
      for (uint32_t r = 0; r < reps; r++)
        for (uint32_t i = 0; i < nframes; i++) acc ^= rss_v4(frames[i] + 26, frames[i] + 30, frames[i] + 34);
      t[1] = now_ns() - t0;
    }
    if (RUN("parse")) {
      double t0 = now_ns();
      for (uint32_t r = 0; r < reps; r++)
        for (uint32_t i = 0; i < nframes; i++) acc ^= parse_hash(frames[i], caplens[i]);
      t[2] = now_ns() - t0;
    }
    if (RUN("flow_lookup")) {
      double t0 = now_ns();
      for (uint32_t r = 0; r < reps; r++)
        for (uint32_t i = 0; i < nframes; i++) {
          uint32_t h = key_of(frames[i], &k);
          acc += (uint32_t)flow_find(&k, h);
        }
      t[3] = now_ns() - t0;
    }
    sink = acc;
    static const char *names[4] = {"checksum", "toeplitz", "parse", "flow_lookup"};
    printf("{");
    for (int j = 0; j < 4; j++)
      if (RUN(names[j])) printf("\"%s\":%.3f,", names[j], t[j] / ops);
    /* The loops' result: the bench checks the checksum sum against the WASM loop's. */
    printf("\"used\":%u,\"acc\":%u}\n", used, acc);
  }
  return 0;
}
