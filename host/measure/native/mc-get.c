/* Sparse memcached GETs: one request every INTERVAL_US on one TCP connection
 * (TCP_NODELAY, blocking socket), each round trip timed on CLOCK_MONOTONIC
 * from just before send(2) to the last byte of the reply. Built at bench time
 * with gcc (host/measure/tap-sparse.ts) so the client adds no interpreter of
 * its own to the figure; the same binary talks to the kernel's memcached and
 * to `ixwasm tap --app memcached`.
 *
 * Usage: mc-get HOST PORT COUNT INTERVAL_US
 * First stores a 32-byte value under key "k" (ASCII protocol), then GETs it
 * COUNT times, checking each reply byte for byte; the requests start on a
 * fixed grid (absolute clock_nanosleep), so a slow reply does not push the
 * next one back into a busy period. Prints the round trips in µs as one JSON
 * array. Exits 1 on any error or wrong reply, 3 after 120 s (alarm). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char VALUE[] = "0123456789abcdef0123456789abcdef";

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* Sends all of s, then reads until exactly want arrived; 1 if it matches. */
static int roundtrip(int fd, const char *s, const char *want) {
  size_t n = strlen(s), w = strlen(want), got = 0;
  char buf[256];
  if (send(fd, s, n, 0) != (ssize_t)n) die("send");
  while (got < w) {
    ssize_t r = recv(fd, buf + got, sizeof buf - got, 0);
    if (r <= 0) die("recv");
    got += (size_t)r;
  }
  return got == w && !memcmp(buf, want, w);
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: mc-get HOST PORT COUNT INTERVAL_US\n");
    return 2;
  }
  alarm(120);
  int count = atoi(argv[3]);
  long interval = atol(argv[4]);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) die("address");
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  char set[128], reply[128];
  snprintf(set, sizeof set, "set k 0 0 %zu\r\n%s\r\n", strlen(VALUE), VALUE);
  if (!roundtrip(fd, set, "STORED\r\n")) {
    fprintf(stderr, "set: unexpected reply\n");
    return 1;
  }
  snprintf(reply, sizeof reply, "VALUE k 0 %zu\r\n%s\r\nEND\r\n", strlen(VALUE), VALUE);
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  printf("[");
  for (int i = 0; i < count; i++) {
    next.tv_nsec += interval * 1000;
    while (next.tv_nsec >= 1000000000) {
      next.tv_nsec -= 1000000000;
      next.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    double t0 = now_us();
    if (!roundtrip(fd, "get k\r\n", reply)) {
      fprintf(stderr, "get %d: wrong reply\n", i);
      return 1;
    }
    printf("%s%.1f", i ? "," : "", now_us() - t0);
  }
  printf("]\n");
  close(fd);
  return 0;
}
