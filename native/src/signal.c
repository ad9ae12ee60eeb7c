/* signal.c: signals to a jail's processes, each pinned by a pidfd. Shared by sysjail-oci's native
 * kill and delete (oci.c) and, as `sysjail-helper signal`, by the Node paths that signal a
 * container's or a jail's processes (src/host/signal.ts): Node has no pidfd.
 *
 * Security: a pid alone names whatever process holds it now; the one the caller means may have
 * ended and its pid gone to a stranger's process. Each signal here goes through a pidfd opened
 * BEFORE the process's identity is checked (its start time, or its namespaces): once open, the
 * pidfd refers to that very process, so a check that passes after the open is a check of the
 * process the signal reaches, and a pid taken by another process meanwhile is never signalled.
 * No policy: the caller says which signal and whom; this only refuses what it cannot pin. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"

int proc_alive(long pid, unsigned long long start) {
  char path[64], buf[1024];
  unsigned long long st;
  if (pid <= 0 || read_starttime((pid_t)pid, &st) < 0 || st != start) return 0;
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  if (read_file(path, buf, sizeof buf) < 0) return 0;
  char *p = strrchr(buf, ')');
  return p && p[1] && p[2] != 'Z' && p[2] != 'X';
}

int signal_pinned(long pid, unsigned long long start, int sig) {
  int pfd = pid > 0 ? (int)syscall(SYS_pidfd_open, (pid_t)pid, 0) : -1;
  if (pfd < 0) return -ESRCH;
  int r = -ESRCH;
  if (proc_alive(pid, start)) r = syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0 ? -errno : 0;
  close(pfd);
  return r;
}

/* the namespace TYPE ("pid", "user") of PID, as the link text of /proc/PID/ns/TYPE */
static int ns_of(long pid, const char *type, char *out, size_t len) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/ns/%s", pid, type);
  ssize_t n = readlink(path, out, len - 1);
  if (n < 0) return -1;
  out[n] = 0;
  return 0;
}

/* Whether PID is pid 1 of its own pid namespace (the last NSpid field): not so in a joined one */
static int ns_init(long pid) {
  char path[64], b[4096];
  snprintf(path, sizeof path, "/proc/%ld/status", pid);
  ssize_t n = read_file(path, b, sizeof b);
  if (n <= 0) return 1;
  const char *l = strstr(b, "\nNSpid:");
  if (!l) return 1;
  const char *e = strchr(l + 1, '\n'), *last = NULL;
  for (const char *q = l + 8; *q && q != e; q++) if (*q != ' ' && *q != '\t' && (q[-1] == ' ' || q[-1] == '\t')) last = q;
  return last && atol(last) == 1;
}

int signal_ns_others(long ipid, unsigned long long istart, int sig) {
  char ns[128], other[128], uns[128], uother[128];
  /* the init pinned first, its namespaces read, its start time checked after: they are its own */
  int ifd = ipid > 0 ? (int)syscall(SYS_pidfd_open, (pid_t)ipid, 0) : -1;
  if (ifd < 0) return -ESRCH;
  int ok = ns_of(ipid, "pid", ns, sizeof ns) == 0 && ns_of(ipid, "user", uns, sizeof uns) == 0;
  /* a joined pid namespace holds others' processes too: the container's are those of its own
   * user namespace there */
  const int joined = ok && !ns_init(ipid);
  if (!ok || !proc_alive(ipid, istart)) { close(ifd); return -ESRCH; }
  int sent = 0;
  DIR *d = opendir("/proc");
  struct dirent *de;
  while (d && (de = readdir(d))) {
    char *e;
    long p = strtol(de->d_name, &e, 10);
    if (*e || p <= 0 || p == ipid) continue;
    /* the pidfd first, the namespace after: it is then that process's */
    int pfd = (int)syscall(SYS_pidfd_open, (pid_t)p, 0);
    if (pfd < 0) continue;
    if (ns_of(p, "pid", other, sizeof other) == 0 && !strcmp(ns, other) && (!joined || (ns_of(p, "user", uother, sizeof uother) == 0 && !strcmp(uns, uother))))
      if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) == 0) sent++;
    close(pfd);
  }
  if (d) closedir(d);
  close(ifd);
  return sent;
}

/* a decimal argument in [MIN, MAX], or -1 with a usage line */
static int num_arg(const char *s, unsigned long long min, unsigned long long max, unsigned long long *out) {
  char *e;
  errno = 0;
  unsigned long long v = strtoull(s, &e, 10);
  if (!*s || *e || errno || s[0] == '-' || v < min || v > max) return -1;
  *out = v;
  return 0;
}

int signal_main(int argc, char **argv) {
  unsigned long long sig, pid, start;
  int bad = argc < 5 || argc % 2 == 0 || num_arg(argv[2], 0, 64, &sig) < 0;
  for (int i = 3; !bad && i + 1 < argc; i += 2) bad = num_arg(argv[i], 1, 0x3fffffff, &pid) < 0 || num_arg(argv[i + 1], 0, ~0ULL, &start) < 0;
  if (bad) {
    fprintf(stderr, "sysjail-helper: usage: signal SIGNAL PID START-TIME [PID START-TIME]... (numbers: a signal 0-64, pids and their start times)\n");
    return 64;
  }
  /* one answer line per process, as data: "sent", "gone" (not that process), "err ERRNO" */
  for (int i = 3; i + 1 < argc; i += 2) {
    int r = signal_pinned(atol(argv[i]), strtoull(argv[i + 1], NULL, 10), (int)sig);
    if (r == -ESRCH) printf("gone\n");
    else if (r < 0) printf("err %d\n", -r);
    else printf("sent\n");
  }
  return 0;
}
