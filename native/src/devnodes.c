/* devnodes.c: sysjail-oci's device nodes (config.json linux.devices), made by the monitor.
 *
 * Security reasoning: a device node opens a device only on a superblock of the initial user
 * namespace (the kernel marks every filesystem a user namespace mounts SB_I_NODEV), and only
 * a process holding CAP_MKNOD there may make one; the jail's init and root hold neither. The
 * monitor (host root, initial user namespace) makes a detached tmpfs no path reaches (fsmount:
 * it is in no mount namespace), makes each node there by its op number with mknodat relative to
 * that mount's descriptor, sets the mode and the owner the plan gives (host ids of the jail's
 * map), and hands the descriptor to the init ('D'). The init clones each node as a single-file
 * mount onto its target in the jail's /dev, resolved inside the jail's root without symlinks
 * (mounts.c): nothing the jail controls names a host path here. Jail root can neither make
 * further nodes (no CAP_MKNOD in the initial namespace) nor reach the staging tmpfs (each mount
 * it gets is rooted at one node). What the node may be used for is decided by the jail's device
 * cgroup, not by the node: TypeScript allows the config's devices there (src/oci/devices.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "helper.h"

/* One OP_DEV_NODE made in the tmpfs MFD as "n<op index>". Returns -1 after reporting. */
static int make_node(int mfd, const struct sj_op_rec *op) {
  const char *type = arg_str(op, 1);
  uint64_t major, minor, mode, uid, gid;
  if (op->argc < 7 || !type || arg_u64(op, 2, &major) || arg_u64(op, 3, &minor) || arg_u64(op, 5, &uid) || arg_u64(op, 6, &gid)) {
    emit_error(op->index, op_name(op->code), EINVAL, "", "bad arguments");
    return -1;
  }
  const char *m = arg_str(op, 4);
  char *end = NULL;
  mode = m ? strtoull(m, &end, 8) : 0;
  mode_t kind = !strcmp(type, "c") ? S_IFCHR : !strcmp(type, "b") ? S_IFBLK : !strcmp(type, "p") ? S_IFIFO : 0;
  /* permission bits only: the mount is nosuid anyway */
  if (!m || !*m || *end || mode > 0777 || !kind || major > 0xfff || minor > 0xfffff || uid > 0xfffffffeu || gid > 0xfffffffeu) {
    emit_error(op->index, op_name(op->code), EINVAL, arg_str(op, 0) ? arg_str(op, 0) : "", "bad arguments");
    return -1;
  }
  char name[24];
  snprintf(name, sizeof name, "n%d", op->index);
  if (mknodat(mfd, name, kind | (mode_t)mode, kind == S_IFIFO ? 0 : makedev((unsigned)major, (unsigned)minor)) < 0
      || fchmodat(mfd, name, (mode_t)mode, 0) < 0 /* mknod's mode passed the umask */
      || fchownat(mfd, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0) {
    emit_error(op->index, op_name(op->code), errno, arg_str(op, 0), NULL);
    return -1;
  }
  return 0;
}

int devnodes_make(const struct sj_plan *plan, int *out) {
  *out = -1;
  uint32_t n = 0;
  for (uint32_t i = 0; i < plan->nops; i++) n += plan->ops[i].code == OP_DEV_NODE;
  if (!n) return 0;
  const struct sj_op_rec *first = plan_find(plan, OP_DEV_NODE);
  int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
  char inodes[24];
  snprintf(inodes, sizeof inodes, "%u", n + 8);
  /* 0711: the init, jail root by then, looks its nodes up by name; no listing */
  if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0711", 0) < 0
      || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0
      || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "nr_inodes", inodes, 0) < 0
      || syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    emit_error(first->index, op_name(first->code), errno, "tmpfs", "cannot make the device nodes' filesystem");
    if (fs >= 0) close(fs);
    return -1;
  }
  int mfd = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  int e = errno;
  close(fs);
  if (mfd < 0) { emit_error(first->index, op_name(first->code), e, "tmpfs", "cannot make the device nodes' filesystem"); return -1; }
  for (uint32_t i = 0; i < plan->nops; i++) {
    if (plan->ops[i].code != OP_DEV_NODE) continue;
    if (make_node(mfd, &plan->ops[i]) < 0) { close(mfd); return -1; }
  }
  *out = mfd;
  return 0;
}
