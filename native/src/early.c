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
 *
 * sysjail-oci create (front.c makes the guess only for a `create` command line): the plan is a
 * whole one, run by a monitor the front forks into a session of its own, which would clone the
 * init as its sibling (CLONE_PARENT: the front's child), as the early init already is. The front
 * hands it to that monitor only when the plan's clone flags fit and nothing is joined (no
 * OP_NS_JOIN, no OP_PROC_NS); the monitor checks the same again (run.c) and writes it the whole
 * plan, on which it becomes what the monitor's own clone would have been: a sibling without a
 * parent-death signal, in a session of its own, running init_main. After a failed create the
 * front, its parent, kills and reaps it (pidfd, then waitpid) before it returns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

/* The early init: waits for the plan the monitor adopted it for, then is the jail's init. */
static void early_child(struct sj_early *e, const int *drop, int ndrop) __attribute__((noreturn));
static void early_child(struct sj_early *e, const int *drop, int ndrop) {
  title_set(SJ_INIT_NAME);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (int i = 0; i < ndrop; i++) if (drop[i] >= 0) close(drop[i]);
  close(e->msg[0]); close(e->exec[0]); close(e->sync[0]); close(e->plan[1]);
  struct sj_plan plan;
  char err[256];
  uint64_t cflags = 0;
  memset(&plan, 0, sizeof plan);
  /* end of file: the front discarded this init or died (or sysjail-oci's monitor gave up) */
  if (plan_read(e->plan[0], &plan, err, sizeof err) < 0) _exit(1);
  const struct sj_op_rec *cop = plan_find(&plan, OP_CLONE);
  if (!cop || arg_u64(cop, 0, &cflags)) _exit(1);
  if (plan.flags & SJ_F_PRELUDE) init_from_prelude(&plan, e->plan[0], cflags, e->sync[1], e->msg[1], e->exec[1]);
  /* sysjail-oci create, a whole plan (run.c adopts only that besides a prelude): this init is
   * now what the monitor's own clone would have made, the monitor's sibling (CLONE_PARENT, the
   * front's child): no parent-death signal, as its parent, the front, exits once create is done
   * (it still ends with the monitor until its command runs: wait_monitor, the channel's end),
   * and a session of its own, out of the engine's, as the monitor's clone is (front.c forks the
   * monitor into a new session) */
  if (!(plan.flags & SJ_F_OCI) || !(plan.flags & SJ_F_DETACH)) _exit(1);
  g_init_sibling = 1;
  prctl(PR_SET_PDEATHSIG, 0);
  setsid();
  close(e->plan[0]);
  init_main(&plan, cflags, e->sync[1], e->msg[1], e->exec[1]);
}

void early_none(struct sj_early *e) {
  memset(e, 0, sizeof *e);
  e->pid = -1;
  e->pidfd = -1;
  e->msg[0] = e->msg[1] = e->exec[0] = e->exec[1] = e->sync[0] = e->sync[1] = e->plan[0] = e->plan[1] = -1;
}

void early_start(struct sj_early *e, const int *drop, int ndrop) {
  early_none(e);
  if (pipe2(e->msg, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, e->exec) < 0 || pipe2(e->plan, O_CLOEXEC) < 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, e->sync) < 0) {
    early_discard(e);
    return;
  }
  int pidfd = -1;
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(EARLY_NS | CLONE_PIDFD | SIGCHLD), 0, &pidfd, 0, 0);
  if (pid == 0) early_child(e, drop, ndrop);
  if (pid < 0) { early_discard(e); return; } /* the plan's own clone reports why */
  e->pid = pid;
  e->pidfd = pidfd;
  close(e->msg[1]); close(e->exec[1]); close(e->sync[1]); close(e->plan[0]);
  e->msg[1] = e->exec[1] = e->sync[1] = e->plan[0] = -1;
}

int early_fits(struct sj_early *e, uint64_t cflags) {
  if (!e || e->pid <= 0 || e->pidfd < 0) return 0;
  if ((cflags & ~(uint64_t)CLONE_NEWCGROUP) != EARLY_NS) return 0;
  /* still there, waiting: its pidfd is not readable (also for sysjail-oci's monitor, whose
   * sibling it is: no waitpid there) */
  struct pollfd p = { e->pidfd, POLLIN, 0 };
  return poll(&p, 1, 0) == 0;
}

void early_handed(struct sj_early *e) {
  if (!e) return;
  if (e->msg[0] >= 0) close(e->msg[0]);
  if (e->exec[0] >= 0) close(e->exec[0]);
  if (e->sync[0] >= 0) close(e->sync[0]);
  if (e->plan[1] >= 0) close(e->plan[1]);
  e->msg[0] = e->exec[0] = e->sync[0] = e->plan[1] = -1;
}

void early_discard(struct sj_early *e) {
  if (!e) return;
  if (e->pid > 0) {
    if (e->pidfd >= 0) syscall(SYS_pidfd_send_signal, e->pidfd, SIGKILL, NULL, 0);
    else kill(e->pid, SIGKILL);
    int r;
    while ((r = waitpid(e->pid, NULL, __WALL)) < 0 && errno == EINTR) {}
    if (r < 0 && e->pidfd >= 0) {
      /* not this process's child (sysjail-oci's monitor): it has ended once its pidfd is
       * readable; the front, its parent, reaps it */
      struct pollfd p = { e->pidfd, POLLIN, 0 };
      while (poll(&p, 1, -1) < 0 && errno == EINTR) {}
    }
    e->pid = -1;
  }
  if (e->pidfd >= 0) { close(e->pidfd); e->pidfd = -1; }
  close_pair(e->msg); close_pair(e->exec); close_pair(e->sync); close_pair(e->plan);
}
