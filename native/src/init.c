/* init.c: the jail's pid 1, cloned by the monitor (run.c) into the jail's new namespaces.
 *
 * The init is the helper's own code, never exec'd: its memory belongs to the host's user
 * namespace and it is not dumpable, so nothing in the jail can ptrace it, read its descriptors or
 * reach this binary through /proc/1/exe. It waits for the monitor, becomes the jail's root,
 * performs the mounts and pivot_root (mounts.c), forks the command (command.c), then only reaps.
 *
 * Two orders, both ending with the command started only after the monitor's "go" ('G'), that is
 * after the jail's cgroups hold the init:
 * - a whole plan: 'G', then root, cgroup namespace, mounts, network, command;
 * - a prelude carrying the init phase (its ops from idmap-root to loopback, planPrelude in
 *   src/plan/planner.ts): 'M' (id maps written, with the idmapped root when there is one), then
 *   root and mounts while the caller still plans; then the whole plan from the monitor, which
 *   checked that it repeats the prelude's init phase exactly; then 'G', the cgroup namespace,
 *   network and command. The mounts touch only the jail's own mount namespace, and no process of
 *   the jail runs code of its own before 'G'.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"
#include "net.h"

void init_loop(const struct sj_plan *plan, int msgfd, pid_t cmd) {
  int persist = (plan->flags & SJ_F_PERSIST) != 0, killall = (plan->flags & SJ_F_KILLALL) != 0;
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, __WALL);
    if (p < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) {
        if (persist || cmd > 0) { siginfo_t si; sigwaitinfo(&chld, &si); continue; }
        /* Tell the monitor now: tearing the namespaces down after exit takes the kernel a few
         * milliseconds, and the caller need not wait for that. */
        struct rusage ru;
        char t[128];
        getrusage(RUSAGE_CHILDREN, &ru);
        snprintf(t, sizeof t, "%ld.%06ld %ld.%06ld %ld", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
                 (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss);
        msg_send(msgfd, MSG_EMPTY, -1, 0, 0, t);
        _exit(0);
      }
      _exit(1);
    }
    if (p == cmd) {
      msg_send(msgfd, MSG_CMD_EXIT, -1, 0, st, NULL);
      cmd = 0;
      if (killall) kill(-1, SIGKILL);
    }
  }
}

/* Waits for the monitor's byte WANT; returns the descriptor sent along (the idmapped root) or
 * -1. Exits when the monitor gave up (or died). Meanwhile 'D' hands over the tmpfs of the
 * device nodes (devnodes.c), and 'J' the cgroup v1 `tasks` files the monitor opened: this
 * process (one thread) moves itself into each, in order, and answers how many it joined and the
 * errno that stopped it (run.c join_cgroups). */
/* sysjail-oci with a start gate: the cgroup namespace is made at once after the joins (its root
 * is then the container's cgroup in every hierarchy, as after 'G'); the answer says so, and the
 * monitor waits for no 'C' after 'G' (run.c) */
static int g_cgns_at_join, g_cgns_made;
static int wait_monitor(int sync, char want) {
  for (;;) {
    char got = 0;
    int fds[SJ_MAX_JOINS], nfd = 0;
    union { char buf[CMSG_SPACE(sizeof(int) * SJ_MAX_JOINS)]; struct cmsghdr align; } cb;
    struct iovec iov = { .iov_base = &got, .iov_len = 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.buf, .msg_controllen = sizeof cb.buf };
    ssize_t r;
    do r = recvmsg(sync, &mh, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); r == 1 && c; c = CMSG_NXTHDR(&mh, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t j = 0; j < k && nfd < SJ_MAX_JOINS; j++) memcpy(&fds[nfd++], CMSG_DATA(c) + j * sizeof(int), sizeof(int));
      }
    if (r == 1 && got == 'J') {
      int ans[3] = { 0, (mh.msg_flags & MSG_CTRUNC) || nfd == 0 ? EMSGSIZE : 0, 0 };
      for (int j = 0; j < nfd; j++) {
        if (!ans[1]) {
          if (write(fds[j], "0", 1) == 1) ans[0]++;
          else ans[1] = errno ? errno : EIO;
        }
        close(fds[j]);
      }
      /* every join done (one exchange holds them all): the cgroup namespace now, or after 'G'
       * as before when this fails (enter_cgroupns reports why) */
      if (g_cgns_at_join && !g_cgns_made && !ans[1] && ans[0] == nfd && unshare(CLONE_NEWCGROUP) == 0) g_cgns_made = ans[2] = 1;
      while (send(sync, ans, sizeof ans, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
      continue;
    }
    for (int j = 1; j < nfd; j++) close(fds[j]); /* one descriptor goes with any other byte */
    int fd = nfd > 0 ? fds[0] : -1;
    if (r == 1 && got == 'D' && fd >= 0) { /* the monitor's device nodes (devnodes.c) */
      if (g_devfs >= 0) close(g_devfs);
      g_devfs = fd;
      continue;
    }
    if (r != 1 || got != want) _exit(1);
    return fd;
  }
}

/* Become the jail's root (ids inside the new user namespace), dropping host groups. */
static void become_jail_root(const struct sj_plan *plan, int msgw) {
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die_step(msgw, plan_find(plan, OP_UIDMAP), errno, "become jail root");
  if (setgroups(0, NULL) < 0 && errno != EPERM) die_step(msgw, plan_find(plan, OP_SETGROUPS), errno, "setgroups");
  /* the credential change cleared the parent-death signal: arm it again, then make sure the
   * monitor did not die in between (its end of the message pipe would be closed) */
  if (!g_init_sibling) prctl(PR_SET_PDEATHSIG, SIGKILL);
  {
    struct pollfd pf = { msgw, 0, 0 };
    if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLERR | POLLHUP))) _exit(1);
  }
  prctl(PR_SET_DUMPABLE, 0);
  fault_point("7");
}

/* The cgroup namespace: made after 'G', so its root is the jail's own cgroup. */
static void enter_cgroupns(const struct sj_plan *plan, uint64_t cflags, int msgw) {
  if ((cflags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) die_step(msgw, plan_find(plan, OP_CLONE), errno, "cgroup namespace");
}

/* sysjail-oci: the plan's hooks of KIND ("create", "start"), in order (hook.c) */
static int has_hooks(const struct sj_plan *plan, const char *kind) {
  for (uint32_t i = 0; i < plan->nops; i++)
    if (plan->ops[i].code == OP_HOOK && arg_str(&plan->ops[i], 0) && !strcmp(arg_str(&plan->ops[i], 0), kind)) return 1;
  return 0;
}
static void run_hooks(const struct sj_plan *plan, const char *kind, int msgw) {
  for (uint32_t i = 0; i < plan->nops; i++)
    if (plan->ops[i].code == OP_HOOK && arg_str(&plan->ops[i], 0) && !strcmp(arg_str(&plan->ops[i], 0), kind)) hook_run(plan, &plan->ops[i], msgw, 1);
}

/* The jail's network, then the command (or none: a persistent jail), then reaping. */
/* sysjail-oci: the channel to the monitor kept open for its 'S' (start), or -1 */
int g_gate_sync = -1;

static void start_command(const struct sj_plan *plan, int msgw, int execw) __attribute__((noreturn));
static void start_command(const struct sj_plan *plan, int msgw, int execw) {
  net_init(plan, msgw);
  fault_point("11");
  if (plan_find(plan, OP_EXEC) && (plan->flags & SJ_F_OCI)) {
    /* an OCI container's process is pid 1 itself (sysjail-oci): no reaper of ours stays in the
     * jail; the monitor waits for it and exits with its status. The message pipe is close-on-exec.
     * With a start gate, the jail is built already (as runc's init is at create) and only the
     * command waits: for the monitor's 'S', sent once `start` wrote into the gate. */
    console_early(plan, execw);
    if (g_gate_sync >= 0) { wait_monitor(g_gate_sync, 'S'); close(g_gate_sync); g_gate_sync = -1; }
    run_hooks(plan, "start", msgw);
    reset_signals();
    command_exec(plan, execw);
  }
  if (plan_find(plan, OP_EXEC)) {
    pid_t cmd = fork();
    if (cmd < 0) die_step(msgw, plan_find(plan, OP_EXEC), errno, "fork");
    if (cmd == 0) {
      close(msgw);
      reset_signals();
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      command_exec(plan, execw);
    }
    close(execw);
    fault_point("12");
    /* the init keeps no copy of the jail's stdio: readers see EOF when the jail's processes are done */
    close(0); close(1); close(2);
    init_loop(plan, msgw, cmd);
  }
  close(execw);
  close(0); close(1); close(2);
  msg_send(msgw, MSG_READY, -1, 0, 0, NULL);
  init_loop(plan, msgw, 0);
}

void init_main(const struct sj_plan *plan, uint64_t cflags, int sync, int msgw, int execw) {
  title_set(SJ_INIT_NAME);
  /* a sibling's parent is the front, which exits once create is done: no parent-death signal.
   * It still ends with the monitor until its command runs (wait_monitor: the channel's end) */
  if (!g_init_sibling) prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (g_status_fd >= 0) { close(g_status_fd); g_status_fd = -1; }
  const int gated = (plan->flags & SJ_F_OCI) && plan_find(plan, OP_START_GATE);
  g_cgns_at_join = gated && (cflags & CLONE_NEWCGROUP);
  int treefd = wait_monitor(sync, 'G');
  if (gated) {
    /* sysjail-oci: the cgroup namespace at once (full capabilities in the new user namespace
     * since the clone), then 'C': the monitor reports "started" only after it (run.c); made
     * already with the joins, it was in their answer, and no 'C' is awaited */
    g_gate_sync = sync;
    if (!g_cgns_made) {
      enter_cgroupns(plan, cflags, msgw);
      if (cflags & CLONE_NEWCGROUP) { char c = 'C'; while (send(sync, &c, 1, MSG_NOSIGNAL) < 0 && errno == EINTR) {} }
    }
  } else if (!idmap_count(plan)) close(sync);
  /* sysjail-oci's idmapped trees: the monitor idmaps them while the jail is built (idmaptree.c) */
  if (idmap_count(plan)) g_idmap_sync = sync;
  init_preopen(plan); /* sysjail-oci only: the trees of host paths jail root cannot reach */
  become_jail_root(plan, msgw);
  if (g_gate_sync < 0) enter_cgroupns(plan, cflags, msgw);
  init_setup(plan, msgw, treefd);
  idmap_done(); /* no tree asked for (a joined mount namespace) */
  /* sysjail-oci: the command looked up in the built container (lookup.c), so that a command
   * it lacks fails create, before "ready", as runc's does */
  command_lookup(plan, msgw);
  /* the container is built (its createContainer hooks ran, its command was looked up):
   * sysjail-oci create waits for this (the monitor's "ready" event), as runc's create waits for
   * its init; host-side hooks must see a built container */
  if (has_hooks(plan, "create") || g_gate_sync >= 0) msg_send(msgw, MSG_READY, -1, 0, 0, NULL);
  start_command(plan, msgw, execw);
}

void init_from_prelude(const struct sj_plan *prelude, int planfd, uint64_t cflags, int sync, int msgw, int execw) {
  title_set(SJ_INIT_NAME);
  if (!g_init_sibling) prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (g_status_fd >= 0) { close(g_status_fd); g_status_fd = -1; }
  struct sj_plan plan;
  char err[256];
  memset(&plan, 0, sizeof plan);
  if (!prelude_has_init_phase(prelude)) {
    if (plan_read(planfd, &plan, err, sizeof err) < 0) _exit(1); /* the monitor gave up (or died) */
    close(planfd);
    init_main(&plan, cflags, sync, msgw, execw);
  }
  int treefd = wait_monitor(sync, 'M');
  become_jail_root(prelude, msgw);
  init_setup(prelude, msgw, treefd);
  if (plan_read(planfd, &plan, err, sizeof err) < 0) _exit(1);
  close(planfd);
  /* createContainer hooks run in the init phase, which the prelude already did without them */
  if (has_hooks(&plan, "create")) die_step(msgw, plan_find(&plan, OP_HOOK), EINVAL, "createContainer hooks need the whole plan before the root is built");
  wait_monitor(sync, 'G');
  close(sync);
  enter_cgroupns(&plan, cflags, msgw);
  command_lookup(&plan, msgw);
  start_command(&plan, msgw, execw);
}
