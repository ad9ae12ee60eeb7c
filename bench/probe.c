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

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: probe loop N | files N DIR | install FILTER\n"); return 2; }
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
  fprintf(stderr, "probe: unknown command %s\n", argv[1]);
  return 2;
}
