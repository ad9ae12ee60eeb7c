/* command.c: the command phase, run by the jail's first process right before exec.
 *
 * The order is fixed here, not by the plan: limits, umask, working directory, capability
 * bounding set, supplementary groups, gid, uid, the remaining capabilities, no_new_privs,
 * seccomp, exec. The bounding set is cut while the process still holds CAP_SETPCAP; ids are
 * changed while it still holds CAP_SETUID/CAP_SETGID; the permitted set is trimmed after that;
 * no_new_privs comes before the filter (the kernel requires it for an unprivileged filter, and
 * it keeps setuid binaries and file capabilities from raising anything); the Landlock domain
 * (OP_LANDLOCK) comes after no_new_privs (landlock_restrict_self needs it) and before the filter,
 * so its two calls are never subject to the jail's policy; the filter is the very
 * last thing before execve so that the helper's own calls above are never subject to it.
 * Every descriptor above 2 is marked close-on-exec, so the jailed program starts with stdio only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>
#include "helper.h"
#include "relay.h"


#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int g_msg;
/* a container started by `start` (sysjail-oci): no caller of ours reads the monitor's report of
 * a failure any more, so the command's own stderr gets one line too (oci_say) */
static int g_oci_say;
static void oci_say(const char *what, const char *path, int err);

static void fail(const struct sj_op_rec *op, const char *path) {
  int e = errno;
  if (g_oci_say && op) {
    /* 126, as podman reports a container whose runtime could not start its command */
    oci_say(op_name(op->code), path, e);
    msg_send(g_msg, MSG_ERROR, op->index, e, (int)op->code, path);
    _exit(op->code == OP_EXEC && e == ENOENT ? 127 : 126);
  }
  die_step(g_msg, op, e, path);
}

/* the inheritable and ambient sets the plan asks for (sysjail-oci's process.capabilities; 0 for
 * every other plan): always within the kept (bounding) set, see do_caps */
static uint64_t g_inh, g_amb;

static void do_caps(const struct sj_op_rec *op, uint64_t *keep_out) {
  uint64_t keep, forbidden;
  if (arg_u64(op, 0, &keep) || arg_u64(op, 1, &forbidden)) { errno = EINVAL; fail(op, "bad arguments"); }
  if (keep & forbidden) { errno = EPERM; fail(op, "plan keeps a forbidden capability"); }
  g_inh = g_amb = 0;
  if (op->argc >= 4 && (arg_u64(op, 2, &g_inh) || arg_u64(op, 3, &g_amb))) { errno = EINVAL; fail(op, "bad arguments"); }
  /* Security: inheritable and ambient never reach past what the process keeps (the bounding set,
   * which holds nothing forbidden): ambient within inheritable within kept. Ambient capabilities
   * pass execve of a non-setuid program; they can only be ones the bounding set still holds. */
  g_inh &= keep;
  g_amb &= g_inh;
  for (int cap = 0; cap < 64; cap++) {
    int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (r < 0) break; /* past the kernel's last capability */
    if (r == 1 && !(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) fail(op, "bounding set");
  }
  /* re-check: the forbidden set must be gone from the bounding set */
  for (int cap = 0; cap < 64; cap++) {
    if (!(forbidden & (1ULL << cap))) continue;
    int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (r == 1) { errno = EPERM; fail(op, "forbidden capability still in the bounding set"); }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) fail(op, "ambient");
  *keep_out = keep;
}

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_restrict_self 446
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
/* struct landlock_path_beneath_attr (packed in the kernel's header) */
struct sj_landlock_path_beneath { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));
/* the rights a rule may grant on a non-directory: execute, write, read, truncate, ioctl_dev */
#define SJ_LL_FILE_RIGHTS ((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 14) | (1ULL << 15))

/* struct landlock_ruleset_attr of ABI 6 (Debian 12's headers predate its `scoped` field). */
struct sj_landlock_attr { uint64_t handled_access_fs, handled_access_net, scoped; };

/* A Landlock domain of SCOPED and, for an unveil, the file-system rights HANDLED with a rule per
 * unveiled path (the plan's op: scoped, mode, handled, then path and rights pairs). SCOPED (LANDLOCK_SCOPE_*: abstract
 * unix sockets, signals). Security reasoning: a scoped domain may connect (or send) to an abstract
 * unix socket only when the socket's creator is in the same domain or one nested in it, and may
 * signal only processes of the same or a nested domain. The jail's command and everything it
 * starts share this domain; the host's processes, the jail's init and other jails (each its own
 * domain) are outside it. The kernel checks the creator's domain, kept with the socket and the
 * task, so nothing in the jail's memory takes part. A domain can only be narrowed, never left:
 * a process of the jail may add a domain of its own, which restricts it further. "best-effort"
 * (the plan's choice) skips a kernel without Landlock or without these scopes, with a warning. */
static void do_landlock(const struct sj_op_rec *op) {
  uint64_t scoped, handled = 0;
  const char *mode = arg_str(op, 1);
  if (arg_u64(op, 0, &scoped) || !mode || (strcmp(mode, "required") && strcmp(mode, "best-effort") && strcmp(mode, "optional"))) { errno = EINVAL; fail(op, "bad arguments"); }
  if (op->argc > 2 && (arg_u64(op, 2, &handled) || (op->argc - 3) % 2)) { errno = EINVAL; fail(op, "bad arguments"); }
  struct sj_landlock_attr attr = { handled, 0, scoped };
  int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0U);
  if (fd < 0) {
    int e = errno;
    if (strcmp(mode, "required") && (e == ENOSYS || e == EOPNOTSUPP || e == EINVAL || e == E2BIG)) {
      msg_send(g_msg, MSG_WARN, op->index, e, (int)op->code, handled ? "Landlock (unveil, scopes)" : "Landlock scopes (Linux 6.12+)");
      return;
    }
    errno = e;
    fail(op, e == EOPNOTSUPP ? "Landlock is disabled in this kernel (lsm=)" : handled ? "the kernel lacks these Landlock rights" : "the kernel lacks Landlock's scopes (Linux 6.12+)");
  }
  /* Unveil: each path is opened here, in the command's process, after pivot_root: it resolves in
   * the jail's own root, as the command itself would see it, and before any code of the jail
   * runs. Rights that only directories take are dropped for a path that is not a directory (the
   * kernel refuses them there), so "r" on a file means reading it. */
  for (uint32_t a = 3; a + 1 < op->argc; a += 2) {
    const char *path = arg_str(op, a);
    uint64_t access;
    if (!path || arg_u64(op, a + 1, &access)) { errno = EINVAL; close(fd); fail(op, "bad arguments"); }
    int pfd = open(path, O_PATH | O_CLOEXEC);
    if (pfd < 0) { int e = errno; close(fd); errno = e; fail(op, path); }
    struct stat st;
    if (fstat(pfd, &st) < 0) { int e = errno; close(pfd); close(fd); errno = e; fail(op, path); }
    if (!S_ISDIR(st.st_mode)) access &= SJ_LL_FILE_RIGHTS;
    struct sj_landlock_path_beneath pb = { access, pfd };
    if (access && syscall(SYS_landlock_add_rule, fd, 1 /* LANDLOCK_RULE_PATH_BENEATH */, &pb, 0U) < 0) {
      int e = errno; close(pfd); close(fd); errno = e; fail(op, path);
    }
    close(pfd);
  }
  if (syscall(SYS_landlock_restrict_self, fd, 0U) < 0) { int e = errno; close(fd); errno = e; fail(op, "landlock_restrict_self"); }
  close(fd);
}

static void trim_caps(const struct sj_op_rec *op, uint64_t keep) {
  struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  if (syscall(SYS_capget, &h, d) < 0) fail(op, "capget");
  uint64_t perm = ((uint64_t)d[1].permitted << 32 | d[0].permitted) & keep;
  d[0].permitted = d[0].effective = (uint32_t)perm;
  d[1].permitted = d[1].effective = (uint32_t)(perm >> 32);
  uint64_t inh = perm & g_inh;
  d[0].inheritable = (uint32_t)inh;
  d[1].inheritable = (uint32_t)(inh >> 32);
  if (syscall(SYS_capset, &h, d) < 0) fail(op, "capset");
}

/* the ambient set, after trim_caps: only what is permitted and inheritable by then (a process
 * whose uid change cleared its permitted set gets none, as it gets no other capability) */
static void raise_ambient(const struct sj_op_rec *op, uint64_t keep) {
  struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  if (syscall(SYS_capget, &h, d) < 0) fail(op, "capget");
  uint64_t perm = (uint64_t)d[1].permitted << 32 | d[0].permitted, inh = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
  for (int cap = 0; cap < 64; cap++) {
    if (!(g_amb & keep & perm & inh & (1ULL << cap))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) fail(op, "ambient");
  }
}

/* sysjail-oci process.terminal (OP_CONSOLE): a pty of the jail's own devpts, made by the command's
 * process before exec. Its master goes to the engine over the console socket init_preopen
 * connected (SCM_RIGHTS, as runc sends it) and is closed here: the master never reaches the
 * container's program. The slave, owned by the command's ids, becomes its controlling terminal
 * in a session of its own and its fds 0-2. */
static void do_console(const struct sj_op_rec *op, const struct sj_op_rec *uid, const struct sj_op_rec *gid) {
  uint64_t rows = 0, cols = 0, u = 0, g = 0;
  if (arg_u64(op, 1, &rows) || arg_u64(op, 2, &cols)) { errno = EINVAL; fail(op, "bad arguments"); }
  if (g_console_fd < 0) { errno = g_console_err ? g_console_err : EINVAL; fail(op, arg_str(op, 0)); }
  if (uid && arg_u64(uid, 0, &u)) { errno = EINVAL; fail(uid, "bad uid"); }
  if (gid && arg_u64(gid, 0, &g)) { errno = EINVAL; fail(gid, "bad gid"); }
  /* devpts gives a new pty the opener's fsuid/fsgid */
  uid_t ofs = (uid_t)setfsuid((uid_t)-1);
  gid_t ofg = (gid_t)setfsgid((gid_t)-1);
  setfsgid((gid_t)g);
  setfsuid((uid_t)u);
  int master = relay_open_ptmx();
  int e = errno;
  setfsuid(ofs);
  setfsgid(ofg);
  if (master < 0) { errno = e; fail(op, "/dev/pts/ptmx"); }
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail(op, "unlockpt");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail(op, "pty slave");
  if (rows || cols) { struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols }; ioctl(master, TIOCSWINSZ, &ws); }
  int flags = fcntl(master, F_GETFL);
  if (flags >= 0) fcntl(master, F_SETFL, flags & ~O_NONBLOCK);
  char name[] = "/dev/ptmx";
  struct iovec iov = { .iov_base = name, .iov_len = sizeof name - 1 };
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } cm;
  memset(&cm, 0, sizeof cm);
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof master);
  ssize_t w;
  do w = sendmsg(g_console_fd, &mh, MSG_NOSIGNAL); while (w < 0 && errno == EINTR);
  if (w < 0) fail(op, "console socket");
  close(master);
  close(g_console_fd);
  g_console_fd = -1;
  if (getsid(0) != getpid() && setsid() < 0) fail(op, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail(op, "controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) fail(op, "dup2");
  if (slave > 2) close(slave);
}

static int g_console_done;

/* sysjail-oci create with a terminal: the pty is made and its master sent while the command
 * still waits for `start` (as runc's init does at create: containerd's shim takes the master
 * before it calls start). The command is the jail's pid 1, this very process. */
void console_early(const struct sj_plan *plan, int msgfd) {
  const struct sj_op_rec *con = plan_find(plan, OP_CONSOLE);
  if (!con) return;
  g_msg = msgfd;
  do_console(con, plan_find(plan, OP_UID), plan_find(plan, OP_GID));
  g_console_done = 1;
}

/* sysjail-oci, a container started by `start`: its command's setup or exec failed after create
 * and start returned, when no caller of ours reads the monitor's report any more. As runc's and
 * crun's errors read, one line on the container's own stderr (the engine's log, `podman run`'s
 * terminal) names the step, the path and the reason (control characters escaped: a command's
 * name comes from the image). */
static void oci_say(const char *what, const char *path, int err) {
  char name[300], line[700];
  size_t k = 0;
  for (const unsigned char *c = (const unsigned char *)(path ? path : ""); *c && k + 5 < sizeof name; c++) {
    if (*c < 0x20 || *c == 0x7f || *c == '\\') k += (size_t)snprintf(name + k, sizeof name - k, "\\x%02x", *c);
    else name[k++] = (char)*c;
  }
  name[k] = 0;
  const char *why = err == ENOENT ? "no such file or directory" : err == EACCES ? "permission denied" : err == ENOEXEC ? "exec format error" : err == EPERM ? "operation not permitted" : strerror(err);
  int n = snprintf(line, sizeof line, "sysjail-oci: %s \"%s\": %s\n", what, name, why);
  if (n > 0) { ssize_t w = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1); (void)w; }
}

/* The exec itself failed: the status is the shell's, 127 for a command that is not there, 126
 * for one that cannot be run. The monitor still gets the error for its record. */
static void oci_exec_failed(const struct sj_op_rec *ex, int err, const char *file) __attribute__((noreturn));
static void oci_exec_failed(const struct sj_op_rec *ex, int err, const char *file) {
  oci_say("exec", file, err);
  msg_send(g_msg, MSG_ERROR, ex->index, err, (int)ex->code, file);
  _exit(err == ENOENT ? 127 : 126);
}

/* set by command_exec_hook: a startContainer hook is exec'd in place of the command */
static const struct sj_op_rec *g_hook;

void command_exec_hook(const struct sj_plan *plan, int msgfd, const struct sj_op_rec *hook) {
  g_hook = hook;
  command_exec(plan, msgfd);
}

void command_exec(const struct sj_plan *plan, int msgfd) {
  g_msg = msgfd;
  g_oci_say = (plan->flags & SJ_F_OCI) && plan_find(plan, OP_START_GATE) && !g_hook;
  fault_point("13");
  const struct sj_op_rec *caps = NULL, *groups = NULL, *gid = NULL, *uid = NULL, *nnp = NULL, *filter = NULL,
                         *ex = NULL, *cwd = NULL, *umaskop = NULL, *landlock = NULL, *console = NULL;
  size_t nenv = 0;
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    switch (op->code) {
    case OP_RLIMIT: {
      uint64_t res, soft, hard;
      if (arg_u64(op, 0, &res) || arg_u64(op, 1, &soft) || arg_u64(op, 2, &hard)) { errno = EINVAL; fail(op, "bad arguments"); }
      struct rlimit rl = { .rlim_cur = soft, .rlim_max = hard };
      if (setrlimit((int)res, &rl) < 0) {
        static const char *const RL[] = { "CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME" };
        char what[96];
        snprintf(what, sizeof what, "RLIMIT_%s %llu:%llu", res < 16 ? RL[res] : "?", (unsigned long long)soft, (unsigned long long)hard);
        fail(op, what);
      }
      break;
    }
    case OP_CAPS: caps = op; break;
    case OP_GROUPS: groups = op; break;
    case OP_GID: gid = op; break;
    case OP_UID: uid = op; break;
    case OP_NNP: nnp = op; break;
    case OP_SECCOMP: if (!filter) filter = op; break; /* the first; all are loaded, in order */
    case OP_EXEC: ex = op; break;
    case OP_CWD: cwd = op; break;
    case OP_UMASK: umaskop = op; break;
    case OP_LANDLOCK_SCOPE: landlock = op; break;
    case OP_CONSOLE: if (!g_hook) console = op; break;
    case OP_ENV: nenv++; break;
    case OP_DUP2: {
      if (g_hook) break; /* a hook's stdio is its own: the state and the init's pipe */
      uint64_t from, to;
      if (arg_u64(op, 0, &from) || arg_u64(op, 1, &to) || from > 2 || to > 2) { errno = EINVAL; fail(op, "bad arguments"); }
      if (dup2((int)from, (int)to) < 0) fail(op, "dup2");
      break;
    }
    default: break;
    }
  }
  if (!ex || ex->argc < 2) { errno = EINVAL; die_step(g_msg, ex, EINVAL, "plan has no command"); }
  if (!nnp) { errno = EINVAL; die_step(g_msg, ex, EINVAL, "plan lacks no-new-privs"); }
  if (!caps) { errno = EINVAL; die_step(g_msg, ex, EINVAL, "plan lacks a capability set"); }
  if (console && !g_console_done) do_console(console, uid, gid);
  if (umaskop) { uint64_t m; if (arg_u64(umaskop, 0, &m)) { errno = EINVAL; fail(umaskop, "umask"); } umask((mode_t)m); }
  if (cwd) { const char *d = arg_str(cwd, 0); if (!d || chdir(d) < 0) fail(cwd, d); }
  uint64_t keep = 0;
  do_caps(caps, &keep);
  if (groups) {
    gid_t list[256];
    size_t n = 0;
    for (uint32_t a = 0; a < groups->argc && n < 256; a++) {
      uint64_t g;
      if (arg_u64(groups, a, &g)) { errno = EINVAL; fail(groups, "bad group"); }
      list[n++] = (gid_t)g;
    }
    if (setgroups(n, list) < 0) fail(groups, "setgroups");
  }
  /* The plan says whether no_new_privs is set ("nnp" with no argument) or, for a jail that allows
   * setuid programs of its own ids, not ("nnp off"). Without it the kernel installs a filter only
   * for a caller with CAP_SYS_ADMIN in its user namespace: the command keeps that one capability
   * (KEEPCAPS across the uid change) until the filter is in, then drops it. Capabilities held
   * before exec do not pass execve for a non-root uid; root gets the bounding set. */
  const char *nnp_arg = nnp->argc > 0 ? arg_str(nnp, 0) : NULL;
  if (nnp->argc > 0 && (!nnp_arg || strcmp(nnp_arg, "off"))) { errno = EINVAL; fail(nnp, "bad no-new-privs argument"); }
  int setuid_ok = nnp_arg != NULL;
  const uint64_t sys_admin = 1ULL << 21;
  /* landlock_restrict_self, like the filter, needs no_new_privs or CAP_SYS_ADMIN in the namespace */
  int need_admin = setuid_ok && (filter || landlock);
  if ((need_admin || g_amb) && uid && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(nnp, "keepcaps");
  if (gid) { uint64_t g; if (arg_u64(gid, 0, &g) || setresgid((gid_t)g, (gid_t)g, (gid_t)g) < 0) fail(gid, "setresgid"); }
  if (uid) { uint64_t u; if (arg_u64(uid, 0, &u) || setresuid((uid_t)u, (uid_t)u, (uid_t)u) < 0) fail(uid, "setresuid"); }
  trim_caps(caps, need_admin ? keep | sys_admin : keep);
  if (g_amb) raise_ambient(caps, keep);
  if (!setuid_ok && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(nnp, "no_new_privs");
  if (landlock) {
    if (plan->flags & SJ_F_DEBUG) msg_send(g_msg, MSG_STEP, landlock->index, 0, (int)landlock->code, arg_str(landlock, 0));
    do_landlock(landlock);
  }
  if (need_admin && !filter && !(keep & sys_admin)) {
    trim_caps(caps, keep); /* the domain is in and no filter follows: CAP_SYS_ADMIN goes now */
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail(nnp, "keepcaps");
  }
  char **envp = calloc(nenv + 1, sizeof *envp);
  char **argv = calloc(ex->argc, sizeof *argv);
  if (!envp || !argv) { errno = ENOMEM; fail(ex, "memory"); }
  size_t e = 0;
  for (uint32_t i = 0; i < plan->nops; i++)
    if (plan->ops[i].code == OP_ENV) { const char *s = arg_str(&plan->ops[i], 0); if (s) envp[e++] = (char *)s; }
  const char *file = arg_str(ex, 0);
  for (uint32_t a = 1; a < ex->argc; a++) {
    argv[a - 1] = (char *)arg_str(ex, a);
    if (!argv[a - 1]) { errno = EINVAL; fail(ex, "bad argument"); }
  }
  if (g_hook) {
    /* a startContainer hook: its own file, argv and environment, errors named by its op */
    if (hook_args(g_hook, &file, &argv, &envp) < 0) { errno = EINVAL; fail(g_hook, "bad hook arguments"); }
    ex = g_hook;
  }
  if (!file) { errno = EINVAL; fail(ex, "bad command"); }
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3; fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  /* every filter of the plan, in its order: the kernel runs them all, the strictest answer wins;
   * each later load is itself subject to the ones before */
  for (uint32_t i = 0; filter && i < plan->nops; i++) {
    if (plan->ops[i].code != OP_SECCOMP) continue;
    filter = &plan->ops[i];
    uint64_t flags;
    const struct sj_arg *prog = filter->argc > 1 ? &filter->argv[1] : NULL;
    if (arg_u64(filter, 0, &flags) || !prog || prog->len == 0 || prog->len % sizeof(struct sock_filter)) {
      errno = EINVAL; fail(filter, "bad filter");
    }
    /* the blob may be unaligned inside the plan buffer: copy it */
    struct sock_filter *insns = malloc(prog->len);
    if (!insns) { errno = ENOMEM; fail(filter, "memory"); }
    memcpy(insns, prog->p, prog->len);
    struct sock_fprog fp = { .len = (unsigned short)(prog->len / sizeof(struct sock_filter)), .filter = insns };
    /* a hook has no listener of the monitor: its notified calls fail (ENOSYS), never pass */
    if (g_hook) flags &= ~(uint64_t)SECCOMP_FILTER_FLAG_NEW_LISTENER;
    /* "send": the plan's choice (src/seccomp/mark.ts) that this filter passes the hand-over's
     * sendmsg whatever its arguments: the listener goes to the monitor on the exec channel just
     * after the load, and the exec needs no answer. Otherwise the monitor takes it by number. */
    const char *how = filter->argc > 2 ? arg_str(filter, 2) : NULL;
    int send_it = how && !strcmp(how, "send");
    if (filter->argc > 2 && !send_it) { errno = EINVAL; fail(filter, "bad filter hand-over"); }
    if ((flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) && !send_it) {
      /* the listener gets the lowest free descriptor (nothing else opens one in between): the
       * monitor takes it from this process by that number (notify.c); no call after the filter
       * is needed to hand it over */
      int lowest = fcntl(2, F_DUPFD_CLOEXEC, 0);
      if (lowest < 0) fail(filter, "listener descriptor");
      close(lowest);
      /* a rootless monitor may take it only from a dumpable process (ptrace's access check);
       * the command is the jail's first process and execs next, which sets dumpable anew */
      if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) fail(filter, "dumpable");
      msg_send(g_msg, MSG_LISTENER, filter->index, 0, lowest, NULL);
    }
    long lfd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)flags, &fp);
    if (lfd < 0) fail(filter, "seccomp");
    if ((flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) && send_it) {
      /* once sent, the message holds the listener, so the exec that closes this copy (it is
       * close-on-exec) leaves it open for the monitor; a refused call before the monitor reads
       * it waits in the listener's queue. The jailed program never holds the channel. */
      if (msg_send_fd(g_msg, MSG_LISTENER, filter->index, (int)lfd) < 0) fail(filter, "listener hand-over");
    }
    free(insns);
  }
  if (filter && setuid_ok && !(keep & sys_admin)) {
    trim_caps(caps, keep); /* every filter is in: CAP_SYS_ADMIN goes again (capget/capset pass the policy) */
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail(nnp, "keepcaps");
  }
  environ = envp; /* the PATH search inside the jail uses the jail's environment */
  if (g_hook) { execve(file, argv, envp); _exit(127); }
  execvpe(file, argv, envp);
  if (g_oci_say) oci_exec_failed(ex, errno, file);
  die_step(g_msg, ex, errno, file);
}
