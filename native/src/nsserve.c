/* nsserve.c: the monitor keeps its jail's namespaces and hands them to the jail's owner.
 *
 * The jail's init is not dumpable (init.c), so an unprivileged owner cannot open its
 * its namespace files (/proc/PID/ns) to enter the jail (only a caller with CAP_SYS_PTRACE on the host can). The
 * monitor opens them right after clone, while the init still waits for it (and is still
 * dumpable), and serves them on a unix socket in the owner's state directory: a client whose
 * SO_PEERCRED uid is the owner's (or root) and who lives in the monitor's own user namespace
 * (not a process of a jail, which may reach the socket on a jail of "/" and has the owner's uid
 * there) gets one message with the descriptors (SCM_RIGHTS) and the CLONE_NEW* bit of each. The client (enter.c) checks that the socket's peer is the
 * jail's monitor (pid and start time from the registry) and joins each with setns(fd, type),
 * which the kernel refuses for a descriptor of another namespace type.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "helper.h"
#include "nsserve.h"

static const struct { uint32_t flag; const char *name; } g_ns[NS_MAX] = {
  { CLONE_NEWUSER, "user" }, { CLONE_NEWNS, "mnt" }, { CLONE_NEWPID, "pid" },
  { CLONE_NEWUTS, "uts" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWNET, "net" },
};
static int g_fds[NS_MAX] = { -1, -1, -1, -1, -1, -1 };
static uint32_t g_types[NS_MAX];
static int g_count;

int nsserve_open(pid_t pid, uint64_t cflags) {
  nsserve_close();
  for (int i = 0; i < NS_MAX; i++) {
    if (!(cflags & g_ns[i].flag)) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, g_ns[i].name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    g_fds[g_count] = fd;
    g_types[g_count++] = g_ns[i].flag;
  }
  return 0;
}

int nsserve_fd(uint32_t clone_flag) {
  for (int i = 0; i < g_count; i++) if (g_types[i] == clone_flag) return g_fds[i];
  return -1;
}

void nsserve_close(void) {
  for (int i = 0; i < g_count; i++) close(g_fds[i]);
  g_count = 0;
}

int nsserve_listen(const char *path, uid_t owner) {
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof a.sun_path) { errno = ENAMETOOLONG; return -1; }
  strcpy(a.sun_path, path);
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  struct stat st;
  /* a socket left by a monitor that was killed: the jid is ours now (reserved) */
  if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
  mode_t old = umask(0177); /* 0600: the owner only (root passes anyway) */
  int r = bind(s, (struct sockaddr *)&a, sizeof a);
  umask(old);
  if (r == 0 && fault_fail("ns-socket") < 0) r = -1; /* made, then failed: its file stays for the undo */
  if (r < 0 || listen(s, 8) < 0) { int e = errno; close(s); errno = e; return -1; }
  (void)owner;
  return s;
}

/* The peer's user namespace is the monitor's own: it is no process of a jail. */
static int same_userns(pid_t peer) {
  char a[64], b[64], path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)peer);
  ssize_t n = readlink(path, a, sizeof a - 1), m = readlink("/proc/self/ns/user", b, sizeof b - 1);
  if (n <= 0 || m <= 0) return 0;
  a[n] = b[m] = 0;
  return !strcmp(a, b);
}

void nsserve_accept(int lfd, uid_t owner) {
  for (;;) {
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) return;
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && (cr.uid == owner || cr.uid == 0) && g_count > 0 && same_userns(cr.pid)) {
      char cbuf[CMSG_SPACE(sizeof(int) * NS_MAX)];
      memset(cbuf, 0, sizeof cbuf);
      struct iovec iov = { .iov_base = g_types, .iov_len = sizeof(uint32_t) * (size_t)g_count };
      struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)g_count) };
      struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
      cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS; cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)g_count);
      memcpy(CMSG_DATA(cm), g_fds, sizeof(int) * (size_t)g_count);
      (void)!sendmsg(c, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    close(c);
  }
}

int nsserve_fetch(const char *path, pid_t monitor, int fds[NS_MAX], uint32_t types[NS_MAX]) {
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof a.sun_path) { errno = ENAMETOOLONG; return -1; }
  strcpy(a.sun_path, path);
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { int e = errno; close(s); errno = e; return -1; }
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.pid != monitor) { close(s); errno = ESRCH; return -1; }
  char cbuf[CMSG_SPACE(sizeof(int) * NS_MAX)];
  struct iovec iov = { .iov_base = types, .iov_len = sizeof(uint32_t) * NS_MAX };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t n;
  do n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  int e = errno;
  close(s);
  if (n <= 0) { errno = n < 0 ? e : EPERM; return -1; }
  int count = 0;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    count = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    if (count > NS_MAX) count = NS_MAX;
    memcpy(fds, CMSG_DATA(cm), sizeof(int) * (size_t)count);
  }
  if (count == 0 || (size_t)n != sizeof(uint32_t) * (size_t)count) {
    for (int i = 0; i < count; i++) close(fds[i]);
    errno = EPROTO;
    return -1;
  }
  return count;
}
