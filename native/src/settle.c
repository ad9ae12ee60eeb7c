/* settle.c: sysjail-oci's start lets the container's supervisor take the connections already
 * queued on its listening unix sockets before the command is released.
 *
 * Why (docs/OCI.md, "A lost exit under podman"): podman connects to conmon's attach socket, then
 * calls `start`. conmon accepts in its main loop, but it handles a child's exit inside one
 * dispatch (a waitpid(-1) loop) and quits that loop at the container's exit without polling
 * again: when the command ran and ended while conmon was still in the dispatch that began
 * before the connect, the queued attach client is never accepted; conmon exits, the kernel
 * resets the connection, podman reads ECONNRESET as the end of the stream and prints nothing.
 * A `start` that returns about 1 ms after it is called makes that window wide enough to hit.
 *
 * What: the supervisor is the init's parent (conmon, a containerd shim: the subreaper that will
 * reap it). Its listening unix sockets are found from /proc/PID/fd (socket inodes; the caller
 * of start is the engine, which may read its own helper's fds) and the kernel's sock_diag
 * (NETLINK_SOCK_DIAG, UNIX_DIAG with UDIAG_SHOW_RQLEN: for a listening socket the receive queue
 * length is the number of connections not yet accepted). start waits until none is pending,
 * bounded; past the bound, or when anything cannot be read, it goes on as before. Nothing here
 * decides a policy (the bound comes from create, src/oci/state.ts) and nothing is read from
 * the jail: the supervisor runs outside it, and the jail's command has not run yet. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "helper.h"

#define SETTLE_MAX_SOCKS 256

/* The socket inodes among PID's open files into INO (at most MAX): how many, -1 when unreadable. */
static int socket_inodes(long pid, unsigned long *ino, int max) {
  char path[64], link[64];
  snprintf(path, sizeof path, "/proc/%ld/fd", pid);
  DIR *d = opendir(path);
  if (!d) return -1;
  int n = 0;
  struct dirent *de;
  while (n < max && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    ssize_t k = readlinkat(dirfd(d), de->d_name, link, sizeof link - 1);
    if (k <= 0) continue;
    link[k] = 0;
    unsigned long v;
    if (sscanf(link, "socket:[%lu]", &v) == 1) ino[n++] = v;
  }
  closedir(d);
  return n;
}

int settle_pending(const unsigned long *ino, int n) {
  if (n <= 0) return 0;
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  struct { struct nlmsghdr nlh; struct unix_diag_req r; } req;
  memset(&req, 0, sizeof req);
  req.nlh.nlmsg_len = sizeof req;
  req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.r.sdiag_family = AF_UNIX;
  req.r.udiag_states = 1u << 10; /* TCP_LISTEN: listening sockets only */
  req.r.udiag_show = UDIAG_SHOW_RQLEN;
  struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
  if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl) < 0) { close(fd); return -1; }
  long pending = 0;
  int done = 0, bad = 0;
  static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
  while (!done && !bad) {
    ssize_t len = recv(fd, buf, sizeof buf, 0);
    if (len < 0 && errno == EINTR) continue;
    if (len <= 0) { bad = 1; break; }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) { done = 1; break; }
      if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg))) { bad = 1; break; }
      const struct unix_diag_msg *m = NLMSG_DATA(h);
      int ours = 0;
      for (int i = 0; i < n && !ours; i++) ours = ino[i] == m->udiag_ino;
      if (!ours) continue;
      int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
      for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
        if (a->rta_type == UNIX_DIAG_RQLEN && RTA_PAYLOAD(a) >= sizeof(struct unix_diag_rqlen))
          pending += ((const struct unix_diag_rqlen *)RTA_DATA(a))->udiag_rqueue;
    }
  }
  close(fd);
  return bad ? -1 : (int)(pending > 1000000 ? 1000000 : pending);
}

int settle_listeners(long pid, int bound_ms) {
  unsigned long ino[SETTLE_MAX_SOCKS];
  if (pid <= 1 || bound_ms <= 0) return 0;
  int n = socket_inodes(pid, ino, SETTLE_MAX_SOCKS);
  if (n <= 0) return n;
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    int p = settle_pending(ino, n);
    if (p <= 0) return p;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
    if (ms >= bound_ms) return p;
    /* the kernel tells no one when a connection is accepted: look again in 100 us */
    struct timespec step = { 0, 100000 };
    nanosleep(&step, NULL);
  }
}
