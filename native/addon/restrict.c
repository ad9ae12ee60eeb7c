/* restrict.c: the Node addon behind restrict() (src/lib/restrict.ts): confines the calling Node
 * process itself, every thread of it, irreversibly. It decides nothing: TypeScript gives it the
 * Landlock rights and paths and the compiled seccomp program; it applies them and reports.
 *
 * Order: no_new_privs; the Landlock domain on every thread but this one, then on this one; the
 * seccomp filter with SECCOMP_FILTER_FLAG_TSYNC, which the kernel installs on every thread at
 * once (or refuses as a whole).
 *
 * Security reasoning for the threads. Landlock's landlock_restrict_self() confines only the
 * calling thread, and this kernel generation has no flag to confine all threads (6.19's TSYNC
 * where present would replace this). libuv's pool threads do the file I/O of fs.promises, so
 * each thread must enter the domain itself: a signal handler does it. The signal is glibc's
 * SIGCANCEL (32): glibc never lets a program block it, so even Node's inspector thread, which
 * blocks every other signal, takes it (its SigBlk is checked first, and a thread that blocked it
 * by a raw call fails the whole call). The handler is installed with the raw rt_sigaction call
 * for the time of the call and the old action is put back after. New threads inherit the domain
 * of the thread that creates them, so the task list is read again until a pass finds no thread
 * left outside; only then does this thread (which reads /proc/self/task) enter the domain. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The few Node-API declarations used here (js_native_api.h; a stable C ABI), so the addon
 * builds without Node's headers. */
typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status;
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);
extern napi_status napi_get_cb_info(napi_env, napi_callback_info, size_t *, napi_value *, napi_value *, void **);
extern napi_status napi_get_value_int64(napi_env, napi_value, int64_t *);
extern napi_status napi_get_value_string_utf8(napi_env, napi_value, char *, size_t, size_t *);
extern napi_status napi_get_array_length(napi_env, napi_value, uint32_t *);
extern napi_status napi_get_element(napi_env, napi_value, uint32_t, napi_value *);
extern napi_status napi_get_buffer_info(napi_env, napi_value, void **, size_t *);
extern napi_status napi_is_buffer(napi_env, napi_value, _Bool *);
extern napi_status napi_create_int64(napi_env, int64_t, napi_value *);
extern napi_status napi_create_array_with_length(napi_env, size_t, napi_value *);
extern napi_status napi_set_element(napi_env, napi_value, uint32_t, napi_value);
extern napi_status napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern napi_status napi_set_named_property(napi_env, napi_value, const char *, napi_value);

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#define SIG_BROADCAST 32 /* glibc's SIGCANCEL: never blocked by glibc's own calls */
#define MAX_THREADS 4096
#define LL_FILE_RIGHTS ((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 14) | (1ULL << 15))

struct ll_attr { uint64_t handled_access_fs, handled_access_net, scoped; };
struct ll_path { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));
/* the kernel's struct sigaction (x86_64, aarch64) */
struct ksigaction { void *handler; unsigned long flags; void *restorer; uint64_t mask; };

/* stages a failure is reported from: result = -(stage * 10000 + errno) */
enum { ST_ARGS = 1, ST_RULESET, ST_PATH, ST_NNP, ST_SIGNAL, ST_THREAD, ST_BLOCKED, ST_SELF, ST_SECCOMP };

static int g_ruleset = -1;
static volatile int g_ack_tid, g_ack_err;

static void on_broadcast(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)si; (void)uc;
  int saved = errno, err = 0;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_landlock_restrict_self, g_ruleset, 0U) < 0) err = errno;
  __atomic_store_n(&g_ack_err, err, __ATOMIC_SEQ_CST);
  __atomic_store_n(&g_ack_tid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
  errno = saved;
}

/* 1 when thread TID blocks SIG_BROADCAST (its SigBlk in /proc), 0 when not, -1 when gone */
static int blocks_signal(int tid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  const char *p = strstr(buf, "SigBlk:");
  if (!p) return -1;
  unsigned long long m = strtoull(p + 7, NULL, 16);
  return (m >> (SIG_BROADCAST - 1)) & 1;
}

/* Confines every thread but this one; returns 0 or -(stage * 10000 + errno). */
static int broadcast(int *count) {
  static int done[MAX_THREADS];
  int ndone = 0, self = (int)syscall(SYS_gettid), pid = getpid();
  for (;;) {
    int added = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d) return -(ST_THREAD * 10000 + errno);
    struct dirent *e;
    while ((e = readdir(d))) {
      int tid = atoi(e->d_name), seen = 0;
      if (tid <= 0 || tid == self) continue;
      for (int i = 0; i < ndone; i++) if (done[i] == tid) { seen = 1; break; }
      if (seen) continue;
      int b = blocks_signal(tid);
      if (b < 0) continue; /* it ended */
      if (b) { closedir(d); return -(ST_BLOCKED * 10000 + EPERM); }
      __atomic_store_n(&g_ack_tid, 0, __ATOMIC_SEQ_CST);
      if (syscall(SYS_tgkill, pid, tid, SIG_BROADCAST) < 0) {
        if (errno == ESRCH) continue;
        int err = errno; closedir(d); return -(ST_THREAD * 10000 + err);
      }
      /* wait for this thread's answer: it runs the handler at its next return to user space */
      for (long spins = 0; __atomic_load_n(&g_ack_tid, __ATOMIC_SEQ_CST) != tid; spins++) {
        if (spins > 200000) { closedir(d); return -(ST_THREAD * 10000 + ETIMEDOUT); } /* ~20 s */
        if (spins % 1000 == 999 && blocks_signal(tid) < 0) break; /* it ended meanwhile */
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
      }
      if (__atomic_load_n(&g_ack_tid, __ATOMIC_SEQ_CST) == tid && g_ack_err) { int err = g_ack_err; closedir(d); return -(ST_THREAD * 10000 + err); }
      if (ndone >= MAX_THREADS) { closedir(d); return -(ST_THREAD * 10000 + E2BIG); }
      done[ndone++] = tid;
      added = 1;
    }
    closedir(d);
    if (!added) break;
  }
  *count = ndone;
  return 0;
}

static int confine(uint64_t handled, uint32_t npaths, char **paths, uint64_t *access, const void *prog, size_t proglen, int *threads) {
  *threads = 0;
  if (handled) {
    struct ll_attr attr = { handled, 0, 0 };
    g_ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0U);
    if (g_ruleset < 0) return -(ST_RULESET * 10000 + errno);
    for (uint32_t i = 0; i < npaths; i++) {
      int pfd = open(paths[i], O_PATH | O_CLOEXEC);
      struct stat st;
      if (pfd < 0 || fstat(pfd, &st) < 0) { int e = errno; if (pfd >= 0) close(pfd); close(g_ruleset); return -(ST_PATH * 10000 + e) - (int)i * 0; }
      struct ll_path pb = { S_ISDIR(st.st_mode) ? access[i] : access[i] & LL_FILE_RIGHTS, pfd };
      if (pb.allowed_access && syscall(SYS_landlock_add_rule, g_ruleset, 1, &pb, 0U) < 0) { int e = errno; close(pfd); close(g_ruleset); return -(ST_PATH * 10000 + e); }
      close(pfd);
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -(ST_NNP * 10000 + errno);
  if (handled) {
    /* the kernel's action for SIG_BROADCAST, and the restorer glibc's own sigaction uses */
    struct sigaction probe_act = { 0 };
    probe_act.sa_handler = SIG_IGN;
    struct sigaction old_rt;
    struct ksigaction kold, knew, ktmp;
    if (sigaction(SIGRTMAX, &probe_act, &old_rt) < 0) return -(ST_SIGNAL * 10000 + errno);
    int r = (int)syscall(SYS_rt_sigaction, SIGRTMAX, NULL, &ktmp, 8);
    sigaction(SIGRTMAX, &old_rt, NULL);
    if (r < 0) return -(ST_SIGNAL * 10000 + errno);
    if (syscall(SYS_rt_sigaction, SIG_BROADCAST, NULL, &kold, 8) < 0) return -(ST_SIGNAL * 10000 + errno);
    knew = ktmp;
    knew.handler = (void *)on_broadcast;
    knew.flags = (ktmp.flags & 0x04000000UL /* SA_RESTORER */) | SA_SIGINFO | SA_RESTART;
    knew.mask = ~0ULL;
    if (syscall(SYS_rt_sigaction, SIG_BROADCAST, &knew, NULL, 8) < 0) return -(ST_SIGNAL * 10000 + errno);
    int b = broadcast(threads);
    syscall(SYS_rt_sigaction, SIG_BROADCAST, &kold, NULL, 8);
    if (b < 0) { close(g_ruleset); return b; }
    if (syscall(SYS_landlock_restrict_self, g_ruleset, 0U) < 0) { int e = errno; close(g_ruleset); return -(ST_SELF * 10000 + e); }
    close(g_ruleset);
  }
  if (prog && proglen) {
    struct sock_fprog fp = { .len = (unsigned short)(proglen / sizeof(struct sock_filter)), .filter = (struct sock_filter *)prog };
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fp);
    if (r != 0) return -(ST_SECCOMP * 10000 + (r > 0 ? ESRCH : errno)); /* r > 0: a thread could not be synced */
  }
  return 0;
}

/* restrict(handled: number, paths: string[], access: number[], program: Buffer | null) ->
 * [result, threads]: result 0, or -(stage * 10000 + errno) */
static napi_value js_restrict(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out, v;
  int64_t handled = 0, res = 0;
  uint32_t n = 0;
  char **paths = NULL;
  uint64_t *access = NULL;
  void *prog = NULL;
  size_t proglen = 0;
  int threads = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) || argc != 4 || napi_get_value_int64(env, argv[0], &handled)
      || napi_get_array_length(env, argv[1], &n) || n > 256) { res = -(ST_ARGS * 10000 + EINVAL); goto done; }
  paths = calloc(n + 1, sizeof *paths);
  access = calloc(n + 1, sizeof *access);
  if (!paths || !access) { res = -(ST_ARGS * 10000 + ENOMEM); goto done; }
  for (uint32_t i = 0; i < n; i++) {
    size_t len = 0;
    int64_t a = 0;
    paths[i] = calloc(4097, 1);
    if (!paths[i] || napi_get_element(env, argv[1], i, &v) || napi_get_value_string_utf8(env, v, paths[i], 4097, &len) || len >= 4096
        || napi_get_element(env, argv[2], i, &v) || napi_get_value_int64(env, v, &a)) { res = -(ST_ARGS * 10000 + EINVAL); goto done; }
    access[i] = (uint64_t)a;
  }
  _Bool isbuf = 0;
  if (!napi_is_buffer(env, argv[3], &isbuf) && isbuf) {
    if (napi_get_buffer_info(env, argv[3], &prog, &proglen) || proglen % sizeof(struct sock_filter) || proglen / sizeof(struct sock_filter) > 4096) {
      res = -(ST_ARGS * 10000 + EINVAL); goto done;
    }
  }
  res = confine((uint64_t)handled, n, paths, access, prog, proglen, &threads);
done:
  if (paths) for (uint32_t i = 0; i < n; i++) free(paths[i]);
  free(paths);
  free(access);
  napi_create_array_with_length(env, 2, &out);
  napi_create_int64(env, res, &v); napi_set_element(env, out, 0, v);
  napi_create_int64(env, threads, &v); napi_set_element(env, out, 1, v);
  return out;
}

__attribute__((visibility("default"))) int32_t node_api_module_get_api_version_v1(void) { return 8; }

__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "restrict", 8, js_restrict, NULL, &fn) == 0) napi_set_named_property(env, exports, "restrict", fn);
  return exports;
}
