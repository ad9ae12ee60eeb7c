/* host.h: the monitor's steps on the host (host.c). */
#ifndef SJ_HOST_H
#define SJ_HOST_H
#include <stdint.h>
#include <sys/types.h>
#include "proto.h"

/* What the monitor set up on the host (undone in reverse at the end). */
struct host_state {
  const char *cg_dirs[64];
  int ncg;
  const char *state_files[8];
  int nstate;
  uint64_t wall_ms, cpu_ns;
  /* the cpu time file; with a key, the number after "KEY " on its line, times cpu_scale
   * (cgroup v2 cpu.stat: usage_usec, 1000); without one, the file's number (v1 cpuacct.usage) */
  const char *cpu_file, *cpu_key;
  uint64_t cpu_scale;
};

/* The host-side steps that need no jail process: cgroups, limits, registry files, eBPF objects.
 * Returns -1 after reporting the failed step. */
int host_pre(const struct sj_plan *plan, struct host_state *h);

/* after_clone's groups of steps */
enum { AC_MAPS = 1, AC_IDMAP = 2, AC_REST = 4 };
/* The monitor's steps on the cloned init before it runs: its id maps (AC_MAPS), the idmapped
 * root (AC_IDMAP), the cgroups it joins (AC_REST). Returns -1 after reporting the failure. */
int after_clone(const struct sj_plan *plan, pid_t pid, int which, int *treefd);

/* An idle OCI container's monitor execs sysjail-reaper (handover.c), which waits for the init's
 * pidfd INITFD and removes H's cgroup dirs and state files; returns (-1) only when it cannot. */
int hand_over(int initfd, const struct host_state *h);
#endif
