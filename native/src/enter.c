/* enter.c: joins a running jail (jexec, jail -m). The jail is pinned by a pidfd of its init,
 * checked against the start time the registry recorded, so a reused pid is never entered. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"
#include "net.h"

int enter_main(struct sj_plan *plan) {
  const struct sj_op_rec *eop = plan_find(plan, OP_ENTER);
  uint64_t pid, start, nsflags;
  if (!eop || arg_u64(eop, 0, &pid) || arg_u64(eop, 1, &start) || arg_u64(eop, 2, &nsflags)) {
    emit_error(-1, "enter", EINVAL, "", "plan has no enter step"); return 70;
  }
  int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  unsigned long long st = 0;
  if (pidfd < 0 || read_starttime((pid_t)pid, &st) < 0 || st != start) {
    emit_error(eop->index, "enter", ESRCH, "", "the jail's init is gone"); return 0;
  }
  if (net_enter(plan) < 0) return 0; /* jail -m: the address map, while the host's view is ours */
  /* cgroups first, while the host's cgroup tree is still in view */
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    if (op->code != OP_CGROUP_ATTACH) continue;
    const char *f = arg_str(op, 0);
    if (!f || write_file(f, "0", 1) < 0) { emit_error(op->index, op_name(op->code), errno, f ? f : "", NULL); return 0; }
  }
  prctl(PR_SET_DUMPABLE, 0);
  if (setns(pidfd, (int)nsflags) < 0) { emit_error(eop->index, "setns", errno, "", NULL); return 0; }
  close(pidfd);
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    const char *a = arg_str(op, 0);
    if (op->code == OP_HOSTNAME && (!a || sethostname(a, strlen(a)) < 0)) { emit_error(op->index, "hostname", errno, a ? a : "", NULL); return 0; }
    if (op->code == OP_DOMAINNAME && (!a || setdomainname(a, strlen(a)) < 0)) { emit_error(op->index, "domainname", errno, a ? a : "", NULL); return 0; }
  }
  if (!plan_find(plan, OP_EXEC)) { emit("{\"ev\":\"exit\",\"setupFailed\":false,\"cmd\":false,\"cmdCode\":0,\"cmdSignal\":0}"); return 0; }
  int execp[2];
  if (pipe2(execp, O_CLOEXEC) < 0) { emit_error(-1, "pipe", errno, "", NULL); return 0; }
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM); sigaddset(&mask, SIGINT); sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  pid_t child = fork(); /* the child is the first to live in the jail's pid namespace */
  if (child < 0) { emit_error(-1, "fork", errno, "", NULL); return 0; }
  if (child == 0) {
    close(execp[0]);
    if (g_status_fd >= 0) close(g_status_fd);
    sigset_t none;
    sigemptyset(&none);
    for (int s = 1; s < NSIG; s++) if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    title_set(SJ_INIT_NAME); /* seen in the jail until its exec: no host path */
    command_exec(plan, execp[1]);
  }
  close(execp[1]);
  struct sj_msg m;
  ssize_t n;
  int failed = 0;
  /* steps (-dd) and warnings (a best-effort Landlock domain skipped) may come before the end of
   * the pipe (the command ran) or an error */
  for (;;) {
    do n = read(execp[0], &m, sizeof m); while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof m || m.type == MSG_ERROR) break;
    char t[600];
    m.text[sizeof m.text - 1] = 0;
    json_str(t, sizeof t, m.text);
    if (m.type == MSG_STEP) emit("{\"ev\":\"step\",\"op\":%d,\"step\":\"%s\",\"path\":%s}", m.op, op_name((uint32_t)m.value), t);
    else if (m.type == MSG_WARN) emit("{\"ev\":\"warn\",\"op\":%d,\"step\":\"%s\",\"errno\":%d,\"path\":%s}", m.op, op_name((uint32_t)m.value), m.err, t);
  }
  if (n == (ssize_t)sizeof m && m.type == MSG_ERROR) {
    emit_error(m.op, op_name((uint32_t)m.value), m.err, m.text, NULL);
    failed = 1;
  } else emit("{\"ev\":\"ready\",\"pid\":%d}", (int)child);
  close(execp[0]);
  int status = 0;
  /* forward a termination request to the entered command */
  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  for (;;) {
    pid_t w = waitpid(child, &status, WNOHANG);
    if (w == child) break;
    struct pollfd p = { sigfd, POLLIN, 0 };
    poll(&p, 1, 50);
    if (p.revents) {
      /* SIGINT from a terminal reaches the entered command itself (same process group): leave it
       * to the command; SIGTERM and SIGHUP, sent to jexec, end it */
      struct signalfd_siginfo si;
      int term = 0;
      while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) if (si.ssi_signo != SIGINT) term = 1;
      if (term) kill(child, SIGKILL);
    }
  }
  emit("{\"ev\":\"exit\",\"setupFailed\":%s,\"cmd\":true,\"cmdCode\":%d,\"cmdSignal\":%d}", failed ? "true" : "false",
       WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  /* sysjail-oci exec: this process is the one the engine waits for: its status is the command's */
  if (plan->flags & SJ_F_OCI) return failed ? 127 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return 0;
}
