/* The physical floor of the tap path: a minimal tap reflector in C, built at
 * bench time with gcc (host/measure/tap-sparse.ts) and compared with `ixwasm
 * tap` on the same link layout. One thread, one queue, no stack: read a frame,
 * turn it around in place, write it back.
 *   ARP request (RFC 826): answered for any address, with our MAC (only the
 *     bench's one address is ever asked for).
 *   IPv4 ICMP echo request: type 0, checksum patched incrementally (RFC 1624
 *     eqn. 3); addresses swapped (the IP header checksum is a sum of 16-bit
 *     words, so a swap leaves it valid).
 *   IPv4 UDP/TCP: addresses and ports swapped; the checksums stay valid for
 *     the same reason (the pseudo-header sums both addresses).
 *   Anything else: dropped.
 * MACs swapped (ours as the source).
 *
 * Usage: tap-reflect IFNAME busy|block
 *   busy: non-blocking read(2) in a loop, never sleeps (as `tap --poll busy`);
 *   block: read until EAGAIN, then poll(2) (no spin: the cheapest sleeper).
 * Creates the tap (IFF_TAP | IFF_NO_PI), prints "ready" on stderr, and serves
 * until SIGTERM/SIGINT; then prints its counts as one JSON object on stdout.
 * Exits 3 after 900 s (alarm) whatever happens. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const uint8_t MAC[6] = {0x02, 0x00, 0xc6, 0x12, 0x04, 0x02};
static volatile sig_atomic_t stop;
static void on_signal(int s) {
  (void)s;
  stop = 1;
}

/* Turns the frame around in place; returns its length to send, or 0 to drop. */
static size_t reflect(uint8_t *f, size_t n) {
  if (n < 14) return 0;
  uint8_t tmp[6];
  memcpy(f, f + 6, 6); /* destination: the sender */
  memcpy(f + 6, MAC, 6);
  uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
  if (type == 0x0806) {
    uint8_t *a = f + 14;
    if (n < 42 || a[6] != 0 || a[7] != 1) return 0; /* requests only */
    a[7] = 2;
    memcpy(tmp, a + 24, 4);       /* the address asked for */
    memcpy(a + 18, a + 8, 10);    /* target: the asker's MAC and address */
    memcpy(a + 8, MAC, 6);        /* sender: us */
    memcpy(a + 14, tmp, 4);
    return n;
  }
  if (type != 0x0800 || n < 34) return 0;
  uint8_t *ip = f + 14;
  size_t ihl = (size_t)(ip[0] & 15) * 4;
  if (ihl < 20 || n < 14 + ihl + 8) return 0;
  memcpy(tmp, ip + 12, 4);
  memcpy(ip + 12, ip + 16, 4);
  memcpy(ip + 16, tmp, 4);
  uint8_t *l4 = ip + ihl;
  switch (ip[9]) {
  case 1: { /* ICMP */
    if (l4[0] != 8) return 0;
    l4[0] = 0;
    /* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m = 0x0800 (type 8, code 0), m' = 0. */
    uint32_t s = (uint16_t)~(l4[2] << 8 | l4[3]);
    s += (uint16_t)~0x0800;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    uint16_t c = (uint16_t)~s;
    if (c == 0) c = 0xffff; /* all-zero id, seq and data: 0x0000 would fail a folding receiver */
    l4[2] = (uint8_t)(c >> 8);
    l4[3] = (uint8_t)c;
    return n;
  }
  case 6:
  case 17:
    memcpy(tmp, l4, 2);
    memcpy(l4, l4 + 2, 2);
    memcpy(l4 + 2, tmp, 2);
    return n;
  default:
    return 0;
  }
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[2], "busy") && strcmp(argv[2], "block"))) {
    fprintf(stderr, "usage: tap-reflect IFNAME busy|block\n");
    return 2;
  }
  int busy = !strcmp(argv[2], "busy");
  alarm(900);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    perror("open /dev/net/tun");
    return 1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[1]);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    perror("TUNSETIFF");
    return 1;
  }
  fprintf(stderr, "ready\n");
  static uint8_t buf[2048];
  unsigned long rx = 0, tx = 0, reads = 0, empty = 0, writes = 0, polls = 0, errors = 0;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (!stop) {
    ssize_t n = read(fd, buf, sizeof buf);
    reads++;
    if (n > 0) {
      rx++;
      size_t out = reflect(buf, (size_t)n);
      if (out) {
        writes++;
        if (write(fd, buf, out) == (ssize_t)out) tx++;
        else errors++;
      }
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      errors++;
      if (errno != EIO) break; /* EIO: the link is not up yet */
    }
    empty++;
    if (!busy) {
      polls++;
      poll(&p, 1, 100); /* bounded: the stop flag is looked at at least this often */
    }
  }
  printf("{\"rx\":%lu,\"tx\":%lu,\"reads\":%lu,\"empty_reads\":%lu,\"writes\":%lu,\"polls\":%lu,\"errors\":%lu}\n",
         rx, tx, reads, empty, writes, polls, errors);
  return 0;
}
