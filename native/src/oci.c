/* oci.c: sysjail-oci's cheap commands, in C: start, state, kill and delete. An engine calls the
 * runtime several times per container; these run with no Node at all, from the files `create`
 * (src/oci, in Node) left in ROOT/ID: `procs` ("monitor-pid monitor-start init-pid init-start"),
 * `state.head` (the state JSON without status and pid) and the start gate `exec.fifo`, which the
 * monitor holds (run.c). Every other command (create, run, exec, ps, list, ...) goes to Node
 * through the front (front.c). No policy here either: the decisions were made at create. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "helper.h"

struct oci_c { const char *root, *id; int json; const char *log; char dir[4096]; long mpid, ipid; unsigned long long mstart, istart; };

static void say(struct oci_c *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct oci_c *c, const char *fmt, ...) {
  char msg[1024], js[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (char *p = msg; *p; p++) if ((unsigned char)*p < 32 || *p == 127) *p = '?'; /* ids are checked; still printable only */
  json_str(js, sizeof js, msg);
  char t[32];
  time_t now = time(NULL);
  strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  if (c->json) fprintf(stderr, "{\"level\":\"error\",\"msg\":%s,\"time\":\"%s\"}\n", js, t);
  else fprintf(stderr, "sysjail-oci: %s\n", msg);
  if (c->log) {
    /* never through a symbolic link at the path (a non-root user's directory: root would append
     * to the host file it names), nor blocking on a FIFO without a reader (src/cli/oci.ts alike) */
    int fd = open(c->log, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd >= 0) {
      if (c->json) dprintf(fd, "{\"level\":\"error\",\"msg\":%s,\"time\":\"%s\"}\n", js, t);
      else dprintf(fd, "time=\"%s\" level=error msg=%s\n", t, js);
      close(fd);
    }
  }
}

/* the same rule as src/oci/state.ts checkId (a jail name) */
static int good_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > 64 || id[0] == '-') return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = id[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) return 0;
  }
  return 1;
}

/* a live, non-zombie process that started at START (signal.c) */
static int alive(long pid, unsigned long long start) { return proc_alive(pid, start); }

/* SIG to PID if it is the live process that started at START, through a pidfd opened before the
 * check (signal.c): a process that took the pid meanwhile is never signalled. */
static void kill_verified(long pid, unsigned long long start, int sig) { (void)signal_pinned(pid, start, sig); }

/* Whether UID is how a user namespace shows an unmapped owner (the overflow uid, in a namespace
 * that does not map every id): a rootless engine's runtime sees /, /run, /run/user so. Accepted
 * for an ancestor that is not writable by others (src/oci/rootdir.ts alike). */
static int unmapped_owner(uid_t uid) {
  char b[256];
  if (read_file("/proc/sys/kernel/overflowuid", b, sizeof b) <= 0 || (uid_t)atol(b) != uid) return 0;
  if (read_file("/proc/self/uid_map", b, sizeof b) <= 0) return 0;
  unsigned long long in, out, count;
  int used = 0;
  if (sscanf(b, " %llu %llu %llu %n", &in, &out, &count, &used) != 3) return 1;
  return !(in == 0 && out == 0 && count == 4294967295ULL && b[used] == 0); /* not the initial namespace's map */
}

/* One prefix PATH of --root, with its status ST: 0 when root or the caller owns it and no one
 * else may write it (an ancestor may be sticky, the state directory itself not); else says why. */
static int trusted(struct oci_c *c, const char *path, const struct stat *st, int last) {
  const char *why = NULL;
  if (st->st_uid != 0 && st->st_uid != geteuid() && (last || !unmapped_owner(st->st_uid))) why = "is owned by another user";
  else if (!S_ISLNK(st->st_mode) && (st->st_mode & 022) && (last || !(st->st_mode & S_ISVTX))) why = "is writable by others";
  if (!why) return 0;
  say(c, "--root %.200s: %.200s %s (the state directory and those above it must be root's or the caller's, and writable by no one else)", c->root, path, why);
  return -1;
}

/* Each prefix of the absolute ABS, with lstat (FOLLOW 0) or stat; a missing one ends the walk. */
static int trusted_chain(struct oci_c *c, const char *abs, int follow) {
  char buf[4096];
  size_t n = strlen(abs);
  if (n >= sizeof buf || abs[0] != '/') { say(c, "--root %.200s: cannot be checked (not an absolute path below PATH_MAX)", c->root); return -1; }
  memcpy(buf, abs, n + 1);
  while (n > 1 && buf[n - 1] == '/') buf[--n] = 0;
  for (size_t i = 1; i <= n; i++) {
    if (i < n && buf[i] != '/') continue;
    char keep = buf[i];
    buf[i] = 0;
    struct stat st;
    int r = follow ? stat(buf, &st) : lstat(buf, &st);
    if (r == 0 && trusted(c, buf, &st, i == n) < 0) return -1;
    buf[i] = keep;
    if (r < 0) return 0;
  }
  return 0;
}

/* --root is input: `procs` names the processes kill and delete signal as the caller, and Node
 * runs the hooks `state.json` names (src/oci/rootdir.ts checks alike): the directory and those
 * above it must be root's or the caller's, a symbolic link on the way too, and where it leads. */
static int trusted_root(struct oci_c *c) {
  char abs[4096], real[PATH_MAX];
  struct stat st;
  char cwd[4096];
  int n = c->root[0] == '/' ? snprintf(abs, sizeof abs, "%s", c->root)
        : getcwd(cwd, sizeof cwd) ? snprintf(abs, sizeof abs, "%s/%s", cwd, c->root) : -1;
  /* a path that cannot be checked whole is refused, never checked in part */
  if (n < 0 || (size_t)n >= sizeof abs) { say(c, "--root %.200s: cannot be checked (not an absolute path below PATH_MAX)", c->root); return -1; }
  if (lstat("/", &st) == 0 && trusted(c, "/", &st, 0) < 0) return -1;
  if (trusted_chain(c, abs, 0) < 0) return -1;
  if (!realpath(abs, real)) return 0;
  return strcmp(real, abs) ? trusted_chain(c, real, 1) : 0;
}

static int load(struct oci_c *c) {
  if (!good_id(c->id)) { say(c, "container id \"%.80s\": letters, digits, '_' and '-' (at most 64) are allowed", c->id); return -1; }
  if (trusted_root(c) < 0) return -1;
  char path[4200], buf[256];
  snprintf(c->dir, sizeof c->dir, "%s/%s", c->root, c->id);
  snprintf(path, sizeof path, "%s/procs", c->dir);
  if (read_file(path, buf, sizeof buf) < 0 || sscanf(buf, "%ld %llu %ld %llu", &c->mpid, &c->mstart, &c->ipid, &c->istart) != 4) {
    say(c, "container %s does not exist", c->id);
    return -1;
  }
  return 0;
}

static const char *status_of(struct oci_c *c) {
  char path[4200];
  /* the init is the engine's child (run.c): it may have ended (a zombie until reaped) while the
   * monitor still cleans up; either one gone is a stopped container, as runc's init alone says */
  if (!alive(c->mpid, c->mstart) || !alive(c->ipid, c->istart)) return "stopped";
  snprintf(path, sizeof path, "%s/exec.fifo", c->dir);
  if (access(path, F_OK) == 0) return "created";
  /* `paused`: written by pause (src/oci/lifecycle.ts freeze), removed by resume */
  snprintf(path, sizeof path, "%s/paused", c->dir);
  if (access(path, F_OK) == 0) return "paused";
  return "running";
}

/* A paused container's processes die only once thawed: `paused` holds "FILE VALUE", the freezer
 * file and what thaws it, written by pause itself in our own --root (checked all the same). */
static void thaw(struct oci_c *c) {
  char path[4200], buf[4200], file[4200], val[16];
  snprintf(path, sizeof path, "%s/paused", c->dir);
  if (read_file(path, buf, sizeof buf) <= 0 || sscanf(buf, "%4095s %15s", file, val) != 2) return;
  size_t n = strlen(file);
  int v1 = n > 14 && !strcmp(file + n - 14, "/freezer.state") && !strcmp(val, "THAWED");
  int v2 = n > 14 && !strcmp(file + n - 14, "/cgroup.freeze") && !strcmp(val, "0");
  if (strncmp(file, "/sys/fs/cgroup/", 15) || strstr(file, "/../") || !(v1 || v2)) return;
  int fd = open(file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  ssize_t w = write(fd, val, strlen(val));
  (void)w;
  close(fd);
}

/* Waits until the container's command was exec'd or its monitor ended: start returns when the
 * user's program runs, as runc's returns once its init took the exec fifo, so a signal sent right
 * after start meets the program (its handlers), not the setup before it. FD is start's writing
 * end of the gate: the monitor, the gate's only reader, holds the gate until the command's exec
 * (run.c mark_started) or its own end, and then a writer's poll reports POLLERR (no readers
 * left). Bounded at ten seconds, after which start returns anyway. */
static void wait_exec(int fd) {
  struct pollfd p = { fd, 0, 0 };
  while (poll(&p, 1, 10000) < 0 && errno == EINTR) {}
}

/* Before the command is released: the container's supervisor (the init's parent, which reaps
 * it: conmon, a containerd shim) takes the connections already queued on its listening sockets,
 * at most for the bound create recorded in `settle` (milliseconds; no file: no wait). conmon
 * would otherwise lose an attach client that connected just before start (settle.c says how). The
 * parent is read from the kernel's /proc/PID/stat of the init, pinned by its start time. */
static void settle_supervisor(struct oci_c *c) {
  char path[4200], buf[1024];
  snprintf(path, sizeof path, "%s/settle", c->dir);
  if (read_file(path, buf, sizeof buf) <= 0) return;
  int bound = atoi(buf);
  if (bound <= 0) return;
  if (bound > 1000) bound = 1000;
  snprintf(path, sizeof path, "/proc/%ld/stat", c->ipid);
  if (read_file(path, buf, sizeof buf) <= 0) return;
  char *p = strrchr(buf, ')'), st;
  long ppid;
  if (!p || sscanf(p + 1, " %c %ld", &st, &ppid) != 2 || !alive(c->ipid, c->istart)) return;
  (void)settle_listeners(ppid, bound);
}

static int oci_start(struct oci_c *c) {
  if (load(c) < 0) return 1;
  const char *st = status_of(c);
  if (strcmp(st, "created")) { say(c, "container %s is %s: only a created container can be started", c->id, st); return 1; }
  settle_supervisor(c);
  char path[4200];
  snprintf(path, sizeof path, "%s/exec.fifo", c->dir);
  int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) { say(c, "container %s cannot be started: %s", c->id, errno == ENXIO ? "its monitor is gone" : strerror(errno)); return 1; }
  ssize_t w = write(fd, "1", 1);
  int e = errno;
  if (w == 1) unlink(path);
  if (w == 1) wait_exec(fd);
  close(fd);
  if (w != 1) { say(c, "container %s cannot be started: %s", c->id, strerror(e)); return 1; }
  return 0;
}

static int oci_state(struct oci_c *c) {
  if (load(c) < 0) return 1;
  char path[4200], head[65536];
  snprintf(path, sizeof path, "%s/state.head", c->dir);
  ssize_t n = read_file(path, head, sizeof head);
  if (n <= 0) { say(c, "container %s: its state file is missing", c->id); return 1; }
  while (n > 0 && head[n - 1] == '\n') head[--n] = 0;
  if (n == 0 || head[n - 1] != '}') { say(c, "container %s: its state file is damaged", c->id); return 1; }
  head[--n] = 0;
  const char *st = status_of(c);
  /* pid: the container's process (its pid 1, in the jail's namespaces: hooks and engines read
   * /proc/PID/ns from it), which the pid file names too */
  printf("%s,\"status\":\"%s\",\"pid\":%ld}\n", head, st, strcmp(st, "stopped") ? c->ipid : 0L);
  return 0;
}

static const struct { const char *name; int sig; } SIGS[] = {
  { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
  { "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT },
  { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
  { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
  { "WINCH", SIGWINCH }, { "IO", SIGIO }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
};

static int signal_number(const char *s) {
  if (!s) return SIGTERM;
  char *e;
  long v = strtol(s, &e, 10);
  if (*s && !*e) return v > 0 && v < 65 ? (int)v : -1;
  if (!strncasecmp(s, "SIG", 3)) s += 3;
  for (size_t i = 0; i < sizeof SIGS / sizeof *SIGS; i++) if (!strcasecmp(s, SIGS[i].name)) return SIGS[i].sig;
  return -1;
}

static int oci_kill(struct oci_c *c, const char *signame, int all) {
  int sig = signal_number(signame);
  if (sig < 0) { say(c, "signal \"%.40s\": a signal name (TERM, SIGKILL) or number is needed", signame); return 1; }
  if (load(c) < 0) return 1;
  if (!strcmp(status_of(c), "stopped")) { say(c, "cannot signal container %s: container not running", c->id); return 1; }
  /* each process pinned by a pidfd before its namespaces are compared with pid 1's (signal.c) */
  if (all && sig != SIGKILL) (void)signal_ns_others(c->ipid, c->istart, sig);
  /* pid 1 last, pinned by its start time: a reused pid is never signalled */
  kill_verified(c->ipid, c->istart, sig);
  return 0;
}

static void remove_dir(struct oci_c *c) {
  DIR *d = opendir(c->dir);
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    unlinkat(dirfd(d), de->d_name, 0);
  }
  if (d) closedir(d);
  rmdir(c->dir);
}

/* Returns once the container's monitor has ended, or after ten seconds. It is pinned by a pidfd
 * opened before its start time is checked (a pid reused meanwhile is not waited for), and the
 * pidfd becomes readable at its exit: no polling in steps, so delete returns as the monitor ends. */
static void wait_monitor(struct oci_c *c) {
  int pfd = c->mpid > 0 ? (int)syscall(SYS_pidfd_open, (pid_t)c->mpid, 0) : -1;
  if (pfd < 0) return; /* gone already */
  if (alive(c->mpid, c->mstart)) {
    struct pollfd p = { pfd, POLLIN, 0 };
    while (poll(&p, 1, 10000) < 0 && errno == EINTR) {}
  }
  close(pfd);
}

static int oci_delete(struct oci_c *c, int force) {
  /* as runc: delete --force of a container that does not exist (an engine's cleanup after a
   * delete that already ran, or a create that never finished) is done, not an error */
  if (force && good_id(c->id)) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s/procs", c->root, c->id);
    if (access(path, F_OK) < 0 && errno == ENOENT) return 0;
  }
  if (load(c) < 0) return 1;
  const char *st = status_of(c);
  if ((!strcmp(st, "running") || !strcmp(st, "paused")) && !force) { say(c, "container %s is %s: stop it first, or delete --force", c->id, st); return 1; }
  if (strcmp(st, "stopped")) {
    if (!strcmp(st, "paused")) thaw(c);
    kill_verified(c->ipid, c->istart, SIGKILL);
  }
  /* the monitor removes the jail's cgroups and registry files, then exits (also after a stopped
   * container's init ended: a few milliseconds may remain of its cleanup) */
  wait_monitor(c);
  if (alive(c->mpid, c->mstart)) { say(c, "container %s: its monitor (pid %ld) does not end", c->id, c->mpid); return 1; }
  remove_dir(c);
  return 0;
}

/* The default --root, as runc picks its own (src/oci/rootdir.ts does the same for Node):
 * /run/sysjail-oci, or $XDG_RUNTIME_DIR/sysjail-oci for a caller who is not root, or root of a
 * user namespace other than the host's (rootless podman runs its runtime so) whose USER is not
 * "root". Only where state lives: what the caller may do is the kernel's answer to its ids. */
static const char *default_root(void) {
  static char buf[4096];
  const char *x = getenv("XDG_RUNTIME_DIR"), *u = getenv("USER");
  if (!x || x[0] != '/' || strlen(x) + sizeof "/sysjail-oci" > sizeof buf) return "/run/sysjail-oci";
  if (geteuid() == 0) {
    char m[128];
    const char *p = m;
    unsigned long in, out, count;
    if (read_own_uid_map(m, sizeof m) <= 0) return "/run/sysjail-oci";
    if (idmap_next(&p, &in, &out, &count) && in == 0 && out == 0 && count == 4294967295UL) return "/run/sysjail-oci";
    if (u && !strcmp(u, "root")) return "/run/sysjail-oci";
  }
  snprintf(buf, sizeof buf, "%s/sysjail-oci", x);
  return buf;
}

int oci_main(int argc, char **argv) {
  struct oci_c c;
  memset(&c, 0, sizeof c);
  c.root = NULL;
  int i = 1;
  /* global options; anything this code does not know goes to Node, which judges it */
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--root") && i + 1 < argc) c.root = argv[++i];
    else if (!strncmp(a, "--root=", 7)) c.root = a + 7;
    else if (!strcmp(a, "--log") && i + 1 < argc) c.log = argv[++i];
    else if (!strncmp(a, "--log=", 6)) c.log = a + 6;
    else if (!strcmp(a, "--log-format") && i + 1 < argc) c.json = !strcmp(argv[++i], "json");
    else if (!strncmp(a, "--log-format=", 13)) c.json = !strcmp(a + 13, "json");
    else if (!strcmp(a, "--systemd-cgroup") || !strcmp(a, "--debug")) {}
    else return front_main(argc, argv, "sysjail-oci");
  }
  if (i >= argc) return front_main(argc, argv, "sysjail-oci");
  if (!c.root) c.root = default_root();
  const char *cmd = argv[i++];
  int force = 0, all = 0;
  const char *ops[2] = { NULL, NULL };
  int nops = 0;
  int known = !strcmp(cmd, "start") || !strcmp(cmd, "state") || !strcmp(cmd, "kill") || !strcmp(cmd, "delete");
  if (!known) return front_main(argc, argv, "sysjail-oci");
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(cmd, "delete") && (!strcmp(a, "--force") || !strcmp(a, "-f"))) force = 1;
    else if (!strcmp(cmd, "kill") && (!strcmp(a, "--all") || !strcmp(a, "-a"))) all = 1;
    else if (a[0] == '-' && a[1]) return front_main(argc, argv, "sysjail-oci"); /* Node names the bad option */
    else if (nops < (!strcmp(cmd, "kill") ? 2 : 1)) ops[nops++] = a;
    else return front_main(argc, argv, "sysjail-oci");
  }
  if (nops == 0) return front_main(argc, argv, "sysjail-oci");
  c.id = ops[0];
  /* a container with poststart, poststop or startContainer hooks (the `hooks` file create leaves): Node runs them */
  if ((!strcmp(cmd, "start") || !strcmp(cmd, "delete")) && good_id(c.id)) {
    char hp[4200];
    snprintf(hp, sizeof hp, "%s/%s/hooks", c.root, c.id);
    if (access(hp, F_OK) == 0) {
      /* Node's start runs no settle of its own: done here first, for a created container whose
       * files read (every error is left for Node to report, in its words) */
      char pp[4200], buf[256];
      snprintf(c.dir, sizeof c.dir, "%s/%s", c.root, c.id);
      snprintf(pp, sizeof pp, "%s/procs", c.dir);
      if (!strcmp(cmd, "start") && read_file(pp, buf, sizeof buf) > 0 && sscanf(buf, "%ld %llu %ld %llu", &c.mpid, &c.mstart, &c.ipid, &c.istart) == 4 &&
          !strcmp(status_of(&c), "created")) settle_supervisor(&c);
      return front_main(argc, argv, "sysjail-oci");
    }
  }
  if (!strcmp(cmd, "start")) return oci_start(&c);
  if (!strcmp(cmd, "state")) return oci_state(&c);
  if (!strcmp(cmd, "kill")) return oci_kill(&c, ops[1], all);
  return oci_delete(&c, force);
}
