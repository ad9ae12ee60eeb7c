/* cgwarm.c: the kernel's cgroup migration path kept open while a container's plan is coming.
 *
 * Moving a process into a cgroup (a write to cgroup.procs or tasks, in any hierarchy) takes the
 * kernel's cgroup_threadgroup_rwsem for writing. After some 15-20 ms without such a writer that
 * lock is back in its reader-fast mode, and the next writer first waits for an RCU grace period:
 * measured on this project's 2-core machines, 5-15 ms for the first write, 0.005-0.02 ms for the
 * writes within ~15 ms after it (docs/BENCHMARKS-NOTES.md). A container's init joins its cgroups
 * right after its plan arrives, so that wait sat on `create`'s path, as it sits on runc's.
 *
 * While Node loads, create's monitor (forked ahead, front.c) writes its own pid into the
 * cgroup.procs of a cgroup it is already in, every few milliseconds: the kernel takes the same
 * lock, and moves nothing (source and destination are one cgroup). The grace period is waited for
 * on the idle core, off create's path, and the joins that follow find the lock in writer mode.
 * Nothing is decided or changed: no process changes cgroup, no file but that one is written, and
 * a write that fails (not root, no such hierarchy) only leaves the path as it was. The cost while
 * the lock is in writer mode is the readers' slow path (fork and exit take it for reading) for
 * those few tens of milliseconds; the kernel's `favordynmods` cgroup mount option makes the same
 * trade for good. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "helper.h"

/* The cgroup.procs of this process's own cgroup, opened for writing: the unified hierarchy's
 * (hybrid: /sys/fs/cgroup/unified, v2: /sys/fs/cgroup), else a v1 one named for its controllers.
 * -1 when none opens. */
int cgwarm_open(void) {
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f) return -1;
  char line[4096], path[4200];
  int fd = -1;
  while (fd < 0 && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || c2[1] != '/' || strstr(c2, "/..")) continue;
    *c2 = 0;
    const char *ctl = c1 + 1, *rel = c2 + 1;
    if (!*ctl) {
      static const char *const bases[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
      for (int i = 0; i < 2 && fd < 0; i++)
        if ((size_t)snprintf(path, sizeof path, "%s%s/cgroup.procs", bases[i], rel) < sizeof path)
          fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    } else if (!strchr(ctl, '=') && (size_t)snprintf(path, sizeof path, "/sys/fs/cgroup/%s%s/cgroup.procs", ctl, rel) < sizeof path) {
      fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    }
  }
  fclose(f);
  return fd;
}

/* One no-op move of this process into the cgroup it is in (FD from cgwarm_open); the result is
 * not used: a refused write leaves everything as it was. */
void cgwarm_once(int fd) {
  if (fd < 0) return;
  char b[24];
  int n = snprintf(b, sizeof b, "%d", (int)getpid());
  (void)!write(fd, b, (size_t)n);
}
