/* util.c: reporting to the TypeScript side, child-to-monitor messages, small file helpers. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include "helper.h"

int g_status_fd = -1;

void emit(const char *fmt, ...) {
  if (g_status_fd < 0) return;
  char buf[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t off = 0;
  while (off < n) {
    ssize_t w = write(g_status_fd, buf + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) { g_status_fd = -1; return; } /* the caller went away: keep running, stop reporting */
    off += w;
  }
}

void json_str(char *out, size_t outlen, const char *s) {
  size_t o = 0;
  if (outlen < 3) { if (outlen) out[0] = 0; return; }
  out[o++] = '"';
  for (; s && *s && o + 8 < outlen; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
    else if (c < 0x20) o += (size_t)snprintf(out + o, outlen - o, "\\u%04x", c);
    else out[o++] = (char)c;
  }
  out[o++] = '"';
  out[o] = 0;
}

void emit_error(int op, const char *step, int err, const char *path, const char *msg) {
  char p[600], m[600];
  json_str(p, sizeof p, path ? path : "");
  json_str(m, sizeof m, msg ? msg : "");
  emit("{\"ev\":\"error\",\"op\":%d,\"step\":\"%s\",\"errno\":%d,\"path\":%s,\"msg\":%s}", op, step, err, p, m);
}

void msg_send(int fd, int type, int op, int err, int value, const char *text) {
  struct sj_msg m;
  memset(&m, 0, sizeof m);
  m.type = type; m.op = op; m.err = err; m.value = value;
  if (text) snprintf(m.text, sizeof m.text, "%s", text);
  ssize_t w;
  do w = write(fd, &m, sizeof m); while (w < 0 && errno == EINTR);
}

/* One message with descriptor FD attached (SCM_RIGHTS): the exec channel is a socket. */
int msg_send_fd(int fd, int type, int op, int value) {
  struct sj_msg m;
  memset(&m, 0, sizeof m);
  m.type = type; m.op = op; m.value = value;
  struct iovec iov = { .iov_base = &m, .iov_len = sizeof m };
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &value, sizeof value);
  ssize_t w;
  do w = sendmsg(fd, &mh, MSG_NOSIGNAL); while (w < 0 && errno == EINTR);
  return w == (ssize_t)sizeof m ? 0 : -1;
}

/* One message from the exec channel into M; *FD gets a descriptor sent with it (else -1), made
 * close-on-exec. Returns recvmsg's count. */
ssize_t msg_recv_fd(int fd, struct sj_msg *m, int *rfd) {
  struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
  char cbuf[CMSG_SPACE(sizeof(int) * 4)];
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t n;
  *rfd = -1;
  do n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  if (n < 0) return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; i++) {
      int x;
      memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof x);
      if (*rfd < 0) *rfd = x; else close(x); /* one at most */
    }
  }
  return n;
}

void die_step(int fd, const struct sj_op_rec *op, int err, const char *path) {
  msg_send(fd, MSG_ERROR, op ? op->index : -1, err, op ? (int)op->code : 0, path);
  _exit(op && op->code == OP_EXEC ? 127 : 1);
}

/* Every signal back to its default action and none blocked (a child before it runs jail code). */
void reset_signals(void) {
  sigset_t none;
  sigemptyset(&none);
  for (int s = 1; s < NSIG; s++) if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

int write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t w = write(fd, data, len);
  int e = errno;
  close(fd);
  if (w != (ssize_t)len) { errno = w < 0 ? e : EIO; return -1; }
  return 0;
}

ssize_t read_file(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  return n;
}

/* field 22 of /proc/PID/stat: the process start time, to tell a pid from a reused one */
int read_starttime(pid_t pid, unsigned long long *out) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (read_file(path, buf, sizeof buf) < 0) return -1;
  char *p = strrchr(buf, ')');
  if (!p) { errno = EINVAL; return -1; }
  p += 2; /* state */
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p) { errno = EINVAL; return -1; }
    p++;
  }
  *out = strtoull(p, NULL, 10);
  return 0;
}

const struct sj_op_rec *plan_find(const struct sj_plan *plan, uint32_t code) {
  for (uint32_t i = 0; i < plan->nops; i++)
    if (plan->ops[i].code == code) return &plan->ops[i];
  return NULL;
}

int op_in_init_phase(uint32_t code) {
  return code >= OP_IDMAP_ROOT && code <= OP_LO_UP;
}

int prelude_has_init_phase(const struct sj_plan *prelude) {
  return (prelude->flags & SJ_F_PRELUDE) && plan_find(prelude, OP_PIVOT) != NULL;
}

/* This process's uid map as the kernel shows it (/proc/self/uid_map), NUL-terminated in BUF
 * (LEN bytes, the rest cut); its length, 0 when empty, -1 when it cannot be read. */
ssize_t read_own_uid_map(char *buf, size_t len) {
  return read_file("/proc/self/uid_map", buf, len);
}

/* One line "inside outside count" of an id map at *P: 1 and *P moved past it and the newlines and
 * blanks after it, or 0 (P unmoved) where no such line starts. */
int idmap_next(const char **p, unsigned long *in, unsigned long *out, unsigned long *count) {
  int used = 0;
  if (sscanf(*p, " %lu %lu %lu%n", in, out, count, &used) != 3) return 0;
  const char *q = *p + used;
  while (*q == '\n' || *q == ' ') q++;
  *p = q;
  return 1;
}

/* Whether id 0 of this process's user namespace may be handed on: only in a namespace other than
 * the host's whose own map gives no id the parent's id 0 (a parent jail: its ids are a host range,
 * never host 0). Read from the kernel, never from the plan. */
static int own_zero_is_not_host_root(void) {
  char buf[4096];
  if (read_own_uid_map(buf, sizeof buf) <= 0) return 0;
  const char *p = buf;
  int lines = 0;
  unsigned long in, out, count;
  while (*p && idmap_next(&p, &in, &out, &count)) {
    if (out == 0 || count == 0 || out + count < out) return 0; /* the host's namespace, or 0 mapped */
    lines++;
  }
  return lines > 0;
}

/* Invariant re-checked here whatever the plan says: no id map line may cover host id 0. A line
 * starting at 0 is only taken where this namespace's 0 is not host 0 (a nested jail's parent). */
int uidmap_safe(const char *map) {
  const char *p = map;
  int zero_ok = -1;
  unsigned long in, out, count;
  while (*p) {
    if (!idmap_next(&p, &in, &out, &count)) return 0;
    if (out == 0 && zero_ok < 0) zero_ok = own_zero_is_not_host_root();
    if (count == 0 || (out == 0 && !zero_ok) || out + count < out) return 0;
  }
  return 1;
}

/* The one id map that may cover host id 0: the whole id space one to one ("0 0 4294967295"), for
 * a sysjail-oci container that asked for host ids (annotation sysjail.ids=host, src/oci/hostids.ts,
 * docs/JAILS.md "Host ids on request"). Re-checked here whatever TypeScript decided: an OCI plan,
 * run by root of the host's user namespace (this process's own map is the whole space), whose
 * clone makes the user namespace and which makes or joins (never the runtime's own: the monitor
 * refuses that join) its own pid, ipc and network namespaces, where a process that is host uid 0
 * could otherwise signal root's processes, own root's SysV IPC objects and write the host
 * network namespace's sysctls. */
int hostids_map_ok(const struct sj_plan *plan, const char *map) {
  const char *p = map;
  unsigned long in, out, count;
  if (!(plan->flags & SJ_F_OCI) || !idmap_next(&p, &in, &out, &count) || *p || in != 0 || out != 0 || count != 4294967295UL) return 0;
  char own[128];
  if (read_own_uid_map(own, sizeof own) <= 0) return 0;
  p = own;
  if (!idmap_next(&p, &in, &out, &count) || *p || in != 0 || out != 0 || count != 4294967295UL) return 0;
  uint64_t made = 0, joined = 0, f;
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *o = &plan->ops[i];
    if (o->code == OP_CLONE && !arg_u64(o, 0, &f)) made |= f;
    if (o->code == OP_NS_JOIN && !arg_u64(o, 0, &f)) joined |= f;
  }
  const uint64_t own_ns = CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET;
  return (made & CLONE_NEWUSER) && ((made | joined) & own_ns) == own_ns;
}

static int same_args(const struct sj_op_rec *x, const struct sj_op_rec *y) {
  if (x->code != y->code || x->argc != y->argc) return 0;
  for (uint32_t i = 0; i < x->argc; i++)
    if (x->argv[i].len != y->argv[i].len || memcmp(x->argv[i].p, y->argv[i].p, x->argv[i].len)) return 0;
  return 1;
}

/* Whether the first op with CODE is in both plans with the same arguments. */
static int same_op(const struct sj_plan *a, const struct sj_plan *b, uint32_t code) {
  const struct sj_op_rec *x = plan_find(a, code), *y = plan_find(b, code);
  return x && y && same_args(x, y);
}

/* Whether both plans have the same init-phase ops (op_in_init_phase), in the same order. */
static int same_init_phase(const struct sj_plan *a, const struct sj_plan *b) {
  uint32_t i = 0, j = 0;
  for (;; i++, j++) {
    while (i < a->nops && !op_in_init_phase(a->ops[i].code)) i++;
    while (j < b->nops && !op_in_init_phase(b->ops[j].code)) j++;
    if (i == a->nops || j == b->nops) return i == a->nops && j == b->nops;
    if (!same_args(&a->ops[i], &b->ops[j])) return 0;
  }
}

/* Security-relevant: the monitor made the namespaces and id maps, and the init built the root,
 * from the prelude; the whole plan must describe exactly that jail, or its init phase and maps
 * would not be what the plan (and --dry-run) say. */
const char *prelude_mismatch(const struct sj_plan *prelude, const struct sj_plan *whole) {
  if (whole->flags != (prelude->flags & ~SJ_F_PRELUDE) || !same_op(prelude, whole, OP_CLONE) || !same_op(prelude, whole, OP_SETGROUPS) ||
      !same_op(prelude, whole, OP_UIDMAP) || !same_op(prelude, whole, OP_GIDMAP))
    return "the plan does not repeat its prelude's flags, clone flags and id maps";
  /* the namespaces joined and their sysctls written (before the clone, from the prelude) are the
   * whole plan's */
  for (uint32_t i = 0, j = 0;; i++, j++) {
    while (i < prelude->nops && prelude->ops[i].code != OP_NS_JOIN && prelude->ops[i].code != OP_NS_SYSCTL) i++;
    while (j < whole->nops && whole->ops[j].code != OP_NS_JOIN && whole->ops[j].code != OP_NS_SYSCTL) j++;
    if (i == prelude->nops || j == whole->nops) { if (i != prelude->nops || j != whole->nops) return "the plan does not repeat its prelude's joined namespaces"; break; }
    if (prelude->ops[i].code != whole->ops[j].code || !same_args(&prelude->ops[i], &whole->ops[j])) return "the plan does not repeat its prelude's joined namespaces";
  }
  if (prelude_has_init_phase(prelude) && !same_init_phase(prelude, whole))
    return "the plan does not repeat its prelude's root, mounts, hostname and loopback";
  return NULL;
}

#ifndef SJ_RELEASE
/* the step named by SYSJAIL_TEST_FAULT, copied at start (title_set later overwrites the environment) */
static char g_fault[8];
/* the op named by SYSJAIL_TEST_FAULT=fail:OP, whose host-side write fails as on a full disk */
static char g_fail[24];
/* the point named by SYSJAIL_TEST_FAULT=slow:POINT, where the process sleeps 300 ms */
static char g_slow[24];

void fault_init(void) {
  /* "STEP" or "STEP+caller" (the caller, Node, stops dead too when it finds the helper gone) */
  const char *v = getenv("SYSJAIL_TEST_FAULT");
  size_t n = v ? strcspn(v, "+") : 0;
  if (n > 5 && !strncmp(v, "fail:", 5) && n - 5 < sizeof g_fail) { memcpy(g_fail, v + 5, n - 5); g_fail[n - 5] = 0; }
  else if (n > 5 && !strncmp(v, "slow:", 5) && n - 5 < sizeof g_slow) { memcpy(g_slow, v + 5, n - 5); g_slow[n - 5] = 0; }
  else if (n && n < sizeof g_fault) { memcpy(g_fault, v, n); g_fault[n] = 0; }
}

int fault_fail(const char *op) {
  if (!g_fail[0] || strcmp(g_fail, op)) return 0;
  errno = ENOSPC;
  return -1;
}

void fault_slow(const char *point) {
  if (!g_slow[0] || strcmp(g_slow, point)) return;
  struct timespec t = { 0, 300 * 1000 * 1000 };
  while (nanosleep(&t, &t) < 0 && errno == EINTR) {}
}

void fault_point(const char *step) {
  if (!g_fault[0] || strcmp(g_fault, step)) return;
  if (getpid() == 1) _exit(137); /* a pid namespace's init ignores SIGKILL from inside */
  kill(getpid(), SIGKILL);
  _exit(137);
}
#endif
