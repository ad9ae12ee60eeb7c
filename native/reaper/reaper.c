/* reaper.c: what an idle OCI container's monitor becomes (native/build/sysjail-reaper).
 *
 * Once a container's command runs and its monitor has no duty left but the last one (wait for
 * the init to end, then remove the container's cgroup directories and registry files), the
 * monitor execve()s this program (run.c, hand_over): same pid, same start time, so the registry's
 * pid+start still names it. It is a flat executor: everything it does comes from its argv, set by
 * the monitor right before the exec (never from a file), and the init's pidfd, inherited:
 *
 *   sysjail-reaper PIDFD [-c CGROUP_DIR]... [-d STATE_DIR]... [-f STATE_FILE]...
 *
 * the cgroup directories in the order they are removed (deepest first), the state files in the
 * order they are unlinked (the id reservation last), each under one of the STATE_DIRs. As defence
 * in depth a directory outside /sys/fs/cgroup, a file outside the directories handed, and any
 * path with a "." or ".." component or a double slash are refused (skipped, exit status 1).
 * SIGTERM, SIGINT or SIGHUP (host root stopping the monitor) kill the init through its pidfd
 * first, as the monitor does.
 *
 * No C library: a static glibc program costs about 650 kB of PSS idle (its start-up and
 * fault-around map most of it), this one 4 kB. Hence the system-call stubs below, one per
 * architecture the package ships (x86_64, aarch64).
 *
 * Memory (docs/BENCHMARKS-NOTES.md, "Idle container memory"): idle, the process holds one page,
 * its code (one page of the file, read-only and executable, shared by every reaper of the host;
 * linked with -z noseparate-code: headers, code and constants in that page). Its one writable
 * page, `mem` below (read-write, never executable), is resident only while it works. Right at its
 * start it copies its argv into `mem`, points /proc/PID/cmdline there (PR_SET_MM_MAP), moves its
 * stack there and unmaps everything above its own image: the kernel's stack (argv, environment,
 * auxiliary vector), the vDSO and vvar, none of which it uses (no signal handlers, no clock).
 * Then it "arms" (arm()): all its state moves into kernel objects at fixed descriptors (FD_*
 * below): the init's pidfd, a signalfd, an epoll instance watching both, and an O_PATH
 * descriptor of every cgroup directory, state directory and state file of its argv, each checked
 * to read back through /proc/self/fd/N as the very path it was opened by (so /proc is there and
 * names it the same way). /proc/PID/cmdline is then empty (the kernel reads a command line only
 * from anonymous memory, FOLL_ANON, not from the code page): `ps` shows its comm in brackets,
 * "[sysjail-reaper]"; what it will remove is what `ls -l /proc/PID/fd` shows. reaper_idle
 * drops `mem` (MADV_DONTNEED) and waits in epoll_pwait with every argument in registers: nothing
 * touches memory between the two, and the kernel writes the events (into the page, which it then
 * allocates afresh, zero-filled) only once it returns. Each wake-up starts afresh on a new stack
 * at the page's end (reaper_wake) and re-derives everything from the descriptors: a signal kills
 * the init and the reaper waits again; the init's end (or a failed wait) removes what the
 * descriptors name:
 *
 * - a cgroup directory by its path as /proc/self/fd/N reads now, still required below
 *   /sys/fs/cgroup and clean: it follows a rename (cgroup v2 renames nothing, v1 only within the
 *   same parent, which the jail cannot write: the name stays below /sys/fs/cgroup and names the
 *   directory the monitor made); a "(deleted)" one was already removed (by `delete`) and is
 *   skipped, never a new directory that took its name.
 * - a state file by its name as /proc/self/fd/N reads now, " (deleted)" cut off (the registry
 *   replaces an entry by rename: the name stays the one to remove, as the argv path was before),
 *   required below one of the state directories as their descriptors read now (not "(deleted)",
 *   not under /sys). The state directory is root's or the rootless owner's own: only they can
 *   rename anything in it, and they could remove it themselves.
 *
 * Between the drop and the wait's return nothing of the reaper lives but its registers and its
 * descriptors; the code page stays resident (shared), the page tables stay (12 kB, not in PSS).
 *
 * Anything refused or missing at the start (a path that fails a check, does not exist, does not
 * read back the same, is too long for PATH_BUF, more paths than the descriptor ranges hold, no
 * /proc, PR_SET_MM_MAP refused) and the reaper does not arm: it runs as before, holding its page
 * (8 kB instead of 4 kB, the same duties, its argv in cmdline). An argv that does not fit in
 * `mem` is armed from the kernel's stack, then the reaper moves to `mem`, unmaps the rest and
 * drops `mem` all the same; not armed, it runs on the kernel's stack (more memory, the same
 * duties).
 *
 * Tests: test/oci/reaper-exec.test.ts runs the x86_64 reaper on the kernel, and the cross-built
 * aarch64 one under user-mode emulation (qemu-aarch64-static, no aarch64 machine needed): a
 * test of its stubs, its assembly and its logic, not of the kernel's memory (qemu's cmdline and
 * map are qemu's). qemu-user passes the inherited pidfd, signalfd, epoll_pwait, madvise
 * (MADV_DONTNEED on this page), ppoll, pidfd_send_signal and the O_PATH descriptors through to
 * the host kernel, but refuses PR_SET_MM itself (EINVAL, the kernel never asked): the shipped
 * build runs there unarmed (the fallback above). A test build with -DSYSJAIL_REAPER_QEMU_USER
 * (never shipped) skips exactly the two steps qemu cannot do, set_mm (taken as done) and
 * unmap_above (qemu-user maps its guest at base 0 and hands a guest munmap to the host: above
 * this image it would unmap qemu itself), so that the armed path runs: arm(), reaper_idle,
 * reaper_wake on its fresh stack, reap from the descriptors. */
#include <linux/eventpoll.h>
#include <linux/fcntl.h>
#include <linux/prctl.h>
#include <linux/signal.h>
#include <sys/syscall.h>

#define NULL ((void *)0)
#define EINTR 4
#define EBUSY 16
#define POLLIN 1
#define MADV_DONTNEED_ 4
#define F_GETFD_ 1
#define XSTR(x) STR(x)
#define STR(x) #x

struct pollfd_ { int fd; short events, revents; };
struct timespec_ { long sec, nsec; };
struct siginfo_ { unsigned int signo; unsigned char rest[124]; }; /* struct signalfd_siginfo */

#if defined(__x86_64__)
static long sc6(long n, long a, long b, long c, long d, long e, long f) {
  long r;
  register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return r;
}
__asm__(".text\n.globl _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call reaper_start\n hlt\n");
/* reaper_switch(argc, argv, sp, pagesz): reaper_main(argc, argv, pagesz, pagesz) on the stack SP */
__asm__(".text\nreaper_switch:\n mov %rdx,%rsp\n mov %rcx,%rdx\n xor %rbp,%rbp\n call reaper_main\n hlt\n");
/* reaper_idle(page, size, epfd): drop PAGE, wait on EPFD (events written to the page's start at
 * return), then reaper_wake(result) on a fresh stack at the page's end. Between the madvise and
 * the wait's return only registers are used (r12-r14 survive the system calls). */
__asm__(".text\nreaper_idle:\n mov %rdi,%r12\n mov %rsi,%r13\n mov %rdx,%r14\n"
        " mov $" XSTR(SYS_madvise) ",%eax\n mov $4,%edx\n syscall\n"
        "1:\n mov $" XSTR(SYS_epoll_pwait) ",%eax\n mov %r14,%rdi\n mov %r12,%rsi\n mov $2,%edx\n"
        " mov $-1,%r10\n xor %r8d,%r8d\n mov $8,%r9d\n syscall\n cmp $-4,%rax\n je 1b\n"
        " lea (%r12,%r13),%rsp\n xor %rbp,%rbp\n mov %rax,%rdi\n call reaper_wake\n hlt\n");
#elif defined(__aarch64__)
static long sc6(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d, x4 __asm__("x4") = e, x5 __asm__("x5") = f;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
__asm__(".text\n.globl _start\n_start:\n mov x29, #0\n mov x30, #0\n mov x0, sp\n and sp, x0, #-16\n bl reaper_start\n brk #0\n");
__asm__(".text\nreaper_switch:\n mov sp, x2\n mov x2, x3\n mov x29, #0\n mov x30, #0\n bl reaper_main\n brk #0\n");
/* reaper_idle(page, size, epfd): as on x86_64 (x19-x21 survive the system calls) */
__asm__(".text\nreaper_idle:\n mov x19, x0\n mov x20, x1\n mov x21, x2\n"
        " mov x2, #4\n mov x8, #" XSTR(SYS_madvise) "\n svc #0\n"
        "1:\n mov x0, x21\n mov x1, x19\n mov x2, #2\n mov x3, #-1\n mov x4, #0\n mov x5, #8\n"
        " mov x8, #" XSTR(SYS_epoll_pwait) "\n svc #0\n cmn x0, #4\n b.eq 1b\n"
        " add x9, x19, x20\n mov sp, x9\n mov x29, #0\n mov x30, #0\n bl reaper_wake\n brk #0\n");
#else
#error "sysjail-reaper: no system-call stub for this architecture"
#endif

#define sc(n, a, b, c, d) sc6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static int starts_with(const char *s, const char *p) {
  while (*p) if (*s++ != *p++) return 0;
  return 1;
}

static unsigned long len(const char *s) {
  unsigned long n = 0;
  while (s[n]) n++;
  return n;
}

static int same(const char *a, const char *b) {
  return starts_with(a, b) && len(a) == len(b);
}

/* An absolute path without ".", ".." or empty components, and no trailing slash. */
static int clean_path(const char *p) {
  if (p[0] != '/' || !p[1]) return 0;
  for (const char *c = p; *c; c++) {
    if (*c != '/') continue;
    const char *n = c + 1;
    if (*n == 0 || *n == '/') return 0;
    if (n[0] == '.' && (n[1] == 0 || n[1] == '/' || (n[1] == '.' && (n[2] == 0 || n[2] == '/')))) return 0;
  }
  return 1;
}

/* FILE is a clean path strictly below the clean directory DIR. */
static int below(const char *file, const char *dir) {
  unsigned long n = len(dir);
  return clean_path(file) && clean_path(dir) && starts_with(file, dir) && file[n] == '/' && file[n + 1];
}

static int parse_fd(const char *s) {
  long v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 1 << 20) return -1;
    v = v * 10 + (*s - '0');
  }
  return (int)v;
}

/* The one page the reaper writes once started (its .bss, alone there): argv's copy at its start,
 * the stack growing down from its end. MEM_STACK bytes at least are left to the stack: the
 * deepest frames before arming (reaper_main, arm inlined, then set_mm) take about 800 bytes, as
 * the unarmed removals do (gcc -fstack-usage, -Os, x86_64 and aarch64). An overflow would fault,
 * never overwrite anything the reaper uses: below `mem` the linker leaves an unmapped page (with
 * 64 kB pages: unused bytes, then the read-only code). Once armed, the page holds only
 * reaper_wake's stack (about 1.2 kB deep) and the events the wait writes at its start. */
#define MEM_SIZE 4096
#define MEM_STACK 1536
static char mem[MEM_SIZE] __attribute__((aligned(MEM_SIZE)));
/* the linker's: the start of this image, the end of its code, its end (mem included) */
extern char __executable_start[], etext[], _end[];

/* Where an armed reaper keeps its state, all below 64 (the descriptor table every process has
 * built in: no larger table allocated): the init's pidfd, the signalfd, the epoll instance, then
 * O_PATH descriptors of the cgroup dirs (in removal order), the state dirs and the state files
 * (in removal order), each range filled from its start with no gap. */
#define FD_INIT 3
#define FD_SIG 4
#define FD_EP 5
#define FD_CG 8
#define FD_DIR 32
#define FD_FILE 40
#define FD_END 64
/* the longest path an armed reaper reads back (" (deleted)" included) */
#define PATH_BUF 512
#define DELETED " (deleted)"

__attribute__((noreturn)) void reaper_switch(long argc, char **argv, char *sp, unsigned long pagesz);
__attribute__((noreturn)) void reaper_idle(char *page, unsigned long size, long epfd);
__attribute__((used, noreturn)) void reaper_main(long argc, char **argv, unsigned long unmap, unsigned long pagesz);
__attribute__((used, noreturn)) void reaper_wake(long r);

/* Points /proc/PID/cmdline at ARGS..END. PR_SET_MM_MAP (unlike PR_SET_MM_ARG_START, which needs
 * CAP_SYS_RESOURCE, often dropped for engines) sets every bound of the memory map at once: this
 * image's code, no data segment and an unused brk area (the reaper never calls brk), the stack
 * in `mem`, argv as given, an empty environment right after it. */
static long set_mm(const char *args, const char *end) {
  long brk = sc(SYS_brk, 0, 0, 0, 0);
  struct prctl_mm_map m = {
    .start_code = (unsigned long)__executable_start, .end_code = (unsigned long)etext,
    .start_data = (unsigned long)mem, .end_data = (unsigned long)mem,
    .start_brk = (unsigned long)brk, .brk = (unsigned long)brk,
    .start_stack = (unsigned long)(mem + MEM_SIZE - sizeof(long)),
    .arg_start = (unsigned long)args, .arg_end = (unsigned long)end,
    .env_start = (unsigned long)end, .env_end = (unsigned long)end,
    .auxv = NULL, .auxv_size = 0, .exe_fd = (unsigned int)-1,
  };
#ifdef SYSJAIL_REAPER_QEMU_USER
  (void)m;
  return 0; /* qemu-user refuses PR_SET_MM itself (EINVAL): the test build only, see the top */
#endif
  return sc(SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, &m, sizeof m);
}

/* C entry (from _start): SP points at argc, argv[], NULL, envp[], NULL, auxv pairs, 0. */
__attribute__((used, noreturn)) void reaper_start(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  while (*envp) envp++;
  unsigned long pagesz = 4096;
  for (unsigned long *av = (unsigned long *)(envp + 1); av[0]; av += 2)
    if (av[0] == 6 /* AT_PAGESZ */) pagesz = av[1];
  unsigned long need = (unsigned long)(argc + 1) * sizeof(char *);
  for (long i = 0; i < argc && need <= MEM_SIZE; i++) need += len(argv[i]) + 1;
  if (argc < 1 || need > MEM_SIZE - MEM_STACK) reaper_main(argc, argv, 0, pagesz);
  /* argv's copy, laid out as the kernel's (NUL-terminated strings one after the other) */
  char **nargv = (char **)mem, *args = mem + (argc + 1) * sizeof(char *), *s = args;
  for (long i = 0; i < argc; i++) {
    nargv[i] = s;
    for (const char *c = argv[i]; (*s++ = *c++);) {}
  }
  nargv[argc] = NULL;
  /* /proc/PID/cmdline from the copy. Refused (a kernel without CONFIG_CHECKPOINT_RESTORE): the
   * kernel's stack stays, and with it the argv host root reads. */
  if (set_mm(args, s) != 0) reaper_main(argc, argv, 0, pagesz);
  reaper_switch(argc, nargv, mem + MEM_SIZE, pagesz);
}

/* Unmaps everything above this image: the kernel's stack, the vDSO, vvar (nothing here uses
 * them once on `mem`'s stack). The top of the address space differs by architecture and paging
 * depth (x86_64: 2^47 - 4 kB, or 2^56 - 4 kB with 5 levels; aarch64: 2^39 to 2^52): munmap
 * refuses a range past it (EINVAL, nothing unmapped), so the largest accepted range is it. */
static void unmap_above(unsigned long pagesz) {
#ifdef SYSJAIL_REAPER_QEMU_USER
  (void)pagesz;
  return; /* qemu-user would unmap itself: the test build only, see the top */
#endif
  unsigned long from = ((unsigned long)_end + pagesz - 1) & ~(pagesz - 1);
  for (int bits = 56; bits >= 36; bits--)
    for (unsigned long cut = 0; cut <= pagesz; cut += pagesz) {
      unsigned long top = (1UL << bits) - cut;
      if (top > from && sc(SYS_munmap, from, top - from, 0, 0) == 0) return;
    }
}

/* rmdir D, retried while the kernel still tears the jail's last processes down */
static void remove_dir(const char *d) {
  for (int tries = 0; tries < 100; tries++) {
    if (sc(SYS_unlinkat, AT_FDCWD, d, AT_REMOVEDIR, 0) != -EBUSY) return;
    struct timespec_ ts = { 0, 2000000 };
    sc(SYS_nanosleep, &ts, NULL, 0, 0);
  }
}

/* FD moved to descriptor TO (close-on-exec), or -1. */
static int move_fd(long fd, int to) {
  if (fd < 0) return -1;
  if (fd == to) return to;
  if (sc(SYS_dup3, fd, to, O_CLOEXEC, 0) != to) return -1;
  sc(SYS_close, fd, 0, 0, 0);
  return to;
}

static int is_open(int fd) {
  return sc(SYS_fcntl, fd, F_GETFD_, 0, 0) >= 0;
}

/* What /proc/self/fd/FD reads (NUL-terminated in BUF, PATH_BUF bytes): its length, or -1 (no
 * /proc, no such descriptor, or a path too long). */
static long fd_path(int fd, char *buf) {
  char p[24];
  const char *pre = "/proc/self/fd/";
  int n = 0;
  while (*pre) p[n++] = *pre++;
  char digits[4];
  int d = 0;
  do { digits[d++] = (char)('0' + fd % 10); fd /= 10; } while (fd && d < 4);
  while (d) p[n++] = digits[--d];
  p[n] = 0;
  long r = sc(SYS_readlinkat, AT_FDCWD, p, buf, PATH_BUF - 1);
  if (r < 0 || r >= PATH_BUF - 1) return -1;
  buf[r] = 0;
  return r;
}

/* True if the N bytes of PATH end in " (deleted)" (the kernel's mark of a removed name). */
static int deleted(const char *path, long n) {
  long k = sizeof DELETED - 1;
  return n > k && same(path + n - k, DELETED);
}

/* The Ith path of kind K ('c', 'd' or 'f') in argv or, ARGV NULL (armed), as its descriptor
 * reads now (into BUF, " (deleted)" cut off a file's): NULL past the last, "" for a cgroup or
 * state dir removed meanwhile and for any path unreadable (which then passes no check). */
static const char *nth(long argc, char **argv, char k, int i, char *buf) {
  if (argv) {
    for (long a = 2; a + 1 < argc; a += 2)
      if (argv[a][0] == '-' && argv[a][1] == k && !argv[a][2] && i-- == 0) return argv[a + 1];
    return NULL;
  }
  int fd = (k == 'c' ? FD_CG : k == 'd' ? FD_DIR : FD_FILE) + i;
  if (fd >= (k == 'c' ? FD_DIR : k == 'd' ? FD_FILE : FD_END) || !is_open(fd)) return NULL;
  long n = fd_path(fd, buf);
  if (n < 0) return "";
  if (deleted(buf, n)) {
    if (k != 'f') return "";
    buf[n - (sizeof DELETED - 1)] = 0; /* replaced (the registry renames entries) or removed: its name */
  }
  return buf;
}

/* F is below one of the state dirs (not under /sys) of argv or, ARGV NULL, of the descriptors */
static int handed(long argc, char **argv, const char *f, char *buf) {
  const char *d;
  for (int k = 0; (d = nth(argc, argv, 'd', k, buf)); k++)
    if (!starts_with(d, "/sys/") && below(f, d)) return 1;
  return 0;
}

/* Removes the cgroup dirs, then the state files, named by argv or, ARGV NULL (armed), by the
 * descriptors (read into PATH and DIR, PATH_BUF bytes each); exits 1 if one was refused. */
__attribute__((noreturn)) static void reap(long argc, char **argv, char *path, char *dir) {
  const char *p;
  int bad = 0;
  /* cgroup directories in the order given (deepest first) */
  for (int i = 0; (p = nth(argc, argv, 'c', i, path)); i++) {
    if (!argv && !*p) continue; /* removed meanwhile (or unreadable: skipped) */
    if (!below(p, "/sys/fs/cgroup")) { bad = 1; continue; }
    remove_dir(p);
  }
  /* the state files in the order given: the id reservation, last, frees the jail's id */
  for (int i = 0; (p = nth(argc, argv, 'f', i, path)); i++) {
    if (!handed(argc, argv, p, dir)) { bad = 1; continue; }
    sc(SYS_unlinkat, AT_FDCWD, p, 0, 0);
  }
  sc(SYS_exit_group, bad, 0, 0, 0);
  for (;;) {}
}

/* Arms the reaper (the header): every path of its argv opened at its fixed descriptor and read
 * back; 0 when armed. Anything unusual fails (-1): the caller runs as before. */
static int arm(long argc, char **argv) {
  char buf[PATH_BUF];
  int ncg = 0, nd = 0, nf = 0;
  if (move_fd(sc(SYS_epoll_create1, O_CLOEXEC, 0, 0, 0), FD_EP) < 0) return -1;
  struct epoll_event ev;
  ev.events = EPOLLIN;
  for (int fd = FD_INIT; fd <= FD_SIG; fd++) {
    ev.data = (unsigned long)fd;
    if (sc(SYS_epoll_ctl, FD_EP, EPOLL_CTL_ADD, fd, &ev) != 0) return -1;
  }
  if (fd_path(FD_EP, buf) < 0 || !same(buf, "anon_inode:[eventpoll]")) return -1;
  for (long i = 2; i < argc; i += 2) {
    if (i + 1 >= argc || argv[i][0] != '-' || !argv[i][1] || argv[i][2]) return -1;
    const char *p = argv[i + 1];
    int to, flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
    if (len(p) >= PATH_BUF - sizeof DELETED) return -1;
    if (argv[i][1] == 'c') {
      if (!below(p, "/sys/fs/cgroup") || FD_CG + ncg >= FD_DIR) return -1;
      to = FD_CG + ncg++;
      flags |= O_DIRECTORY;
    } else if (argv[i][1] == 'd') {
      int again = 0; /* one descriptor per directory (the monitor names one per file) */
      for (long k = 2; k < i; k += 2) again |= argv[k][1] == 'd' && same(argv[k + 1], p);
      if (again) continue;
      if (!clean_path(p) || starts_with(p, "/sys/") || FD_DIR + nd >= FD_FILE) return -1;
      to = FD_DIR + nd++;
      flags |= O_DIRECTORY;
    } else if (argv[i][1] == 'f') {
      if (!handed(argc, argv, p, NULL) || FD_FILE + nf >= FD_END) return -1;
      to = FD_FILE + nf++;
    } else {
      return -1;
    }
    if (move_fd(sc(SYS_openat, AT_FDCWD, p, flags, 0), to) < 0) return -1;
    if (fd_path(to, buf) < 0 || !same(buf, p)) return -1;
  }
  /* cmdline off the page about to be dropped: empty (the kernel reads a command line only from
   * anonymous memory, never from the code page), `ps` shows the comm, "[sysjail-reaper]" */
  if (set_mm(mem, mem) != 0) return -1;
  return 0;
}

/* The reaper proper: on `mem`'s stack (UNMAP, the page size: unmap the rest first) or, when that
 * could not be set up, on the kernel's (UNMAP 0). Armed on the kernel's stack (an argv too long
 * for `mem`), it moves to `mem` all the same (ARGV NULL: nothing left to do but unmap and wait). */
__attribute__((used, noreturn)) void reaper_main(long argc, char **argv, unsigned long unmap, unsigned long pagesz) {
  if (unmap) unmap_above(unmap);
  if (!argv) reaper_idle(mem, MEM_SIZE, FD_EP);
  int pidfd = argc > 1 ? parse_fd(argv[1]) : -1;
  if (pidfd < 3) sc(SYS_exit_group, 2, 0, 0, 0);
  /* nothing else of the monitor's is kept open */
  if (pidfd > 3) sc(SYS_close_range, 3, pidfd - 1, 0, 0);
  sc(SYS_close_range, pidfd + 1, ~0U, 0, 0);
  sc(SYS_fcntl, pidfd, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */, 0);
  if (move_fd(pidfd, FD_INIT) == FD_INIT) pidfd = FD_INIT;
  /* the signals that stop the monitor stop this one (still blocked from the monitor: one that
   * came during the exec is pending and read here) */
  unsigned long mask = (1UL << (SIGTERM - 1)) | (1UL << (SIGINT - 1)) | (1UL << (SIGHUP - 1));
  sc(SYS_rt_sigprocmask, SIG_BLOCK, &mask, NULL, sizeof mask);
  int sigfd = (int)sc6(SYS_signalfd4, -1, (long)&mask, sizeof mask, 04000 | 02000000 /* NONBLOCK|CLOEXEC */, 0, 0);
  if (sigfd >= 0 && move_fd(sigfd, FD_SIG) == FD_SIG) sigfd = FD_SIG;
  /* without a signalfd, the signals at least end this process (their default action) */
  if (sigfd < 0) sc(SYS_rt_sigprocmask, SIG_UNBLOCK, &mask, NULL, sizeof mask);
  if (pidfd == FD_INIT && sigfd == FD_SIG) {
    if (arm(argc, argv) == 0) {
      if (unmap) reaper_idle(mem, MEM_SIZE, FD_EP);
      reaper_switch(0, NULL, mem + MEM_SIZE, pagesz);
    }
    sc(SYS_close_range, FD_EP, ~0U, 0, 0); /* not armed: as before */
  }
  int killed = 0;
  for (;;) {
    struct pollfd_ p[2] = { { pidfd, POLLIN, 0 }, { sigfd, POLLIN, 0 } };
    long r = sc6(SYS_ppoll, (long)p, sigfd >= 0 ? 2 : 1, 0, 0, 0, 0);
    if (r < 0 && r != -EINTR) break;
    if (r > 0 && p[0].revents) break; /* the init has ended (its parent, the engine, reaps it) */
    if (r > 0 && p[1].revents) {
      struct siginfo_ si;
      while (sc(SYS_read, sigfd, &si, sizeof si, 0) == (long)sizeof si) {
        if (!killed) { sc(SYS_pidfd_send_signal, pidfd, SIGKILL, 0, 0); killed = 1; }
      }
    }
  }
  reap(argc, argv, NULL, NULL);
}

/* An armed reaper's wake-up, on a fresh stack (reaper_idle): R is what the wait returned. The
 * init ended (its pidfd readable) or the wait failed: remove everything; a signal: kill the init
 * (again, if it came twice: the pidfd names that one process for good), then wait again. */
__attribute__((used, noreturn)) void reaper_wake(long r) {
  struct pollfd_ p[2] = { { FD_INIT, POLLIN, 0 }, { FD_SIG, POLLIN, 0 } };
  struct timespec_ now = { 0, 0 };
  char path[PATH_BUF], dir[PATH_BUF];
  long n = sc6(SYS_ppoll, (long)p, 2, (long)&now, 0, 0, 0);
  if ((r < 0 && r != -EINTR) || (n > 0 && p[0].revents)) reap(0, NULL, path, dir);
  if (n > 0 && p[1].revents) {
    struct siginfo_ si;
    int got = 0;
    while (sc(SYS_read, FD_SIG, &si, sizeof si, 0) == (long)sizeof si) got = 1;
    if (got) sc(SYS_pidfd_send_signal, FD_INIT, SIGKILL, 0, 0);
  }
  reaper_idle(mem, MEM_SIZE, FD_EP);
}
