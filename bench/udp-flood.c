// Load generator for bench/tun-io.ts: sends UDP datagrams to an IPv6 address for a number of seconds, as
// fast as sendmmsg allows or at a given rate, then prints {"sent":N,"seconds":S}. Routed into a TUN device,
// it makes the kernel hand the TUN reader packets (faster than any reader can take them when unlimited).
//   udp-flood <ipv6-address> <port> <payload-bytes> <seconds> [packets-per-second, 0 = unlimited]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: udp-flood <ipv6-address> <port> <payload-bytes> <seconds> [packets-per-second]\n");
    return 2;
  }
  struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_port = htons((unsigned short)atoi(argv[2]))};
  if (inet_pton(AF_INET6, argv[1], &dst.sin6_addr) != 1) {
    fprintf(stderr, "udp-flood: bad address %s\n", argv[1]);
    return 2;
  }
  size_t size = (size_t)atoi(argv[3]);
  double seconds = atof(argv[4]);
  double rate = argc == 6 ? atof(argv[5]) : 0;
  // Rate-limited: small batches, so packets arrive spread out rather than in bursts of 64.
  int batch = rate > 0 ? (int)(rate / 20000) + 1 : BATCH;
  if (batch > BATCH) batch = BATCH;
  int s = socket(AF_INET6, SOCK_DGRAM, 0);
  if (s < 0 || connect(s, (struct sockaddr*)&dst, sizeof dst) < 0) {
    perror("udp-flood: socket/connect");
    return 1;
  }
  char* payload = calloc(1, size);
  struct iovec iov = {.iov_base = payload, .iov_len = size};
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    msgs[i].msg_hdr.msg_iov = &iov;
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long sent = 0;
  double start = now_s(), end = start + seconds, t = start;
  while (t < end) {
    int n = sendmmsg(s, msgs, (unsigned)batch, 0);
    if (n > 0) sent += (unsigned long long)n;
    t = now_s();
    if (rate > 0) {
      double ahead = start + (double)sent / rate - t;
      if (ahead > 0) {
        struct timespec ts = {.tv_sec = (time_t)ahead, .tv_nsec = (long)((ahead - (double)(time_t)ahead) * 1e9)};
        nanosleep(&ts, NULL);
        t = now_s();
      }
    }
  }
  printf("{\"sent\":%llu,\"seconds\":%.3f}\n", sent, t - start);
  return 0;
}
