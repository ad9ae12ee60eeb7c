/* ocimon.c: sysjail-oci's start-up and monitor machinery, the monitor's (run.c) OCI-only steps.
 *
 * Contract. run.c (run_main) calls these, in this order, and nothing here decides policy: the
 * plan's ops (OP_NS_JOIN, OP_PROC_NS, OP_DEV_NODE, OP_START_GATE, SJ_F_OCI) say what is done.
 *  1. ocimon_check_joins(first): before anything is made. Checks the joins' types only.
 *  2. ocimon_before_clone(first, joined, pop): makes the mount points the image lacks
 *     (OP_MOUNT_POINTS, mkroot.c: inside the root, in the monitor's own mount table), keeps the
 *     monitor's own mount namespace and working
 *     directory, opens and checks every namespace file in that (the monitor's own) mount table,
 *     then joins them, a mount namespace last: no path is ever resolved in a joined mount table.
 *     Between the two, the sysctls of the joined network and ipc namespaces (OP_NS_SYSCTL).
 *     Then the procfs of a joined pid namespace (OP_PROC_NS) is made by a child of the monitor.
 *     Nothing else runs between these joins and the clone.
 *  3. ocimon_sibling(first, adopt): decides CLONE_PARENT for run.c's clone (flags only).
 *  4. ocimon_after_clone(pid, ...): in the monitor only (pid != 0), at once after the clone: the
 *     init's pidfd is taken (from the clone itself, or pidfd_open of an adopted child), the procfs
 *     descriptor closed, the monitor back in its own mount namespace (or it exits 70: it never goes
 *     on in a joined one), and a container without a pid namespace of its own has its user
 *     namespace noted for step 9.
 *  5. kill_init / wait_init: from here on the init is signalled only through its pidfd when there is
 *     one (never a pid another process may hold), and a sibling init is never waited for by pid.
 *  6. ocimon_devnodes(plan, ...): after the id maps and cgroups, before 'G'.
 *  7. ocimon_gate_open(plan): the start gate FIFO, after the setup and before "started" is
 *     reported; mark_started() once the command was exec'd; ocimon_gate_drop() at the end.
 *  8. ocimon_may_hand_over(plan, ...): in the poll loop; 1 only when the monitor's last duty is
 *     the init's pidfd (run.c then calls hand_over, handover.c).
 *  9. ocimon_kill_userns(): after the init's end, before the cgroups go.
 * Each function reports its own failures (emit_error) and returns -1 (ocimon_check_joins: 0); run.c
 * only unwinds. kill_init and wait_init serve every jail: without a pidfd, or for the monitor's own
 * child, they fall back to kill and waitpid.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"
#include "net.h"
#include "ocimon.h"

/* The init: a pidfd of it (CLONE_PIDFD, or pidfd_open of an adopted child) and whether it is the
 * monitor's sibling. A sibling is not the monitor's child: once create returns, the engine's
 * subreaper reaps it and its pid may be reused, so the monitor signals it only through the pidfd
 * and learns of its exit by polling the pidfd, never by waitpid. */
int g_init_sibling;
int g_initfd = -1;

/* SIG to the init, through its pidfd when there is one (never a pid another process may hold) */
void kill_init(pid_t pid, int sig) {
  if (g_initfd >= 0) { syscall(SYS_pidfd_send_signal, g_initfd, sig, NULL, 0); return; }
  kill(pid, sig);
}

/* Waits until the init has ended: reaped here, or, for a sibling, until its pidfd turns readable
 * (it has exited; its parent reaps it). */
void wait_init(pid_t pid) {
  if (g_init_sibling && g_initfd >= 0) {
    struct pollfd p = { g_initfd, POLLIN, 0 };
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {}
    return;
  }
  while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {}
}

/* sysjail-oci: the start gate's second path, made once the command was exec'd (its startContainer
 * hooks passed): how `start` tells a failed hook from a command that ended at once */
int g_gate_hold = -1; /* the start gate after its byte came: closed at the command's exec */
void mark_started(const struct sj_plan *plan) {
  const struct sj_op_rec *g = plan_find(plan, OP_START_GATE);
  const char *p = g && g->argc > 1 ? arg_str(g, 1) : NULL;
  int fd = p ? open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
  if (fd >= 0) close(fd);
  /* the gate's last reader goes: the native `start`, which holds its writing end, wakes up
   * (POLLERR) now that the command runs; the monitor's end anyway closes the gate too (oci.c) */
  if (g_gate_hold >= 0) { close(g_gate_hold); g_gate_hold = -1; }
}

/* sysjail-oci, a joined pid namespace or the runtime's own (OP_PROC_NS flags options): a procfs
 * of it, made before the clone by a child of the monitor, which is in that namespace (setns
 * changed only where children go) and still host root; the jail's init could not make one (its
 * user namespace does not own that pid namespace). The detached mount is inherited by the init, which mounts it where the
 * plan's proc mount stands (mounts.c). */
int g_proc_mnt = -1;
static int proc_of_pidns(const struct sj_op_rec *op) {
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) { emit_error(op->index, "proc-ns", errno, "", NULL); return -1; }
  pid_t c = fork();
  if (c < 0) { emit_error(op->index, "proc-ns", errno, "", "cannot start a process in the joined pid namespace"); close(sp[0]); close(sp[1]); return -1; }
  if (c == 0) {
    close(sp[0]);
    int fs = (int)syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC), e = 0, mfd = -1;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", arg_str(op, 1));
    for (char *save = NULL, *kv = fs < 0 ? NULL : strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(kv, '=');
      if (eq) *eq = 0;
      if (syscall(SYS_fsconfig, fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, kv, eq ? eq + 1 : NULL, 0) < 0) { e = errno; break; }
    }
    if (fs < 0 || e || syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
        (mfd = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) < 0) {
      if (!e) e = errno;
      (void)!write(sp[1], &e, sizeof e);
      _exit(1);
    }
    send_token(sp[1], 'P', mfd);
    _exit(0);
  }
  close(sp[1]);
  char got[sizeof(int)] = { 0 };
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { .iov_base = got, .iov_len = sizeof got };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t r;
  do r = recvmsg(sp[0], &mh, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
  for (struct cmsghdr *m = CMSG_FIRSTHDR(&mh); r == 1 && m; m = CMSG_NXTHDR(&mh, m))
    if (m->cmsg_level == SOL_SOCKET && m->cmsg_type == SCM_RIGHTS) memcpy(&g_proc_mnt, CMSG_DATA(m), sizeof g_proc_mnt);
  int e = 0;
  if (r == (ssize_t)sizeof e) memcpy(&e, got, sizeof e);
  close(sp[0]);
  while (waitpid(c, NULL, 0) < 0 && errno == EINTR) {}
  if (g_proc_mnt < 0) { emit_error(op->index, "proc-ns", e ? e : EIO, "proc", "cannot make a procfs of the joined pid namespace"); return -1; }
  return 0;
}

/* SIGKILL to every process of the user namespace USERNS (a container's own, in a joined pid
 * namespace, after its first process ended): each is pinned by a pidfd before its namespace is
 * looked at, so a pid reused meanwhile is never signalled. No other process is in that namespace. */
static void kill_userns(const struct stat *userns) {
  for (int round = 0; round < 20; round++) {
    DIR *d = opendir("/proc");
    if (!d) return;
    int found = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
      char *end;
      long p = strtol(de->d_name, &end, 10);
      if (*end || p <= 0 || p == getpid()) continue;
      int pfd = (int)syscall(SYS_pidfd_open, (pid_t)p, 0);
      if (pfd < 0) continue;
      char up[64];
      struct stat st;
      snprintf(up, sizeof up, "/proc/%ld/ns/user", p);
      if (stat(up, &st) == 0 && st.st_ino == userns->st_ino && st.st_dev == userns->st_dev) {
        found = 1;
        syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
      }
      close(pfd);
    }
    closedir(d);
    if (!found) return;
    usleep(1000);
  }
}

/* Whether PATH is a sysctl of a joined namespace of type T (OP_NS_SYSCTL): a network namespace's
 * (/proc/sys/net/), an ipc namespace's (its System V IPC names under /proc/sys/kernel/ by name,
 * as src/oci/translate.ts allows them, and /proc/sys/fs/mqueue/). Security: the monitor is host
 * root, and most of /proc/sys/kernel/ is host-wide (modprobe, core_pattern): the names are
 * checked here, never taken from the plan on trust. */
static int sysctl_of(uint64_t t, const char *path) {
  static const char *const ipc_kernel[] = { "shmmax", "shmall", "shmmni", "shm_rmid_forced", "msgmax", "msgmnb", "msgmni", "sem" };
  if (t == CLONE_NEWNET) return !strncmp(path, "/proc/sys/net/", 14);
  if (t != CLONE_NEWIPC) return 0;
  if (!strncmp(path, "/proc/sys/fs/mqueue/", 20)) return 1;
  if (strncmp(path, "/proc/sys/kernel/", 17)) return 0;
  for (size_t i = 0; i < sizeof ipc_kernel / sizeof ipc_kernel[0]; i++) if (!strcmp(path + 17, ipc_kernel[i])) return 1;
  return 0;
}

/* sysjail-oci linux.sysctl of a namespace joined by path (OP_NS_SYSCTL), written by the monitor
 * once it is in the joined network and ipc namespaces, before the clone. Security: the
 * container's root could not write them (its user namespace owns no namespace it joins); the
 * monitor holds the runtime's privilege over that namespace (host root, or root of rootless
 * podman's user namespace, which owns podman's network namespace). What /proc/sys/net and
 * /proc/sys/kernel (ipc), /proc/sys/fs/mqueue show is the opener's namespaces' own, so the path
 * is opened in the monitor's own mount table (the runtime's /proc: no mount namespace is joined
 * yet) while it is in the joined ones. The values are config.json's, checked by TypeScript;
 * nothing of the container runs yet. ocimon_check_joins checked each op's type and prefix. */
static int write_sysctls(const struct sj_plan *first) {
  for (uint32_t i = 0; i < first->nops; i++) {
    const struct sj_op_rec *s = &first->ops[i];
    if (s->code != OP_NS_SYSCTL) continue;
    const char *path = arg_str(s, 1), *value = arg_str(s, 2);
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) { emit_error(s->index, "ns-sysctl", errno, path, "cannot set it in the joined namespace"); return -1; }
    size_t n = strlen(value);
    ssize_t w = write(fd, value, n);
    int e = w < 0 ? errno : EIO;
    close(fd);
    if (w != (ssize_t)n) { emit_error(s->index, "ns-sysctl", e, path, "cannot set it in the joined namespace"); return -1; }
  }
  return 0;
}

/* sysjail-oci: joins the plan's OP_NS_JOIN namespaces (run_main checked their types). */
static int join_namespaces(const struct sj_plan *first) {
  /* the joined namespaces become the monitor's, so the init is cloned into them (the caller's
   * privilege over them is what setns checks; the file must be a namespace of that type). Every
   * file is opened and checked first, in the monitor's own mount namespace, and a mount
   * namespace is joined last: no path is ever resolved in a joined mount table (a container's,
   * which could put anything at /proc/...), and nothing can fail between that join and the
   * clone, after which the monitor returns to its own at once. */
  int jfd[8], njfd = 0;
  uint64_t jtype[8];
  const struct sj_op_rec *jop[8];
  for (uint32_t i = 0; i < first->nops; i++) {
    const struct sj_op_rec *j = &first->ops[i];
    uint64_t t;
    if (j->code != OP_NS_JOIN || arg_u64(j, 0, &t)) continue;
    if (njfd == 8) { emit_error(j->index, "ns-join", E2BIG, arg_str(j, 1), "too many joins"); goto fail; }
    int fd = open(arg_str(j, 1), O_RDONLY | O_CLOEXEC);
    /* never the runtime's own namespace (the host's, for an engine): a jail does not share it.
     * (An engine names a sysjail-oci container's namespaces by its pid file's pid, the init's.) */
    struct stat js, os;
    char own[32];
    snprintf(own, sizeof own, "/proc/self/ns/%s", t == CLONE_NEWNET ? "net" : t == CLONE_NEWUTS ? "uts" : t == CLONE_NEWIPC ? "ipc" : t == CLONE_NEWPID ? "pid" : "mnt");
    if (fd >= 0 && fstat(fd, &js) == 0 && stat(own, &os) == 0 && js.st_dev == os.st_dev && js.st_ino == os.st_ino) {
      emit_error(j->index, "ns-join", EPERM, arg_str(j, 1), "the runtime's own (host) namespace: a jail never shares it");
      close(fd);
      goto fail;
    }
    if (fd < 0) { emit_error(j->index, "ns-join", errno, arg_str(j, 1), "cannot open the namespace"); goto fail; }
    jfd[njfd] = fd; jtype[njfd] = t; jop[njfd] = j; njfd++;
  }
  for (int pass = 0; pass < 2; pass++) {
    for (int k = 0; k < njfd; k++) {
      if ((jtype[k] == CLONE_NEWNS) != (pass == 1)) continue;
      if (setns(jfd[k], (int)jtype[k]) < 0) { emit_error(jop[k]->index, "ns-join", errno, arg_str(jop[k], 1), "cannot join the namespace"); goto fail; }
    }
    /* the joined network and ipc namespaces' sysctls, before a mount namespace is joined: the
     * monitor's own /proc (the runtime's) resolves them */
    if (pass == 0 && write_sysctls(first) < 0) goto fail;
  }
  for (int k = 0; k < njfd; k++) close(jfd[k]);
  return 0;
fail:
  for (int k = 0; k < njfd; k++) close(jfd[k]);
  return -1;
}


int ocimon_check_joins(const struct sj_plan *first, uint64_t cflags, uint64_t *joined_out) {
  /* namespaces joined by path (sysjail-oci): network, uts, ipc, pid or mount, never also made
   * anew; the user namespace is always the jail's own */
  uint64_t joined = 0;
  for (uint32_t i = 0; i < first->nops; i++) {
    const struct sj_op_rec *j = &first->ops[i];
    uint64_t t;
    if (j->code != OP_NS_JOIN) continue;
    if (arg_u64(j, 0, &t) || (t != CLONE_NEWNET && t != CLONE_NEWUTS && t != CLONE_NEWIPC && t != CLONE_NEWPID && t != CLONE_NEWNS) || (t & (cflags | joined)) || !arg_str(j, 1)) {
      emit_error(j->index, "ns-join", EINVAL, "", "only a network, uts, ipc, pid or mount namespace the jail does not make may be joined"); return 0;
    }
    joined |= t;
  }
  /* sysctls of a joined namespace (OP_NS_SYSCTL): a network or ipc namespace the plan joins, and
   * a path of that type's under /proc/sys (never a host-wide one: the monitor is host root) */
  for (uint32_t i = 0; i < first->nops; i++) {
    const struct sj_op_rec *s = &first->ops[i];
    uint64_t t;
    if (s->code != OP_NS_SYSCTL) continue;
    const char *path = s->argc == 3 ? arg_str(s, 1) : NULL;
    if (arg_u64(s, 0, &t) || !(t & joined) || !path || !arg_str(s, 2) || !sysctl_of(t, path) || strstr(path, "..")) {
      emit_error(s->index, "ns-sysctl", EINVAL, "", "only a sysctl of a network or ipc namespace the jail joins by path"); return 0;
    }
  }
  *joined_out = joined;
  return 1;
}

/* the monitor's own mount namespace and working directory while it is in a joined one */
static int g_own_mnt = -1, g_own_cwd = -1;

/* OP_STDIO_OWNER: the container's standard descriptors that are anonymous pipes (an engine's:
 * conmon's, a shim's, made by host root) get the process's user as owner, as runc's init gives
 * them. Without it the container cannot reopen its own stdio through /proc/self/fd (/dev/stdout,
 * /dev/stderr, /dev/stdin: "echo x > /dev/stderr", a log file linked to /dev/stdout), which the
 * kernel checks against the inode's owner and mode (0600), and its root is no host root. Only
 * pipefs inodes are touched: a terminal, a socket or a file of the host (a named FIFO too) is
 * left as it is. The owner gains nothing else: the pipe is the container's own stdio already
 * (reopening gives at most the other end of its own stdin pipe). A user's monitor cannot give
 * away its pipes (EPERM): left as they are, where the container's root is that user anyway. */
static void stdio_owner(const struct sj_plan *plan) {
  const struct sj_op_rec *op = plan_find(plan, OP_STDIO_OWNER);
  uint64_t uid, gid;
  if (!op) return;
  if (arg_u64(op, 0, &uid) || arg_u64(op, 1, &gid) || uid > 0xfffffffeu || gid > 0xfffffffeu) { emit_error(op->index, "stdio-owner", EINVAL, "", "bad owner"); return; }
  for (int fd = 0; fd <= 2; fd++) {
    struct stat st;
    struct statfs sf;
    if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) || fstatfs(fd, &sf) < 0 || sf.f_type != PIPEFS_MAGIC) continue;
    if (fchown(fd, (uid_t)uid, (gid_t)gid) < 0 && errno != EPERM) {
      emit("{\"ev\":\"warn\",\"op\":%d,\"step\":\"stdio-owner\",\"errno\":%d,\"path\":\"fd %d\"}", op->index, errno, fd);
    }
  }
}

int ocimon_before_clone(const struct sj_plan *first, uint64_t joined, const struct sj_op_rec *pop) {
  /* the mount points the image lacks (OP_MOUNT_POINTS), first: still in the monitor's own mount table */
  mkroot_plan(first);
  stdio_owner(first);
  /* a joined mount namespace is the monitor's only for the clone: its own (and its working
   * directory) come back right after, the host paths it still uses resolve as before */
  if ((joined & CLONE_NEWNS) && ((g_own_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC)) < 0 || (g_own_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)) {
    emit_error(-1, "ns-join", errno, "/proc/self/ns/mnt", "cannot keep the monitor's own mount namespace"); return -1;
  }
  if (joined && join_namespaces(first) < 0) return -1;
  if (pop && proc_of_pidns(pop) < 0) return -1;
  return 0;
}

int ocimon_sibling(const struct sj_plan *first, int adopt) {
  /* sysjail-oci create under the front: the init is cloned as the monitor's sibling
   * (CLONE_PARENT), a child of the front and, once the front has exited, of the engine's
   * subreaper (conmon, the containerd shim), which reaps it and takes its status as it does
   * runc's init; the pid file names it. The kernel refuses CLONE_PARENT to a pid namespace's
   * init (SIGNAL_UNKILLABLE), so neither this init nor anything in the jail can add a sibling
   * under the engine. The pidfd comes from the clone itself: no window for a reused pid. */
  (void)adopt; /* an init the front cloned ahead (early.c) is the front's child too: a sibling */
  g_init_sibling = (first->flags & SJ_F_OCI) && (first->flags & SJ_F_DETACH) && g_front;
  return g_init_sibling;
}

/* in a joined pid namespace (or the runtime's) the container's processes outlive its first
 * one: they are the processes of its user namespace, always its own (kill_userns, at the end) */
static struct stat g_userns;

void ocimon_after_clone(pid_t pid, int adopt, int initfd, uint64_t cflags) {
  if (pid > 0) g_initfd = adopt && initfd < 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : initfd;
  if (g_initfd >= 0) fcntl(g_initfd, F_SETFD, FD_CLOEXEC);
  if (pid != 0 && g_proc_mnt >= 0) { close(g_proc_mnt); g_proc_mnt = -1; }
  if (pid != 0 && g_own_mnt >= 0) {
    /* back in the monitor's own mount namespace; failing that, it must not go on in the joined one */
    if (setns(g_own_mnt, CLONE_NEWNS) < 0 || fchdir(g_own_cwd) < 0) { emit_error(-1, "ns-join", errno, "/proc/self/ns/mnt", "cannot return to the monitor's own mount namespace"); if (pid > 0) kill(pid, SIGKILL); _exit(70); }
    close(g_own_mnt); close(g_own_cwd); g_own_mnt = g_own_cwd = -1;
  }
  if (pid > 0 && !(cflags & CLONE_NEWPID)) {
    char up[64];
    snprintf(up, sizeof up, "/proc/%d/ns/user", (int)pid);
    if (stat(up, &g_userns) < 0) g_userns.st_ino = 0;
  }
}

int ocimon_devnodes(const struct sj_plan *plan, int prelude_early, int sync) {
  /* sysjail-oci linux.devices: nodes the monitor makes (devnodes.c), for an init that builds
   * the jail from the whole plan (a prelude's init phase ran without them) */
  int devfs = -1, rc = 0;
  if (plan_find(plan, OP_DEV_NODE) && prelude_early) {
    const struct sj_op_rec *d = plan_find(plan, OP_DEV_NODE);
    emit_error(d->index, op_name(d->code), EINVAL, "", "device nodes need the whole plan before the root is built");
    return -1;
  }
  if (devnodes_make(plan, &devfs) < 0) rc = -1;
  if (devfs >= 0) { send_token(sync, 'D', devfs); close(devfs); }
  return rc;
}

int ocimon_gate_open(const struct sj_plan *plan, int *gatefd) {
  /* sysjail-oci: the command waits for `start`, which writes a byte into this FIFO; it is open
   * (read and write, so it never reads as closed) before the start is reported. The init builds
   * the jail meanwhile (after 'G', in its cgroups) and waits for 'S' only before its execve. */
  const struct sj_op_rec *gop = plan_find(plan, OP_START_GATE);
  if (!gop) return 0;
  const char *gp = arg_str(gop, 0);
  struct stat gs;
  /* made here, in the caller's (root-only) state directory; an existing file is refused */
  *gatefd = gp && mknod(gp, S_IFIFO | 0600, 0) == 0 ? open(gp, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW) : -1;
  if (*gatefd < 0 || fstat(*gatefd, &gs) < 0 || !S_ISFIFO(gs.st_mode)) {
    emit_error(gop->index, "start-gate", *gatefd < 0 ? errno : EINVAL, gp ? gp : "", "not a FIFO");
    return -1;
  }
  return 0;
}

void ocimon_gate_drop(const struct sj_plan *plan, int gatefd) {
  if (gatefd < 0) return;
  close(gatefd);
  const struct sj_op_rec *g = plan_find(plan, OP_START_GATE);
  if (g && arg_str(g, 0)) unlink(arg_str(g, 0));
}

int ocimon_may_hand_over(const struct sj_plan *plan, int ready_sent, int busy) {
  /* sysjail-oci: an idle monitor hands over to sysjail-reaper (handover.c) once its last duty
   * is all that is left: the command runs (the exec channel and start gate are closed, ready
   * reported), create has returned (its channel closed), nothing failed or was asked of it, no
   * timer, seccomp listener, namespace socket, network object or helper, and the container's
   * processes end with its init (its own pid namespace: no kill_userns). The init is a sibling,
   * watched by its pidfd alone; the exit report and the cgroup stats would go to nobody. */
  return (plan->flags & SJ_F_OCI) && g_init_sibling && g_initfd >= 0 && ready_sent && !busy &&
         g_gate_hold < 0 && !notify_on() && !net_busy() && !g_userns.st_ino;
}

void ocimon_kill_userns(void) {
  if (g_userns.st_ino) kill_userns(&g_userns);
}
