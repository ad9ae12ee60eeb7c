/* idmaptree.c: sysjail-oci's idmapped trees (the root and bind ops whose flags hold MF_IDMAP or
 * MF_IDMAP_TRY), made by two processes: the init clones each tree where it builds the jail (a
 * detached copy, never attached yet, made in the order of the plan) and hands it to the monitor,
 * which idmaps it onto the jail's own user namespace and answers; the init then attaches it.
 *
 * Security reasoning. Only the monitor can idmap: the kernel asks for CAP_SYS_ADMIN in the user
 * namespace owning the tree's filesystem (the host's) and over the target namespace; the init
 * holds neither (it lives in the jail's user namespace since its clone). The monitor takes only
 * detached trees (the kernel refuses an attached mount and one idmapped already) and maps them
 * onto one namespace: the init's own, opened by the monitor from the init's pidfd-checked pid,
 * never a namespace descriptor from the init. The exchange happens after the id maps are written
 * (the kernel copies them into the mount's idmapping) and before the command runs: the init's end
 * of the channel is closed before any code of the jail runs, and the monitor stops serving at 'E'
 * or the init's end. What an idmapped tree gives jail root is in docs/JAILS.md, Security,
 * "Idmapped image for containers without a user namespace". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"

int g_idmap_sync = -1;

/* the ops whose tree is to be idmapped (their flags argument: OP_ROOT's second, OP_BIND's third) */
static const char *idmap_flags(const struct sj_op_rec *op) {
  if (op->code == OP_ROOT && op->argc > 1) return arg_str(op, 1);
  if (op->code == OP_BIND && op->argc > 2) return arg_str(op, 2);
  return NULL;
}

int idmap_wanted(const struct sj_op_rec *op) {
  const char *f = idmap_flags(op);
  return f && (flag_has(f, MF_IDMAP) || flag_has(f, MF_IDMAP_TRY));
}

int idmap_count(const struct sj_plan *plan) {
  int n = 0;
  for (uint32_t i = 0; i < plan->nops; i++) n += idmap_wanted(&plan->ops[i]);
  return n;
}

/* one byte BYTE, with FD when >= 0 */
static int send_byte_fd(int sock, char byte, int fd) {
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } cb;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (fd >= 0) {
    memset(&cb, 0, sizeof cb);
    mh.msg_control = cb.buf; mh.msg_controllen = sizeof cb.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t r;
  do r = sendmsg(sock, &mh, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
  return r == 1 ? 0 : -1;
}

int idmap_ask(int treefd) {
  if (g_idmap_sync < 0) return ENOTCONN; /* no monitor serves (an init from a prelude) */
  if (send_byte_fd(g_idmap_sync, 'I', treefd) < 0) return errno ? errno : EPIPE;
  int32_t e = 0;
  ssize_t r;
  do r = recv(g_idmap_sync, &e, sizeof e, 0); while (r < 0 && errno == EINTR);
  if (r != (ssize_t)sizeof e) _exit(1); /* the monitor gave up (or died) */
  return e;
}

void idmap_done(void) {
  if (g_idmap_sync < 0) return;
  send_byte_fd(g_idmap_sync, 'E', -1);
  if (g_idmap_sync != g_gate_sync) close(g_idmap_sync); /* the start gate's channel stays */
  g_idmap_sync = -1;
}

void idmap_serve(int sync, int userns, int initfd) {
  for (;;) {
    struct pollfd p[2] = { { sync, POLLIN, 0 }, { initfd, POLLIN, 0 } };
    if (poll(p, initfd >= 0 ? 2 : 1, -1) < 0) { if (errno == EINTR) continue; return; }
    if (!(p[0].revents & POLLIN)) return; /* the init ended (or the channel did) */
    char got = 0;
    int fd = -1;
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } cb;
    struct iovec iov = { .iov_base = &got, .iov_len = 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.buf, .msg_controllen = sizeof cb.buf };
    ssize_t r;
    do r = recvmsg(sync, &mh, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
    for (struct cmsghdr *c = r == 1 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)) && fd < 0) memcpy(&fd, CMSG_DATA(c), sizeof fd);
    if (r != 1 || got != 'I') { if (fd >= 0) close(fd); return; } /* 'E': the jail is built */
    int32_t e = 0;
    if (fd < 0) e = EBADF;
    else {
      struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
      if (fault_fail("idmap") < 0 || syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0) e = errno ? errno : EIO;
      close(fd);
    }
    while (send(sync, &e, sizeof e, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
  }
}

int idmap_userns(pid_t pid, int initfd) {
  char up[64];
  snprintf(up, sizeof up, "/proc/%d/ns/user", (int)pid);
  int fd = open(up, O_RDONLY | O_CLOEXEC);
  /* the pid was the init's while the file was opened: its pidfd still names a live process */
  if (fd >= 0 && initfd >= 0 && syscall(SYS_pidfd_send_signal, initfd, 0, NULL, 0) < 0) { close(fd); errno = ESRCH; return -1; }
  return fd;
}
