/* hook.c: sysjail-oci's hooks in the container's namespaces (OP_HOOK), run by the jail's init.
 *
 * TypeScript decides which hooks run, with what state text, argv, environment and timeout; the
 * init only executes them at their time and reports a failure as a setup error (which fails the
 * container). Two kinds:
 * - "create" (createContainer): where the op stands in the init phase, after the root and its
 *   mounts are set up, before pivot_root. The path resolves in the runtime's mount namespace (as
 *   the runtime-spec says); the hook is the engine's program, run as the jail's root in all the
 *   container's namespaces and cgroups, before any code of the container runs.
 * - "start" (startContainer): after `start`, just before the command. The path resolves in the
 *   container, so the program is the container's: it is set up exactly as the command is (ids,
 *   capabilities, no_new_privs, Landlock, every seccomp filter; command.c) and only then exec'd.
 * Each runs in a process group of its own, which is killed once the hook is done or timed out:
 * nothing a hook started stays behind unconfined. The state JSON goes to its stdin, with the
 * container's pid between the two texts of the plan: the init's own pid, as the container sees
 * it (1 in a pid namespace of its own). The runtime-spec asks, for hooks run in the container's
 * namespaces, for "the pid as seen by the container", and runc passes its init's getpid() there;
 * a host pid (the monitor's, as before) would mean nothing in the container's pid namespace and
 * would tell a container's own startContainer program a pid of the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "helper.h"

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The hook's file, argv and environment from OP (NULL-terminated lists); -1 on a bad op. */
int hook_args(const struct sj_op_rec *op, const char **file, char ***argv, char ***envp) {
  uint64_t nenv;
  if (op->argc < 7 || arg_u64(op, 5, &nenv) || nenv > op->argc - 7) return -1;
  uint32_t na = op->argc - 6 - (uint32_t)nenv;
  char **a = calloc(na + 1, sizeof *a), **e = calloc(nenv + 1, sizeof *e);
  if (!a || !e) return -1;
  for (uint32_t i = 0; i < nenv; i++) if (!(e[i] = (char *)arg_str(op, 6 + i))) return -1;
  for (uint32_t i = 0; i < na; i++) if (!(a[i] = (char *)arg_str(op, 6 + (uint32_t)nenv + i))) return -1;
  *file = arg_str(op, 4);
  *argv = a;
  *envp = e;
  return *file && (*file)[0] == '/' ? 0 : -1;
}

void hook_run(const struct sj_plan *plan, const struct sj_op_rec *op, int msgw, int confined) {
  const char *kind = arg_str(op, 0), *pre = arg_str(op, 2), *suf = arg_str(op, 3), *file;
  char **argv, **envp, why[240];
  uint64_t timeout;
  if (!kind || !pre || !suf || arg_u64(op, 1, &timeout) || hook_args(op, &file, &argv, &envp) < 0) die_step(msgw, op, EINVAL, "bad hook arguments");
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) die_step(msgw, op, errno, "pipe");
  pid_t pid = fork();
  if (pid < 0) die_step(msgw, op, errno, "fork");
  if (pid == 0) {
    setpgid(0, 0);
    if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0) _exit(127);
    reset_signals();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (confined) command_exec_hook(plan, msgw, op);
    syscall(SYS_close_range, 3U, ~0U, 0U);
    execve(file, argv, envp);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  /* the state, never more than the pipe takes at once: a hook that does not read it is judged by
   * its status alone */
  char num[24];
  snprintf(num, sizeof num, "%d", (int)getpid()); /* the init's: hook_run runs in the init */
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  const char *parts[3] = { pre, num, suf };
  for (int i = 0; i < 3; i++) if (write(in[1], parts[i], strlen(parts[i])) < 0) break;
  close(in[1]);
  signal(SIGPIPE, old);
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  char first[160] = "";
  size_t nfirst = 0;
  int out_open = 1, timed_out = 0;
  long long deadline = timeout ? now_ms() + (long long)timeout * 1000 : -1;
  for (;;) {
    struct pollfd p[2] = { { out_open ? out[0] : -1, POLLIN, 0 }, { pfd, POLLIN, 0 } };
    long long left = deadline < 0 ? -1 : deadline - now_ms();
    if (deadline >= 0 && left <= 0) { timed_out = 1; break; }
    int r = poll(p, 2, left < 0 ? -1 : (int)(left > 1000000 ? 1000000 : left));
    if (r < 0 && errno != EINTR) break;
    if (p[0].revents) {
      char b[512];
      ssize_t n = read(out[0], b, sizeof b);
      if (n <= 0) out_open = 0;
      for (ssize_t k = 0; k < n && nfirst < sizeof first - 1; k++) first[nfirst++] = b[k];
    }
    if (pfd < 0 ? !out_open : p[1].revents != 0) break;
  }
  int st = 0;
  if (timed_out) kill(pid, SIGKILL);
  waitpid(pid, &st, __WALL);
  kill(-pid, SIGKILL); /* whatever the hook left in its group */
  if (pfd >= 0) close(pfd);
  close(out[0]);
  first[nfirst] = 0;
  first[strcspn(first, "\n")] = 0;
  for (char *c = first; *c; c++) if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f) *c = '?';
  const char *name = !strcmp(kind, "start") ? "startContainer" : "createContainer";
  if (timed_out) snprintf(why, sizeof why, "%s hook %.80s: timed out after %llus", name, file, (unsigned long long)timeout);
  else if (WIFSIGNALED(st)) snprintf(why, sizeof why, "%s hook %.80s: killed by signal %d", name, file, WTERMSIG(st));
  else if (WEXITSTATUS(st)) snprintf(why, sizeof why, "%s hook %.80s: exit status %d%s%.100s%s", name, file, WEXITSTATUS(st), first[0] ? " (" : "", first, first[0] ? ")" : "");
  else { free(argv); free(envp); return; }
  die_step(msgw, op, timed_out ? ETIMEDOUT : EIO, why);
}
