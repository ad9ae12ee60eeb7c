/* net.c: the network steps of a plan. The TypeScript side generated every program and chose every
 * address; this file only loads, attaches and configures, in the order run.c calls it.
 *
 * Security reasoning. The programs are attached to the jail's cgroup v2 directory before the
 * jail's init is moved into it and before it is let go, so no instruction of the jail runs
 * without them. They are attached with BPF_PROG_ATTACH and no flag: not BPF_F_ALLOW_OVERRIDE
 * (refused here whatever the plan says, so a program in a cgroup below could not replace ours)
 * and not BPF_F_ALLOW_MULTI, so nothing below the jail's cgroup may attach a program of the same
 * kind at all. The jail cannot detach them: detaching needs CAP_NET_ADMIN in the initial user
 * namespace, and the jail's capabilities are those of its own user namespace (and its seccomp
 * policy refuses bpf(2) outright). The attachment needs no open descriptor, so the monitor closes
 * every program and map descriptor before it clones the init; nothing of it is inherited. The
 * address map is created BPF_F_RDONLY_PROG: the programs can read it, not change it; jail -m
 * (host root) finds it again through the programs on the jail's cgroup (OP_BPF_UPDATE).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"
#include "net.h"

static int g_map = -1;                   /* the address map, until the last program is loaded */
static char g_veth[8][IFNAMSIZ];         /* host ends of veth pairs: deleted at the end */
static int g_nveth;
static struct { char host[IFNAMSIZ], jail[IFNAMSIZ]; } g_moved[8]; /* interfaces to give back */
static int g_nmoved;
static int g_jailns = -1, g_hostns = -1; /* held while an interface is moved in */
static pid_t g_helpers[4];
static int g_helper_op[4];
static int g_helper_err[4];              /* the read end of each helper's standard error */
static char g_helper_name[4][32];
static int g_nhelpers;

static int sys_bpf(int cmd, union bpf_attr *a) { return (int)syscall(SYS_bpf, cmd, a, sizeof *a); }

static int arg_u32(const struct sj_op_rec *op, uint32_t i, uint32_t *out) {
  uint64_t v;
  if (arg_u64(op, i, &v) || v > 0xffffffffu) return -1;
  *out = (uint32_t)v;
  return 0;
}

static int fail(const struct sj_op_rec *op, int err, const char *path, const char *msg) {
  emit_error(op->index, op_name(op->code), err, path ? path : "", msg);
  errno = err;
  return -1;
}

static int has_later(const struct sj_plan *plan, const struct sj_op_rec *op, uint32_t code) {
  for (uint32_t i = (uint32_t)op->index + 1; i < plan->nops; i++) if (plan->ops[i].code == code) return 1;
  return 0;
}

static int bpf_map_op(const struct sj_op_rec *op) {
  const char *name = arg_str(op, 0);
  uint32_t ks, vs, max;
  if (!name || arg_u32(op, 1, &ks) || arg_u32(op, 2, &vs) || arg_u32(op, 3, &max) || op->argc != 5 || g_map >= 0 ||
      ks == 0 || vs == 0 || op->argv[4].len % (ks + vs))
    return fail(op, EINVAL, name, "bad arguments");
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_HASH;
  a.key_size = ks; a.value_size = vs; a.max_entries = max;
  a.map_flags = BPF_F_RDONLY_PROG;
  snprintf(a.map_name, sizeof a.map_name, "%s", name);
  g_map = sys_bpf(BPF_MAP_CREATE, &a);
  if (g_map < 0) return fail(op, errno, name, errno == EPERM ? "creating eBPF maps needs CAP_BPF (root)" : NULL);
  const struct sj_arg *blob = &op->argv[4];
  for (uint32_t off = 0; off < blob->len; off += ks + vs) {
    memset(&a, 0, sizeof a);
    a.map_fd = (uint32_t)g_map;
    a.key = (uint64_t)(uintptr_t)(blob->p + off);
    a.value = (uint64_t)(uintptr_t)(blob->p + off + ks);
    a.flags = BPF_NOEXIST;
    if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) return fail(op, errno, name, "filling the address map");
  }
  return 0;
}

static int bpf_prog_op(const struct sj_op_rec *op) {
  const char *name = arg_str(op, 0), *dir = arg_str(op, 3);
  uint32_t type, attach, flags;
  if (!name || !dir || arg_u32(op, 1, &type) || arg_u32(op, 2, &attach) || arg_u32(op, 4, &flags) || op->argc != 6 ||
      op->argv[5].len == 0 || op->argv[5].len % sizeof(struct bpf_insn))
    return fail(op, EINVAL, name, "bad arguments");
  if (flags & (BPF_F_ALLOW_OVERRIDE | BPF_F_ALLOW_MULTI | BPF_F_REPLACE))
    return fail(op, EPERM, name, "the plan would let a cgroup below the jail's replace or add to its programs");
  struct bpf_insn *insns = malloc(op->argv[5].len); /* the blob may be unaligned in the plan buffer */
  static char log[65536];
  if (!insns) return fail(op, ENOMEM, name, NULL);
  memcpy(insns, op->argv[5].p, op->argv[5].len);
  int fds[1] = { g_map };
  union bpf_attr a;
  int fd = -1;
  for (int tries = 0; tries < 2 && fd < 0; tries++) {
    memset(&a, 0, sizeof a);
    a.prog_type = type;
    a.expected_attach_type = attach;
    a.insns = (uint64_t)(uintptr_t)insns;
    a.insn_cnt = op->argv[5].len / sizeof(struct bpf_insn);
    a.license = (uint64_t)(uintptr_t)"ISC";
    a.fd_array = g_map >= 0 ? (uint64_t)(uintptr_t)fds : 0;
    snprintf(a.prog_name, sizeof a.prog_name, "%s", name);
    if (tries) { log[0] = 0; a.log_level = 1; a.log_buf = (uint64_t)(uintptr_t)log; a.log_size = sizeof log; }
    fd = sys_bpf(BPF_PROG_LOAD, &a);
  }
  int e = errno;
  free(insns);
  if (fd < 0) {
    /* the verifier's last complete line says why */
    size_t n = strlen(log);
    while (n && log[n - 1] == '\n') log[--n] = 0;
    char *last = strrchr(log, '\n');
    return fail(op, e, name, log[0] ? (last ? last + 1 : log) : (e == EPERM ? "loading eBPF programs needs CAP_BPF (root)" : NULL));
  }
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) { e = errno; close(fd); return fail(op, e, dir, NULL); }
  memset(&a, 0, sizeof a);
  a.target_fd = (uint32_t)cg;
  a.attach_bpf_fd = (uint32_t)fd;
  a.attach_type = attach;
  a.attach_flags = flags;
  int r = sys_bpf(BPF_PROG_ATTACH, &a);
  e = errno;
  close(cg);
  close(fd);
  return r < 0 ? fail(op, e, dir, "attaching to the jail's cgroup (is it on cgroup2?)") : 0;
}

int net_host_pre(const struct sj_plan *plan, const struct sj_op_rec *op) {
  int r = fault_fail(op_name(op->code)) < 0 ? fail(op, errno, arg_str(op, 0), NULL) : op->code == OP_BPF_MAP ? bpf_map_op(op) : bpf_prog_op(op);
  /* nothing needs the map descriptor once the last program holds it: the init must not inherit it */
  if (g_map >= 0 && (r < 0 || (op->code == OP_BPF_PROG && !has_later(plan, op, OP_BPF_PROG)))) { close(g_map); g_map = -1; }
  return r;
}

/* ---- rtnetlink ---- */

struct nlreq { struct nlmsghdr h; char buf[1024]; };

static struct rtattr *nla_put(struct nlreq *r, int type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));
  a->rta_type = (unsigned short)type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len) memcpy((char *)a + RTA_LENGTH(0), data, len);
  r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}
static void nla_end(struct nlreq *r, struct rtattr *nest) { nest->rta_len = (unsigned short)((char *)r + r->h.nlmsg_len - (char *)nest); }

static void nl_init(struct nlreq *r, int type, int flags, const void *body, size_t len) {
  memset(r, 0, sizeof *r);
  r->h.nlmsg_type = (unsigned short)type;
  r->h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
  r->h.nlmsg_len = (unsigned)NLMSG_LENGTH(len);
  memcpy((char *)r + NLMSG_LENGTH(0), body, len);
}

/* Sends one request and waits for its acknowledgement; 0 or -1 with errno. */
static int nl_talk(int fd, struct nlreq *r) {
  static unsigned seq;
  r->h.nlmsg_seq = ++seq;
  if (send(fd, &r->h, r->h.nlmsg_len, 0) < 0) return -1;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { if (n == 0) errno = EIO; return -1; }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != r->h.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR) continue;
      int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (err) { errno = -err; return -1; }
      return 0;
    }
  }
}

static int nl_open(void) { return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE); }

static int link_up(int fd, const char *ifname) {
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)if_nametoindex(ifname), .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
  if (!ifi.ifi_index) return -1;
  struct nlreq r;
  nl_init(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  return nl_talk(fd, &r);
}

/* "a.b.c.d/len" or "x::y/len" into family, bytes and prefix length. */
static int parse_cidr(const char *s, int *family, unsigned char addr[16], int *prefix) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s", s);
  char *slash = strchr(buf, '/');
  if (slash) *slash = 0;
  *family = strchr(buf, ':') ? AF_INET6 : AF_INET;
  if (inet_pton(*family, buf, addr) != 1) return -1;
  int max = *family == AF_INET ? 32 : 128;
  *prefix = slash ? atoi(slash + 1) : max;
  return *prefix < 0 || *prefix > max ? -1 : 0;
}

static int add_addr(int fd, const char *ifname, const char *cidr) {
  int fam, plen;
  unsigned char a[16];
  if (parse_cidr(cidr, &fam, a, &plen)) { errno = EINVAL; return -1; }
  struct ifaddrmsg ifa = { .ifa_family = (unsigned char)fam, .ifa_prefixlen = (unsigned char)plen,
                           .ifa_flags = fam == AF_INET6 ? IFA_F_NODAD : 0, .ifa_scope = RT_SCOPE_UNIVERSE,
                           .ifa_index = if_nametoindex(ifname) };
  if (!ifa.ifa_index) return -1;
  struct nlreq r;
  nl_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof ifa);
  size_t len = fam == AF_INET ? 4 : 16;
  nla_put(&r, IFA_LOCAL, a, len);
  nla_put(&r, IFA_ADDRESS, a, len);
  return nl_talk(fd, &r);
}

static int add_route(int fd, const char *dst, const char *gw, const char *ifname) {
  int fam, plen, gfam;
  unsigned char d[16], g[16];
  if (parse_cidr(dst, &fam, d, &plen) || (gw && *gw && (parse_cidr(gw, &gfam, g, &(int){0}) || gfam != fam))) { errno = EINVAL; return -1; }
  int oif = (int)if_nametoindex(ifname);
  if (!oif) return -1;
  struct rtmsg rt = { .rtm_family = (unsigned char)fam, .rtm_dst_len = (unsigned char)plen, .rtm_table = RT_TABLE_MAIN,
                      .rtm_protocol = RTPROT_STATIC, .rtm_scope = gw && *gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
                      .rtm_type = RTN_UNICAST, .rtm_flags = gw && *gw ? RTNH_F_ONLINK : 0 };
  struct nlreq r;
  nl_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof rt);
  size_t len = fam == AF_INET ? 4 : 16;
  if (plen) nla_put(&r, RTA_DST, d, len);
  if (gw && *gw) nla_put(&r, RTA_GATEWAY, g, len);
  nla_put(&r, RTA_OIF, &oif, sizeof oif);
  return nl_talk(fd, &r);
}

static int make_veth(int fd, const char *host, const char *jail, pid_t pid) {
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
  struct nlreq r;
  nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  nla_put(&r, IFLA_IFNAME, host, strlen(host) + 1);
  struct rtattr *info = nla_put(&r, IFLA_LINKINFO, NULL, 0);
  nla_put(&r, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = nla_put(&r, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer = nla_put(&r, VETH_INFO_PEER, &ifi, sizeof ifi);
  nla_put(&r, IFLA_IFNAME, jail, strlen(jail) + 1);
  uint32_t p = (uint32_t)pid;
  nla_put(&r, IFLA_NET_NS_PID, &p, sizeof p);
  nla_end(&r, peer); nla_end(&r, data); nla_end(&r, info);
  return nl_talk(fd, &r);
}

/* Moves interface `index` into the namespace `nsfd` (or of `pid`), renamed `to`. */
static int move_link(int fd, int index, const char *to, pid_t pid, int nsfd) {
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
  if (!ifi.ifi_index) return -1;
  struct nlreq r;
  nl_init(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  nla_put(&r, IFLA_IFNAME, to, strlen(to) + 1);
  uint32_t v = nsfd >= 0 ? (uint32_t)nsfd : (uint32_t)pid;
  nla_put(&r, nsfd >= 0 ? IFLA_NET_NS_FD : IFLA_NET_NS_PID, &v, sizeof v);
  return nl_talk(fd, &r);
}

static int del_link(int fd, const char *name) {
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)if_nametoindex(name) };
  if (!ifi.ifi_index) return 0; /* gone with the jail's namespace already */
  struct nlreq r;
  nl_init(&r, RTM_DELLINK, 0, &ifi, sizeof ifi);
  return nl_talk(fd, &r);
}

/* The jail's network and user namespaces, opened by the monitor right after clone (net_hold),
 * while the init is still dumpable: once it is jail root and not dumpable, a monitor without
 * privilege over the host (a rootless caller) can no longer open /proc/PID/ns/..., and neither can
 * a helper program it starts. The helpers get these descriptors instead ({netns}, {userns}). */
static int g_userns = -1, g_hold_err = 0;

void net_hold(pid_t pid) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/ns/net", (int)pid);
  if (g_jailns < 0 && (g_jailns = open(p, O_RDONLY | O_CLOEXEC)) < 0) g_hold_err = errno;
  snprintf(p, sizeof p, "/proc/%d/ns/user", (int)pid);
  if (g_userns < 0 && (g_userns = open(p, O_RDONLY | O_CLOEXEC)) < 0) g_hold_err = errno;
}

/* The last non-empty line of what a helper wrote to its standard error (non-printable bytes as
 * '?'), for the report of a helper that died. */
static void helper_said(int fd, char *out, size_t outlen) {
  static char buf[8192];
  size_t n = 0;
  ssize_t r;
  out[0] = 0;
  if (fd < 0) return;
  while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) {
    n += (size_t)r;
    if (n >= sizeof buf - 1) { memmove(buf, buf + n / 2, n - n / 2); n -= n / 2; } /* keep the tail */
  }
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) n--;
  buf[n] = 0;
  char *line = strrchr(buf, '\n');
  line = line ? line + 1 : buf;
  size_t k = 0;
  for (; line[k] && k + 1 < outlen; k++) out[k] = (unsigned char)line[k] >= 0x20 && (unsigned char)line[k] < 0x7f ? line[k] : '?';
  out[k] = 0;
}

/* Starts a helper program. Its arguments may hold "{pid}" (the init's pid), "{netns}" and
 * "{userns}" (paths to the jail's namespaces: /proc/self/fd/4 and 5 of the helper, the monitor's
 * descriptors), "{ready}" (descriptor 3) or "{ready-path}" (/proc/self/fd/3): the helper writes
 * there once it is ready, which the monitor waits for (at most 10 s) before "go". A helper that
 * ends (or closes 3) before it is ready fails the start, with the last line of its standard error
 * (a non-blocking pipe, so a chatty helper never blocks on it). */
static pid_t start_helper(const struct sj_op_rec *op, pid_t pid, char *why, size_t whylen, int *errfd) {
  char pidtext[16], *argv[64];
  int ready[2] = { -1, -1 }, errp[2] = { -1, -1 }, want_ns = 0;
  snprintf(pidtext, sizeof pidtext, "%d", (int)pid);
  why[0] = 0;
  *errfd = -1;
  if (op->argc < 2 || op->argc > 63) { errno = EINVAL; return -1; }
  for (uint32_t i = 1; i < op->argc; i++) {
    const char *s = arg_str(op, i);
    if (!s) { errno = EINVAL; return -1; }
    int r = !strcmp(s, "{ready}") || !strcmp(s, "{ready-path}");
    if (r && ready[0] < 0 && pipe2(ready, O_CLOEXEC) < 0) return -1;
    if (!strcmp(s, "{netns}") || !strcmp(s, "{userns}")) want_ns = 1;
    argv[i - 1] = !strcmp(s, "{pid}") ? pidtext : !strcmp(s, "{ready}") ? "3" : !strcmp(s, "{ready-path}") ? "/proc/self/fd/3"
                : !strcmp(s, "{netns}") ? "/proc/self/fd/4" : !strcmp(s, "{userns}") ? "/proc/self/fd/5" : (char *)s;
  }
  argv[op->argc - 1] = NULL;
  if (want_ns && (g_jailns < 0 || g_userns < 0)) { errno = g_hold_err ? g_hold_err : EBADF; snprintf(why, whylen, "the jail's namespaces are not held"); return -1; }
  if (pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0) errp[0] = errp[1] = -1;
  pid_t c = fork();
  if (c < 0) return -1;
  if (c == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* the monitor ignores SIGPIPE; an ignored signal stays ignored across exec (and pasta refuses
     * to start when it finds SIGPIPE ignored already) */
    for (int s = 1; s < NSIG; s++) if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    /* first out of the way of 0-5, then into place (dup2 clears close-on-exec) */
    int src[4] = { ready[1], g_jailns, g_userns, errp[1] }, hi[4];
    for (int i = 0; i < 4; i++) hi[i] = src[i] >= 0 ? fcntl(src[i], F_DUPFD_CLOEXEC, 10) : -1;
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(hi[3] >= 0 ? hi[3] : null, 2); }
    if (hi[0] >= 0) dup2(hi[0], 3);
    else if (null >= 0 && want_ns) dup2(null, 3); /* 3-5 are all the helper's */
    if (want_ns) { dup2(hi[1], 4); dup2(hi[2], 5); }
    syscall(SYS_close_range, want_ns ? 6U : hi[0] >= 0 ? 4U : 3U, ~0U, 0U);
    execv(arg_str(op, 0), argv);
    _exit(127);
  }
  if (errp[1] >= 0) close(errp[1]);
  if (ready[0] >= 0) {
    close(ready[1]);
    struct pollfd p = { ready[0], POLLIN, 0 };
    char b;
    int r;
    do r = poll(&p, 1, 10000); while (r < 0 && errno == EINTR);
    ssize_t n = r > 0 ? read(ready[0], &b, 1) : -1;
    close(ready[0]);
    if (n != 1) {
      int st = 0;
      /* not ready: gone, or it closed 3 and lives on; an exiting helper keeps its status */
      kill(c, SIGKILL);
      waitpid(c, &st, 0);
      char said[200];
      helper_said(errp[0], said, sizeof said);
      if (errp[0] >= 0) close(errp[0]);
      const char *base = strrchr(arg_str(op, 0), '/');
      base = base ? base + 1 : arg_str(op, 0);
      if (r == 0) snprintf(why, whylen, "%s was not ready after 10 s", base);
      else if (WIFSIGNALED(st)) snprintf(why, whylen, "%s died of signal %d before it was ready%s%s", base, WTERMSIG(st), said[0] ? ": " : "", said);
      else snprintf(why, whylen, "%s exited with status %d before it was ready%s%s", base, WEXITSTATUS(st), said[0] ? ": " : "", said);
      errno = ECHILD;
      return -1;
    }
  }
  /* kept open until the helper is reaped: a full pipe makes its writes fail (EAGAIN), a closed
   * one would kill it with SIGPIPE; what it says before it dies is its last words */
  *errfd = errp[0];
  return c;
}

int net_host_post(const struct sj_plan *plan, pid_t pid) {
  int fd = -1;
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    if (op->code < OP_VNET_LINK || op->code > OP_NET_HELPER) continue;
    const char *a0 = arg_str(op, 0), *a1 = arg_str(op, 1), *a2 = arg_str(op, 2);
    if (op->code == OP_NET_HELPER) {
      if (g_nhelpers >= 4) return fail(op, EINVAL, a0, "too many helpers");
      char why[300];
      int errfd = -1;
      pid_t c = start_helper(op, pid, why, sizeof why, &errfd);
      if (c < 0) return fail(op, errno, a0, why[0] ? why : NULL);
      const char *base = strrchr(a0, '/');
      snprintf(g_helper_name[g_nhelpers], sizeof g_helper_name[0], "%s", base ? base + 1 : a0);
      g_helper_op[g_nhelpers] = op->index;
      g_helper_err[g_nhelpers] = errfd;
      g_helpers[g_nhelpers++] = c;
      continue;
    }
    if (fd < 0 && (fd = nl_open()) < 0) return fail(op, errno, "netlink", NULL);
    int r;
    if (op->code == OP_VNET_LINK) {
      if (!a0 || !a1 || !a2 || strlen(a1) >= IFNAMSIZ || strlen(a2) >= IFNAMSIZ) { close(fd); return fail(op, EINVAL, a1, "bad arguments"); }
      if (!strcmp(a0, "veth")) {
        if (g_nveth >= 8) { close(fd); return fail(op, EINVAL, a1, "too many links"); }
        r = make_veth(fd, a1, a2, pid);
        if (r == 0) { snprintf(g_veth[g_nveth++], IFNAMSIZ, "%s", a1); r = fault_fail("vnet-link") < 0 ? -1 : link_up(fd, a1); }
      } else if (!strcmp(a0, "move") && g_nmoved < 8) {
        char ns[64];
        snprintf(ns, sizeof ns, "/proc/%d/ns/net", (int)pid);
        if (g_jailns < 0) g_jailns = open(ns, O_RDONLY | O_CLOEXEC); /* held since clone (net_hold) */
        if (g_hostns < 0) g_hostns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        r = g_jailns < 0 || g_hostns < 0 ? -1 : move_link(fd, (int)if_nametoindex(a1), a2, pid, -1);
        if (r == 0) { snprintf(g_moved[g_nmoved].host, IFNAMSIZ, "%s", a1); snprintf(g_moved[g_nmoved++].jail, IFNAMSIZ, "%s", a2); }
      } else { close(fd); return fail(op, EINVAL, a0, "bad link kind"); }
    } else if (fault_fail(op_name(op->code)) < 0) r = -1;
    else if (op->code == OP_HOST_ADDR) r = a0 && a1 ? add_addr(fd, a0, a1) : (errno = EINVAL, -1);
    else r = a0 && a1 ? add_route(fd, a0, NULL, a1) : (errno = EINVAL, -1);
    if (r < 0) {
      int e = errno;
      close(fd);
      return fail(op, e, op->code == OP_HOST_ROUTE ? a0 : a1, e == EEXIST && op->code == OP_HOST_ROUTE ? "the host already has a route to this address" : NULL);
    }
  }
  if (fd >= 0) close(fd);
  return 0;
}

void net_init(const struct sj_plan *plan, int msgfd) {
  int fd = -1;
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    if (op->code != OP_JAIL_ADDR && op->code != OP_JAIL_ROUTE) continue;
    const char *a0 = arg_str(op, 0), *a1 = arg_str(op, 1), *a2 = arg_str(op, 2);
    if (fd < 0 && (fd = nl_open()) < 0) die_step(msgfd, op, errno, "netlink");
    int r;
    if (op->code == OP_JAIL_ADDR) r = a0 && a1 && link_up(fd, a0) == 0 ? add_addr(fd, a0, a1) : -1;
    else r = a0 && a1 && a2 ? add_route(fd, a0, a1, a2) : (errno = EINVAL, -1);
    if (r < 0) die_step(msgfd, op, errno, op->code == OP_JAIL_ADDR ? a1 : a0);
  }
  if (fd >= 0) close(fd);
}

void net_reap(void) {
  for (int i = 0; i < g_nhelpers; i++) {
    int st;
    if (waitpid(g_helpers[i], &st, WNOHANG) != g_helpers[i]) continue;
    char t[400], js[900], said[200];
    helper_said(g_helper_err[i], said, sizeof said);
    if (g_helper_err[i] >= 0) close(g_helper_err[i]);
    snprintf(t, sizeof t, "%s %s %d: the jail has no outbound traffic any more%s%s", g_helper_name[i],
             WIFSIGNALED(st) ? "died of signal" : "exited with status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
             said[0] ? " (it said: " : "", said);
    if (said[0] && strlen(t) + 1 < sizeof t) strcat(t, ")");
    json_str(js, sizeof js, t);
    emit("{\"ev\":\"warn\",\"op\":%d,\"step\":\"net-helper\",\"errno\":0,\"path\":%s}", g_helper_op[i], js);
    g_helpers[i] = g_helpers[g_nhelpers - 1]; g_helper_op[i] = g_helper_op[g_nhelpers - 1]; g_helper_err[i] = g_helper_err[g_nhelpers - 1];
    memcpy(g_helper_name[i], g_helper_name[g_nhelpers - 1], sizeof g_helper_name[i]);
    g_nhelpers--; i--;
  }
}

/* Whether net_cleanup has host-side objects to remove (links, helpers, a map). */
int net_busy(void) { return g_map >= 0 || g_nhelpers > 0 || g_nveth > 0 || g_nmoved > 0; }

void net_cleanup(void) {
  if (g_map >= 0) { close(g_map); g_map = -1; }
  for (int i = 0; i < g_nhelpers; i++) {
    kill(g_helpers[i], SIGTERM);
    waitpid(g_helpers[i], NULL, 0);
    if (g_helper_err[i] >= 0) close(g_helper_err[i]);
  }
  g_nhelpers = 0;
  int fd = g_nveth || g_nmoved ? nl_open() : -1;
  for (int i = 0; i < g_nveth && fd >= 0; i++) del_link(fd, g_veth[i]); /* its peer and its routes go with it */
  g_nveth = 0;
  if (g_nmoved && g_jailns >= 0 && g_hostns >= 0 && setns(g_jailns, CLONE_NEWNET) == 0) {
    int jfd = nl_open(); /* a socket of the jail's namespace, kept after switching back */
    int idx[8];
    for (int i = 0; i < g_nmoved; i++) idx[i] = (int)if_nametoindex(g_moved[i].jail); /* names of the jail's namespace */
    setns(g_hostns, CLONE_NEWNET);
    for (int i = 0; i < g_nmoved && jfd >= 0; i++) move_link(jfd, idx[i], g_moved[i].host, 0, g_hostns);
    if (jfd >= 0) close(jfd);
  }
  g_nmoved = 0;
  if (fd >= 0) close(fd);
  if (g_jailns >= 0) { close(g_jailns); g_jailns = -1; }
  if (g_hostns >= 0) { close(g_hostns); g_hostns = -1; }
  if (g_userns >= 0) { close(g_userns); g_userns = -1; }
}

/* The address map of the programs on a cgroup, found through its ingress program. */
static int find_map(const char *dir, const char *name) {
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) return -1;
  uint32_t ids[4] = { 0 };
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.query.target_fd = (uint32_t)cg;
  a.query.attach_type = BPF_CGROUP_INET_INGRESS;
  a.query.prog_ids = (uint64_t)(uintptr_t)ids;
  a.query.prog_cnt = 4;
  int r = sys_bpf(BPF_PROG_QUERY, &a);
  close(cg);
  if (r < 0) return -1;
  if (a.query.prog_cnt != 1) { errno = ENOENT; return -1; }
  memset(&a, 0, sizeof a);
  a.prog_id = ids[0];
  int pfd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
  if (pfd < 0) return -1;
  uint32_t maps[8] = { 0 };
  struct bpf_prog_info pi;
  memset(&pi, 0, sizeof pi);
  pi.nr_map_ids = 8;
  pi.map_ids = (uint64_t)(uintptr_t)maps;
  memset(&a, 0, sizeof a);
  a.info.bpf_fd = (uint32_t)pfd; a.info.info_len = sizeof pi; a.info.info = (uint64_t)(uintptr_t)&pi;
  r = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a);
  close(pfd);
  for (uint32_t i = 0; r == 0 && i < pi.nr_map_ids && i < 8; i++) {
    memset(&a, 0, sizeof a);
    a.map_id = maps[i];
    int mfd = sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
    if (mfd < 0) continue;
    struct bpf_map_info mi;
    memset(&mi, 0, sizeof mi);
    memset(&a, 0, sizeof a);
    a.info.bpf_fd = (uint32_t)mfd; a.info.info_len = sizeof mi; a.info.info = (uint64_t)(uintptr_t)&mi;
    if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0 && !strcmp(mi.name, name) && mi.key_size == 16 && mi.value_size == 16) return mfd;
    close(mfd);
  }
  errno = ENOENT;
  return -1;
}

int net_enter(const struct sj_plan *plan) {
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    if (op->code != OP_BPF_UPDATE) continue;
    const char *dir = arg_str(op, 0), *name = arg_str(op, 1);
    if (!dir || !name || op->argc != 4 || op->argv[2].len % 32 || op->argv[3].len % 16) return fail(op, EINVAL, dir, "bad arguments");
    int m = find_map(dir, name);
    if (m < 0) return fail(op, errno, dir, "no address map on this cgroup");
    union bpf_attr a;
    for (uint32_t off = 0; off < op->argv[2].len; off += 32) {
      memset(&a, 0, sizeof a);
      a.map_fd = (uint32_t)m; a.key = (uint64_t)(uintptr_t)(op->argv[2].p + off);
      a.value = (uint64_t)(uintptr_t)(op->argv[2].p + off + 16); a.flags = BPF_ANY;
      if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) { int e = errno; close(m); return fail(op, e, dir, "updating the address map"); }
    }
    for (uint32_t off = 0; off < op->argv[3].len; off += 16) {
      memset(&a, 0, sizeof a);
      a.map_fd = (uint32_t)m; a.key = (uint64_t)(uintptr_t)(op->argv[3].p + off);
      if (sys_bpf(BPF_MAP_DELETE_ELEM, &a) < 0 && errno != ENOENT) { int e = errno; close(m); return fail(op, e, dir, "updating the address map"); }
    }
    close(m);
    emit("{\"ev\":\"net\",\"op\":%d,\"set\":%u,\"deleted\":%u}", op->index, op->argv[2].len / 32, op->argv[3].len / 16);
  }
  return 0;
}
