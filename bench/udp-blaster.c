/*
 * UDP sender for bench/nfcapd-vs-edge.ts, compiled at bench time with the system gcc (no binary in
 * the repo). A Node sender tops out near the rates we need to measure; this one paces batches from a
 * pre-built set of datagrams. On loopback the sender's system call also walks the IP stack for every
 * datagram, so with sendmmsg() it reached only ~90-140k datagrams/s next to a reading collector on
 * this 2-core machine. With UDP GSO (Linux >= 4.18, UDP_SEGMENT) one send of up to 44 equal-size
 * datagrams walks the stack once and the kernel cuts it at the receiving socket: the receiver sees
 * ordinary datagrams (no UDP_GRO on its socket), and the sender reached ~600k/s. Batches of unequal
 * sizes, or a kernel without GSO, fall back to sendmmsg() of 64.
 *
 *   udp-blaster <file> <host> <port> <rate/s> <seconds>   paced send; rate 0 = as fast as possible
 *   udp-blaster <file> --sink <seconds>                   as fast as possible into a socket of its
 *                                                         own that never reads (the sender's ceiling)
 *
 * <file>: datagrams, each a 2-byte big-endian length then the bytes. NetFlow v5 and v9 datagrams get
 * running sequence numbers written before each send (stampSequence), so collectors see no sequence
 * gaps from the repetition.
 * Prints one JSON line: {"sent":N,"elapsedSec":S,"errors":E,"gso":0|1}.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define GSO_BYTES 65000 /* one GSO send: under the 65,507-byte UDP payload limit */
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Running sequence numbers, written into each datagram just before it is sent, so the collectors see
 * no gaps from the file's repetition: NetFlow v5 counts flows (header offset 16), v9 counts export
 * packets (offset 12, RFC 3954 §5.1). Other datagrams are sent as they are.
 */
static uint32_t flowSeq = 0, packetSeq = 0;

static void stampSequence(struct iovec *v) {
  unsigned char *p = v->iov_base;
  if (v->iov_len >= 24 && p[0] == 0 && p[1] == 5) {
    uint32_t be = htonl(flowSeq);
    memcpy(p + 16, &be, 4);
    flowSeq += (p[2] << 8) | p[3];
  } else if (v->iov_len >= 20 && p[0] == 0 && p[1] == 9) {
    uint32_t be = htonl(packetSeq);
    memcpy(p + 12, &be, 4);
    packetSeq++;
  }
}

/** A stamped datagram that was not sent: its number goes again. */
static void unstampSequence(struct iovec *v) {
  unsigned char *p = v->iov_base;
  if (v->iov_len >= 24 && p[0] == 0 && p[1] == 5) flowSeq -= (p[2] << 8) | p[3];
  else if (v->iov_len >= 20 && p[0] == 0 && p[1] == 9) packetSeq--;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s <file> <host> <port> <rate> <seconds> | %s <file> --sink <seconds>\n", argv[0], argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 2; }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *data = malloc(size > 0 ? size : 1);
  if (fread(data, 1, size, f) != (size_t)size) { perror("read"); return 2; }
  fclose(f);
  size_t count = 0;
  for (long o = 0; o + 2 <= size; o += 2 + ((data[o] << 8) | data[o + 1])) count++;
  if (count == 0) { fprintf(stderr, "no datagrams in %s\n", argv[1]); return 2; }
  struct iovec *iov = calloc(count, sizeof *iov);
  long o = 0;
  for (size_t i = 0; i < count; i++) {
    size_t len = (data[o] << 8) | data[o + 1];
    iov[i].iov_base = data + o + 2;
    iov[i].iov_len = len;
    o += 2 + len;
  }

  int sink = strcmp(argv[2], "--sink") == 0;
  double rate = sink ? 0 : atof(argv[4]);
  double seconds = atof(sink ? argv[3] : argv[5]);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  struct sockaddr_in dst = { .sin_family = AF_INET };
  if (sink) {
    int sfd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    if (bind(sfd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(sfd, (struct sockaddr *)&a, &alen) < 0) { perror("sink"); return 2; }
    dst = a;
  } else {
    dst.sin_port = htons(atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) { fprintf(stderr, "bad IPv4 address %s\n", argv[2]); return 2; }
  }
  // Connected: sendmmsg needs no per-message address. A refused port (ICMP) shows as an error, counted.
  if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) { perror("connect"); return 2; }

  // GSO if the kernel takes the option (set per send with a control message below).
  int gso = 0;
  {
    int probe = 1464;
    gso = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &probe, sizeof probe) == 0;
    probe = 0;
    if (gso) setsockopt(fd, SOL_UDP, UDP_SEGMENT, &probe, sizeof probe);
  }
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  struct iovec gsoIov[BATCH];
  union { char buf[CMSG_SPACE(sizeof(uint16_t))]; struct cmsghdr align; } ctl;
  uint64_t sent = 0, errors = 0, next = 0;
  double start = now_sec(), elapsed = 0;
  for (;;) {
    elapsed = now_sec() - start;
    if (elapsed >= seconds) break;
    uint64_t due = rate > 0 ? (uint64_t)(rate * elapsed) : sent + BATCH;
    if (due <= sent) {
      struct timespec ts = { 0, 50000 }; // 50 µs: the batches follow the rate within ~0.1 ms
      nanosleep(&ts, NULL);
      continue;
    }
    unsigned n = due - sent > BATCH ? BATCH : (unsigned)(due - sent);
    if (gso) {
      // Consecutive datagrams of the first one's size, up to GSO_BYTES.
      size_t seg = iov[next % count].iov_len;
      unsigned g = 0;
      while (g < n && iov[(next + g) % count].iov_len == seg && (g + 1) * seg <= GSO_BYTES) g++;
      if (g > 1) {
        for (unsigned i = 0; i < g; i++) {
          struct iovec *v = &iov[(next + i) % count];
          stampSequence(v);
          gsoIov[i] = *v;
        }
        struct msghdr mh = { .msg_iov = gsoIov, .msg_iovlen = g, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t segSize = (uint16_t)seg;
        memcpy(CMSG_DATA(cm), &segSize, sizeof segSize);
        if (sendmsg(fd, &mh, 0) < 0) {
          if (errno != EINTR) errors++;
          for (unsigned i = 0; i < g; i++) unstampSequence(&iov[(next + i) % count]); // not sent: their numbers go again
          if (errno != EINTR) next += g; // a refused destination: skip them
          continue;
        }
        sent += g;
        next += g;
        continue;
      }
    }
    for (unsigned i = 0; i < n; i++) {
      struct iovec *v = &iov[(next + i) % count];
      stampSequence(v);
      msgs[i].msg_hdr.msg_iov = v;
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs, n, 0);
    if (r < 0) {
      if (errno != EINTR) errors++;
      // A refused or full destination: skip this batch's due datagrams (they count as not sent).
      next += n;
      continue;
    }
    // Datagrams not taken (r < n) are tried again in the next batch, with the same sequence numbers
    // rewritten: their numbers were advanced, so roll them back.
    for (unsigned i = r; i < n; i++) unstampSequence(&iov[(next + i) % count]);
    sent += r;
    next += r;
  }
  elapsed = now_sec() - start;
  printf("{\"sent\":%llu,\"elapsedSec\":%.4f,\"errors\":%llu,\"gso\":%d}\n", (unsigned long long)sent, elapsed, (unsigned long long)errors, gso);
  return 0;
}
