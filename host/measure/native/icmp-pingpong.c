/* 64-byte ICMP ping-pong with nanosecond times, for `ixwasm bench tap`: one
 * echo request in flight (like ping -f -l 1), the next sent as soon as its
 * reply is in. ping prints its mean in whole microseconds, too coarse when the
 * servers compared are 3-6 us apart; this client times each round trip on
 * CLOCK_MONOTONIC around sendto(2) .. recvfrom(2), blocking in recvfrom as ping
 * does in poll(2), and from the send to the reply's arrival at the socket (the
 * kernel's receive timestamp, SO_TIMESTAMPNS, as ping's own figure is). The
 * arrival time is the path through the server; the wake-up of this client after
 * it, the same whatever the server, is in the second.
 *
 * Usage: icmp-pingpong HOST SECONDS WARMUP
 *   WARMUP round trips first (not counted), then as many as fit in SECONDS
 *   (at most 2,000,000). A request without a reply within 100 ms counts as
 *   lost and the next is sent. Prints one JSON object, both times' spread:
 *   {"n":..,"lost":..,"arrival":{"mean_ns":..,"min_ns":..,"p50_ns":..,"p90_ns":..,
 *   "p99_ns":..},"woken":{..the same..}}
 * Raw ICMP socket: needs root (CAP_NET_RAW). Echo request/reply per RFC 792.
 * Exits 3 after 120 s (alarm) whatever happens. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 22 /* 14 Ethernet + 20 IPv4 + 8 ICMP + 22 = a 64-byte frame */
#define MAX_N 2000000

/* CLOCK_REALTIME: the clock of the kernel's receive timestamps (SO_TIMESTAMPNS). */
static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* RFC 1071 */
static uint16_t csum(const uint8_t *p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1) s += (uint32_t)p[n - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

static int cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint64_t *arrival, *woken;

/* Sends echo seq and waits for its reply. Returns 0 when lost, else 1 with *a
 * the time from send to the reply's arrival at this socket (the kernel's receive
 * timestamp) and *w to this thread's return from recvmsg. */
static int one(int fd, const struct sockaddr_in *to, uint16_t id, uint16_t seq, uint64_t *a, uint64_t *w) {
  uint8_t req[8 + PAYLOAD];
  memset(req, 0, sizeof req);
  req[0] = 8; /* echo request */
  req[4] = (uint8_t)(id >> 8);
  req[5] = (uint8_t)id;
  req[6] = (uint8_t)(seq >> 8);
  req[7] = (uint8_t)seq;
  for (int i = 0; i < PAYLOAD; i++) req[8 + i] = (uint8_t)(0x20 + i);
  uint16_t c = csum(req, sizeof req);
  req[2] = (uint8_t)(c >> 8);
  req[3] = (uint8_t)c;
  uint64_t t0 = now_ns();
  if (sendto(fd, req, sizeof req, 0, (const struct sockaddr *)to, sizeof *to) != (ssize_t)sizeof req) {
    perror("sendto");
    exit(1);
  }
  for (;;) {
    uint8_t buf[1500];
    union {
      char b[CMSG_SPACE(sizeof(struct timespec))];
      struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
    ssize_t n = recvmsg(fd, &mh, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0; /* SO_RCVTIMEO: lost */
      if (errno == EINTR) continue;
      perror("recvmsg");
      exit(1);
    }
    uint64_t t1 = now_ns();
    if (n < 20) continue;
    size_t ihl = (size_t)(buf[0] & 15) * 4; /* a raw socket hands over the IP header too */
    if ((size_t)n < ihl + 8) continue;
    const uint8_t *icmp = buf + ihl;
    if (icmp[0] != 0) continue; /* not an echo reply */
    if ((uint16_t)(icmp[4] << 8 | icmp[5]) != id || (uint16_t)(icmp[6] << 8 | icmp[7]) != seq) continue;
    uint64_t ts = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec k;
        memcpy(&k, CMSG_DATA(cm), sizeof k);
        ts = (uint64_t)k.tv_sec * 1000000000u + (uint64_t)k.tv_nsec;
      }
    if (ts == 0) {
      fprintf(stderr, "icmp-pingpong: a reply came without its receive timestamp\n");
      exit(1);
    }
    *a = ts > t0 ? ts - t0 : 1;
    *w = t1 > t0 ? t1 - t0 : 1;
    return 1;
  }
}

static void print_dist(const char *name, uint64_t *v, long n) {
  long double sum = 0;
  for (long i = 0; i < n; i++) sum += v[i];
  qsort(v, (size_t)n, sizeof *v, cmp);
  printf("\"%s\":{\"mean_ns\":%.1Lf,\"min_ns\":%llu,\"p50_ns\":%llu,\"p90_ns\":%llu,\"p99_ns\":%llu}", name,
         sum / n, (unsigned long long)v[0], (unsigned long long)v[n / 2], (unsigned long long)v[n * 9 / 10],
         (unsigned long long)v[n * 99 / 100]);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: icmp-pingpong HOST SECONDS WARMUP\n");
    return 2;
  }
  alarm(120);
  struct sockaddr_in to = {.sin_family = AF_INET};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
    fprintf(stderr, "icmp-pingpong: not an IPv4 address: %s\n", argv[1]);
    return 2;
  }
  double secs = atof(argv[2]);
  long warm = atol(argv[3]);
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) {
    perror("socket(SOCK_RAW, IPPROTO_ICMP)");
    return 1;
  }
  struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) {
    perror("setsockopt(SO_TIMESTAMPNS)");
    return 1;
  }
  arrival = malloc(sizeof *arrival * MAX_N);
  woken = malloc(sizeof *woken * MAX_N);
  if (!arrival || !woken) return 1;
  uint16_t id = (uint16_t)getpid(), seq = 0;
  long lost = 0, n = 0;
  uint64_t a, w;
  for (long i = 0; i < warm; i++) one(fd, &to, id, ++seq, &a, &w);
  uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
  while (n < MAX_N && now_ns() < end) {
    if (one(fd, &to, id, ++seq, &a, &w)) {
      arrival[n] = a;
      woken[n++] = w;
    } else
      lost++;
  }
  if (n == 0) {
    fprintf(stderr, "icmp-pingpong: no reply from %s (%ld lost)\n", argv[1], lost);
    return 1;
  }
  printf("{\"n\":%ld,\"lost\":%ld,", n, lost);
  print_dist("arrival", arrival, n);
  printf(",");
  print_dist("woken", woken, n);
  printf("}\n");
  return 0;
}
