/* command.c: the command phase, run by the jail's first process right before exec.
 *
 * The order is fixed here, not by the plan: limits, umask, working directory, capability
 * bounding set, supplementary groups, gid, uid, the remaining capabilities, no_new_privs,
 * seccomp, exec. The bounding set is cut while the process still holds CAP_SETPCAP; ids are
 * changed while it still holds CAP_SETUID/CAP_SETGID; the permitted set is trimmed after that;
 * no_new_privs comes before the filter (the kernel requires it for an unprivileged filter, and
 * it keeps setuid binaries and file capabilities from raising anything); the filter is the very
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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int g_msg;

static void fail(const struct sj_op_rec *op, const char *path) { die_step(g_msg, op, errno, path); }

static void do_caps(const struct sj_op_rec *op, uint64_t *keep_out) {
  uint64_t keep, forbidden;
  if (arg_u64(op, 0, &keep) || arg_u64(op, 1, &forbidden)) { errno = EINVAL; fail(op, "bad arguments"); }
  if (keep & forbidden) { errno = EPERM; fail(op, "plan keeps a forbidden capability"); }
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

/* A Landlock domain that handles only scopes (signals, abstract unix sockets): a process in it
 * cannot signal, connect to an abstract socket of, or ptrace / pidfd_getfd / open /proc/PID/fd
 * of any process outside it. Entered processes (enter.c) get none, or one of their own. */
static void landlock_scope(const struct sj_op_rec *op) {
  uint64_t scopes;
  const char *how = arg_str(op, 1);
  if (arg_u64(op, 0, &scopes) || !how || (strcmp(how, "optional") && strcmp(how, "required"))) { errno = EINVAL; fail(op, "bad arguments"); }
  struct { uint64_t fs, net, scoped; } attr = { 0, 0, scopes };
  int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  /* "optional": a kernel without Landlock (ENOSYS, EOPNOTSUPP) or without these scopes (EINVAL) */
  if (fd < 0 && !strcmp(how, "optional") && (errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) return;
  if (fd < 0) fail(op, "landlock_create_ruleset");
  if (syscall(SYS_landlock_restrict_self, fd, 0) < 0) fail(op, "landlock_restrict_self");
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
  d[0].inheritable = d[1].inheritable = 0;
  if (syscall(SYS_capset, &h, d) < 0) fail(op, "capset");
}

void command_exec(const struct sj_plan *plan, int msgfd) {
  g_msg = msgfd;
  const struct sj_op_rec *caps = NULL, *groups = NULL, *gid = NULL, *uid = NULL, *nnp = NULL, *filter = NULL,
                         *ex = NULL, *cwd = NULL, *umaskop = NULL, *scope = NULL;
  size_t nenv = 0;
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    switch (op->code) {
    case OP_RLIMIT: {
      uint64_t res, soft, hard;
      if (arg_u64(op, 0, &res) || arg_u64(op, 1, &soft) || arg_u64(op, 2, &hard)) { errno = EINVAL; fail(op, "bad arguments"); }
      struct rlimit rl = { .rlim_cur = soft, .rlim_max = hard };
      if (setrlimit((int)res, &rl) < 0) fail(op, "setrlimit");
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
    case OP_LANDLOCK_SCOPE: scope = op; break;
    case OP_ENV: nenv++; break;
    default: break;
    }
  }
  if (!ex || ex->argc < 2) { errno = EINVAL; die_step(g_msg, ex, EINVAL, "plan has no command"); }
  if (!nnp) { errno = EINVAL; die_step(g_msg, ex, EINVAL, "plan lacks no-new-privs"); }
  if (!caps) { errno = EINVAL; die_step(g_msg, ex, EINVAL, "plan lacks a capability set"); }
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
  if (gid) { uint64_t g; if (arg_u64(gid, 0, &g) || setresgid((gid_t)g, (gid_t)g, (gid_t)g) < 0) fail(gid, "setresgid"); }
  if (uid) { uint64_t u; if (arg_u64(uid, 0, &u) || setresuid((uid_t)u, (uid_t)u, (uid_t)u) < 0) fail(uid, "setresuid"); }
  trim_caps(caps, keep);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(nnp, "no_new_privs");
  if (scope) landlock_scope(scope);
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
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)flags, &fp) < 0) fail(filter, "seccomp");
  }
  environ = envp; /* the PATH search inside the jail uses the jail's environment */
  execvpe(file, argv, envp);
  die_step(g_msg, ex, errno, file);
}
