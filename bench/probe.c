/* bench/probe.c: workloads for npm run bench (built static, run bare and inside jails). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <signal.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: probe loop N | files N DIR | install FILTER\n"); return 2; }
  if (!strcmp(argv[1], "sleep") && argc > 2) { /* sleep SECONDS: an idle process (memory) */
    sleep((unsigned)atoi(argv[2]));
    return 0;
  }
  if (!strcmp(argv[1], "loop")) { /* N getppid calls: ns per call */
    long n = atol(argv[2]);
    double t0 = now_ns();
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
    printf("%.2f\n", (now_ns() - t0) / n);
    return 0;
  }
  if (!strcmp(argv[1], "files") && argc > 3) { /* N create/write/stat/unlink cycles: us per cycle */
    long n = atol(argv[2]);
    char path[4096];
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
      snprintf(path, sizeof path, "%s/f%ld", argv[3], i % 64);
      int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
      if (fd < 0) { perror(path); return 1; }
      if (write(fd, path, 64) != 64) return 1;
      close(fd);
      struct stat st;
      stat(path, &st);
      unlink(path);
    }
    printf("%.3f\n", (now_ns() - t0) / n / 1000);
    return 0;
  }
  if (!strcmp(argv[1], "install")) { /* time to install a filter (us), median of 1 in a fresh process */
    static unsigned char buf[1 << 16];
    FILE *f = fopen(argv[2], "rb");
    if (!f) { perror(argv[2]); return 1; }
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct sock_fprog p = { .len = (unsigned short)(len / 8), .filter = (struct sock_filter *)buf };
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    double t0 = now_ns();
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p)) { perror("seccomp"); return 1; }
    printf("%.1f\n", (now_ns() - t0) / 1000);
    return 0;
  }
  if (!strcmp(argv[1], "sink") && argc > 4) { /* sink ADDR PORT SECONDS: accept, read and discard */
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
    inet_pton(AF_INET, argv[2], &sa.sin_addr);
    if (bind(s, (void *)&sa, sizeof sa) || listen(s, 512)) { perror("sink"); return 1; }
    alarm(atoi(argv[4]));
    printf("listening\n");
    fflush(stdout);
    static char buf[1 << 16];
    for (;;) {
      int c = accept(s, NULL, NULL);
      if (c < 0) return 0;
      while (read(c, buf, sizeof buf) > 0) {}
      close(c);
    }
  }
  if (!strcmp(argv[1], "connects") && argc > 4) { /* connects ADDR PORT N: connect+close per second */
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
    inet_pton(AF_INET, argv[2], &sa.sin_addr);
    long n = atol(argv[4]);
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      struct linger lg = { 1, 0 }; /* reset on close: no TIME_WAIT pile-up on loopback */
      setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      if (connect(c, (void *)&sa, sizeof sa)) { perror("connect"); return 1; }
      close(c);
    }
    printf("%.0f\n", n / ((now_ns() - t0) / 1e9));
    return 0;
  }
  if (!strcmp(argv[1], "send") && argc > 4) { /* send ADDR PORT MIB: MiB/s written to a sink */
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
    inet_pton(AF_INET, argv[2], &sa.sin_addr);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (void *)&sa, sizeof sa)) { perror("connect"); return 1; }
    static char buf[1 << 16];
    memset(buf, 7, sizeof buf);
    long total = atol(argv[4]) << 20;
    double t0 = now_ns();
    for (long sent = 0; sent < total;) {
      ssize_t w = write(c, buf, sizeof buf);
      if (w <= 0) { perror("write"); return 1; }
      sent += w;
    }
    shutdown(c, SHUT_WR);
    while (read(c, buf, sizeof buf) > 0) {}
    printf("%.1f\n", (total >> 20) / ((now_ns() - t0) / 1e9));
    return 0;
  }
  fprintf(stderr, "probe: unknown command %s\n", argv[1]);
  return 2;
}
