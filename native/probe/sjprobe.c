/* sjprobe: the attacker program sjtest (src/sjtest) runs inside its jails, for the calls Node
 * cannot make (raw system calls, other ABIs, ioctls, chroot, pidfd_getfd, xattrs), and on the
 * host for the few checks that need C (file capabilities, a FIFO, a SysV queue).
 *
 *   sjprobe CALL [ARG...] [+ CALL [ARG...]]...
 *
 * prints one line per call: "ok VALUE" or "err ERRNO-NAME" (or a line of its own, named below).
 * It never harms the host even in a broken jail: a forbidden write writes nothing new (openw only
 * opens, rewrite writes a file's own content back), sethostname sets the current name, signals
 * go only to its own children, TIOCSTI is tried on a pseudo-terminal it opened itself. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <poll.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int g_argc;
static char **g_argv;

static const char *ename(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(EBADF) E(ECHILD) E(EAGAIN)
    E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR)
    E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK)
    E(EPIPE) E(ERANGE) E(ENOSYS) E(ELOOP) E(ENODATA) E(ENOTSOCK) E(EPROTOTYPE) E(ENOPROTOOPT)
    E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EOPNOTSUPP) E(EAFNOSUPPORT) E(EADDRINUSE)
    E(EADDRNOTAVAIL) E(ENETUNREACH) E(ECONNREFUSED) E(EHOSTUNREACH) E(ETIMEDOUT) E(ECONNRESET)
    E(ENOTCONN) E(EALREADY) E(EINPROGRESS) E(EIDRM) E(ENOMSG) E(EOVERFLOW) E(EDQUOT) E(ENOTEMPTY)
#undef E
    default: return "EUNKNOWN";
  }
}

static int err(int e) { printf("err %s\n", ename(e)); return 1; }
static int res(long r) { if (r < 0) return err(errno); printf("ok %ld\n", r); return 0; }
static unsigned long long num(const char *s) {
  return s[0] == '-' ? (unsigned long long)strtoll(s, NULL, 0) : strtoull(s, NULL, 0);
}

#ifdef __x86_64__
/* an i386 system call from this 64-bit process (int $0x80): eax = nr, ebx..ebp = arguments */
static long i386_call(unsigned long nr, unsigned long long a[6]) {
  long ret;
  unsigned long long a5 = a[5];
  __asm__ volatile("push %%rbp\n\tmov %[f], %%rbp\n\tint $0x80\n\tpop %%rbp"
                   : "=a"(ret)
                   : "a"(nr), "b"(a[0]), "c"(a[1]), "d"(a[2]), "S"(a[3]), "D"(a[4]), [f] "m"(a5)
                   : "memory", "r8", "r9", "r10", "r11");
  return ret;
}
#endif

/* dev:ino of a descriptor, "-" when it is not open */
static void fdid(int fd, char *out, size_t n) {
  struct stat st;
  if (fstat(fd, &st) < 0) snprintf(out, n, "-");
  else snprintf(out, n, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
}

/* the pid of a process (not this one) whose argv[1] is MARK, else 0 */
static pid_t find_marked(const char *mark) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  pid_t found = 0;
  if (!d) return 0;
  while ((e = readdir(d))) {
    char path[64], buf[256];
    pid_t p = atoi(e->d_name);
    if (p <= 1 || p == getpid()) continue;
    snprintf(path, sizeof path, "/proc/%d/cmdline", p);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0) continue;
    buf[r] = 0;
    size_t l0 = strlen(buf);
    if ((ssize_t)l0 + 1 < r && strcmp(buf + l0 + 1, mark) == 0) { found = p; break; }
  }
  closedir(d);
  return found;
}

static void sleep_ms(long ms) {
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  nanosleep(&ts, NULL);
}

/* Runs one call (argv[0] is its name, n its argument count); returns non-zero on an error line. */
static int call(char **a, int n) {
  const char *c = a[0];
  if (!strcmp(c, "sys") || !strcmp(c, "i386") || !strcmp(c, "x32")) {
    if (n < 2) return err(EINVAL);
    unsigned long long v[6] = {0};
    for (int i = 2; i < n && i < 8; i++) v[i - 2] = num(a[i]);
    unsigned long nr = (unsigned long)num(a[1]);
    if (!strcmp(c, "sys")) return res(syscall(nr, v[0], v[1], v[2], v[3], v[4], v[5]));
#ifdef __x86_64__
    if (!strcmp(c, "x32")) return res(syscall(nr | 0x40000000UL, v[0], v[1], v[2], v[3], v[4], v[5]));
    long r = i386_call(nr, v);
    if (r < 0 && r > -4096) return err((int)-r);
    printf("ok %ld\n", r);
    return 0;
#else
    printf("n/a not x86_64\n");
    return 1;
#endif
  }
  if (!strcmp(c, "pid")) return res(getpid());
  if (!strcmp(c, "out") && n >= 2) {
    /* the following calls' lines go to FILE (a background jail's output is /dev/null) */
    int fd = open(a[1], O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return err(errno);
    fflush(stdout);
    if (dup2(fd, 1) < 0) return err(errno);
    close(fd);
    return res(0);
  }
  if (!strcmp(c, "sethostname-same")) {
    char h[256] = {0};
    if (gethostname(h, sizeof h - 1) < 0) return err(errno);
    return res(sethostname(h, strlen(h)));
  }
  if (!strcmp(c, "setdomainname-same")) {
    char h[256] = {0};
    if (getdomainname(h, sizeof h - 1) < 0) return err(errno);
    return res(setdomainname(h, strlen(h)));
  }
  if (!strcmp(c, "socket") && n >= 4) return res(socket((int)num(a[1]), (int)num(a[2]), (int)num(a[3])));
  if (!strcmp(c, "socketpair") && n >= 4) {
    int sv[2];
    return res(socketpair((int)num(a[1]), (int)num(a[2]), (int)num(a[3]), sv));
  }
  if (!strcmp(c, "tty-ioctl") && n >= 2) {
    /* on a pseudo-terminal of its own: TIOCSTI would only type into it */
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) return err(errno);
    struct termios t;
    char ch = 'x';
    unsigned long long cmd = num(a[1]);
    void *arg = ((cmd & 0xffff) == TCGETS) ? (void *)&t : (void *)&ch;
    return res(syscall(SYS_ioctl, m, cmd, arg));
  }
  if (!strcmp(c, "mknod") && n >= 3) {
    mode_t m = !strcmp(a[1], "chr") ? S_IFCHR : !strcmp(a[1], "blk") ? S_IFBLK : S_IFIFO;
    int r = mknodat(AT_FDCWD, a[2], m | 0600, m == S_IFIFO ? 0 : makedev(1, 3));
    if (r == 0) unlink(a[2]);
    return res(r);
  }
  if (!strcmp(c, "file-ioctl") && n >= 3) {
    /* on a file of its own, with a zeroed argument (clearing flags it never set) */
    uint64_t buf[8] = {0};
    int fd = open(a[1], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return err(errno);
    long r = syscall(SYS_ioctl, fd, num(a[2]), buf);
    int e = errno;
    close(fd);
    errno = e;
    return res(r);
  }
  if (!strcmp(c, "mkfifo") && n >= 2) return res(mkfifo(a[1], 0644));
  if (!strcmp(c, "clone-newuser")) {
    long p = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (p == 0) _exit(0);
    if (p > 0) waitpid((pid_t)p, NULL, 0);
    return res(p > 0 ? 0 : -1);
  }
  if (!strcmp(c, "mount-missing")) return res(mount("none", "/nonexistent-sjprobe", "tmpfs", 0, NULL));
  if (!strcmp(c, "acct-missing")) return res(acct("/nonexistent-sjprobe"));
  if (!strcmp(c, "chroot-escape") && n >= 2) {
    /* the classic: chroot into a subdirectory, then walk ".." from outside it */
    mkdir("/tmp/sjprobe-chroot", 0700);
    if (chroot("/tmp/sjprobe-chroot") < 0) return err(errno);
    for (int i = 0; i < 64; i++) if (chdir("..") < 0) break;
    if (chroot(".") < 0) return err(errno);
    struct stat st;
    return res(stat(a[1], &st) == 0 ? 0 : -1);
  }
  if (!strcmp(c, "prlimit-child")) {
    pid_t p = fork();
    if (p == 0) { pause(); _exit(0); }
    if (p < 0) return err(errno);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int r = prlimit(p, RLIMIT_NOFILE, &rl, NULL), e = errno;
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    errno = e;
    return res(r);
  }
  if (!strcmp(c, "write") && n >= 3) {
    int fd = open(a[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return err(errno);
    ssize_t r = write(fd, a[2], strlen(a[2]));
    close(fd);
    return res(r);
  }
  if (!strcmp(c, "openw") && n >= 2) {
    int fd = open(a[1], O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd >= 0) close(fd);
    return res(fd < 0 ? -1 : 0);
  }
  if (!strcmp(c, "stat") && n >= 2) {
    struct stat st;
    if (lstat(a[1], &st) < 0) return err(errno);
    printf("ok %u %u %o %lld\n", st.st_uid, st.st_gid, st.st_mode, (long long)st.st_size);
    return 0;
  }
  if (!strcmp(c, "read") && n >= 2) {
    char buf[4096];
    int fd = open(a[1], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return err(errno);
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r < 0) return err(errno);
    for (ssize_t i = 0; i < r; i++) if ((unsigned char)buf[i] < 32 || buf[i] == 127) buf[i] = ' ';
    buf[r] = 0;
    printf("ok %s\n", buf);
    return 0;
  }
  if (!strcmp(c, "getenv") && n >= 2) {
    const char *v = getenv(a[1]);
    printf("ok %s\n", v ? v : "");
    return 0;
  }
  if ((!strcmp(c, "connect4") || !strcmp(c, "connect6")) && n >= 3) {
    int six = c[7] == '6';
    int s = socket(six ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return err(errno);
    struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(a[2])) };
    struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(a[2])) };
    if (inet_pton(six ? AF_INET6 : AF_INET, a[1], six ? (void *)&s6.sin6_addr : (void *)&s4.sin_addr) != 1) return err(EINVAL);
    int r = six ? connect(s, (struct sockaddr *)&s6, sizeof s6) : connect(s, (struct sockaddr *)&s4, sizeof s4);
    if (r == 0) { ssize_t w = write(s, "sjprobe\n", 8); (void)w; }
    return res(r);
  }
  if (!strcmp(c, "uconnect") && n >= 2) {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return err(errno);
    struct sockaddr_un u = { .sun_family = AF_UNIX };
    size_t l = strlen(a[1]);
    if (l + 1 > sizeof u.sun_path) return err(EINVAL);
    memcpy(u.sun_path + 1, a[1], l); /* abstract: a leading NUL */
    return res(connect(s, (struct sockaddr *)&u, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + l)));
  }
  if (!strcmp(c, "userve") && n >= 2) {
    /* on the host: an abstract unix listener NAME; "listening", then "peer" per connection,
     * until its standard input closes */
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return err(errno);
    struct sockaddr_un u = { .sun_family = AF_UNIX };
    size_t l = strlen(a[1]);
    if (l + 1 > sizeof u.sun_path) return err(EINVAL);
    memcpy(u.sun_path + 1, a[1], l);
    if (bind(s, (struct sockaddr *)&u, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + l)) < 0 || listen(s, 16) < 0) return err(errno);
    printf("listening\n");
    fflush(stdout);
    for (;;) {
      struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = s, .events = POLLIN } };
      if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; return err(errno); }
      if (p[1].revents & POLLIN) {
        int cfd = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        if (cfd >= 0) { printf("peer\n"); fflush(stdout); close(cfd); }
      }
      if (p[0].revents) {
        char b[64];
        if (read(0, b, sizeof b) <= 0) return 0;
      }
    }
  }
  if (!strcmp(c, "kill") && n >= 3) return res(kill((pid_t)atoi(a[1]), atoi(a[2])));
  if (!strcmp(c, "alloc") && n >= 2) {
    /* touches MB mebibytes, one at a time: a memory limit ends it (ENOMEM or the OOM killer) */
    long mb = atol(a[1]);
    for (long i = 0; i < mb; i++) {
      char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return err(errno);
      memset(p, 1, 1 << 20);
    }
    return res(mb);
  }
  if (!strcmp(c, "forks") && n >= 2) {
    /* forks up to N children that wait on a pipe, counts them, then ends them (its own) */
    int want = atoi(a[1]), got = 0, pfd[2];
    if (pipe(pfd) < 0) return err(errno);
    pid_t kids[1024];
    if (want > 1024) want = 1024;
    for (; got < want; got++) {
      pid_t p = fork();
      if (p == 0) { char b; close(pfd[1]); ssize_t r = read(pfd[0], &b, 1); (void)r; _exit(0); }
      if (p < 0) break;
      kids[got] = p;
    }
    close(pfd[1]);
    for (int i = 0; i < got; i++) waitpid(kids[i], NULL, 0);
    printf("ok %d\n", got);
    return 0;
  }
  if (!strcmp(c, "personality") && n >= 2) return res(syscall(SYS_personality, num(a[1])));
  if (!strcmp(c, "fds")) {
    char f0[64], f1[64], f2[64];
    fdid(0, f0, sizeof f0); fdid(1, f1, sizeof f1); fdid(2, f2, sizeof f2);
    printf("ok %s %s %s\n", f0, f1, f2);
    return 0;
  }
  if (!strcmp(c, "hold") && n >= 2) {
    /* (argv[1] is "hold", which steal looks for) prints its fds, then waits */
    char f0[64], f1[64], f2[64];
    fdid(0, f0, sizeof f0); fdid(1, f1, sizeof f1); fdid(2, f2, sizeof f2);
    printf("ok %s %s %s\n", f0, f1, f2);
    fflush(stdout);
    sleep_ms(atol(a[1]) * 1000);
    return 0;
  }
  if (!strcmp(c, "steal") && n >= 3) {
    /* waits (up to SECONDS) for a process whose argv[1] is MARK, then tries to take its fds 0-2 */
    pid_t p = 0;
    for (long i = 0; i < atol(a[2]) * 20 && !(p = find_marked(a[1])); i++) sleep_ms(50);
    if (!p) { printf("none\n"); fflush(stdout); return 1; }
    int pfd = (int)syscall(SYS_pidfd_open, p, 0);
    for (int fd = 0; fd <= 2; fd++) {
      char id[64], path[64];
      int got = pfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pfd, fd, 0) : -1;
      if (got >= 0) { fdid(got, id, sizeof id); printf("stolen pidfd_getfd %d %s\n", fd, id); close(got); }
      else printf("denied pidfd_getfd %d %s\n", fd, ename(errno));
      snprintf(path, sizeof path, "/proc/%d/fd/%d", p, fd);
      got = open(path, O_PATH | O_CLOEXEC);
      if (got >= 0) { fdid(got, id, sizeof id); printf("stolen proc-fd %d %s\n", fd, id); close(got); }
      else printf("denied proc-fd %d %s\n", fd, ename(errno));
    }
    printf("done\n");
    fflush(stdout);
    return 0;
  }
  if (!strcmp(c, "rename") && n >= 3) {
    /* a process title of its choice (argv and comm), then waits */
    size_t room = (size_t)(g_argv[g_argc - 1] + strlen(g_argv[g_argc - 1]) - g_argv[0]);
    char title[512];
    snprintf(title, sizeof title, "%s", a[1]);
    long secs = atol(a[2]);
    prctl(PR_SET_NAME, title, 0, 0, 0);
    memset(g_argv[0], 0, room);
    memcpy(g_argv[0], title, strlen(title) < room ? strlen(title) : room);
    printf("ok renamed\n");
    fflush(stdout);
    sleep_ms(secs * 1000);
    return 0;
  }
  if (!strcmp(c, "suid") && n >= 2) {
    /* as jail root: try every way to leave a setuid/setgid-root or file-capability program */
    if (chdir(a[1]) < 0) return err(errno);
    int fd = open("chmod-u", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
    printf("chown-u %s\n", chown("chmod-u", 0, 0) < 0 ? ename(errno) : "ok");
    printf("chmod-u %s\n", chmod("chmod-u", 04755) < 0 ? ename(errno) : "ok");
    fd = open("chmod-g", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
    printf("chown-g %s\n", chown("chmod-g", 0, 0) < 0 ? ename(errno) : "ok");
    printf("chmod-g %s\n", chmod("chmod-g", 02755) < 0 ? ename(errno) : "ok");
    fd = open("creat-u", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 06755);
    printf("creat-u %s\n", fd < 0 ? ename(errno) : "ok");
    if (fd >= 0) { if (fchmod(fd, 06755) < 0) {} close(fd); }
    fd = open("fcaps", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fd >= 0) close(fd);
    /* vfs_cap_data v2: CAP_SETUID permitted and effective */
    uint32_t cap[5] = { 0x02000000 | 1, 1u << 7, 0, 0, 0 };
    printf("setxattr %s\n", setxattr("fcaps", "security.capability", cap, sizeof cap, 0) < 0 ? ename(errno) : "ok");
    return 0;
  }
  if (!strcmp(c, "host-file") && n >= 2) {
    /* on the host: owner, mode and file capabilities of a file */
    struct stat st;
    if (lstat(a[1], &st) < 0) return err(errno);
    unsigned char x[64];
    ssize_t l = lgetxattr(a[1], "security.capability", x, sizeof x);
    char caps[64] = "none";
    if (l >= 4) {
      uint32_t magic = x[0] | x[1] << 8 | x[2] << 16 | (uint32_t)x[3] << 24;
      if ((magic >> 24) == 3 && l >= 24) snprintf(caps, sizeof caps, "v3:%u", x[20] | x[21] << 8 | x[22] << 16 | (uint32_t)x[23] << 24);
      else snprintf(caps, sizeof caps, "v%u", magic >> 24);
    }
    printf("ok %u %u %o %s\n", st.st_uid, st.st_gid, st.st_mode & 07777, caps);
    return 0;
  }
  if (!strcmp(c, "msgq-new")) return res(msgget(IPC_PRIVATE, IPC_CREAT | 0600));
  if (!strcmp(c, "msgq-rm") && n >= 2) return res(msgctl(atoi(a[1]), IPC_RMID, NULL));
  if (!strcmp(c, "msgq-stat") && n >= 2) {
    struct msqid_ds ds;
    return res(msgctl(atoi(a[1]), IPC_STAT, &ds));
  }
  printf("err usage: unknown call %s\n", c);
  return 2;
}

int main(int argc, char **argv) {
  g_argc = argc;
  g_argv = argv;
  setvbuf(stdout, NULL, _IOLBF, 0);
  int rc = 0;
  for (int i = 1; i < argc;) {
    int j = i;
    while (j < argc && strcmp(argv[j], "+")) j++;
    if (call(argv + i, j - i) != 0) rc = 1;
    i = j + 1;
  }
  return rc;
}
