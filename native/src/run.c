/* run.c: the monitor of a new jail (host side); the jail's pid 1 is in init.c.
 *
 * The monitor stays outside the jail. It clones the jail's init into new namespaces, writes its
 * id maps, attaches it to its cgroups, and only then lets it go on: the jail's processes are in
 * their cgroups and namespaces before they run one instruction of their own. The monitor
 * reports every event to the TypeScript side as JSON lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include "helper.h"
#include "host.h"
#include "net.h"
#include "nsserve.h"
#include "ocimon.h"

#define REQUIRED_NS (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC)

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Tells the init to go on: BYTE is 'M' (id maps written) or 'G' (go); FD (the idmapped root)
 * goes along when >= 0. */
void send_token(int sync, char byte, int fd) {
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (fd >= 0) {
    memset(cbuf, 0, sizeof cbuf);
    mh.msg_control = cbuf; mh.msg_controllen = sizeof cbuf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  while (sendmsg(sync, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

/* Whether PID is listed in the cgroup v1 `tasks` file FILE (as the monitor's pid namespace sees it). */
static int tasks_lists(const char *file, pid_t pid) {
  char b[8192], want[24];
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, b, sizeof b - 1); /* a new jail's cgroup holds its init alone */
  close(fd);
  if (n <= 0) return 0;
  b[n] = 0;
  int w = snprintf(want, sizeof want, "%d\n", (int)pid);
  for (char *l = b; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (!strncmp(l, want, (size_t)w)) return 1;
  return 0;
}

/* cgroupJoin: the init moves itself into each of these cgroup v1 hierarchies. Writing another
 * process's pid into cgroup.procs (cgroup-attach) takes the kernel's global
 * cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period (5-15 ms here, on
 * every jail start); a single thread writing "0" into `tasks` moves itself under cgroup_mutex
 * alone. The init is one thread and runs only the helper's code here, before 'G': no process of
 * the jail runs anything of its own before it is in its cgroups, as with cgroup-attach. The
 * monitor opens the files (the kernel checks the opener's credentials, its own) and hands them
 * over together with one 'J' (a container joins every v1 hierarchy, nine on a hybrid host: one
 * exchange, not one per hierarchy, each of which waited for both processes to be scheduled);
 * the init joins them in order and answers how many it joined and the errno that stopped it.
 * The monitor then sees the init's pid in each file itself: the kernel's word, not the init's.
 * Returns -1 after reporting the failed step. */
/* the init made its cgroup namespace right after its joins (init.c wait_monitor): no 'C' to await */
static int g_cgns_joined;
static int join_cgroups(const struct sj_plan *plan, pid_t pid, int sync) {
  int fds[SJ_MAX_JOINS];
  const struct sj_op_rec *ops[SJ_MAX_JOINS];
  int n = 0, rc = 0;
  for (uint32_t i = 0; i < plan->nops && rc == 0; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    if (op->code != OP_CGROUP_JOIN) continue;
    const char *file = arg_str(op, 0);
    if (!file) { emit_error(op->index, op_name(op->code), EINVAL, "", "bad arguments"); rc = -1; break; }
    if (n == SJ_MAX_JOINS) { emit_error(op->index, op_name(op->code), E2BIG, file, "more cgroup hierarchies to join than the helper takes (32)"); rc = -1; break; }
    int fd = fault_fail("cgroup-join") < 0 ? -1 : open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) { emit_error(op->index, op_name(op->code), errno, file, NULL); rc = -1; break; }
    fds[n] = fd;
    ops[n++] = op;
  }
  if (rc == 0 && n > 0) {
    char byte = 'J';
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { char buf[CMSG_SPACE(sizeof(int) * SJ_MAX_JOINS)]; struct cmsghdr align; } cb;
    memset(&cb, 0, sizeof cb);
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.buf, .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n) };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
    while (sendmsg(sync, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
    int r[3] = { 0, ESRCH, 0 }; /* joined, errno, cgroup namespace made; as if the init is gone until it answers */
    ssize_t got;
    do got = recv(sync, r, sizeof r, 0); while (got < 0 && errno == EINTR);
    if (got != (ssize_t)sizeof r || r[0] < 0 || r[0] > n) { r[0] = 0; r[1] = ESRCH; r[2] = 0; }
    g_cgns_joined = r[2] == 1;
    for (int k = 0; k < n; k++) {
      const char *file = arg_str(ops[k], 0);
      int e = k < r[0] ? (tasks_lists(file, pid) ? 0 : ESRCH) : (r[1] ? r[1] : ESRCH);
      if (e) { emit_error(ops[k]->index, op_name(ops[k]->code), e, file, e == ESRCH ? "the init is not in this cgroup" : NULL); rc = -1; break; }
    }
  }
  for (int k = 0; k < n; k++) close(fds[k]);
  return rc;
}

static void emit_msg(const struct sj_msg *m, int *setup_error) {
  char t[600];
  json_str(t, sizeof t, m->text);
  if (m->type == MSG_ERROR) { emit_error(m->op, op_name((uint32_t)m->value), m->err, m->text, NULL); *setup_error = 1; }
  else if (m->type == MSG_WARN) emit("{\"ev\":\"warn\",\"op\":%d,\"step\":\"%s\",\"errno\":%d,\"path\":%s}", m->op, (m->value & SJ_WARN_IDMAP) ? "idmap" : op_name((uint32_t)m->value), m->err, t);
  else if (m->type == MSG_STEP) emit("{\"ev\":\"step\",\"op\":%d,\"step\":\"%s\",\"path\":%s}", m->op, op_name((uint32_t)m->value), t);
}

static int g_empty = 0;
static double g_eu, g_es;
static long g_erss;

static int drain_msgs(int fd, int *setup_error, int *cmd_status, int *have_cmd, int *ready) {
  struct sj_msg m;
  ssize_t n;
  int got = 0;
  while ((n = read(fd, &m, sizeof m)) == (ssize_t)sizeof m) {
    got = 1;
    if (m.type == MSG_CMD_EXIT) { *cmd_status = m.value; *have_cmd = 1; }
    else if (m.type == MSG_EMPTY) { g_empty = 1; sscanf(m.text, "%lf %lf %ld", &g_eu, &g_es, &g_erss); }
    else if (m.type == MSG_READY) *ready = 1;
    else emit_msg(&m, setup_error);
  }
  return n == 0 && !got ? -1 : 0; /* -1: end of file */
}

/* A prelude's whole plan: read from the caller, checked against the prelude the namespaces and
 * id maps were made from (and the root built from). Returns -1 after reporting why it is refused. */
static int read_whole_plan(const struct sj_plan *prelude, struct sj_plan *whole) {
  char err[256];
  int r = plan_read(g_status_fd, whole, err, sizeof err);
  if (r < 0) { emit_error(-1, r == -2 ? "protocol" : "plan", r == -2 ? EPROTO : EINVAL, "", err); return -1; }
  const char *why = prelude_mismatch(prelude, whole);
  if (why) { emit_error(-1, "plan", EINVAL, "", why); return -1; }
  return 0;
}

/* The jail's cpu time in nanoseconds from its cgroup (host_state: a plain number, or the value of
 * a key's line times a scale); 0 when it cannot be read. */
static uint64_t cpu_used(const struct host_state *h) {
  char b[4096];
  ssize_t n = read_file(h->cpu_file, b, sizeof b);
  if (n <= 0) return 0;
  if (!h->cpu_key) return strtoull(b, NULL, 10);
  size_t kl = strlen(h->cpu_key);
  for (char *l = b; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    if (!strncmp(l, h->cpu_key, kl) && l[kl] == ' ') return strtoull(l + kl + 1, NULL, 10) * h->cpu_scale;
  }
  return 0;
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* clone3's arguments (linux/sched.h's struct clone_args, whose header clashes with sched.h's) */
struct sj_clone_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

/* cgroupInto, from a whole plan: the directory the init is cloned into, opened (O_PATH); -1 for
 * none, -2 after reporting the failure. The directory was made by host_pre. */
static int into_open(const struct sj_plan *plan) {
  const struct sj_op_rec *op = plan_find(plan, OP_CGROUP_INTO);
  if (!op) return -1;
  const char *dir = arg_str(op, 0);
  int fd = !dir ? (errno = EINVAL, -1) : fault_fail("cgroup-into") < 0 ? -1 : open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) { emit_error(op->index, op_name(op->code), errno, dir ? dir : "", NULL); return -2; }
  return fd;
}

/* The init, cloned as clone(2) with FLAGS (its exit signal in the low byte) would be, but born
 * in the cgroup2 directory CGFD: it never runs outside it, and no process is migrated. */
static pid_t clone_into(uint64_t flags, int *pidfd, int cgfd) {
  struct sj_clone_args a;
  memset(&a, 0, sizeof a);
  a.flags = (flags & ~(uint64_t)CSIGNAL) | CLONE_INTO_CGROUP;
  /* with CLONE_PARENT the child takes its parent's exit signal, and clone3 wants none named */
  a.exit_signal = (flags & CLONE_PARENT) ? 0 : flags & CSIGNAL;
  a.pidfd = (uint64_t)(uintptr_t)pidfd;
  a.cgroup = (uint64_t)cgfd;
  return (pid_t)syscall(SYS_clone3, &a, sizeof a);
}

/* cgroupInto from a prelude: the init was cloned before the whole plan (and the directory) came,
 * so the monitor writes its pid into the directory's cgroup.procs, as cgroup-attach does. */
static int into_attach(const struct sj_plan *plan, pid_t pid) {
  const struct sj_op_rec *op = plan_find(plan, OP_CGROUP_INTO);
  if (!op) return 0;
  const char *dir = arg_str(op, 0);
  char f[4096], b[32];
  int n = snprintf(b, sizeof b, "%d", (int)pid);
  if (!dir || (size_t)snprintf(f, sizeof f, "%s/cgroup.procs", dir) >= sizeof f) { emit_error(op->index, op_name(op->code), EINVAL, dir ? dir : "", "bad arguments"); return -1; }
  if (fault_fail("cgroup-into") < 0 || write_file(f, b, (size_t)n) < 0) { emit_error(op->index, op_name(op->code), errno, f, NULL); return -1; }
  return 0;
}

/* monotonic time the helper started (main.c), for the setup-time figure */
double g_helper_t0;

/* Starts a jail from PLAN, or from a prelude (SJ_F_PRELUDE: the clone flags and id maps, and
 * perhaps the init phase): then the namespaces are made and mapped, and the init builds the
 * jail's root, while the caller still plans; the whole plan, which must repeat all that, is read
 * afterwards and handed to the init before its command runs (init.c). */
int run_main(struct sj_plan *first, struct sj_early *ahead) {
  const int prelude = (first->flags & SJ_F_PRELUDE) != 0;
  const int early = prelude && prelude_has_init_phase(first);
  struct sj_plan whole;
  memset(&whole, 0, sizeof whole);
  const struct sj_plan *plan = first;
  const struct sj_op_rec *cop = plan_find(first, OP_CLONE);
  uint64_t cflags = 0;
  if (!cop || arg_u64(cop, 0, &cflags)) { emit_error(-1, "clone", EINVAL, "", "plan has no clone flags"); return 70; }
  uint64_t joined = 0;
  if (!ocimon_check_joins(first, cflags, &joined)) return 70;
  /* a procfs of a joined pid namespace (OP_PROC_NS) only from a whole plan, for a jail with its
   * own mount namespace */
  const struct sj_op_rec *pop = plan_find(first, OP_PROC_NS);
  if (pop && ((cflags & CLONE_NEWPID) || (joined & CLONE_NEWNS) || prelude || !arg_str(pop, 0) || !arg_str(pop, 1))) {
    emit_error(pop->index, "proc-ns", EINVAL, "", "a procfs of a joined or the runtime's pid namespace needs a jail without a pid namespace of its own and with a mount namespace of its own"); return 70;
  }
  /* an OCI container may be in the runtime's own network, uts, ipc and pid namespaces
   * (config.json leaves them out: TypeScript decides which); never in its mount or user one */
  const uint64_t required = (first->flags & SJ_F_OCI) ? (CLONE_NEWUSER | CLONE_NEWNS) : REQUIRED_NS;
  if (((cflags | joined) & required) != required) { emit_error(cop->index, "clone", EPERM, "", (first->flags & SJ_F_OCI) ? "a container needs new user and mount namespaces (or a joined mount one)" : "a jail needs new user, pid, mount, uts and ipc namespaces"); return 70; }
  struct host_state h;
  memset(&h, 0, sizeof h);
  int oci_rc = 127, gatefd = -1; /* sysjail-oci: the monitor's own exit status; the start gate */
  /* the exec pipe's end means the command was exec'd only once `start` opened the gate (gatefd
   * then -1): an init that ended while still waiting for 'S' (its sync channel read as closed:
   * init.c wait_monitor exits 1) ran nothing. Marked started, `start` would report success for a
   * container that had already stopped, and the engine (conmon) would have taken its exit
   * before `start`: podman then waits for an exit file its cleanup already removed
   * (docs/OCI.md, "A lost exit under podman") */
  int planp[2] = { -1, -1 }, whole_read = 0;
  int msgp[2] = { -1, -1 }, execp[2] = { -1, -1 }, sync[2] = { -1, -1 };
  /* an init the front cloned ahead with exactly these namespaces is this jail's (early.c): from
   * a prelude, or from sysjail-oci create's whole plan (the front forked this monitor, the early
   * init is its sibling as its own clone's would be: ocimon_sibling) */
  const int oci_whole = !prelude && (first->flags & SJ_F_OCI) && (first->flags & SJ_F_DETACH) && g_front;
  const int adopt = (prelude || oci_whole) && !joined && !pop && early_fits(ahead, cflags);
  if (adopt) {
    msgp[0] = ahead->msg[0]; execp[0] = ahead->exec[0]; sync[0] = ahead->sync[0]; planp[1] = ahead->plan[1];
    ahead->msg[0] = ahead->exec[0] = ahead->sync[0] = ahead->plan[1] = -1;
  } else {
    early_discard(ahead);
    if (prelude ? pipe2(planp, O_CLOEXEC) < 0 : host_pre(first, &h) < 0) {
      if (prelude) emit_error(-1, "pipe", errno, "", NULL);
      goto undo;
    }
    if (pipe2(msgp, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, execp) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
      emit_error(-1, "pipe", errno, "", NULL); goto undo;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD); sigaddset(&mask, SIGTERM); sigaddset(&mask, SIGINT); sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  /* the caller is the parent, except under a front (its caller is its Node child, whose end of
   * the channel closing is noticed below): a front's parent is the user's shell */
  if (!(plan->flags & SJ_F_DETACH) && !g_front) prctl(PR_SET_PDEATHSIG, SIGTERM);

  double t0 = now_s();
  if (ocimon_before_clone(first, joined, pop) < 0) goto undo;
  ocimon_sibling(first, adopt);
  int initfd = -1;
  uint64_t cl = (cflags & ~(uint64_t)CLONE_NEWCGROUP) | CLONE_PIDFD | (g_init_sibling ? CLONE_PARENT : 0) | SIGCHLD;
  if (adopt) { initfd = ahead->pidfd; ahead->pidfd = -1; }
  /* a whole plan's cgroupInto: the init is born in that cgroup (an init cloned before the plan,
   * from a prelude or made ahead by the front: into_attach below) */
  const int intofd = prelude || adopt ? -1 : into_open(first);
  if (intofd == -2) goto undo;
  pid_t pid = adopt ? ahead->pid : intofd >= 0 ? clone_into(cl, &initfd, intofd) : (pid_t)syscall(SYS_clone, (unsigned long)cl, 0, &initfd, 0, 0);
  if (intofd >= 0 && pid != 0) close(intofd);
  ocimon_after_clone(pid, adopt, initfd, cflags);
  if (adopt) {
    ahead->pid = -1;
    /* the adopted init learns its prelude (or whole plan) now; it waits for its id maps ('M', or
     * 'G' after them) as any other, doing nothing else meanwhile */
    if (plan_write(planp[1], first) < 0) { emit_error(cop->index, "clone", errno, "", "the early init is gone"); kill_init(pid, SIGKILL); wait_init(pid); goto undo; }
    if (!prelude) { close(planp[1]); planp[1] = -1; }
    /* a whole plan's host steps (cgroups made and written, registry files), as before a clone,
     * while the init reads its plan */
    if (!prelude && (host_pre(first, &h) < 0 || into_attach(first, pid) < 0)) { kill_init(pid, SIGKILL); wait_init(pid); goto undo; }
    if (first->flags & SJ_F_DEBUG) emit("{\"ev\":\"step\",\"op\":%d,\"step\":\"clone\",\"path\":\"(made ahead by the front)\"}", cop->index);
  }
  if (pid < 0) {
    int e = errno;
    const char *why = e == EPERM || e == ENOSPC || e == EINVAL
      ? "cannot create namespaces: unprivileged user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0, or kernel.apparmor_restrict_unprivileged_userns=0)"
      : NULL;
    emit_error(cop->index, "clone", e, "", why);
    goto undo;
  }
  if (pid == 0) {
    close(msgp[0]); close(execp[0]); close(sync[0]);
    if (prelude) { close(planp[1]); init_from_prelude(first, planp[0], cflags, sync[1], msgp[1], execp[1]); }
    init_main(plan, cflags, sync[1], msgp[1], execp[1]);
  }
  /* before the init is told anything (it turns non-dumpable right after): its namespaces, for
   * the user-mode networking helpers of a rootless jail (net.c) */
  fault_point("3");
  if (cflags & CLONE_NEWNET) { net_hold(pid); fault_point("3b"); }
  if (!adopt) {
    close(msgp[1]); close(execp[1]); close(sync[1]);
    if (prelude) { close(planp[0]); planp[0] = -1; }
  }
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); close(devnull); }
  fcntl(msgp[0], F_SETFL, O_NONBLOCK);
  int setup_error = 0, treefd = -1, cmd_status = 0, have_cmd = 0, ready = 0;
  /* id maps first (the kernel needs setgroups before gid_map for unprivileged writers); from a
   * prelude, the rest waits for the whole plan, which the init reads only once it is checked.
   * A prelude with the init phase lets the init build the root meanwhile ('M'). */
  if (after_clone(first, pid, !prelude ? AC_MAPS | AC_IDMAP | AC_REST : early ? AC_MAPS | AC_IDMAP : AC_MAPS, &treefd) < 0) setup_error = 1;
  else if (!prelude && join_cgroups(first, pid, sync[0]) < 0) setup_error = 1;
  /* the jail's namespaces, while the init still waits (and can be opened by its owner) */
  int ns_err = !setup_error && nsserve_open(pid, cflags) < 0 ? errno : 0;
  /* sysjail-oci's idmapped trees (idmaptree.c): onto the init's user namespace, its maps written */
  int idm_ns = -1;
  if (!setup_error && !prelude && idmap_count(first)) {
    if (!(first->flags & SJ_F_OCI)) { emit_error(-1, "idmap", EPERM, "", "idmapped trees are for sysjail-oci containers only"); setup_error = 1; }
    else if ((idm_ns = idmap_userns(pid, g_initfd)) < 0) { emit_error(-1, "idmap", errno, "/proc/PID/ns/user", NULL); setup_error = 1; }
  }
  if (early && !setup_error) {
    send_token(sync[0], 'M', treefd);
    if (treefd >= 0) close(treefd);
    treefd = -1;
  }
  if (prelude && !setup_error) {
    whole_read = 1;
    if (read_whole_plan(first, &whole) < 0 || plan_write(planp[1], &whole) < 0) setup_error = 1;
    close(planp[1]); planp[1] = -1;
    plan = &whole;
    t0 = now_s(); /* the jail's wall time runs from here: before, it only waited for its plan */
    if (!setup_error && (host_pre(plan, &h) < 0 || after_clone(plan, pid, early ? AC_REST : AC_IDMAP | AC_REST, &treefd) < 0 || into_attach(plan, pid) < 0 || join_cgroups(plan, pid, sync[0]) < 0)) setup_error = 1;
  }
  if (!setup_error && ocimon_devnodes(plan, prelude && early, sync[0]) < 0) setup_error = 1;
  if (!setup_error && net_host_post(plan, pid) < 0) setup_error = 1;
  if (!setup_error) fault_point("5b");
  int nsfd = -1;
  uid_t ns_owner = 0;
  const char *ns_path = NULL;
  const struct sj_op_rec *nsop = plan_find(plan, OP_NS_SOCKET);
  if (!setup_error && nsop) {
    uint64_t o;
    ns_path = arg_str(nsop, 0);
    if (!ns_path || arg_u64(nsop, 1, &o)) { emit_error(nsop->index, "ns-socket", EINVAL, "", "bad arguments"); setup_error = 1; ns_path = NULL; }
    else if (ns_err) { emit_error(nsop->index, "ns-socket", ns_err, "/proc/PID/ns", NULL); setup_error = 1; ns_path = NULL; }
    else {
      ns_owner = (uid_t)o;
      nsfd = nsserve_listen(ns_path, ns_owner);
      if (nsfd < 0) { emit_error(nsop->index, "ns-socket", errno, ns_path, NULL); setup_error = 1; ns_path = NULL; }
    }
  }
  if (nsfd < 0) nsserve_close();
  /* what the init reported so far (from an early init phase: a failed mount) */
  drain_msgs(msgp[0], &setup_error, &cmd_status, &have_cmd, &ready);
  if (setup_error) {
    if (idm_ns >= 0) close(idm_ns);
    kill_init(pid, SIGKILL);
    wait_init(pid);
    if (nsfd >= 0) { close(nsfd); unlink(ns_path); }
    nsserve_close();
    goto undo;
  }
  if (ocimon_gate_open(plan, &gatefd) < 0) {
    if (idm_ns >= 0) close(idm_ns);
    kill_init(pid, SIGKILL);
    wait_init(pid);
    goto undo;
  }
  unsigned long long start = 0;
  read_starttime(pid, &start);
  /* sysjail-oci: the container's cgroup namespace exists before create returns (an engine reads
   * /proc/PID/ns at once): the init makes it first thing after 'G' and answers 'C' (init.c) */
  const int cg_ack = gatefd >= 0 && (cflags & CLONE_NEWCGROUP) && !g_cgns_joined;
  if (cg_ack) {
    send_token(sync[0], 'G', treefd);
    char c = 0;
    while (recv(sync[0], &c, 1, 0) < 0 && errno == EINTR) {}
  }
  emit("{\"ev\":\"started\",\"initPid\":%d,\"initStart\":%llu,\"monitorPid\":%d}", (int)pid, start, (int)getpid());
  if (!cg_ack) send_token(sync[0], 'G', treefd);
  if (treefd >= 0) close(treefd);
  /* the init builds the jail now and hands over each tree to idmap, then 'E' */
  if (idm_ns >= 0) { idmap_serve(sync[0], idm_ns, g_initfd); close(idm_ns); }
  if (gatefd < 0) close(sync[0]); /* else kept for the command's 'S' (start) */
  fault_point("6");

  int tfd = -1, cfd = -1;
  if (h.wall_ms) {
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec its = { .it_value = { (time_t)(h.wall_ms / 1000), (long)(h.wall_ms % 1000) * 1000000L } };
    timerfd_settime(tfd, 0, &its, NULL);
  }
  if (h.cpu_ns && h.cpu_file) {
    cfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec its = { .it_interval = { 0, 20000000L }, .it_value = { 0, 20000000L } };
    timerfd_settime(cfd, 0, &its, NULL);
  }
  notify_setup(plan);
  int ready_sent = 0, acked = 0, exec_open = 1, ctl_open = g_status_fd >= 0, msg_open = 1, handed = 0;
  int init_status = 0, done = 0;
  double setup_s = -1;
  const char *reason = NULL;
  while (!done) {
    struct pollfd p[10] = {
      { sigfd, POLLIN, 0 }, { msg_open ? msgp[0] : -1, POLLIN, 0 }, { exec_open ? execp[0] : -1, POLLIN, 0 },
      { ctl_open ? g_status_fd : -1, POLLIN, 0 }, { tfd, POLLIN, 0 }, { cfd, POLLIN, 0 }, { notify_fd(), POLLIN, 0 },
      { nsfd, POLLIN, 0 }, { gatefd, POLLIN, 0 }, { g_init_sibling ? g_initfd : -1, POLLIN, 0 },
    };
    if (poll(p, 10, notify_timeout()) < 0 && errno != EINTR) break;
    notify_tick();
    if (nsfd >= 0 && p[7].revents) nsserve_accept(nsfd, ns_owner);
    if (gatefd >= 0 && p[8].revents) {
      char b;
      if (read(gatefd, &b, 1) == 1) {
        g_gate_hold = gatefd; /* held until the command's exec (mark_started) */
        gatefd = -1;
        send_token(sync[0], 'S', -1);
        close(sync[0]);
      }
    }
    /* at its end (the init's writer closed at its command's exec, an OCI container's) the pipe
     * is not polled again: it would read as ready forever */
    if (p[1].revents && drain_msgs(msgp[0], &setup_error, &cmd_status, &have_cmd, &ready) < 0) msg_open = 0;
    if (p[2].revents) {
      struct sj_msg m;
      int lfd;
      ssize_t n = msg_recv_fd(execp[0], &m, &lfd);
      if (n == (ssize_t)sizeof m && m.type == MSG_LISTENER && lfd >= 0) {
        /* sent by the command's setup code (the exec channel closes at its exec): the first
         * one is taken if it is a listener, any other descriptor is closed (notify.c) */
        notify_take(lfd);
        if (notify_fd() < 0 && !reason) { reason = "notify"; emit_error(m.op, "seccomp", ESRCH, "", "the command's seccomp listener did not arrive"); setup_error = 1; kill_init(pid, SIGKILL); }
      }
      else if (lfd >= 0) { close(lfd); if (n == (ssize_t)sizeof m) emit_msg(&m, &setup_error); }
      else if (n == (ssize_t)sizeof m && m.type == MSG_LISTENER) {
        notify_grab(pid, m.value);
        if (notify_fd() < 0 && !reason) { reason = "notify"; emit_error(m.op, "seccomp", ESRCH, "", "cannot take the command's seccomp listener"); setup_error = 1; kill_init(pid, SIGKILL); }
      }
      else if (n == (ssize_t)sizeof m) { emit_msg(&m, &setup_error); }
      else if (n <= 0) {
        exec_open = 0;
        close(execp[0]);
        drain_msgs(msgp[0], &setup_error, &cmd_status, &have_cmd, &ready);
        if (!setup_error && gatefd < 0 && plan_find(plan, OP_EXEC)) { ready = 1; mark_started(plan); }
      }
    }
    if (ready && !ready_sent && !setup_error) {
      ready_sent = 1; setup_s = now_s() - g_helper_t0; emit("{\"ev\":\"ready\",\"initPid\":%d}", (int)pid);
      trim_idle(); /* the setup is over: the monitor waits from here on */
    }
    if (p[6].revents && notify_fd() >= 0) {
      /* the command's own exec closes the exec channel before any code of the jail runs, so a
       * call it makes after its exec finds that end of file already pending: read it first */
      while (exec_open) {
        struct pollfd e = { execp[0], POLLIN, 0 };
        if (poll(&e, 1, 0) <= 0) break;
        struct sj_msg m;
        ssize_t n = read(execp[0], &m, sizeof m);
        if (n == (ssize_t)sizeof m) { if (m.type != MSG_LISTENER) emit_msg(&m, &setup_error); }
        else if (n <= 0) { exec_open = 0; close(execp[0]); if (!setup_error && gatefd < 0 && plan_find(plan, OP_EXEC)) { ready = 1; mark_started(plan); } }
      }
      if (p[6].revents & POLLIN) notify_handle(!exec_open);
      if (p[6].revents & (POLLHUP | POLLERR | POLLNVAL)) notify_hangup();
    }
    if (p[3].revents) {
      char c[16];
      ssize_t n = read(g_status_fd, c, sizeof c);
      if (n <= 0) {
        ctl_open = 0;
        if (!(plan->flags & SJ_F_DETACH) && !reason) { reason = "caller-gone"; kill_init(pid, SIGKILL); }
        g_status_fd = -1;
      }
      for (ssize_t k = 0; k < n; k++) {
        if (c[k] == 'A') acked = 1;
        else if (c[k] == 'K' && !reason) { reason = "killed"; kill_init(pid, SIGKILL); }
        else if (c[k] == 'T' && !reason) { reason = "terminated"; kill_init(pid, SIGKILL); }
      }
    }
    if (tfd >= 0 && p[4].revents) { uint64_t x; if (read(tfd, &x, sizeof x) > 0 && !reason) { reason = "wall"; kill_init(pid, SIGKILL); } }
    if (cfd >= 0 && p[5].revents) {
      uint64_t x;
      if (read(cfd, &x, sizeof x) > 0 && !reason) {
        if (cpu_used(&h) >= h.cpu_ns) { reason = "cpu"; kill_init(pid, SIGKILL); }
      }
    }
    if (p[0].revents) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo != SIGCHLD && !reason) { reason = "terminated"; kill_init(pid, SIGKILL); }
      }
      int st;
      pid_t w = g_init_sibling ? 0 : waitpid(pid, &st, __WALL | WNOHANG);
      if (w == pid) { init_status = st; done = 1; }
      net_reap();
    }
    /* a sibling init has exited (its pidfd is readable); its status is its parent's to take */
    if (p[9].revents) done = 1;
    if (g_empty) done = 1;
    if (!done && !handed && ocimon_may_hand_over(plan, ready_sent, setup_error || reason || exec_open || msg_open || ctl_open ||
                                                 gatefd >= 0 || tfd >= 0 || cfd >= 0 || nsfd >= 0 || g_empty)) {
      handed = 1;
      drain_msgs(msgp[0], &setup_error, &cmd_status, &have_cmd, &ready);
      if (!setup_error) (void)hand_over(g_initfd, &h); /* returns only when there is no reaper */
    }
  }
  double wall = now_s() - t0;
  if (nsfd >= 0) { close(nsfd); nsfd = -1; unlink(ns_path); }
  nsserve_close();
  drain_msgs(msgp[0], &setup_error, &cmd_status, &have_cmd, &ready);
  /* the jail is empty or its init gone: every writer of the exec pipe has closed it, so what it
   * still holds (an exec error, or the end that means the command ran) is complete */
  if (exec_open) {
    struct sj_msg m;
    ssize_t n;
    while ((n = read(execp[0], &m, sizeof m)) == (ssize_t)sizeof m) emit_msg(&m, &setup_error);
    exec_open = 0;
    close(execp[0]);
    if (!setup_error && gatefd < 0 && plan_find(plan, OP_EXEC)) { ready = 1; mark_started(plan); }
  }
  if (ready && !ready_sent && !setup_error) { ready_sent = 1; setup_s = now_s() - g_helper_t0; emit("{\"ev\":\"ready\",\"initPid\":%d}", (int)pid); }
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  double utime = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, stime = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  long maxrss = ru.ru_maxrss;
  int reaped = !g_empty && !g_init_sibling;
  if (g_empty) { utime = g_eu; stime = g_es; maxrss = g_erss; }
  char stats[4096] = "";
  size_t so = 0;
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    if (op->code != OP_CGROUP_STAT) continue;
    const char *name = arg_str(op, 0), *file = arg_str(op, 1);
    char b[1024], js[1200];
    if (!name || !file || read_file(file, b, sizeof b) < 0) continue;
    json_str(js, sizeof js, b);
    so += (size_t)snprintf(stats + so, sizeof stats - so, "%s\"%s\":%s", so ? "," : "", name, js);
    if (so >= sizeof stats) { so = sizeof stats - 1; break; }
  }
  /* a sibling's status is its parent's (the engine's) alone: unknown here, reported as -1 */
  if (g_init_sibling) init_status = 0x137f; /* a "stopped" status: neither exited nor signalled */
  oci_rc = g_init_sibling ? 0 : WIFEXITED(init_status) ? WEXITSTATUS(init_status) : WIFSIGNALED(init_status) ? 128 + WTERMSIG(init_status) : 127;
  const char *halt = NULL;
  if (!reason && WIFSIGNALED(init_status)) {
    if (WTERMSIG(init_status) == SIGINT) halt = "halt";
    else if (WTERMSIG(init_status) == SIGHUP) halt = "restart";
  }
  /* the caller records the jail after it started: wait for that (or for the caller to go away)
   * before removing the registry files, or a fast jail's entry would outlive it */
  if (h.nstate && !acked && ctl_open) {
    struct pollfd p = { g_status_fd, POLLIN, 0 };
    for (int tries = 0; tries < 50 && !acked && poll(&p, 1, 100) >= 0; tries++) {
      char c[16];
      if (!p.revents) continue;
      ssize_t n = read(g_status_fd, c, sizeof c);
      if (n <= 0) break;
      for (ssize_t k = 0; k < n; k++) if (c[k] == 'A') acked = 1;
    }
  }
  /* A jail with no cgroups and no host-side network objects names nothing on the host but its
   * registry files: they go before the exit is reported (so a caller finds nothing left once it
   * has the report), while the kernel still tears the namespaces down. */
  if (!reaped && h.ncg == 0 && !net_busy()) {
    for (int i = 0; i < h.nstate; i++) unlink(h.state_files[i]);
    h.nstate = 0;
  }
  notify_report();
  emit("{\"ev\":\"exit\",\"setupFailed\":%s,\"cmd\":%s,\"cmdCode\":%d,\"cmdSignal\":%d,\"initCode\":%d,\"initSignal\":%d,"
       "\"reason\":%s%s%s,\"halt\":%s%s%s,\"utime\":%.6f,\"stime\":%.6f,\"maxrssKb\":%ld,\"wall\":%.6f,\"setup\":%.6f,\"stats\":{%s}}",
       setup_error ? "true" : "false", have_cmd ? "true" : "false",
       have_cmd && WIFEXITED(cmd_status) ? WEXITSTATUS(cmd_status) : -1,
       have_cmd && WIFSIGNALED(cmd_status) ? WTERMSIG(cmd_status) : 0,
       WIFEXITED(init_status) ? WEXITSTATUS(init_status) : -1, WIFSIGNALED(init_status) ? WTERMSIG(init_status) : 0,
       reason ? "\"" : "", reason ? reason : "null", reason ? "\"" : "",
       halt ? "\"" : "", halt ? halt : "null", halt ? "\"" : "",
       utime, stime, maxrss, wall, setup_s, stats);
  /* the jail is empty: now wait for the kernel to finish tearing it down before removing cgroups */
  if (!reaped) wait_init(pid);
  ocimon_kill_userns();
undo:
  /* a prelude's caller sends the whole plan even after a failure it cannot know of yet: take it,
   * so its write succeeds and it reads the report (a closed channel would lose it) */
  if (prelude && !whole_read && g_status_fd >= 0) {
    struct sj_plan rest;
    char err[256];
    memset(&rest, 0, sizeof rest);
    (void)plan_read(g_status_fd, &rest, err, sizeof err);
  }
  net_cleanup();
  for (int i = h.ncg - 1; i >= 0; i--) {
    for (int tries = 0; tries < 100 && rmdir(h.cg_dirs[i]) < 0 && errno == EBUSY; tries++) usleep(2000);
  }
  /* the registry files go last, the id reservation (listed last) very last: until then no new
   * jail can take this jid, and with it these cgroup names */
  for (int i = 0; i < h.nstate; i++) unlink(h.state_files[i]);
  if (planp[0] >= 0) close(planp[0]);
  if (planp[1] >= 0) close(planp[1]);
  ocimon_gate_drop(plan, gatefd); /* never started: the gate goes with the jail */
  return (first->flags & SJ_F_OCI) ? oci_rc : 0;
}
