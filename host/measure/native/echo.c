/* A kernel-TCP echo pair with no per-message interpreter: the baseline for
 * `ixwasm bench pair` (host/measure/pair.ts), built at bench time with gcc.
 *
 * Two processes of one thread each, each an epoll loop over 127.0.0.1: the
 * server (forked child) echoes whatever it reads; the client (parent) opens
 * CONNS connections, and on each sends a SIZE-byte message, waits for all of
 * its echo, and sends the next, MSGS times (ping-pong, one message in flight
 * per connection, as ixwasm's pair echo). Before the clock starts every
 * connection does WARM such round trips (connections set up, both loops and
 * the kernel's paths warm). Every echoed byte is checked: message k on a
 * connection is filled with the byte k & 0xff, so a lost, reordered or
 * corrupted byte fails the run.
 *
 * Usage: echo CONNS MSGS SIZE WARM [HOST PORT]
 * With HOST and PORT it is the client only, against an echo server there (the
 * tap's core in `ixwasm bench app-modules`, host/measure/app-modules-tap.ts).
 * Prints one JSON object: round trips, wall seconds (CLOCK_MONOTONIC) and
 * round trips/s of the timed part, and the client's thread CPU seconds.
 * Exits 1 on any error or mismatch, 3 after 120 s (alarm). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (64 * 1024)

static void die(const char *what) {
  perror(what);
  exit(1);
}

static double clock_s(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* ---- server: echo everything; a short write parks the rest until EPOLLOUT ---- */
typedef struct {
  int fd;
  uint32_t off, len; /* pending bytes buf[off..len) not yet written back */
  uint8_t buf[BUF];
} sconn;

static void serve(int ls) {
  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev)) die("epoll_ctl");
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      sconn *c = evs[i].data.ptr;
      if (!c) {
        int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c = calloc(1, sizeof *c);
        c->fd = fd;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e)) die("epoll_ctl");
        continue;
      }
      if (c->len == 0) {
        ssize_t r = read(c->fd, c->buf, BUF);
        if (r < 0 && errno == EAGAIN) continue;
        if (r <= 0) { /* peer closed (end of run) or error */
          close(c->fd);
          free(c);
          continue;
        }
        c->off = 0;
        c->len = (uint32_t)r;
      }
      ssize_t w = write(c->fd, c->buf + c->off, c->len - c->off);
      if (w < 0 && errno != EAGAIN) {
        close(c->fd);
        free(c);
        continue;
      }
      if (w > 0) c->off += (uint32_t)w;
      struct epoll_event e = {.events = c->off == c->len ? EPOLLIN : EPOLLOUT, .data.ptr = c};
      if (c->off == c->len) c->len = 0;
      epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
    }
  }
}

/* ---- client: ping-pong on every connection ---- */
typedef struct {
  int fd;
  uint32_t sent;   /* bytes of the current message written */
  uint32_t got;    /* bytes of its echo read */
  uint32_t msg;    /* index of the current message */
  uint32_t target; /* messages to complete in this phase */
  int want_out;
} cconn;

static uint32_t conns, msgs, size;
static uint8_t *out;
static uint32_t out_for = UINT32_MAX;

/* Writes what is left of message c->msg; 0 when all of it is out. */
static int push(int ep, cconn *c) {
  uint8_t fill = (uint8_t)c->msg;
  if (out_for != fill) {
    memset(out, fill, size);
    out_for = fill;
  }
  while (c->sent < size) {
    ssize_t w = write(c->fd, out + c->sent, size - c->sent);
    if (w < 0 && errno == EAGAIN) break;
    if (w <= 0) die("client write");
    c->sent += (uint32_t)w;
  }
  int want = c->sent < size;
  if (want != c->want_out) {
    struct epoll_event e = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e)) die("epoll_ctl");
    c->want_out = want;
  }
  return want;
}

/* Runs every connection to `target` completed messages; returns the round trips done. */
static uint64_t phase(int ep, cconn *cs, uint32_t target) {
  uint64_t done = 0;
  uint32_t active = 0;
  for (uint32_t i = 0; i < conns; i++) {
    cs[i].target = target;
    if (cs[i].msg < target) {
      active++;
      cs[i].sent = cs[i].got = 0;
      push(ep, &cs[i]);
    }
  }
  uint8_t in[BUF];
  struct epoll_event evs[256];
  while (active) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      cconn *c = evs[i].data.ptr;
      if (evs[i].events & EPOLLOUT) push(ep, c);
      if (!(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      for (;;) {
        ssize_t r = read(c->fd, in, BUF);
        if (r < 0 && errno == EAGAIN) break;
        if (r <= 0) die("client read (server closed?)");
        uint8_t fill = (uint8_t)c->msg;
        for (ssize_t k = 0; k < r; k++)
          if (in[k] != fill) {
            fprintf(stderr, "echo mismatch: connection %ld message %u\n", (long)(c - cs), c->msg);
            exit(1);
          }
        c->got += (uint32_t)r;
        if (c->got > size) {
          fprintf(stderr, "echo longer than sent on connection %ld\n", (long)(c - cs));
          exit(1);
        }
        if (c->got == size) {
          done++;
          c->msg++;
          c->sent = c->got = 0;
          if (c->msg == c->target) {
            active--;
            break;
          }
          push(ep, c);
        }
      }
    }
  }
  return done;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: echo CONNS MSGS SIZE WARM\n");
    return 2;
  }
  conns = (uint32_t)atoi(argv[1]);
  msgs = (uint32_t)atoi(argv[2]);
  size = (uint32_t)atoi(argv[3]);
  uint32_t warm = (uint32_t)atoi(argv[4]);
  if (!conns || !msgs || !size || size > BUF) {
    fprintf(stderr, "echo: CONNS, MSGS >= 1 and 1 <= SIZE <= %d\n", BUF);
    return 2;
  }
  alarm(120); /* bounded: a hung run ends with SIGALRM */
  signal(SIGALRM, SIG_DFL);

  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
  pid_t srv = -1;
  if (argc >= 7) {
    if (inet_pton(AF_INET, argv[5], &a.sin_addr) != 1) die("inet_pton");
    a.sin_port = htons((uint16_t)atoi(argv[6]));
  } else {
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    if (ls < 0) die("socket");
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096)) die("bind/listen");
    socklen_t alen = sizeof a;
    if (getsockname(ls, (struct sockaddr *)&a, &alen)) die("getsockname");
    srv = fork();
    if (srv < 0) die("fork");
    if (srv == 0) {
      serve(ls);
      _exit(0);
    }
    close(ls);
  }

  out = malloc(size);
  cconn *cs = calloc(conns, sizeof *cs);
  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  for (uint32_t i = 0; i < conns; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) die("fcntl");
    cs[i].fd = fd;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &cs[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e)) die("epoll_ctl");
  }
  uint64_t warmed = warm ? phase(ep, cs, warm) : 0;
  double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
  uint64_t done = phase(ep, cs, warm + msgs);
  double secs = clock_s(CLOCK_MONOTONIC) - w0, cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
  for (uint32_t i = 0; i < conns; i++) close(cs[i].fd);
  if (srv > 0) {
    kill(srv, SIGTERM);
    waitpid(srv, NULL, 0);
  }
  if (done != (uint64_t)conns * msgs) {
    fprintf(stderr, "echo: %llu round trips, expected %llu\n", (unsigned long long)done,
            (unsigned long long)conns * msgs);
    return 1;
  }
  printf("{\"conns\":%u,\"msgs\":%u,\"size\":%u,\"warmup_round_trips\":%llu,\"round_trips\":%llu,"
         "\"seconds\":%.6f,\"round_trips_per_s\":%.1f,\"client_cpu_s\":%.6f}\n",
         conns, msgs, size, (unsigned long long)warmed, (unsigned long long)done, secs, done / secs, cpu);
  return 0;
}
