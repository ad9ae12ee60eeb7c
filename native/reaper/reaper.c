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
 * fault-around map most of it), this one 8 kB. Hence the two system-call stubs below, one per
 * architecture the package ships (x86_64, aarch64).
 *
 * Memory (docs/BENCHMARKS-NOTES.md, "Idle container memory"): idle, the process holds two pages,
 * its code (one page of the file, read-only and executable, shared by every reaper of the host;
 * linked with -z noseparate-code: headers, code and constants in that page) and `mem` below (one
 * private page, read-write, not executable: its argv copied, then its stack). Right at its start
 * it copies its argv into `mem`, points /proc/PID/cmdline there (PR_SET_MM_MAP, so host root's
 * `ps` still shows what it will remove), moves its stack there and unmaps everything above its own
 * image: the kernel's stack (argv, environment, auxiliary vector: up to three pages with the
 * kernel's random stack offset), the vDSO and vvar, none of which it uses (no signal handlers, no
 * clock). If the argv does not fit or PR_SET_MM_MAP is refused, it runs as before on the kernel's
 * stack (more memory, the same duties). */
#include <linux/prctl.h>
#include <linux/signal.h>
#include <sys/syscall.h>

#define NULL ((void *)0)
#define EINTR 4
#define EBUSY 16
#define POLLIN 1

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
/* reaper_switch(argc, argv, sp, pagesz): reaper_main(argc, argv, pagesz) on the stack SP */
__asm__(".text\nreaper_switch:\n mov %rdx,%rsp\n mov %rcx,%rdx\n xor %rbp,%rbp\n call reaper_main\n hlt\n");
#elif defined(__aarch64__)
static long sc6(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d, x4 __asm__("x4") = e, x5 __asm__("x5") = f;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
__asm__(".text\n.globl _start\n_start:\n mov x29, #0\n mov x30, #0\n mov x0, sp\n and sp, x0, #-16\n bl reaper_start\n brk #0\n");
__asm__(".text\nreaper_switch:\n mov sp, x2\n mov x2, x3\n mov x29, #0\n mov x30, #0\n bl reaper_main\n brk #0\n");
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
 * deepest frame (reaper_main) takes about 300 (gcc -fstack-usage). An overflow would fault, never
 * overwrite anything the reaper uses: below `mem` the linker leaves an unmapped page (with 64 kB
 * pages: unused bytes, then the read-only code). */
#define MEM_SIZE 4096
#define MEM_STACK 1536
static char mem[MEM_SIZE] __attribute__((aligned(MEM_SIZE)));
/* the linker's: the start of this image, the end of its code, its end (mem included) */
extern char __executable_start[], etext[], _end[];

__attribute__((noreturn)) void reaper_switch(long argc, char **argv, char *sp, unsigned long pagesz);
__attribute__((used, noreturn)) void reaper_main(long argc, char **argv, unsigned long unmap);

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
  if (argc < 1 || need > MEM_SIZE - MEM_STACK) reaper_main(argc, argv, 0);
  /* argv's copy, laid out as the kernel's (NUL-terminated strings one after the other) */
  char **nargv = (char **)mem, *args = mem + (argc + 1) * sizeof(char *), *s = args;
  for (long i = 0; i < argc; i++) {
    nargv[i] = s;
    for (const char *c = argv[i]; (*s++ = *c++);) {}
  }
  nargv[argc] = NULL;
  /* /proc/PID/cmdline from the copy. PR_SET_MM_MAP (unlike PR_SET_MM_ARG_START, which needs
   * CAP_SYS_RESOURCE, often dropped for engines) sets every bound of the memory map at once:
   * this image's code, no data segment and an unused brk area (the reaper never calls brk), the
   * stack and argv in `mem`, an empty environment. Refused (a kernel without
   * CONFIG_CHECKPOINT_RESTORE): the kernel's stack stays, and with it the argv host root reads. */
  long brk = sc(SYS_brk, 0, 0, 0, 0);
  struct prctl_mm_map m = {
    .start_code = (unsigned long)__executable_start, .end_code = (unsigned long)etext,
    .start_data = (unsigned long)mem, .end_data = (unsigned long)mem,
    .start_brk = (unsigned long)brk, .brk = (unsigned long)brk,
    .start_stack = (unsigned long)(mem + MEM_SIZE - sizeof(long)),
    .arg_start = (unsigned long)args, .arg_end = (unsigned long)s,
    .env_start = (unsigned long)s, .env_end = (unsigned long)s,
    .auxv = NULL, .auxv_size = 0, .exe_fd = (unsigned int)-1,
  };
  int set = sc(SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, &m, sizeof m) == 0;
  if (!set) reaper_main(argc, argv, 0);
  reaper_switch(argc, nargv, mem + MEM_SIZE, pagesz);
}

/* Unmaps everything above this image: the kernel's stack, the vDSO, vvar (nothing here uses
 * them once on `mem`'s stack). The top of the address space differs by architecture and paging
 * depth (x86_64: 2^47 - 4 kB, or 2^56 - 4 kB with 5 levels; aarch64: 2^39 to 2^52): munmap
 * refuses a range past it (EINVAL, nothing unmapped), so the largest accepted range is it. */
static void unmap_above(unsigned long pagesz) {
  unsigned long from = ((unsigned long)_end + pagesz - 1) & ~(pagesz - 1);
  for (int bits = 56; bits >= 36; bits--)
    for (unsigned long cut = 0; cut <= pagesz; cut += pagesz) {
      unsigned long top = (1UL << bits) - cut;
      if (top > from && sc(SYS_munmap, from, top - from, 0, 0) == 0) return;
    }
}

/* The reaper proper: on `mem`'s stack (UNMAP, the page size: unmap the rest first) or, when
 * that could not be set up, on the kernel's (UNMAP 0). */
__attribute__((used, noreturn)) void reaper_main(long argc, char **argv, unsigned long unmap) {
  if (unmap) unmap_above(unmap);
  int pidfd = argc > 1 ? parse_fd(argv[1]) : -1;
  int bad = 0;
  if (pidfd < 3) sc(SYS_exit_group, 2, 0, 0, 0);
  /* nothing else of the monitor's is kept open */
  if (pidfd > 3) sc(SYS_close_range, 3, pidfd - 1, 0, 0);
  sc(SYS_close_range, pidfd + 1, ~0U, 0, 0);
  sc(SYS_fcntl, pidfd, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */, 0);
  /* the signals that stop the monitor stop this one (still blocked from the monitor: one that
   * came during the exec is pending and read here) */
  unsigned long mask = (1UL << (SIGTERM - 1)) | (1UL << (SIGINT - 1)) | (1UL << (SIGHUP - 1));
  sc(SYS_rt_sigprocmask, SIG_BLOCK, &mask, NULL, sizeof mask);
  int sigfd = (int)sc6(SYS_signalfd4, -1, (long)&mask, sizeof mask, 04000 | 02000000 /* NONBLOCK|CLOEXEC */, 0, 0);
  /* without a signalfd, the signals at least end this process (their default action) */
  if (sigfd < 0) sc(SYS_rt_sigprocmask, SIG_UNBLOCK, &mask, NULL, sizeof mask);
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
  /* cgroup directories in the order given (deepest first), each retried while the kernel still
   * tears the jail's last processes down */
  for (long i = 2; i + 1 < argc; i += 2) {
    if (argv[i][0] != '-' || argv[i][1] != 'c' || argv[i][2]) continue;
    const char *d = argv[i + 1];
    if (!below(d, "/sys/fs/cgroup")) { bad = 1; continue; }
    for (int tries = 0; tries < 100; tries++) {
      long e = sc(SYS_unlinkat, -100 /* AT_FDCWD */, d, 0x200 /* AT_REMOVEDIR */, 0);
      if (e != -EBUSY) break;
      struct timespec_ ts = { 0, 2000000 };
      sc(SYS_nanosleep, &ts, NULL, 0, 0);
    }
  }
  /* the state files in the order given: the id reservation, last, frees the jail's id */
  for (long i = 2; i + 1 < argc; i += 2) {
    if (argv[i][0] != '-' || argv[i][1] != 'f' || argv[i][2]) continue;
    const char *f = argv[i + 1];
    int ok = 0;
    for (long k = 2; k + 1 < argc && !ok; k += 2)
      if (argv[k][0] == '-' && argv[k][1] == 'd' && !argv[k][2] && !starts_with(argv[k + 1], "/sys/") && below(f, argv[k + 1])) ok = 1;
    if (!ok) { bad = 1; continue; }
    sc(SYS_unlinkat, -100, f, 0, 0);
  }
  sc(SYS_exit_group, bad, 0, 0, 0);
  for (;;) {}
}
