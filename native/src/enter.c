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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"
#include "net.h"
#include "relay.h"
#include "nsserve.h"

/* The entered command's seccomp listener while it runs (its exec has happened by then). */
static void listener_ready(short revents) {
  if (revents & POLLIN) notify_handle(1);
  if (revents & (POLLHUP | POLLERR | POLLNVAL)) notify_hangup();
}

/* True once every writer of the exec channel is gone: the command's exec closed its end
 * (close-on-exec) or it died. Asked afresh when an exec waits at the listener: a second exec
 * can only come after the first closed the channel, so it is then seen closed. */
static int exec_channel_closed(int fd) {
  struct pollfd p = { fd, 0, 0 };
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

int enter_main(struct sj_plan *plan) {
  const struct sj_op_rec *eop = plan_find(plan, OP_ENTER);
  uint64_t pid, start, nsflags;
  if (!eop || arg_u64(eop, 0, &pid) || arg_u64(eop, 1, &start) || arg_u64(eop, 2, &nsflags)) {
    emit_error(-1, "enter", EINVAL, "", "plan has no enter step"); return 70;
  }
  if (plan->flags & SJ_F_OCI) console_connect(plan); /* sysjail-oci exec --console-socket, before setns */
  int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  unsigned long long st = 0;
  if (pidfd < 0 || read_starttime((pid_t)pid, &st) < 0 || st != start) {
    emit_error(eop->index, "enter", ESRCH, "", "the jail's init is gone"); return 0;
  }
  /* the namespaces from the jail's monitor (nsserve.c): its owner may not open the init's */
  const struct sj_op_rec *via = plan_find(plan, OP_ENTER_VIA);
  int nsfds[NS_MAX];
  uint32_t nstypes[NS_MAX];
  int nscount = 0;
  if (via) {
    uint64_t mpid, mstart;
    unsigned long long mst = 0;
    const char *path = arg_str(via, 0);
    if (!path || arg_u64(via, 1, &mpid) || arg_u64(via, 2, &mstart)) { emit_error(via->index, "enter-via", EINVAL, "", "bad arguments"); return 0; }
    nscount = nsserve_fetch(path, (pid_t)mpid, nsfds, nstypes);
    /* the peer was the monitor's pid; that pid is still the monitor the registry recorded */
    if (nscount < 0 || read_starttime((pid_t)mpid, &mst) < 0 || mst != mstart) {
      emit_error(via->index, "enter-via", nscount < 0 ? errno : ESRCH, path, "cannot get the jail's namespaces from its monitor"); return 0;
    }
  }
  if (net_enter(plan) < 0) return 0; /* jail -m: the address map, while the host's view is ours */
  /* cgroups first, while the host's cgroup tree is still in view */
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    if (op->code != OP_CGROUP_ATTACH) continue;
    const char *f = arg_str(op, 0);
    if (!f || write_file(f, "0", 1) < 0) { emit_error(op->index, op_name(op->code), errno, f ? f : "", NULL); return 0; }
  }
  /* sysjail-oci update on cgroup v2: a new device program for the jail's cgroup, attached in
   * place of the old one (net.c refuses attach flags: the attach replaces, it never adds) */
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    if (op->code == OP_BPF_PROG && net_host_pre(plan, op) < 0) return 0;
  }
  /* nothing to join and nothing to run: done (the init was alive when the plan ran) */
  if (nsflags == 0 && !plan_find(plan, OP_EXEC)) {
    close(pidfd);
    emit("{\"ev\":\"exit\",\"setupFailed\":false,\"cmd\":false,\"cmdCode\":0,\"cmdSignal\":0}");
    return 0;
  }
  prctl(PR_SET_DUMPABLE, 0);
  if (!via) {
    /* all at once; when that is refused, network, uts, ipc, pid and mount first, with the
     * caller's own credentials: a container may have joined ones its user namespace does not own
     * (sysjail-oci linux.namespaces path), which root can join only before it is in the jail's
     * user namespace. A refused setns of a pidfd changes nothing. */
    const uint64_t early_ns = nsflags & (CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNS);
    if (setns(pidfd, (int)nsflags) < 0) {
      int e = errno;
      if (e != EPERM || !early_ns || setns(pidfd, (int)early_ns) < 0 || setns(pidfd, (int)(nsflags & ~early_ns)) < 0) {
        emit_error(eop->index, "setns", e, "", NULL); return 0;
      }
    }
  } else {
    /* each namespace asked for, the user namespace first; setns(fd, type) checks each type */
    uint64_t joined = 0;
    for (int i = 0; i < nscount; i++) {
      if (!(nsflags & nstypes[i])) continue;
      if (setns(nsfds[i], (int)nstypes[i]) < 0) { emit_error(eop->index, "setns", errno, "", NULL); return 0; }
      joined |= nstypes[i];
    }
    for (int i = 0; i < nscount; i++) close(nsfds[i]);
    /* the cgroup namespace: rooted at the jail's cgroup, which we joined above, as the init's is */
    if ((nsflags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) { emit_error(eop->index, "setns", errno, "cgroup", NULL); return 0; }
    joined |= CLONE_NEWCGROUP;
    if ((joined & nsflags) != nsflags) { emit_error(eop->index, "setns", ENOENT, "", "the monitor lacks a namespace of the jail"); return 0; }
  }
  close(pidfd);
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    const char *a = arg_str(op, 0);
    if (op->code == OP_HOSTNAME && (!a || sethostname(a, strlen(a)) < 0)) { emit_error(op->index, "hostname", errno, a ? a : "", NULL); return 0; }
    if (op->code == OP_DOMAINNAME && (!a || setdomainname(a, strlen(a)) < 0)) { emit_error(op->index, "domainname", errno, a ? a : "", NULL); return 0; }
  }
  if (!plan_find(plan, OP_EXEC)) { emit("{\"ev\":\"exit\",\"setupFailed\":false,\"cmd\":false,\"cmdCode\":0,\"cmdSignal\":0}"); return 0; }
  /* the command's stdio: never the caller's descriptors (relay.c) */
  const struct sj_op_rec *sop = plan_find(plan, OP_STDIO);
  const struct sj_op_rec *uop = plan_find(plan, OP_UID), *gop = plan_find(plan, OP_GID);
  uint64_t uid = 0, gid = 0;
  if (uop) arg_u64(uop, 0, &uid);
  if (gop) arg_u64(gop, 0, &gid);
  struct relay relay;
  relay_init(&relay);
  const char *smode = sop ? arg_str(sop, 0) : NULL;
  if (!smode) { emit_error(-1, "stdio", EINVAL, "", "an entered command needs a relayed stdio (pty or pipe)"); return 0; }
  const char *fallback = arg_str(sop, 1);
  if (relay_prepare(&relay, smode, (uid_t)uid, (gid_t)gid) < 0) {
    int e = errno;
    /* the plan's second choice for a jail without a devpts of its own (no /dev/pts/ptmx) */
    if (!(fallback && *fallback && (e == ENOENT || e == ENODEV) && relay_prepare(&relay, fallback, (uid_t)uid, (gid_t)gid) == 0)) {
      emit_error(sop->index, "stdio", e, smode, NULL); return 0;
    }
  }
  int execp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, execp) < 0) { emit_error(-1, "pipe", errno, "", NULL); return 0; }
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  relay_sigset(&mask);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  pid_t child = fork(); /* the child is the first to live in the jail's pid namespace */
  if (child < 0) { emit_error(-1, "fork", errno, "", NULL); return 0; }
  if (child == 0) {
    close(execp[0]);
    if (g_status_fd >= 0) close(g_status_fd);
    reset_signals();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    title_set(SJ_INIT_NAME); /* seen in the jail until its exec: no host path */
    if (relay_child(&relay) < 0) die_step(execp[1], sop, errno, "stdio");
    command_exec(plan, execp[1]);
  }
  close(execp[1]);
  struct sj_msg m;
  ssize_t n;
  int failed = 0;
  /* a jail with a pledge: the entered command's filter has a listener, answered here as the
   * monitor answers its command's (notify.c): the command's own exec continued, every refusal
   * answered with the policy's errno and counted for the report */
  notify_setup(plan);
  /* steps (-dd) and warnings (a best-effort Landlock domain skipped) may come before the end of
   * the pipe (the command ran) or an error; the command's exec may wait at the listener */
  for (;;) {
    if (notify_fd() >= 0) {
      struct pollfd p[2] = { { execp[0], POLLIN, 0 }, { notify_fd(), POLLIN, 0 } };
      if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; n = -1; break; }
      if (!p[0].revents) {
        if (p[1].revents & POLLIN) notify_handle(exec_channel_closed(execp[0]));
        if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL)) notify_hangup();
        continue;
      }
    }
    int lfd;
    n = msg_recv_fd(execp[0], &m, &lfd);
    if (lfd >= 0 && (n != (ssize_t)sizeof m || m.type != MSG_LISTENER)) { close(lfd); lfd = -1; }
    if (n != (ssize_t)sizeof m || m.type == MSG_ERROR) break;
    if (m.type == MSG_LISTENER && lfd >= 0) {
      /* sent by the command's setup code before its exec: the first listener is kept */
      notify_take(lfd);
      if (notify_fd() < 0) { emit_error(m.op, "seccomp", ESRCH, "", "the command's seccomp listener did not arrive"); failed = 1; kill(child, SIGKILL); break; }
      continue;
    }
    if (m.type == MSG_LISTENER) {
      notify_grab_from(0, child, m.value);
      if (notify_fd() < 0) { emit_error(m.op, "seccomp", ESRCH, "", "cannot take the command's seccomp listener"); failed = 1; kill(child, SIGKILL); break; }
      continue;
    }
    char t[600];
    m.text[sizeof m.text - 1] = 0;
    json_str(t, sizeof t, m.text);
    if (m.type == MSG_STEP) emit("{\"ev\":\"step\",\"op\":%d,\"step\":\"%s\",\"path\":%s}", m.op, op_name((uint32_t)m.value), t);
    else if (m.type == MSG_WARN) emit("{\"ev\":\"warn\",\"op\":%d,\"step\":\"%s\",\"errno\":%d,\"path\":%s}", m.op, op_name((uint32_t)m.value), m.err, t);
  }
  if (!failed && n == (ssize_t)sizeof m && m.type == MSG_ERROR) {
    emit_error(m.op, op_name((uint32_t)m.value), m.err, m.text, NULL);
    failed = 1;
  } else if (!failed) emit("{\"ev\":\"ready\",\"pid\":%d}", (int)child);
  close(execp[0]);
  int status = 0;
  if (notify_fd() >= 0) { relay.extra_fd = notify_fd; relay.extra_ready = listener_ready; }
  relay_run(&relay, child, &status);
  /* the calls refused while it ran, before its exit; the listener closes with it (what the
   * command left running gets ENOSYS from the kernel for a refused call from then on) */
  notify_report();
  emit("{\"ev\":\"exit\",\"setupFailed\":%s,\"cmd\":true,\"cmdCode\":%d,\"cmdSignal\":%d}", failed ? "true" : "false",
       WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  /* the plan's third stdio word: what becomes of output written after the command ended */
  const char *after = arg_str(sop, 2);
  if (!failed && after && (!strcmp(after, "keep") || !strcmp(after, "drop"))) {
    if (g_status_fd >= 0) { close(g_status_fd); g_status_fd = -1; }
    relay_linger(&relay, !strcmp(after, "drop"));
  }
  relay_close(&relay);
  fault_slow("enter-exit");
  /* sysjail-oci exec: this process is the one the engine waits for: its status is the command's */
  if (plan->flags & SJ_F_OCI) return failed ? 127 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return 0;
}
