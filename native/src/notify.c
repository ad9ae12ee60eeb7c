/* notify.c: the monitor's seccomp listener (OP_NOTIFY): refused calls explained, learn mode,
 * and the one exec a pledge without "exec" lets through.
 *
 * The command installs its filter with SECCOMP_FILTER_FLAG_NEW_LISTENER (command.c). When the
 * plan says "send" (TypeScript checked that the marked filter passes that sendmsg whatever its
 * arguments), it sends the listener on its exec channel (SCM_RIGHTS) right after the load and
 * execs at once: the message holds the listener until the monitor takes it (notify_take), and a
 * refused call meanwhile waits in its queue. Otherwise, before the call it tells the monitor
 * which descriptor number the listener will get (the lowest free one: the command is
 * single-threaded there); the monitor takes it with pidfd_getfd from the command (a child of the
 * jail's init, which has not reaped it) while the command's exec waits at the listener (the
 * exec prefix). The listener never reaches the jail.
 *
 * The filter the kernel runs returns USER_NOTIF where TypeScript marked it (its refusals, and in
 * learn mode also its allowances); the plan's "answer" program is the same policy unmarked. For
 * each notification the monitor runs the answer program on the kernel's seccomp_data (call
 * number, arch, instruction pointer, argument registers: copied by the kernel, nothing read from
 * the jail's memory) and replies: an errno answer as that error, an allow answer (learn mode)
 * with SECCOMP_USER_NOTIF_FLAG_CONTINUE. The answer does not depend on any pointer argument, so
 * CONTINUE's time-of-check problem does not arise: the call was allowed by its registers alone.
 * A TRAP answer with data SJ_EXEC_ONCE marks the jail's one exec: continued while the command
 * has not exec'd yet (its exec channel, close-on-exec, still open), refused with EPERM after.
 * Counts per call and the first arguments seen go to TypeScript at the end (`denials`). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "helper.h"

#define SJ_EXEC_ONCE 0xe0e
#define MAX_CALLS 512
#define MAX_VALS 8
/* The monitor answers outside the jail's cgroups: a jail looping on refused calls would spend the
 * monitor's CPU. After this many answers the listener is closed; the kernel then answers every
 * marked call with ENOSYS itself (still a refusal; an exec still waiting is refused too). */
#define MAX_ANSWERS 200000UL

struct call_rec {
  uint32_t arch, nr, ret, count;
  uint64_t first[6];
  uint64_t vals[3][MAX_VALS];
  uint8_t nvals[3], over[3];
};

static struct {
  int on, learn, fd;
  struct sock_filter *prog;
  size_t len;
  struct call_rec calls[MAX_CALLS];
  size_t ncalls;
  unsigned long dropped, answers, denied, written;
  const char *count_file;
  double last_write;
} g;

static double mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* The live count of refused calls (sjls -v): at most twice a second, rewritten in place. */
static void write_count(int force) {
  if (!g.count_file) return;
  double now = mono();
  if (!force && g.last_write > 0 && now - g.last_write < 0.5) return;
  g.last_write = now;
  g.written = g.denied;
  char b[32];
  int n = snprintf(b, sizeof b, "%lu\n", g.denied);
  int fd = open(g.count_file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd < 0) return;
  if (write(fd, b, (size_t)n) < 0) { /* best effort */ }
  close(fd);
}

void notify_setup(const struct sj_plan *plan) {
  const struct sj_op_rec *op = plan_find(plan, OP_NOTIFY);
  g.fd = -1;
  if (!op || op->argc < 2) return;
  const char *mode = arg_str(op, 0);
  const struct sj_arg *p = &op->argv[1];
  if (!mode || p->len == 0 || p->len % sizeof(struct sock_filter)) return;
  g.prog = malloc(p->len);
  if (!g.prog) return;
  memcpy(g.prog, p->p, p->len);
  g.len = p->len / sizeof(struct sock_filter);
  g.learn = !strcmp(mode, "learn");
  g.count_file = op->argc > 2 ? arg_str(op, 2) : NULL;
  g.on = 1;
}

int notify_fd(void) { return g.fd; }
int notify_on(void) { return g.on; }

/* The monitor's poll timeout: half a second while the count file lags behind, else none. */
int notify_timeout(void) { return g.count_file && g.written != g.denied ? 500 : -1; }
void notify_tick(void) { if (g.count_file && g.written != g.denied) write_count(0); }

/* The init's only child (the command): from /proc/INIT/task/INIT/children, or, on a kernel
 * without that file, by a scan of /proc for a process whose parent is the init. */
static pid_t init_child(pid_t init) {
  char path[96], buf[512];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)init, (int)init);
  ssize_t n = read_file(path, buf, sizeof buf);
  if (n >= 0) return n > 0 ? (pid_t)atoi(buf) : 0;
  DIR *d = opendir("/proc");
  if (!d) return 0;
  struct dirent *e;
  pid_t found = 0;
  while (!found && (e = readdir(d))) {
    pid_t pid = (pid_t)atoi(e->d_name);
    if (pid <= 0) continue;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_file(path, buf, sizeof buf) <= 0) continue;
    const char *rp = strrchr(buf, ')'); /* the command name may hold anything but ends before the last ')' */
    int ppid = 0;
    char state;
    if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == (int)init) found = pid;
  }
  closedir(d);
  return found;
}

/* The command said its listener will be descriptor NUM: take it from the init's only child.
 * The message comes just before the command's seccomp call, so the descriptor appears a few
 * microseconds later: the first tries only yield the CPU (the command runs meanwhile); sleeps
 * of 200 us follow only if it is still missing after a millisecond. The command's pidfd is kept
 * across tries (the init's only child does not change while it lives). */
/* FD is a seccomp listener: the listener's own ioctl answers (NOTIF_ID_VALID of id 0 is ENOENT
 * on a listener: no such notification; ENOTTY or EINVAL on anything else). Not /proc/self/fd:
 * the entering helper is in the jail's mount namespace, whose /proc does not show it. */
static int is_listener(int fd) {
  uint64_t id = 0;
  return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 && errno == ENOENT;
}

void notify_grab(pid_t init, int num) { notify_grab_from(init, 0, num); }

/* The command sent its listener FD on the exec channel: kept if none is held yet and FD is a
 * listener (one per jail, taken only while the channel is open: before the command's exec);
 * closed otherwise. */
void notify_take(int fd) {
  if (g.on && g.fd < 0 && is_listener(fd)) { g.fd = fd; fcntl(fd, F_SETFD, FD_CLOEXEC); return; }
  close(fd);
  if (g.on && g.fd < 0) emit("{\"ev\":\"warn\",\"op\":-1,\"step\":\"notify\",\"errno\":%d,\"path\":\"the seccomp listener (not a listener)\"}", EBADF);
}

/* The same, from CMD itself when it is known (an entered command is the entering helper's own
 * child: enter.c), else from the init's only child. */
void notify_grab_from(pid_t init, pid_t cmd_known, int num) {
  if (!g.on || g.fd >= 0) return;
  int last = 0, pfd = -1;
  double t0 = mono();
  for (int tries = 0; tries < 200000 && g.fd < 0; tries++) { /* a few seconds at most */
    if (pfd < 0) {
      pid_t cmd = cmd_known > 0 ? cmd_known : init_child(init);
      if (cmd <= 0) last = 2000;
      if (cmd > 0) {
        pfd = (int)syscall(SYS_pidfd_open, cmd, 0);
        if (pfd < 0) last = errno + 1000;
      }
    }
    if (pfd >= 0) {
      int fd = (int)syscall(SYS_pidfd_getfd, pfd, num, 0);
      int e = errno;
      last = e;
      if (fd >= 0) {
        /* it must be a seccomp listener, not whatever held that number before the filter */
        if (is_listener(fd)) { g.fd = fd; fcntl(fd, F_SETFD, FD_CLOEXEC); break; }
        close(fd);
      } else if (e != EBADF) {
        break;
      }
    }
    double waited = mono() - t0;
    if (waited > 3.0) break;
    if (waited < 0.001) { sched_yield(); continue; }
    struct timespec ts = { 0, 200000 };
    nanosleep(&ts, NULL);
  }
  if (pfd >= 0) close(pfd);
  if (g.fd < 0) emit("{\"ev\":\"warn\",\"op\":-1,\"step\":\"notify\",\"errno\":%d,\"path\":\"the seccomp listener (%d)\"}", ESRCH, last);
}

/* classic BPF as seccomp runs it: absolute word loads, ALU, jumps, returns */
static uint32_t run_answer(const struct seccomp_data *d) {
  uint32_t A = 0, X = 0, M[16] = { 0 };
  const uint8_t *data = (const uint8_t *)d;
  for (size_t pc = 0; pc < g.len; pc++) {
    const struct sock_filter *f = &g.prog[pc];
    uint32_t k = f->k;
    switch (f->code) {
    case BPF_LD | BPF_W | BPF_ABS: if (k > sizeof *d - 4 || k % 4) return SECCOMP_RET_KILL_PROCESS; memcpy(&A, data + k, 4); break;
    case BPF_LD | BPF_W | BPF_LEN: A = sizeof *d; break;
    case BPF_LDX | BPF_W | BPF_LEN: X = sizeof *d; break;
    case BPF_LD | BPF_IMM: A = k; break;
    case BPF_LDX | BPF_IMM: X = k; break;
    case BPF_LD | BPF_MEM: A = M[k & 15]; break;
    case BPF_LDX | BPF_MEM: X = M[k & 15]; break;
    case BPF_ST: M[k & 15] = A; break;
    case BPF_STX: M[k & 15] = X; break;
    case BPF_ALU | BPF_AND | BPF_K: A &= k; break;
    case BPF_ALU | BPF_AND | BPF_X: A &= X; break;
    case BPF_ALU | BPF_OR | BPF_K: A |= k; break;
    case BPF_ALU | BPF_OR | BPF_X: A |= X; break;
    case BPF_ALU | BPF_XOR | BPF_K: A ^= k; break;
    case BPF_ALU | BPF_ADD | BPF_K: A += k; break;
    case BPF_ALU | BPF_SUB | BPF_K: A -= k; break;
    case BPF_ALU | BPF_LSH | BPF_K: A <<= (k & 31); break;
    case BPF_ALU | BPF_RSH | BPF_K: A >>= (k & 31); break;
    case BPF_ALU | BPF_NEG: A = -A; break;
    case BPF_MISC | BPF_TAX: X = A; break;
    case BPF_MISC | BPF_TXA: A = X; break;
    case BPF_JMP | BPF_JA: pc += k; break;
    case BPF_JMP | BPF_JEQ | BPF_K: pc += A == k ? f->jt : f->jf; break;
    case BPF_JMP | BPF_JGT | BPF_K: pc += A > k ? f->jt : f->jf; break;
    case BPF_JMP | BPF_JGE | BPF_K: pc += A >= k ? f->jt : f->jf; break;
    case BPF_JMP | BPF_JSET | BPF_K: pc += (A & k) ? f->jt : f->jf; break;
    case BPF_JMP | BPF_JEQ | BPF_X: pc += A == X ? f->jt : f->jf; break;
    case BPF_JMP | BPF_JGT | BPF_X: pc += A > X ? f->jt : f->jf; break;
    case BPF_JMP | BPF_JGE | BPF_X: pc += A >= X ? f->jt : f->jf; break;
    case BPF_JMP | BPF_JSET | BPF_X: pc += (A & X) ? f->jt : f->jf; break;
    case BPF_RET | BPF_K: return k;
    case BPF_RET | BPF_A: return A;
    default: return SECCOMP_RET_KILL_PROCESS;
    }
  }
  return SECCOMP_RET_KILL_PROCESS;
}

static void record(const struct seccomp_data *d, uint32_t ret) {
  struct call_rec *c = NULL;
  if ((ret & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) { g.denied++; write_count(0); }
  for (size_t i = 0; i < g.ncalls; i++) if (g.calls[i].arch == d->arch && g.calls[i].nr == (uint32_t)d->nr && g.calls[i].ret == ret) { c = &g.calls[i]; break; }
  if (!c) {
    if (g.ncalls >= MAX_CALLS) { g.dropped++; return; }
    c = &g.calls[g.ncalls++];
    memset(c, 0, sizeof *c);
    c->arch = d->arch; c->nr = (uint32_t)d->nr; c->ret = ret;
    memcpy(c->first, d->args, sizeof c->first);
  }
  c->count++;
  for (int a = 0; a < 3; a++) {
    int seen = 0;
    for (int i = 0; i < c->nvals[a]; i++) if (c->vals[a][i] == d->args[a]) { seen = 1; break; }
    if (seen) continue;
    if (c->nvals[a] < MAX_VALS) c->vals[a][c->nvals[a]++] = d->args[a];
    else c->over[a] = 1;
  }
}

/* One notification: answer it (EXEC_DONE: the command's own exec has happened). */
void notify_handle(int exec_done) {
  if (g.fd < 0) return;
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  memset(&req, 0, sizeof req);
  if (ioctl(g.fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
    if (errno != EINTR && errno != ENOENT) { close(g.fd); g.fd = -1; }
    return;
  }
  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  uint32_t ret = run_answer(&req.data), action = ret & SECCOMP_RET_ACTION_FULL;
  if (action == SECCOMP_RET_TRAP && (ret & SECCOMP_RET_DATA) == SJ_EXEC_ONCE) {
    if (!exec_done) resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    else { resp.error = -EPERM; record(&req.data, SECCOMP_RET_ERRNO | EPERM); }
  } else if (action == SECCOMP_RET_ERRNO) {
    resp.error = -(int)(ret & SECCOMP_RET_DATA);
    record(&req.data, ret);
  } else if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG) {
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (g.learn) record(&req.data, ret);
  } else {
    resp.error = -ENOSYS; /* not marked by TypeScript: refuse */
    record(&req.data, ret);
  }
  if (ioctl(g.fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT && errno != EINTR) { close(g.fd); g.fd = -1; }
  if (!g.learn && ++g.answers >= MAX_ANSWERS && g.fd >= 0) {
    close(g.fd);
    g.fd = -1;
    emit("{\"ev\":\"warn\",\"op\":-1,\"step\":\"notify\",\"errno\":%d,\"path\":\"%lu answers: the listener is closed, marked calls now fail with ENOSYS\"}", E2BIG, MAX_ANSWERS);
  }
}

/* The listener reported POLLHUP: no task uses the filter any more and none can again (a filter
 * is only inherited), so no call can arrive; it is closed rather than polled (a hung-up
 * listener stays readable and the monitor would spin until the init ends). */
void notify_hangup(void) {
  if (g.fd >= 0) { close(g.fd); g.fd = -1; }
}

/* The calls seen, one JSON line each (`{"ev":"call",...}`), then the listener is closed. */
void notify_report(void) {
  if (!g.on) return;
  for (size_t i = 0; i < g.ncalls; i++) {
    const struct call_rec *c = &g.calls[i];
    char vals[3][8 * 24 + 8];
    for (int a = 0; a < 3; a++) {
      size_t o = 0;
      if (c->over[a]) o += (size_t)snprintf(vals[a], sizeof vals[a], "\"*\"");
      else for (int v = 0; v < c->nvals[a]; v++) o += (size_t)snprintf(vals[a] + o, sizeof vals[a] - o, "%s\"%llu\"", v ? "," : "", (unsigned long long)c->vals[a][v]);
      if (o == 0) vals[a][0] = 0;
    }
    emit("{\"ev\":\"call\",\"arch\":%u,\"nr\":%u,\"ret\":%u,\"count\":%u,\"args\":[\"%llu\",\"%llu\",\"%llu\",\"%llu\",\"%llu\",\"%llu\"],\"vals\":[[%s],[%s],[%s]]}",
         c->arch, c->nr, c->ret, c->count, (unsigned long long)c->first[0], (unsigned long long)c->first[1], (unsigned long long)c->first[2],
         (unsigned long long)c->first[3], (unsigned long long)c->first[4], (unsigned long long)c->first[5], vals[0], vals[1], vals[2]);
  }
  if (g.count_file) unlink(g.count_file);
  if (g.dropped) emit("{\"ev\":\"warn\",\"op\":-1,\"step\":\"notify\",\"errno\":%d,\"path\":\"%lu calls beyond the first %d kinds were not recorded\"}", E2BIG, g.dropped, MAX_CALLS);
  if (g.fd >= 0) { close(g.fd); g.fd = -1; }
}
