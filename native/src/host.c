/* host.c: the monitor's steps on the host, before the jail's command runs: cgroups, limits and
 * registry files (host_pre), the init's id maps, idmapped root and cgroup membership
 * (after_clone). Each failure is reported as the step that failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"
#include "host.h"
#include "net.h"

static int write_map(pid_t pid, const char *file, const char *data, const char *op) {
  char path[64];
  if (fault_fail(op) < 0) return -1;
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  return write_file(path, data, strlen(data));
}

int host_pre(const struct sj_plan *plan, struct host_state *h) {
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    const char *a0 = arg_str(op, 0), *a1 = arg_str(op, 1);
    switch (op->code) {
    case OP_CGROUP_MKDIR:
      if (!a0 || h->ncg >= 64) goto bad;
      if (fault_fail("cgroup-mkdir") < 0 || (mkdir(a0, 0755) < 0 && errno != EEXIST)) { emit_error(op->index, op_name(op->code), errno, a0, NULL); return -1; }
      h->cg_dirs[h->ncg++] = a0;
      fault_point("2");
      break;
    case OP_CGROUP_WRITE:
      if (!a0 || !a1) goto bad;
      if (fault_fail("cgroup-write") < 0 || write_file(a0, a1, strlen(a1)) < 0) { emit_error(op->index, op_name(op->code), errno, a0, a1); return -1; }
      break;
    case OP_STATE_FILE: if (!a0 || h->nstate >= 8) goto bad; h->state_files[h->nstate++] = a0; break;
    case OP_WALL_LIMIT: if (arg_u64(op, 0, &h->wall_ms)) goto bad; break;
    case OP_CPU_LIMIT:
      if (arg_u64(op, 0, &h->cpu_ns) || !a1 || (op->argc != 2 && op->argc != 4)) goto bad;
      h->cpu_file = a1;
      h->cpu_key = NULL;
      h->cpu_scale = 1;
      if (op->argc == 4) {
        h->cpu_key = arg_str(op, 2);
        if (!h->cpu_key || !*h->cpu_key || strchr(h->cpu_key, '\n') || arg_u64(op, 3, &h->cpu_scale) || !h->cpu_scale) goto bad;
      }
      break;
    case OP_BPF_MAP: case OP_BPF_PROG:
      if (net_host_pre(plan, op) < 0) return -1;
      if (op->code == OP_BPF_PROG) fault_point("2b");
      break;
    default: break;
    }
    continue;
  bad:
    emit_error(op->index, op_name(op->code), EINVAL, "", "bad arguments");
    return -1;
  }
  return 0;
}


int after_clone(const struct sj_plan *plan, pid_t pid, int which, int *treefd) {
  (void)treefd; /* no idmapped tree is ever made: the init gets none */
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    const char *a0 = arg_str(op, 0), *where = a0;
    int r = 0;
    /* a failed id map write names the file, not the map (whose lines would break the error line) */
    char mapfile[64];
    if (op->code == OP_SETGROUPS || op->code == OP_UIDMAP || op->code == OP_GIDMAP) {
      snprintf(mapfile, sizeof mapfile, "/proc/%d/%s", (int)pid, op->code == OP_SETGROUPS ? "setgroups" : op->code == OP_UIDMAP ? "uid_map" : "gid_map");
      where = mapfile;
    }
    if (which & AC_MAPS) {
      if (op->code == OP_SETGROUPS) r = a0 ? write_map(pid, "setgroups", a0, "setgroups") : (errno = EINVAL, -1);
      else if (op->code == OP_UIDMAP || op->code == OP_GIDMAP) {
        if (!a0 || !(uidmap_safe(a0) || hostids_map_ok(plan, a0))) { emit_error(op->index, op_name(op->code), EPERM, where, "the map would give the jail host id 0"); return -1; }
        r = write_map(pid, op->code == OP_UIDMAP ? "uid_map" : "gid_map", a0, op_name(op->code));
      }
    }
    if ((which & AC_IDMAP) && op->code == OP_IDMAP_ROOT) {
      /* refused: an idmapped root stored jail root's files as host root's (a setuid-root
       * program on the host); a tree shows its owners through the jail's own map instead */
      emit_error(op->index, op_name(op->code), EPERM, a0 ? a0 : "", "idmapped roots are refused");
      return -1;
    }
    if (which & AC_REST) {
      if (op->code == OP_CGROUP_ATTACH) {
        char b[32];
        int n = snprintf(b, sizeof b, "%d", (int)pid);
        r = !a0 ? (errno = EINVAL, -1) : fault_fail("cgroup-attach") < 0 ? -1 : write_file(a0, b, (size_t)n);
      }
    }
    if (r < 0) { emit_error(op->index, op_name(op->code), errno, where ? where : "", NULL); return -1; }
  }
  if (which & AC_MAPS) fault_point("4");
  return 0;
}

