/* plan.c: reads and checks the binary plan written by src/plan/encode.ts. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "proto.h"

static const char *const names[OP_MAX] = {
  [OP_CLONE] = "clone", [OP_CGROUP_MKDIR] = "cgroup-mkdir", [OP_CGROUP_WRITE] = "cgroup-write",
  [OP_CGROUP_ATTACH] = "cgroup-attach", [OP_CGROUP_STAT] = "cgroup-stat", [OP_STATE_FILE] = "state-file",
  [OP_WALL_LIMIT] = "wall-limit", [OP_CPU_LIMIT] = "cpu-limit", [OP_SETGROUPS] = "setgroups",
  [OP_UIDMAP] = "uid-map", [OP_GIDMAP] = "gid-map", [OP_IDMAP_ROOT] = "idmap-root", [OP_ROOT] = "root",
  [OP_STAGING] = "staging", [OP_MOUNT_FS] = "mount", [OP_BIND] = "bind", [OP_REBIND] = "rebind",
  [OP_MASK] = "mask", [OP_MKDIR] = "mkdir", [OP_MKFILE] = "mkfile", [OP_SYMLINK] = "symlink",
  [OP_PIVOT] = "pivot-root", [OP_HOSTNAME] = "hostname", [OP_DOMAINNAME] = "domainname",
  [OP_LO_UP] = "loopback", [OP_RLIMIT] = "rlimit", [OP_CWD] = "chdir", [OP_GROUPS] = "setgroups-list",
  [OP_GID] = "setgid", [OP_UID] = "setuid", [OP_CAPS] = "capabilities", [OP_NNP] = "no-new-privs",
  [OP_SECCOMP] = "seccomp", [OP_ENV] = "env", [OP_EXEC] = "exec", [OP_ENTER] = "enter", [OP_UMASK] = "umask",
  [OP_BPF_MAP] = "bpf-map", [OP_BPF_PROG] = "bpf-prog", [OP_VNET_LINK] = "vnet-link", [OP_HOST_ADDR] = "host-addr",
  [OP_HOST_ROUTE] = "host-route", [OP_NET_HELPER] = "net-helper", [OP_JAIL_ADDR] = "jail-addr",
  [OP_JAIL_ROUTE] = "jail-route", [OP_BPF_UPDATE] = "bpf-update", [OP_STDIO] = "stdio",
  [OP_LANDLOCK_SCOPE] = "landlock-scope", [OP_NS_SOCKET] = "ns-socket", [OP_ENTER_VIA] = "enter-via",
  [OP_NOTIFY] = "notify",
  [OP_DUP2] = "dup2",
  [OP_START_GATE] = "start-gate",
  [OP_USERNS_MAX] = "userns-max",
  [OP_CONSOLE] = "console", [OP_HOOK] = "hook", [OP_NS_JOIN] = "ns-join", [OP_SYSCTL] = "sysctl", [OP_OOM_ADJ] = "oom-score-adj",
  [OP_CGROUP_JOIN] = "cgroup-join", [OP_PROC_NS] = "proc-ns", [OP_DEV_NODE] = "dev-node", [OP_MOUNT_POINTS] = "mount-points",
  [OP_CGROUP_INTO] = "cgroup-into", [OP_NS_SYSCTL] = "ns-sysctl", [OP_STDIO_OWNER] = "stdio-owner",
  [OP_LOOKUP] = "lookup",
};

const char *op_name(uint32_t code) { return code < OP_MAX && names[code] ? names[code] : "?"; }

static uint32_t rd32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static int read_full(int fd, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

int plan_read(int fd, struct sj_plan *plan, char *err, size_t errlen) {
  unsigned char hdr[20];
  if (read_full(fd, hdr, sizeof hdr)) { snprintf(err, errlen, "short plan header"); return -1; }
  if (memcmp(hdr, SJ_MAGIC, 4)) { snprintf(err, errlen, "bad plan magic"); return -1; }
  uint32_t version = rd32(hdr + 4);
  if (version != SJ_PROTO) {
    snprintf(err, errlen, "protocol mismatch: plan speaks %" PRIu32 ", helper speaks %d", version, SJ_PROTO);
    return -2;
  }
  plan->flags = rd32(hdr + 8);
  plan->nops = rd32(hdr + 12);
  uint32_t len = rd32(hdr + 16);
  plan->len = len;
  if (len > SJ_MAX_PLAN || plan->nops > len / 8 + 1) { snprintf(err, errlen, "plan too large"); return -1; }
  plan->buf = malloc(len + 1);
  plan->ops = calloc(plan->nops + 1, sizeof *plan->ops);
  if (!plan->buf || !plan->ops) { snprintf(err, errlen, "out of memory"); return -1; }
  if (read_full(fd, plan->buf, len)) { snprintf(err, errlen, "short plan body"); return -1; }
  const unsigned char *p = (const unsigned char *)plan->buf, *end = p + len;
  for (uint32_t i = 0; i < plan->nops; i++) {
    if (end - p < 8) { snprintf(err, errlen, "truncated op %u", i); return -1; }
    struct sj_op_rec *op = &plan->ops[i];
    op->code = rd32(p); op->argc = rd32(p + 4); op->index = (int)i; p += 8;
    if (op->code == 0 || op->code >= OP_MAX || op->argc > SJ_MAX_ARGS) { snprintf(err, errlen, "bad op %u", i); return -1; }
    op->argv = calloc(op->argc + 1, sizeof *op->argv);
    if (!op->argv) { snprintf(err, errlen, "out of memory"); return -1; }
    for (uint32_t a = 0; a < op->argc; a++) {
      if (end - p < 4) { snprintf(err, errlen, "truncated arg in op %u", i); return -1; }
      uint32_t al = rd32(p); p += 4;
      if ((size_t)(end - p) < al) { snprintf(err, errlen, "truncated arg in op %u", i); return -1; }
      op->argv[a].len = al; op->argv[a].p = (const char *)p; p += al;
    }
  }
  if (p != end) { snprintf(err, errlen, "trailing bytes in plan"); return -1; }
  return 0;
}

static void wr32(unsigned char *p, uint32_t v) { p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = v >> 24; }

static int write_full(int fd, const void *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(fd, (const char *)buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    done += (size_t)w;
  }
  return 0;
}

/* Writes a plan as it was read (the jail's init reads it from the monitor this way). */
int plan_write(int fd, const struct sj_plan *plan) {
  unsigned char hdr[20];
  memcpy(hdr, SJ_MAGIC, 4);
  wr32(hdr + 4, SJ_PROTO);
  wr32(hdr + 8, plan->flags);
  wr32(hdr + 12, plan->nops);
  wr32(hdr + 16, plan->len);
  return write_full(fd, hdr, sizeof hdr) || write_full(fd, plan->buf, plan->len) ? -1 : 0;
}

/* A string argument: the encoder ends each with NUL; anything else is refused. */
const char *arg_str(const struct sj_op_rec *op, uint32_t i) {
  if (i >= op->argc) return NULL;
  const struct sj_arg *a = &op->argv[i];
  if (a->len == 0 || a->p[a->len - 1] != 0 || memchr(a->p, 0, a->len) != a->p + a->len - 1) return NULL;
  return a->p;
}

int arg_u64(const struct sj_op_rec *op, uint32_t i, uint64_t *out) {
  const char *s = arg_str(op, i);
  if (!s || !*s) return -1;
  char *e; errno = 0;
  unsigned long long v = strtoull(s, &e, 0);
  if (errno || *e) return -1;
  *out = v;
  return 0;
}

int flag_has(const char *flags, char f) { return flags && strchr(flags, f) != NULL; }
