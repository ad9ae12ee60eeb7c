/* mounts.c: the init phase. Builds the jail's tree and pivots into it.
 *
 * Security reasoning. The jail root is a directory the jail's own root may write to, so
 * anything inside it can be a symlink planted to point out of it. Every target below the root
 * is therefore opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) relative to a file
 * descriptor of the attached root, and with RESOLVE_NO_SYMLINKS for the core mounts (/proc,
 * /dev, /sys): a symlink can never lead resolution above the root, and a symlinked /proc or /dev
 * is refused (ELOOP) instead of followed. The final component is opened O_NOFOLLOW and checked
 * with fstat, and the mount is attached to that very file descriptor with move_mount(2), so
 * there is no second path lookup an attacker could race. Sources of bind mounts are host paths
 * chosen by the administrator and resolved before pivot_root, in the helper's private copy of
 * the host's mount namespace. Every mount happens inside that private namespace: nothing is ever
 * mounted in the host's namespace, so nothing can be left behind there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "helper.h"

static int sys_openat2(int dfd, const char *path, struct open_how *how) {
  return (int)syscall(SYS_openat2, dfd, path, how, sizeof *how);
}
static int sys_open_tree(int dfd, const char *path, unsigned flags) { return (int)syscall(SYS_open_tree, dfd, path, flags); }
static int sys_move_mount(int fd, const char *fp, int tfd, const char *tp, unsigned flags) {
  return (int)syscall(SYS_move_mount, fd, fp, tfd, tp, flags);
}
static int sys_mount_setattr(int fd, const char *path, unsigned flags, struct mount_attr *a) {
  return (int)syscall(SYS_mount_setattr, fd, path, flags, a, sizeof *a);
}
static int sys_fsopen(const char *fs, unsigned flags) { return (int)syscall(SYS_fsopen, fs, flags); }
static int sys_fsconfig(int fd, unsigned cmd, const char *key, const void *val, int aux) {
  return (int)syscall(SYS_fsconfig, fd, cmd, key, val, aux);
}
static int sys_fsmount(int fd, unsigned flags, unsigned attrs) { return (int)syscall(SYS_fsmount, fd, flags, attrs); }
static int sys_pivot_root(const char *n, const char *o) { return (int)syscall(SYS_pivot_root, n, o); }

static int g_root = -1;      /* O_PATH fd of the attached jail root */
static int g_msg = -1;
static int g_debug = 0;

static const char *rel(const char *p) { while (*p == '/') p++; return *p ? p : "."; }

static unsigned attr_bits(const char *flags) {
  unsigned a = 0;
  if (flag_has(flags, MF_RO)) a |= MOUNT_ATTR_RDONLY;
  if (flag_has(flags, MF_NOSUID)) a |= MOUNT_ATTR_NOSUID;
  if (flag_has(flags, MF_NODEV)) a |= MOUNT_ATTR_NODEV;
  if (flag_has(flags, MF_NOEXEC)) a |= MOUNT_ATTR_NOEXEC;
  if (flag_has(flags, MF_STRICTATIME)) a |= MOUNT_ATTR_STRICTATIME;
  else if (flag_has(flags, MF_NOATIME)) a |= MOUNT_ATTR_NOATIME;
  if (flag_has(flags, MF_NODIRATIME)) a |= MOUNT_ATTR_NODIRATIME;
  return a;
}

/* mount_setattr's attributes for FLAGS: an access time replaces the one the mount had */
static struct mount_attr setattr_of(const char *flags) {
  struct mount_attr a = { .attr_set = attr_bits(flags) };
  if (flag_has(flags, MF_STRICTATIME) || flag_has(flags, MF_NOATIME)) a.attr_clr = MOUNT_ATTR__ATIME;
  return a;
}

/* The propagation FLAGS ask for, set on the attached mount FD (its tree with MF_PROP_REC). */
static int set_propagation(int fd, const char *flags) {
  struct mount_attr a = { 0 };
  if (flag_has(flags, MF_SHARED)) a.propagation = MS_SHARED;
  else if (flag_has(flags, MF_SLAVE)) a.propagation = MS_SLAVE;
  else if (flag_has(flags, MF_PRIVATE)) a.propagation = MS_PRIVATE;
  else if (flag_has(flags, MF_UNBINDABLE)) a.propagation = MS_UNBINDABLE;
  else return 0;
  return sys_mount_setattr(fd, "", AT_EMPTY_PATH | (flag_has(flags, MF_PROP_REC) ? AT_RECURSIVE : 0), &a);
}

/* Open PATH (inside the root) as an O_PATH fd; the last component must not be a symlink. */
static int open_in_root(const char *path, int strict) {
  struct open_how how = { .flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (strict ? RESOLVE_NO_SYMLINKS : 0) };
  int fd = sys_openat2(g_root, rel(path), &how);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) { close(fd); errno = ELOOP; return -1; }
  return fd;
}

/* The parent directory of PATH inside the root, and the last component. */
static int open_parent(const char *path, int strict, char *base, size_t baselen) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", rel(path));
  size_t n = strlen(buf);
  while (n > 1 && buf[n - 1] == '/') buf[--n] = 0;
  char *slash = strrchr(buf, '/');
  const char *b = slash ? slash + 1 : buf;
  if (!*b || !strcmp(b, ".") || !strcmp(b, "..")) { errno = EINVAL; return -1; }
  snprintf(base, baselen, "%s", b);
  if (slash) *slash = 0; else snprintf(buf, sizeof buf, ".");
  struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (strict ? RESOLVE_NO_SYMLINKS : 0) };
  return sys_openat2(g_root, buf, &how);
}

/* The parent directory of PATH inside the root as a real directory fd (an O_PATH fd cannot be
 * used with mkdirat and friends: it is reopened through /proc/self/fd, which names that very
 * directory, not a path to look up again). */
static int open_parent_dir(const char *path, int strict, char *base, size_t baselen) {
  int pfd = open_parent(path, strict, base, baselen);
  if (pfd < 0) return -1;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", pfd);
  int dfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int e = errno;
  close(pfd);
  errno = e;
  return dfd;
}

/* Open a mount target, creating a missing directory or file when the flags allow it. */
static int target_fd(const char *path, const char *flags) {
  int strict = flag_has(flags, MF_STRICT), isfile = flag_has(flags, MF_FILE);
  int fd = open_in_root(path, strict);
  if (fd >= 0 || errno != ENOENT || !flag_has(flags, MF_CREATE)) return fd;
  char base[256];
  int dfd = open_parent_dir(path, strict, base, sizeof base);
  if (dfd < 0) return -1;
  int r;
  if (isfile) { r = openat(dfd, base, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644); if (r >= 0) close(r); }
  else r = mkdirat(dfd, base, 0755);
  close(dfd);
  if (r < 0 && errno != EEXIST) return -1;
  return open_in_root(path, strict);
}

static int attach(int mfd, int tfd) {
  return sys_move_mount(mfd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static void fail(const struct sj_op_rec *op, const char *path) { die_step(g_msg, op, errno, path); }

/* trees opened ahead for sysjail-oci (init_preopen, below) */
static int g_pre_root = -1;
static int *g_pre_bind;
static uint32_t g_pre_n;

/* The detached tree SFD of OP, idmapped by the monitor (idmaptree.c) when FLAGS ask for it:
 * MF_IDMAP fails the step when it cannot be, MF_IDMAP_TRY reports it (step "idmap") and keeps
 * the tree as it is. */
static void idmap_tree(const struct sj_op_rec *op, const char *flags, int sfd, const char *src) {
  if (!flags || !(flag_has(flags, MF_IDMAP) || flag_has(flags, MF_IDMAP_TRY))) return;
  int e = idmap_ask(sfd);
  if (!e) return;
  if (flag_has(flags, MF_IDMAP)) { errno = e; fail(op, src); }
  msg_send(g_msg, MSG_WARN, op->index, e, SJ_WARN_IDMAP | (int)op->code, src);
}

static int optional_skip(const struct sj_op_rec *op, const char *flags, const char *path) {
  /* missing, or (a target to create) impossible to make: on a read-only root, or in a directory
   * jail root does not own */
  int cannot_create = flag_has(flags, MF_CREATE) && (errno == EACCES || errno == EROFS || errno == EPERM);
  if ((errno == ENOENT || cannot_create) && flag_has(flags, MF_OPTIONAL)) {
    if (!flag_has(flags, MF_QUIET)) msg_send(g_msg, MSG_WARN, op->index, errno, (int)op->code, path);
    return 1;
  }
  return 0;
}

static void do_mount_fs(const struct sj_op_rec *op) {
  const char *type = arg_str(op, 0), *target = arg_str(op, 1), *flags = arg_str(op, 2), *opts = arg_str(op, 3);
  if (!type || !target || !flags || !opts) { errno = EINVAL; fail(op, "bad arguments"); }
  int tfd = target_fd(target, flags);
  if (tfd < 0) { if (optional_skip(op, flags, target)) return; fail(op, target); }
  if (!strcmp(type, "proc") && g_proc_mnt >= 0) {
    /* a joined pid namespace's procfs, made by the monitor (run.c proc_of_pidns): mounted once */
    if (attach(g_proc_mnt, tfd) < 0) fail(op, target);
    close(g_proc_mnt); g_proc_mnt = -1; close(tfd);
    return;
  }
  int fs = sys_fsopen(type, FSOPEN_CLOEXEC);
  if (fs < 0) fail(op, type);
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", opts);
  for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    int r;
    if (eq) { *eq = 0; r = sys_fsconfig(fs, FSCONFIG_SET_STRING, kv, eq + 1, 0); }
    else r = sys_fsconfig(fs, FSCONFIG_SET_FLAG, kv, NULL, 0);
    if (r < 0) fail(op, kv);
  }
  if (sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) fail(op, target);
  int mfd = sys_fsmount(fs, FSMOUNT_CLOEXEC, attr_bits(flags));
  if (mfd < 0) fail(op, target);
  if (attach(mfd, tfd) < 0) fail(op, target);
  if (set_propagation(mfd, flags) < 0) fail(op, target);
  close(mfd); close(fs); close(tfd);
}

static void do_bind(const struct sj_op_rec *op) {
  const char *src = arg_str(op, 0), *target = arg_str(op, 1), *flags = arg_str(op, 2);
  if (!src || !target || !flags) { errno = EINVAL; fail(op, "bad arguments"); }
  int rec = flag_has(flags, MF_REC);
  int sfd = -1;
  if (g_pre_bind && op->index >= 0 && (uint32_t)op->index < g_pre_n) {
    sfd = g_pre_bind[op->index];
    g_pre_bind[op->index] = -1;
    /* a copy made now: mountinfo lists mounts by their creation (kernel 6.8+), and the ones
     * opened ahead would come before /proc and the others (sysjail-oci keeps config.json's
     * order); a kernel that cannot copy a detached tree attaches the one opened ahead */
    int again = sfd >= 0 ? sys_open_tree(sfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0)) : -1;
    if (again >= 0) { close(sfd); sfd = again; }
  }
  if (sfd < 0) sfd = sys_open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
  if (sfd < 0) { if (optional_skip(op, flags, src)) return; fail(op, src); }
  idmap_tree(op, flags, sfd, src);
  struct mount_attr a = setattr_of(flags);
  if (a.attr_set && sys_mount_setattr(sfd, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &a) < 0) fail(op, src);
  int tfd = target_fd(target, flags);
  if (tfd < 0) { if (optional_skip(op, flags, target)) { close(sfd); return; } fail(op, target); }
  if (attach(sfd, tfd) < 0) fail(op, target);
  if (set_propagation(sfd, flags) < 0) fail(op, target);
  close(sfd); close(tfd);
}

/* sysjail-oci linux.devices: the monitor's node "n<op index>" (devnodes.c) cloned as a mount of
 * that one file onto TARGET, a file made in the jail's /dev, resolved inside the jail's root
 * without symlinks; missing directories on the way are made the same way (never through a
 * symlink: a mode change would follow one out of the root). */
int g_devfs = -1;
static void dev_node_dirs(const struct sj_op_rec *op, const char *target) {
  char dir[4096];
  for (const char *s = strchr(target + 5, '/'); s; s = strchr(s + 1, '/')) {
    snprintf(dir, sizeof dir, "%.*s", (int)(s - target), target);
    int fd = open_in_root(dir, 1);
    if (fd >= 0) { close(fd); continue; }
    if (errno != ENOENT) fail(op, dir);
    char base[256];
    int dfd = open_parent_dir(dir, 1, base, sizeof base);
    if (dfd < 0) fail(op, dir);
    int r = mkdirat(dfd, base, 0755);
    int e = errno;
    close(dfd);
    if (r < 0 && e != EEXIST) { errno = e; fail(op, dir); }
  }
}
/* Kernels before 6.15 clone nothing from a detached mount (open_tree EINVAL), and the monitor's
 * device tmpfs is one. Security reasoning: there the init attaches it once at the staging
 * directory, on top of the jail's root, in its own private mount namespace and before any jail
 * process exists (the jail's root stays reachable through g_root), clones every node of the plan
 * from it as a single-file mount, and detaches it again at once: no path leads to the staging
 * tmpfs afterwards, and each clone is rooted at one node as on newer kernels. */
static int *g_node_clones = NULL;
static void dev_nodes_clone_attached(const struct sj_plan *plan, const struct sj_op_rec *op, const char *target) {
  const struct sj_op_rec *sop = plan_find(plan, OP_STAGING);
  const char *staging = sop ? arg_str(sop, 0) : NULL;
  if (!staging || g_root < 0) { errno = EINVAL; fail(op, target); }
  g_node_clones = malloc(plan->nops * sizeof *g_node_clones);
  if (!g_node_clones) fail(op, target);
  for (uint32_t i = 0; i < plan->nops; i++) g_node_clones[i] = -1;
  if (sys_move_mount(g_devfs, "", AT_FDCWD, staging, MOVE_MOUNT_F_EMPTY_PATH) < 0) fail(op, target);
  int dfd = open(staging, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int err = dfd < 0 ? errno : 0;
  for (uint32_t i = 0; !err && i < plan->nops; i++) {
    if (plan->ops[i].code != OP_DEV_NODE) continue;
    char name[24];
    snprintf(name, sizeof name, "n%d", plan->ops[i].index);
    g_node_clones[i] = sys_open_tree(dfd, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
    if (g_node_clones[i] < 0) err = errno;
  }
  if (dfd >= 0) close(dfd);
  if (umount2(staging, MNT_DETACH) < 0 && !err) err = errno;
  close(g_devfs);
  g_devfs = -1;
  if (err) { errno = err; fail(op, target); }
}

static void do_dev_node(const struct sj_plan *plan, const struct sj_op_rec *op) {
  const char *target = arg_str(op, 0);
  if (!target || strncmp(target, "/dev/", 5) || strstr(target, "/..") || strstr(target, "//")) { errno = EINVAL; fail(op, "bad arguments"); }
  dev_node_dirs(op, target);
  const size_t pos = (size_t)(op - plan->ops);
  int sfd = -1;
  if (!g_node_clones) {
    if (g_devfs < 0) { errno = EBADF; fail(op, "no device nodes came from the monitor"); }
    char name[24];
    snprintf(name, sizeof name, "n%d", op->index);
    sfd = sys_open_tree(g_devfs, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
    if (sfd < 0 && errno == EINVAL) dev_nodes_clone_attached(plan, op, target);
  }
  if (g_node_clones) { sfd = g_node_clones[pos]; g_node_clones[pos] = -1; if (sfd < 0) errno = EBADF; }
  if (sfd < 0) fail(op, target);
  struct mount_attr a = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC };
  if (sys_mount_setattr(sfd, "", AT_EMPTY_PATH, &a) < 0) fail(op, target);
  const char flags[] = { MF_FILE, MF_CREATE, MF_STRICT, 0 };
  int tfd = target_fd(target, flags);
  if (tfd < 0) fail(op, target);
  if (attach(sfd, tfd) < 0) fail(op, target);
  close(sfd); close(tfd);
}

static void do_rebind(const struct sj_op_rec *op) {
  const char *target = arg_str(op, 0), *flags = arg_str(op, 1);
  if (!target || !flags) { errno = EINVAL; fail(op, "bad arguments"); }
  int tfd = open_in_root(target, flag_has(flags, MF_STRICT));
  if (tfd < 0) { if (optional_skip(op, flags, target)) return; fail(op, target); }
  int rec = flag_has(flags, MF_REC);
  int sfd = sys_open_tree(tfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0));
  if (sfd < 0) fail(op, target);
  struct mount_attr a = { .attr_set = attr_bits(flags) };
  if (a.attr_set && sys_mount_setattr(sfd, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &a) < 0) fail(op, target);
  if (attach(sfd, tfd) < 0) fail(op, target);
  close(sfd); close(tfd);
}

/* Masking sources, made once: an empty read-only tmpfs for directories, a read-only /dev/null
 * for files. Each mask is a clone of one of them (a bind), far cheaper than a new superblock.
 * Kernels before 6.15 clone no detached mount (open_tree gives EINVAL): there each mask is a
 * source made anew, the same read-only mount. */
static int g_mask_dir = -1, g_mask_file = -1, g_mask_no_clone = 0;

static int new_mask_source(int dir, const struct sj_op_rec *op, const char *target) {
  int fd;
  if (dir) {
    int fs = sys_fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0 || sys_fsconfig(fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
        sys_fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
        sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) fail(op, target);
    fd = sys_fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    close(fs);
  } else {
    fd = sys_open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC };
    if (fd >= 0 && sys_mount_setattr(fd, "", AT_EMPTY_PATH, &a) < 0) fail(op, target);
  }
  if (fd < 0) fail(op, target);
  return fd;
}

static int mask_source(int dir, const struct sj_op_rec *op, const char *target) {
  if (g_mask_no_clone) return new_mask_source(dir, op, target);
  int *slot = dir ? &g_mask_dir : &g_mask_file;
  if (*slot < 0) *slot = new_mask_source(dir, op, target);
  int fd = sys_open_tree(*slot, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (fd >= 0 || errno != EINVAL) return fd;
  /* this kernel clones no detached mount: the source made is this mask, the next are new */
  g_mask_no_clone = 1;
  fd = *slot;
  *slot = -1;
  return fd;
}

static void do_mask(const struct sj_op_rec *op) {
  const char *target = arg_str(op, 0);
  if (!target) { errno = EINVAL; fail(op, "bad arguments"); }
  int tfd = open_in_root(target, 1);
  if (tfd < 0) { if (errno == ENOENT) return; fail(op, target); }
  struct stat st;
  if (fstat(tfd, &st) < 0) fail(op, target);
  int mfd = mask_source(S_ISDIR(st.st_mode), op, target);
  if (mfd < 0 || attach(mfd, tfd) < 0) fail(op, target);
  close(mfd); close(tfd);
}

static void do_mkdir(const struct sj_op_rec *op, int file) {
  const char *target = arg_str(op, 0);
  uint64_t mode;
  if (!target || arg_u64(op, 1, &mode)) { errno = EINVAL; fail(op, "bad arguments"); }
  char base[256];
  int dfd = open_parent_dir(target, 0, base, sizeof base);
  if (dfd < 0) fail(op, target);
  int r;
  if (file) { r = openat(dfd, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode); if (r >= 0) close(r); }
  else { r = mkdirat(dfd, base, (mode_t)mode); if (r < 0 && errno == EEXIST) r = 0; }
  if (r >= 0 && fchmodat(dfd, base, (mode_t)mode, 0) < 0) r = -1;
  close(dfd);
  if (r < 0) fail(op, target);
}

static void do_symlink(const struct sj_op_rec *op) {
  const char *text = arg_str(op, 0), *target = arg_str(op, 1);
  if (!text || !target) { errno = EINVAL; fail(op, "bad arguments"); }
  char base[256];
  int dfd = open_parent_dir(target, 0, base, sizeof base);
  if (dfd < 0 || (symlinkat(text, dfd, base) < 0 && errno != EEXIST)) fail(op, target);
  close(dfd);
}

static void lo_up(const struct sj_op_rec *op) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(op, "lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(op, "lo");
  close(s);
}

/* Attach the jail's root at the staging directory and keep an fd to it. */
/* sysjail-oci (SJ_F_OCI): the trees of the root and of the bind sources, opened by the init
 * before it becomes jail root (init_preopen), then attached as usual. Security reasoning: an
 * engine keeps a container's root and files under directories only host root may traverse
 * (/var/lib/containers is 0700); jail root cannot reach them. The init still has the caller's
 * host credentials then (its ids are changed only in become_jail_root), and opens exactly the
 * host paths the caller's plan names, which the caller could open itself; no process of the
 * jail exists yet, and every target inside the jail is resolved later, in the jail's root. */

int g_console_fd = -1, g_console_err = 0;

void console_connect(const struct sj_plan *plan) {
  /* the engine's console socket (a host path the caller gave): connected while we are still in
   * the host's mount namespace with the caller's credentials */
  const struct sj_op_rec *con = plan_find(plan, OP_CONSOLE);
  const char *sp = con ? arg_str(con, 0) : NULL;
  if (con) {
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!sp || strlen(sp) >= sizeof sa.sun_path) { g_console_err = ENAMETOOLONG; if (s >= 0) close(s); }
    else if (s < 0) g_console_err = errno;
    else {
      memcpy(sa.sun_path, sp, strlen(sp) + 1);
      if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) { g_console_err = errno; close(s); }
      else g_console_fd = s;
    }
  }
}

void init_preopen(const struct sj_plan *plan) {
  if (!(plan->flags & SJ_F_OCI)) return;
  console_connect(plan);
  /* with a terminal the command's stdio is the pty (do_console): the init lets go of the caller's
   * now, or an engine that waits for the end of create's output (containerd's shim) waits for a
   * start it has not yet called */
  if (plan_find(plan, OP_CONSOLE)) {
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (nul >= 0) { dup2(nul, 0); dup2(nul, 1); dup2(nul, 2); if (nul > 2) close(nul); }
  }
  g_pre_bind = malloc(plan->nops * sizeof *g_pre_bind);
  if (!g_pre_bind) return;
  g_pre_n = plan->nops;
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    const char *src = arg_str(op, 0), *flags = op->argc > 2 ? arg_str(op, 2) : NULL;
    g_pre_bind[i] = -1;
    if (op->code == OP_ROOT && src && g_pre_root < 0)
      g_pre_root = sys_open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    else if (op->code == OP_BIND && src && flags && src[0] == '/')
      g_pre_bind[i] = sys_open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (flag_has(flags, MF_REC) ? AT_RECURSIVE : 0));
  }
}

static void attach_root(const struct sj_plan *plan, int treefd) {
  const struct sj_op_rec *rop = plan_find(plan, OP_ROOT), *sop = plan_find(plan, OP_STAGING);
  const char *path = rop ? arg_str(rop, 0) : NULL, *staging = sop ? arg_str(sop, 0) : NULL;
  if (!path || !staging) { errno = EINVAL; die_step(g_msg, rop ? rop : sop, EINVAL, "plan lacks root or staging"); }
  if (treefd < 0) { treefd = g_pre_root; g_pre_root = -1; }
  if (treefd < 0) treefd = sys_open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (treefd < 0) fail(rop, path);
  const char *rflags = rop->argc > 1 ? arg_str(rop, 1) : NULL;
  idmap_tree(rop, rflags, treefd, path);
  /* nodev on the whole tree: a device node left in the jail's root (by debootstrap, say) must not
   * open the host's device; the allowed nodes come as separate mounts on the jail's /dev */
  struct mount_attr priv = { .attr_set = MOUNT_ATTR_NODEV, .propagation = MS_PRIVATE };
  if (sys_mount_setattr(treefd, "", AT_EMPTY_PATH | AT_RECURSIVE, &priv) < 0) fail(rop, path);
  /* OP_ROOT's optional flags "r": the root's own mount read-only (an OCI root.readonly); the
   * mounts made on it later keep their own flags */
  if (rflags && flag_has(rflags, MF_RO)) {
    struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
    if (sys_mount_setattr(treefd, "", AT_EMPTY_PATH, &ro) < 0) fail(rop, path);
  }
  if (sys_move_mount(treefd, "", AT_FDCWD, staging, MOVE_MOUNT_F_EMPTY_PATH) < 0) fail(sop, staging);
  close(treefd);
  g_root = open(staging, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_root < 0) fail(sop, staging);
}

static void pivot(const struct sj_op_rec *op) {
  if (g_devfs >= 0) { close(g_devfs); g_devfs = -1; }
  if (g_node_clones) { free(g_node_clones); g_node_clones = NULL; }
  if (g_mask_dir >= 0) { close(g_mask_dir); g_mask_dir = -1; }
  if (g_mask_file >= 0) { close(g_mask_file); g_mask_file = -1; }
  /* pivot_root(".", "."): the old root ends up stacked on the new one and is detached at once,
   * so no path inside the jail ever leads to the host's tree. */
  if (fchdir(g_root) < 0) fail(op, "root");
  if (sys_pivot_root(".", ".") < 0) fail(op, "pivot_root");
  if (umount2(".", MNT_DETACH) < 0) fail(op, "old root");
  if (chdir("/") < 0) fail(op, "/");
  close(g_root);
  g_root = -1;
}

/* VALUE into PATH (opened write-only with FLAGS) in one write, or fail(op) naming PATH when it
 * cannot be opened and SHORT_WHAT when the write falls short */
static void write_whole(const struct sj_op_rec *op, const char *path, int flags, const char *value, const char *short_what) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | flags);
  if (fd < 0) fail(op, path);
  ssize_t w = write(fd, value, strlen(value));
  int e = errno;
  close(fd);
  if (w != (ssize_t)strlen(value)) { errno = w < 0 ? e : EIO; fail(op, short_what); }
}

/* The number of user namespaces the jail's ids may have at once, set in the jail's own user
 * namespace while init still holds CAP_SYS_RESOURCE there (the jail's root never does): the
 * kernel counts every namespace made below against it, grandchildren too (children.max). */
static void userns_max(const struct sj_op_rec *op) {
  const char *n = arg_str(op, 0);
  if (!n || !*n || strspn(n, "0123456789") != strlen(n)) { errno = EINVAL; fail(op, n ? n : ""); }
  write_whole(op, "/proc/sys/user/max_user_namespaces", 0, n, n);
}

/* A namespaced sysctl: the init is in the container's namespaces, and what /proc/sys shows
 * (network, ipc, mqueue entries) is the writer's namespaces' own; before pivot_root the host's
 * /proc is still mounted here. TypeScript allows only namespaced names. */
static void do_sysctl(const struct sj_op_rec *op) {
  const char *path = arg_str(op, 0), *value = arg_str(op, 1);
  if (!path || !value || strncmp(path, "/proc/sys/", 10) || strstr(path, "..")) { errno = EINVAL; fail(op, "bad arguments"); }
  write_whole(op, path, O_NOFOLLOW, value, path);
}

/* Whether the plan joins a mount namespace (sysjail-oci): the jail then lives in that namespace's
 * mount table, which its own user namespace does not own: no root is made, nothing is mounted. */
static int joins_mnt(const struct sj_plan *plan) {
  for (uint32_t i = 0; i < plan->nops; i++) {
    uint64_t t;
    if (plan->ops[i].code == OP_NS_JOIN && !arg_u64(&plan->ops[i], 0, &t) && t == CLONE_NEWNS) return 1;
  }
  return 0;
}

void init_setup(const struct sj_plan *plan, int msgfd, int treefd) {
  g_msg = msgfd;
  g_debug = (plan->flags & SJ_F_DEBUG) != 0;
  const int joined = joins_mnt(plan);
  if (!joined) {
    /* never let a mount event travel back to the host */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die_step(g_msg, NULL, errno, "make-private");
    attach_root(plan, treefd);
  }
  fault_point("8");
  int pivoted = 0;
  /* the monitor idmaps trees until the plan's last op that asks for one (made or skipped): it
   * is told at once, not after createContainer hooks (idmaptree.c) */
  int64_t last_idmap = -1;
  for (uint32_t i = 0; i < plan->nops; i++) if (idmap_wanted(&plan->ops[i])) last_idmap = i;
  for (uint32_t i = 0; i < plan->nops; i++) {
    if ((int64_t)i > last_idmap && last_idmap >= 0) { idmap_done(); last_idmap = -1; }
    const struct sj_op_rec *op = &plan->ops[i];
    if (g_debug && op->code >= OP_MOUNT_FS && op->code <= OP_LO_UP)
      msg_send(g_msg, MSG_STEP, op->index, 0, (int)op->code, arg_str(op, op->code == OP_SYMLINK ? 1 : 0));
    if (joined && op->code >= OP_ROOT && op->code <= OP_PIVOT) die_step(g_msg, op, EINVAL, "a joined mount namespace is not the jail's to change");
    switch (op->code) {
    case OP_MOUNT_FS: do_mount_fs(op); break;
    case OP_BIND: do_bind(op); break;
    case OP_REBIND: do_rebind(op); break;
    case OP_MASK: do_mask(op); break;
    case OP_MKDIR: do_mkdir(op, 0); break;
    case OP_MKFILE: do_mkdir(op, 1); break;
    case OP_SYMLINK: do_symlink(op); break;
    case OP_PIVOT: fault_point("9"); pivot(op); fault_point("10"); pivoted = 1; break;
    case OP_HOSTNAME: {
      const char *h = arg_str(op, 0);
      if (!h || sethostname(h, strlen(h)) < 0) fail(op, h);
      break;
    }
    case OP_DOMAINNAME: {
      const char *h = arg_str(op, 0);
      if (!h || setdomainname(h, strlen(h)) < 0) fail(op, h);
      break;
    }
    case OP_LO_UP: lo_up(op); break;
    case OP_USERNS_MAX: userns_max(op); break;
    case OP_SYSCTL: do_sysctl(op); break;
    case OP_DEV_NODE: do_dev_node(plan, op); break;
    case OP_HOOK: if (!pivoted && arg_str(op, 0) && !strcmp(arg_str(op, 0), "create")) hook_run(plan, op, g_msg, 0); break;
    default: break;
    }
  }
  if (!pivoted && !joined) die_step(g_msg, NULL, EINVAL, "plan has no pivot-root");
  if (joined && chdir("/") < 0) die_step(g_msg, NULL, errno, "/");
}
