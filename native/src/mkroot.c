/* mkroot.c: makes missing mount points in a jail's tree for the host side (sysjail-oci create:
 * config.json mounts whose target the image lacks, as runc makes them), never leaving the root.
 *
 *   sysjail-helper mkdir-in-root DIR d:PATH|f:PATH...   d: a directory, f: an empty file at the end
 *
 * Security reasoning. The tree may hold anything an earlier container of the same root left: any
 * component may be a symlink to a host directory. Each prefix of PATH is resolved with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) relative to a descriptor of DIR, so absolute
 * symlinks and ".." stay inside it; a missing component is made with mkdirat (or openat
 * O_CREAT|O_EXCL|O_NOFOLLOW for the file) relative to the descriptor of its parent just resolved,
 * which never follows a symlink at the new name, and is then opened O_NOFOLLOW and chowned
 * through that descriptor to its parent's owner: what is made belongs to whoever owns the
 * directory it is in (host root in an image's root-owned tree, the jail's ids in its own tree),
 * mode 0755 (0644 for a file), empty. Nothing existing is changed. This grants the jail nothing:
 * an empty directory or file it could already see, that its mounts then cover.
 *
 * No policy: the caller chooses the paths. Reports per PATH on stdout "ok\n" | "err ERRNO\n",
 * exit 0; a bad command line or a root that cannot be opened: one "err ERRNO\n", exit 1.
 *
 * The same, as the plan op OP_MOUNT_POINTS (ROOT TARGET...), is done by the monitor of a
 * sysjail-oci create before its clone (mkroot_plan): a process fewer on create's path. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"

static int in_root(int rootfd, const char *path, int flags) {
  struct open_how how = { .flags = (unsigned)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  return (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof how);
}

/* Makes NAME in the directory DFD (a directory, or with FILE an empty file) owned as DFD is. */
static int make_one(int dfd, const char *name, int file) {
  struct stat pst;
  if (fstat(dfd, &pst) < 0) return -1;
  int fd;
  if (file) {
    fd = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0) return errno == EEXIST ? 0 : -1;
  } else {
    if (mkdirat(dfd, name, 0755) < 0) return errno == EEXIST ? 0 : -1;
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
  }
  int r = fchown(fd, pst.st_uid, pst.st_gid);
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

/* Each missing component of PATH below ROOTFD, the last one a file when FILE. */
static int make_path(int rootfd, const char *path, int file) {
  char buf[4096];
  if (strlen(path) >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
  snprintf(buf, sizeof buf, "%s", path);
  size_t n = strlen(buf);
  while (n > 0 && buf[n - 1] == '/') buf[--n] = 0;
  char *p = buf;
  while (*p == '/') p++;
  if (!*p) { errno = EINVAL; return -1; }
  for (;;) {
    char *slash = strchr(p, '/');
    int last = slash == NULL;
    if (slash) *slash = 0;
    if (!strcmp(p, "..")) { errno = EINVAL; return -1; }
    /* the prefix up to and with this component, as the jail will resolve it */
    int fd = in_root(rootfd, buf, O_PATH | (last ? O_NOFOLLOW : 0));
    if (fd >= 0) close(fd);
    else if (errno != ENOENT) return -1;
    else {
      char *base = strrchr(buf, '/');
      int dfd;
      if (base) { *base = 0; dfd = in_root(rootfd, buf, O_RDONLY | O_DIRECTORY); *base = '/'; base++; }
      else { dfd = in_root(rootfd, "", O_RDONLY | O_DIRECTORY); base = buf; }
      if (dfd < 0) return -1;
      int r = make_one(dfd, base, last && file);
      int e = errno;
      close(dfd);
      errno = e;
      if (r < 0) return -1;
    }
    if (last) return 0;
    *slash = '/';
    p = slash + 1;
    while (*p == '/') p++;
    if (!*p) return 0;
  }
}

int mkdir_in_root_main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: sysjail-helper mkdir-in-root DIR d:PATH|f:PATH...\n");
    return 64;
  }
  for (int i = 3; i < argc; i++) {
    if ((argv[i][0] != 'd' && argv[i][0] != 'f') || argv[i][1] != ':') {
      fprintf(stderr, "usage: sysjail-helper mkdir-in-root DIR d:PATH|f:PATH...\n");
      return 64;
    }
  }
  int rootfd = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) { printf("err %d\n", errno); return 1; }
  for (int i = 3; i < argc; i++) {
    if (make_path(rootfd, argv[i] + 2, argv[i][0] == 'f') < 0) printf("err %d\n", errno);
    else printf("ok\n");
  }
  fflush(stdout);
  return 0;
}

/* OP_MOUNT_POINTS: each op's targets made below its root, as mkdir-in-root makes them; called by
 * the monitor before the clone and before any namespace join (ocimon.c), so every path resolves in
 * the monitor's own mount table. A mount point that cannot be made is left to the jail, which
 * skips that mount with a warning (mounts.c): nothing here fails the jail. */
void mkroot_plan(const struct sj_plan *plan) {
  for (uint32_t i = 0; i < plan->nops; i++) {
    const struct sj_op_rec *op = &plan->ops[i];
    const char *root = op->code == OP_MOUNT_POINTS ? arg_str(op, 0) : NULL;
    int rootfd = root ? open(root, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    if (rootfd < 0) continue;
    for (uint32_t a = 1; a < op->argc; a++) {
      const char *t = arg_str(op, a);
      if (t && (t[0] == 'd' || t[0] == 'f') && t[1] == ':') (void)make_path(rootfd, t + 2, t[0] == 'f');
    }
    close(rootfd);
  }
}
