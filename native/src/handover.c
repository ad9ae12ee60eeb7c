/* handover.c: an idle OCI container's monitor becomes sysjail-reaper (native/reaper/reaper.c).
 *
 * Called by run.c's poll loop once none of the monitor's duties but the last is left (the
 * command runs, create has returned, no timer, seccomp listener, namespace socket, network
 * helper or start gate): then the monitor only waits for the init's pidfd and removes the
 * container's cgroup directories and registry files. The reaper does exactly that in 4 kB of PSS
 * (its code page; its one writable page dropped while it waits) instead of the whole helper's
 * ~650 kB. execve keeps the pid and its start time, the names the
 * registry and `--root/ID/procs` hold for the monitor; the init's pidfd is the one descriptor
 * kept, and the signals that stop the monitor stay blocked across the exec (one that arrives
 * meanwhile stays pending for the reaper's signalfd). Everything the reaper does is in its argv,
 * built here from what this process holds (the plan's cgroup and state-file ops): nothing is read
 * from a file a jail could write. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "helper.h"
#include "host.h"

/* argv of the reaper: its name, the pidfd, -c DIR per cgroup dir, -d DIR per state dir, -f FILE
 * per state file, NULL */
#define HO_MAX (2 + 2 * (64 + 8 + 8) + 1)

int hand_over(int initfd, const struct host_state *h) {
  char exe[4096], path[4200], fdarg[16];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0 || initfd < 0) return -1;
  exe[n] = 0;
  /* next to the helper itself: native/build/ or native/prebuilt/ARCH/ (build-native.mjs, pack-native.mjs) */
  snprintf(path, sizeof path, "%s/sysjail-reaper", dirname(exe));
  struct stat st;
  if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) return -1;
  snprintf(fdarg, sizeof fdarg, "%d", initfd);
  char dirs[8][4096];
  const char *argv[HO_MAX];
  int a = 0;
  argv[a++] = "sysjail-reaper";
  argv[a++] = fdarg;
  for (int i = h->ncg - 1; i >= 0; i--) { argv[a++] = "-c"; argv[a++] = h->cg_dirs[i]; } /* deepest first */
  for (int i = 0; i < h->nstate; i++) {
    snprintf(dirs[i], sizeof dirs[i], "%s", h->state_files[i]);
    argv[a++] = "-d"; argv[a++] = dirname(dirs[i]);
  }
  for (int i = 0; i < h->nstate; i++) { argv[a++] = "-f"; argv[a++] = h->state_files[i]; } /* the id reservation last */
  argv[a] = NULL;
  char *envp[] = { NULL };
  if (fcntl(initfd, F_SETFD, 0) < 0) return -1;
  execve(path, (char *const *)argv, envp);
  fcntl(initfd, F_SETFD, FD_CLOEXEC); /* no reaper: the monitor goes on whole */
  return -1;
}
