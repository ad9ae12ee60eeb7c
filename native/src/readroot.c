/* readroot.c: reads files of a jail's tree for the host side (user lookups of jexec -U/-l,
 * sysjail -U, exec.jail_user, the library), as data, never following the jail out of its root.
 *
 *   sysjail-helper read-in-root DIR MAX PATH...            DIR: a jail's root directory
 *   sysjail-helper read-in-proc-root PID START MAX PATH... the root of a running process of the jail
 *
 * Security reasoning. Everything in a jail's tree is the jail's to change: any component of PATH
 * may be a symlink to a host file, a FIFO that blocks an open or a read, a device, a directory, a
 * file of gigabytes. Each PATH is therefore resolved with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) relative to a descriptor of the jail's root (so absolute symlinks and ".."
 * stay inside it, and /proc magic links lead nowhere), opened O_PATH | O_NOFOLLOW (a symlink at the
 * last component is opened as itself, nothing behind it is touched, and no device or FIFO open
 * runs), fstat'ed, and only a regular file is reopened for reading through /proc/self/fd (the very
 * inode just checked: no second lookup a jail could race), with O_NONBLOCK, and read to at most
 * MAX bytes. For a running jail, its root is /proc/PID/root (the jail's own mounts), opened only
 * after a pidfd pinned the process and its start time matched, and the pidfd is checked again
 * afterwards: a process that ended in between (its pid possibly reused) is refused.
 *
 * No policy: the caller chooses which files and how much; this reports, per PATH, on stdout:
 *   "ok N\n" and N bytes | "err ERRNO\n" | "type MODE\n" (octal S_IFMT of a non-regular file)
 *   | "big\n" (more than MAX bytes)
 * and exits 0; a bad command line or a root that cannot be opened is one "err ERRNO\n" line for the
 * whole call and exit 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"

static int parse_u64(const char *s, unsigned long long *out) {
  char *end;
  if (!s || !*s || *s == '-') return -1;
  errno = 0;
  *out = strtoull(s, &end, 10);
  return errno || *end ? -1 : 0;
}

static void put(const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(2);
    s += w;
    n -= (size_t)w;
  }
}

static void say(const char *fmt, unsigned long long v) {
  char line[64];
  int n = snprintf(line, sizeof line, fmt, v);
  put(line, (size_t)n);
}

/* One PATH below ROOTFD, reported as above. */
static void read_one(int rootfd, const char *path, size_t max, char *buf) {
  struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  int pfd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  if (pfd < 0) { say("err %llu\n", (unsigned long long)errno); return; }
  struct stat st;
  if (fstat(pfd, &st) < 0) { say("err %llu\n", (unsigned long long)errno); close(pfd); return; }
  if (!S_ISREG(st.st_mode)) { say("type %llo\n", (unsigned long long)(st.st_mode & S_IFMT)); close(pfd); return; }
  if ((unsigned long long)st.st_size > max) { put("big\n", 4); close(pfd); return; }
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", pfd);
  int fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  close(pfd);
  if (fd < 0) { say("err %llu\n", (unsigned long long)errno); return; }
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fd, buf + got, max + 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { say("err %llu\n", (unsigned long long)errno); close(fd); return; }
    if (r == 0) break;
    got += (size_t)r;
    if (got > max) { put("big\n", 4); close(fd); return; }
  }
  close(fd);
  say("ok %llu\n", (unsigned long long)got);
  put(buf, got);
}

int read_in_root_main(int argc, char **argv) {
  int proc = !strcmp(argv[1], "read-in-proc-root");
  int first = proc ? 5 : 4;
  unsigned long long pid = 0, start = 0, max = 0;
  if (argc <= first || (proc && (parse_u64(argv[2], &pid) || parse_u64(argv[3], &start) || pid == 0 || pid > 0x7fffffff))
      || parse_u64(argv[first - 1], &max) || max > (64u << 20)) {
    fprintf(stderr, "usage: sysjail-helper read-in-root DIR MAX PATH... | read-in-proc-root PID START MAX PATH...\n");
    return 64;
  }
  int pidfd = -1, rootfd;
  if (proc) {
    unsigned long long st = 0;
    pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pidfd < 0 || read_starttime((pid_t)pid, &st) < 0 || st != start) { say("err %llu\n", (unsigned long long)ESRCH); return 1; }
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%llu/root", pid);
    rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int err = errno;
    struct pollfd p = { pidfd, POLLIN, 0 };
    if (poll(&p, 1, 0) != 0) { say("err %llu\n", (unsigned long long)ESRCH); return 1; } /* it ended: the root may be another's */
    if (rootfd < 0) { say("err %llu\n", (unsigned long long)err); return 1; }
  } else {
    rootfd = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) { say("err %llu\n", (unsigned long long)errno); return 1; }
  }
  char *buf = malloc((size_t)max + 1);
  if (!buf) { say("err %llu\n", (unsigned long long)ENOMEM); return 1; }
  for (int i = first; i < argc; i++) read_one(rootfd, argv[i], (size_t)max, buf);
  return 0;
}
