/* early.c: the jail's namespaces made ahead of its plan, by the native front (front.c).
 *
 * Node takes most of a jail's start to load before it can say what the jail is; the second
 * core is idle meanwhile. The front uses that time to clone the jail's init into the namespaces
 * a jail usually gets: the user, pid, mount, uts and ipc namespaces every jail must have (run.c
 * refuses a plan without them) and a network namespace (every jail but a shared-stack one). The
 * init waits there, unmapped and doing nothing, for the prelude.
 *
 * This is a guess, not a decision: the monitor adopts the init only when the prelude's clone
 * flags are exactly these (the cgroup namespace aside, which the init always makes later, see
 * init.c); otherwise, and whenever no jail is started (help, a dry run, an error, a background
 * jail), the init is killed and reaped, and the plan's own namespaces are made as before. An
 * adopted init reads the prelude from its plan pipe and goes on exactly as one cloned after it
 * (init_from_prelude): its id maps, its root and everything else come from the plan.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"

#define EARLY_NS (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)

static void close_pair(int p[2]) {
  for (int i = 0; i < 2; i++) if (p[i] >= 0) { close(p[i]); p[i] = -1; }
}

/* The early init: waits for the prelude the monitor adopted it for, then is the jail's init. */
static void early_child(struct sj_early *e, int drop0, int drop1) __attribute__((noreturn));
static void early_child(struct sj_early *e, int drop0, int drop1) {
  title_set(SJ_INIT_NAME);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (drop0 >= 0) close(drop0);
  if (drop1 >= 0) close(drop1);
  close(e->msg[0]); close(e->exec[0]); close(e->sync[0]); close(e->plan[1]);
  struct sj_plan prelude;
  char err[256];
  uint64_t cflags = 0;
  memset(&prelude, 0, sizeof prelude);
  /* end of file: the front discarded this init or died */
  if (plan_read(e->plan[0], &prelude, err, sizeof err) < 0) _exit(1);
  const struct sj_op_rec *cop = plan_find(&prelude, OP_CLONE);
  if (!cop || arg_u64(cop, 0, &cflags)) _exit(1);
  init_from_prelude(&prelude, e->plan[0], cflags, e->sync[1], e->msg[1], e->exec[1]);
}

void early_none(struct sj_early *e) {
  memset(e, 0, sizeof *e);
  e->pid = -1;
  e->msg[0] = e->msg[1] = e->exec[0] = e->exec[1] = e->sync[0] = e->sync[1] = e->plan[0] = e->plan[1] = -1;
}

void early_start(struct sj_early *e, int drop0, int drop1) {
  early_none(e);
  if (pipe2(e->msg, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, e->exec) < 0 || pipe2(e->plan, O_CLOEXEC) < 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, e->sync) < 0) {
    early_discard(e);
    return;
  }
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(EARLY_NS | SIGCHLD), 0, 0, 0, 0);
  if (pid == 0) early_child(e, drop0, drop1);
  if (pid < 0) { early_discard(e); return; } /* the plan's own clone reports why */
  e->pid = pid;
  close(e->msg[1]); close(e->exec[1]); close(e->sync[1]); close(e->plan[0]);
  e->msg[1] = e->exec[1] = e->sync[1] = e->plan[0] = -1;
}

int early_fits(struct sj_early *e, uint64_t cflags) {
  if (!e || e->pid <= 0) return 0;
  if ((cflags & ~(uint64_t)CLONE_NEWCGROUP) != EARLY_NS) return 0;
  int st;
  return waitpid(e->pid, &st, __WALL | WNOHANG) == 0; /* still there, waiting */
}

void early_discard(struct sj_early *e) {
  if (!e) return;
  if (e->pid > 0) {
    kill(e->pid, SIGKILL);
    while (waitpid(e->pid, NULL, __WALL) < 0 && errno == EINTR) {}
    e->pid = -1;
  }
  close_pair(e->msg); close_pair(e->exec); close_pair(e->sync); close_pair(e->plan);
}
