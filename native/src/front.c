/* front.c: the helper started as `sysjail` or `jail` (package.json bin): the native front of
 * those commands.
 *
 * The front runs Node with the tool's entry (`node --preserve-symlinks-main bin/run-tool.js TOOL
 * ARGS...`, beside this build) as its child, every argument passed on, and the other end of a
 * socket pair on the child's fd 3
 * (SYSJAIL_FRONT_FD=3). If the run makes a foreground jail, its plan arrives on that socket and
 * this process becomes the jail's monitor, exactly as a helper spawned by Node would be: Node
 * needs neither child_process nor a spawn, which were most of a jail's start-up cost beyond
 * Node's own. Every decision stays in TypeScript: a run that makes no plan here (help, a dry run,
 * a background jail, an error) ends with Node's exit, which the front passes on.
 *
 * Signals: until a plan arrives and after the jail has ended, a signal sent to the front by a
 * process (kill(2), not the terminal, whose signals reach Node's process group directly) is
 * passed on to Node. While the jail runs, the monitor's own handling applies (the jail is ended
 * and Node reports its status). The front's exit status is Node's; a Node ended by SIGINT,
 * SIGTERM, SIGHUP, SIGPIPE or SIGKILL ends the front by the same signal.
 *
 * Started as `jls`, `sjls` or `jexec`, which start no jail from a plan, the front only runs Node
 * (no channel, no namespaces made ahead) and passes on signals and its status, so that those
 * tools too run as installed without the caller's NODE_* variables.
 *
 * Environment: Node runs without the caller's NODE_* variables (hold_node_env), which are meant
 * for the caller's own Node programs; the tool restores them (src/helper/front.ts) before it
 * reads its environment, so the jail's command gets them unchanged. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "helper.h"

int g_front;
extern double g_helper_t0;
static pid_t g_node = -1;
/* how long after starting Node the front makes the jail's namespaces ahead (early.c). Made at
 * once, the clone often took the core Node had just been forked onto. When Node loaded a CA
 * bundle at start-up (over 80 ms), 5 ms after still met the kernel tearing down the last jail's
 * namespaces when jails started back to back (+0.6 ms end to end, 900 paired runs) and 30 ms
 * after was best (-1.8 ms). Without it (hold_node_env) Node's start takes about 25-40 ms and its
 * prelude sometimes came before 30 ms; 5 to 20 ms measured alike (within 0.3 ms, 250 rounds),
 * 10 ms -0.3 +- 0.2 ms against none (400 paired runs). */
#ifndef EARLY_DELAY_MS
#define EARLY_DELAY_MS 10
#endif

/* fds 0-2 open (on /dev/null when the caller closed them), so the socket pair never takes one */
static void open_stdio(void) {
  for (int fd = 0; fd < 3; fd++) {
    if (fcntl(fd, F_GETFD) >= 0) continue;
    int n = open("/dev/null", O_RDWR);
    if (n >= 0 && n != fd) { dup2(n, fd); close(n); }
  }
}

/* Moves every NODE_* variable out of Node's way: NAME=value becomes SYSJAIL_HELD_NAME=value, and
 * SYSJAIL_HELD lists the names, separated by '=' (which no name holds). They are settings for
 * the caller's Node programs, not for sysjail's: NODE_OPTIONS=--require=x.js would run x.js in
 * sysjail (or end it, when x.js is missing), NODE_EXTRA_CA_CERTS makes Node read and parse a
 * certificate bundle at start-up for TLS that sysjail never uses (53 ms of an 82 ms `node -e 0`
 * on the CI machine). Runs in the child, before exec. */
static void hold_node_env(void) {
  size_t n = 0, len = 0;
  for (char **e = environ; *e; e++)
    if (strncmp(*e, "NODE_", 5) == 0 && strchr(*e, '=')) n++;
  unsetenv("SYSJAIL_HELD");
  if (n == 0) return;
  char **names = calloc(n, sizeof *names);
  if (!names) _exit(71);
  size_t k = 0;
  for (char **e = environ; *e && k < n; e++) {
    const char *eq = strchr(*e, '=');
    if (strncmp(*e, "NODE_", 5) != 0 || !eq) continue;
    if (!(names[k] = strndup(*e, (size_t)(eq - *e)))) _exit(71);
    len += strlen(names[k++]) + 1;
  }
  char *list = calloc(len + 1, 1);
  if (!list) _exit(71);
  for (size_t i = 0; i < k; i++) {
    const char *v = getenv(names[i]);
    char held[8192];
    /* a name whose held name the caller set too stays where it is: nothing of the caller's is lost */
    if (!v || snprintf(held, sizeof held, "SYSJAIL_HELD_%s", names[i]) >= (int)sizeof held || getenv(held)) continue;
    if (setenv(held, v, 1) < 0 || unsetenv(names[i]) < 0) _exit(71);
    if (*list) strcat(list, "=");
    strcat(list, names[i]);
  }
  if (*list && setenv("SYSJAIL_HELD", list, 1) < 0) _exit(71);
}

/* ROOT/bin/run-tool.js (which runs TOOL's bundle), where this binary is
 * ROOT/native/build/sysjail-helper, or ROOT/native/prebuilt/ARCH/sysjail-helper for the package's
 * prebuilt helpers (built with SJ_ROOT_DEPTH=4, scripts/pack-native.mjs) */
#ifndef SJ_ROOT_DEPTH
#define SJ_ROOT_DEPTH 3
#endif
static int entry_path(char *out, size_t n) {
  char exe[PATH_MAX];
  ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (l <= 0) return -1;
  exe[l] = 0;
  for (int up = 0; up < SJ_ROOT_DEPTH; up++) {
    char *s = strrchr(exe, '/');
    if (!s) { errno = ENOENT; return -1; }
    *s = 0;
  }
  if ((size_t)snprintf(out, n, "%s/bin/run-tool.js", exe) >= n) { errno = ENAMETOOLONG; return -1; }
  return access(out, R_OK);
}

/* Reads pending signals; passes on to Node those a process sent to the front. */
static void forward_signals(int sigfd) {
  struct signalfd_siginfo si;
  while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (si.ssi_signo == SIGCHLD) continue;
    if (si.ssi_code == SI_USER || si.ssi_code == SI_QUEUE || si.ssi_code == SI_TKILL) kill(g_node, (int)si.ssi_signo);
  }
}

static int node_ended(void) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  return waitid(P_PID, (id_t)g_node, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == g_node;
}

/* 1 when SOCK has something to read (or its end), 0 when Node ended first; signals passed on
 * meanwhile. */
static int wait_readable(int sock, int sigfd) {
  for (;;) {
    struct pollfd p[2] = { { sock, POLLIN, 0 }, { sigfd, POLLIN, 0 } };
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; return 0; }
    if (p[0].revents) return 1;
    if (p[1].revents) {
      forward_signals(sigfd);
      if (node_ended()) return 0;
    }
  }
}

/* 1 when Node starts sending a plan, 0 when it ended or closed the socket without one. */
static int wait_plan(int sock, int sigfd) {
  while (wait_readable(sock, sigfd)) {
    char c;
    ssize_t n = recv(sock, &c, 1, MSG_PEEK);
    if (n == 1) return 1;
    if (n == 0 || errno != EINTR) return 0;
  }
  return 0;
}

/* Node's wait status, signals passed on meanwhile. */
static int wait_node(int sigfd) {
  for (;;) {
    int st;
    pid_t w = waitpid(g_node, &st, WNOHANG);
    if (w == g_node) return st;
    if (w < 0 && errno != EINTR) return 70 << 8;
    struct pollfd p = { sigfd, POLLIN, 0 };
    if (poll(&p, 1, -1) > 0) forward_signals(sigfd);
  }
}

/* Node's last word after a jail (src/helper/front.ts lastWord): "E" and its exit status in three
 * digits, written once its exit handlers have run. Returns the status, or -1 when Node ended or
 * closed the channel without one. Bytes before it are control bytes the monitor no longer needs;
 * digits are none of them, so a word read by the monitor during the jail is harmless. */
static int wait_word(int sock, int sigfd) {
  int digits = -1, st = 0; /* digits read since an "E"; -1: none seen */
  while (wait_readable(sock, sigfd)) {
    char b[64];
    ssize_t n = read(sock, b, sizeof b);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    for (ssize_t k = 0; k < n; k++) {
      if (b[k] == 'E') { digits = 0; st = 0; continue; }
      if (digits < 0) continue;
      if (b[k] < '0' || b[k] > '9') { digits = -1; continue; }
      st = st * 10 + (b[k] - '0');
      if (++digits == 3) {
        if (st <= 255) return st;
        digits = -1;
      }
    }
  }
  return -1;
}

static int pass_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  int sig = WTERMSIG(st);
  if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGPIPE || sig == SIGKILL) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    signal(sig, SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    kill(getpid(), sig);
  }
  return 128 + sig;
}

/* sysjail-oci: whether the command line is a `create` (the command word after the global
 * options): only then are namespaces made ahead. A guess, as the namespaces are: Node decides
 * what the command is, and a plan that does not fit discards them. */
static int oci_creates(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--root") || !strcmp(a, "--log") || !strcmp(a, "--log-format")) { i++; continue; }
    if (a[0] == '-') continue;
    return !strcmp(a, "create");
  }
  return 0;
}

/* sysjail-oci create: the container's monitor, forked while Node loads (with the namespaces made
 * ahead), so that neither the fork nor a second process's wake-up lies between the plan's
 * arrival and the monitor's work. It waits on the channel; without a plan (Node decided on none,
 * or died) it leaves. It runs only a container's detached plan, as the front's own fork would
 * (front_main), and reports on the same channel; the front meanwhile only waits for Node's last
 * word. An early init that does not fit is killed here (through its pidfd, not waited for) and
 * reaped by the front, its parent. */
/* the cgroup warm-up's period (below the ~15 ms the kernel's lock stays in writer mode) and its
 * bound (about 0.5 s, then the monitor only waits) */
#define CGWARM_EVERY_MS 8
#ifndef CGWARM_MAX
#define CGWARM_MAX 64
#endif
static int monitor_ahead(int sock, struct sj_early *ahead, pid_t front, int told) __attribute__((noreturn));
static int monitor_ahead(int sock, struct sj_early *ahead, pid_t front, int told) {
  setsid();
  g_front = 1;
  int plan_came = 0;
  /* while the plan is coming, the cgroup migration path is kept open (cgwarm.c): every
   * CGWARM_EVERY_MS, at most CGWARM_MAX times (Node's plan comes within some 50 ms) */
  int warm = cgwarm_open(), warmed = 0;
  for (;;) {
    if (warm >= 0) {
      struct pollfd p = { sock, POLLIN, 0 };
      cgwarm_once(warm);
      int pr = poll(&p, 1, CGWARM_EVERY_MS);
      if (pr == 0 && ++warmed < CGWARM_MAX) continue;
      if (pr <= 0) { close(warm); warm = -1; if (pr < 0 && errno != EINTR) break; continue; }
    }
    char c;
    ssize_t n = recv(sock, &c, 1, MSG_PEEK);
    if (n == 1) { plan_came = 1; break; }
    if (n == 0 || errno != EINTR) break;
  }
  if (warm >= 0) close(warm);
  struct sj_plan plan;
  char err[256];
  memset(&plan, 0, sizeof plan);
  int r = -1;
  if (plan_came) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    g_helper_t0 = (double)t0.tv_sec + t0.tv_nsec / 1e9; /* the setup figure starts with the plan */
    g_status_fd = sock;
    r = plan_read(sock, &plan, err, sizeof err);
    if (r < 0) emit_error(-1, r == -2 ? "protocol" : "plan", r == -2 ? EPROTO : EINVAL, "", err);
    else if (!(plan.flags & SJ_F_OCI) || !(plan.flags & SJ_F_DETACH)) { emit_error(-1, "plan", EINVAL, "", "sysjail-oci create's monitor runs a container's plan only"); r = -1; }
  }
  uint64_t cf = 0;
  const struct sj_op_rec *cop = r < 0 ? NULL : plan_find(&plan, OP_CLONE);
  int hand = cop && !arg_u64(cop, 0, &cf) && !plan_find(&plan, OP_NS_JOIN) && !plan_find(&plan, OP_PROC_NS) && early_fits(ahead, cf);
  if (!hand) {
    if (ahead->pid > 0 && ahead->pidfd >= 0) syscall(SYS_pidfd_send_signal, ahead->pidfd, SIGKILL, NULL, 0);
    early_handed(ahead);
    if (ahead->pidfd >= 0) close(ahead->pidfd);
    early_none(ahead);
  }
  /* the front learns whether the early init is the container's ('a') before anything is reported */
  char b = hand ? 'a' : 'n';
  while (write(told, &b, 1) < 0 && errno == EINTR) {}
  close(told);
  if (r < 0) _exit(plan_came ? 70 : 0);
  emit("{\"ev\":\"hello\",\"proto\":%d,\"pid\":%d}", SJ_PROTO, (int)front);
  _exit(run_main(&plan, hand ? ahead : NULL));
}

/* Whether this process is in the host's user namespace. Inside a parent jail (children.max) the
 * early namespaces are not made: the kernel counts every user namespace against children.max,
 * and one made ahead for a jail that jail -c then makes by itself would use up a child's place. */
static int in_host_userns(void) {
  char buf[128];
  if (read_own_uid_map(buf, sizeof buf) <= 0) return 0;
  const char *p = buf;
  unsigned long in, out, count;
  return idmap_next(&p, &in, &out, &count) && in == 0 && out == 0 && count == 4294967295UL;
}

int front_main(int argc, char **argv, const char *tool) {
  open_stdio();
  char entry[PATH_MAX];
  if (entry_path(entry, sizeof entry) < 0) {
    fprintf(stderr, "%s: cannot find bin/run-tool.js beside the helper (%s); reinstall sysjail\n", tool, strerror(errno));
    return 70;
  }
  /* Node may close the channel at any time (it decided on no jail): a report written after that
   * must fail with EPIPE, not end the front */
  signal(SIGPIPE, SIG_IGN);
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD); sigaddset(&mask, SIGTERM); sigaddset(&mask, SIGINT); sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, &old);
  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  /* only sysjail and jail start jails from a plan; the other tools get no channel at all, so
   * nothing they start (a jexec'd process in a jail) can hold one to this process */
  int plans = !strcmp(tool, "sysjail") || !strcmp(tool, "jail") || !strcmp(tool, "sysjail-oci");
  /* sysjail-oci: namespaces made ahead only for `create` (oci_creates) */
  int oci = !strcmp(tool, "sysjail-oci");
  int ahead_ok = !oci || oci_creates(argc, argv);
  int sv[2] = { -1, -1 };
  /* sysjail-oci: Node's last word comes on this pipe too (its fd 4, SYSJAIL_FRONT_DONE_FD): the
   * channel itself then belongs to the container's monitor, which reads it */
  int donep[2] = { -1, -1 };
  /* a --random-seed whose V8 string-hash secret is found fast (nodeseed.c); without one Node
   * seeds itself. sysjail-oci's Node instead keeps the hash seed of Node's own snapshot
   * (--no-rehash-snapshot): no secret is searched and no snapshot string rehashed, about 4 ms
   * of every create; what that gives up, and the bound on the engine's JSON that keeps it
   * harmless (src/oci/config.ts, checkJsonBound), is in docs/JAILS.md, Security, "sysjail-oci's Node keeps
   * the snapshot's hash seed". The other tools read other users' files and keep a random one. */
  char seedflag[32];
  int seeded = !oci && node_seed(seedflag, sizeof seedflag) == 0;
  char **nargv = calloc((size_t)argc + 5, sizeof *nargv);
  if (sigfd < 0 || !nargv || (plans && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) ||
      (oci && pipe2(donep, O_CLOEXEC) < 0)) {
    fprintf(stderr, "%s: cannot start: %s\n", tool, strerror(errno));
    return 71;
  }
  /* the entry's path comes from /proc/self/exe, already free of links: Node need not resolve
   * it again (its realpath walk over each component runs cold, most of a millisecond) */
  int na = 0;
  nargv[na++] = "node";
  if (seeded) nargv[na++] = seedflag;
  if (oci) nargv[na++] = "--no-rehash-snapshot";
  nargv[na++] = "--preserve-symlinks-main";
  nargv[na++] = entry;
  nargv[na++] = (char *)tool;
  for (int i = 1; i < argc; i++) nargv[na++] = argv[i];
  g_node = fork();
  if (g_node < 0) { fprintf(stderr, "%s: cannot start node: %s\n", tool, strerror(errno)); return 71; }
  if (g_node == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGPIPE, SIG_DFL); /* an ignored signal stays ignored across exec */
    if (plans) {
      if (sv[1] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(sv[1], 3) < 0) _exit(71); /* dup2 clears close-on-exec */
      setenv("SYSJAIL_FRONT_FD", "3", 1);
    } else unsetenv("SYSJAIL_FRONT_FD");
    unsetenv("SYSJAIL_FRONT_DONE_FD");
    if (donep[1] >= 0) {
      if (donep[1] == 3 || (donep[1] == 4 ? fcntl(4, F_SETFD, 0) < 0 : dup2(donep[1], 4) < 0)) _exit(71);
      setenv("SYSJAIL_FRONT_DONE_FD", "4", 1);
    }
    hold_node_env();
    execvp("node", nargv);
#ifdef SJ_NODE
    if (errno == ENOENT) execv(SJ_NODE, nargv);
#endif
    /* a prebuilt helper knows no Node of this machine; npm's install step leaves a link to the
     * Node that installed the package at ROOT/native/build/node (scripts/install-native.mjs) */
    if (errno == ENOENT) {
      char node[PATH_MAX];
      size_t n = strlen(entry) - strlen("/bin/run-tool.js");
      if (snprintf(node, sizeof node, "%.*s/native/build/node", (int)n, entry) < (int)sizeof node) execv(node, nargv);
      errno = ENOENT;
    }
    fprintf(stderr, "%s: cannot run node: %s\n", tool, strerror(errno));
    _exit(127);
  }
  if (!plans) return pass_status(wait_node(sigfd));
  close(sv[1]);
  if (donep[1] >= 0) close(donep[1]);
  /* while Node loads, the jail's likely namespaces are made on the idle core (early.c); not at
   * once (EARLY_DELAY_MS) */
  struct sj_early ahead;
  early_none(&ahead);
  pid_t mon = -1; /* sysjail-oci create: its monitor, forked ahead (monitor_ahead) */
  int toldp[2] = { -1, -1 }; /* from it: whether it took the early init */
  {
    struct pollfd p[2] = { { sv[0], POLLIN, 0 }, { sigfd, POLLIN, 0 } };
    int r;
    while ((r = poll(p, 2, EARLY_DELAY_MS)) < 0 && errno == EINTR) {}
    int drop[3] = { sv[0], sigfd, donep[0] };
    if (r == 0 && ahead_ok && in_host_userns()) early_start(&ahead, drop, 3);
    /* sysjail-oci create: its monitor too (monitor_ahead); the channel is then the monitor's */
    if (r == 0 && oci && ahead_ok && pipe2(toldp, O_CLOEXEC) == 0) {
      pid_t front = getpid();
      mon = fork();
      if (mon == 0) {
        close(donep[0]);
        close(sigfd);
        close(toldp[0]);
        monitor_ahead(sv[0], &ahead, front, toldp[1]);
      }
      close(toldp[1]);
      if (mon > 0) { close(sv[0]); sv[0] = -1; early_handed(&ahead); }
      else close(toldp[0]);
    }
  }
  if (mon > 0) {
    /* Node's last word says how create went. After a failed create (or none) an early init is
     * killed and reaped here, its parent, and so is the monitor if it has ended by then (a live
     * one is still cleaning up, and ends as the engine's). After a success the early init is
     * the container's when the monitor said so ('a', written before it reported anything);
     * else the monitor has killed it, and it is left to the engine's subreaper as the killed
     * Node is (its reaping waits for its namespaces' teardown) */
    int word = wait_word(donep[0], sigfd);
    char told = 0;
    if (word == 0) while (read(toldp[0], &told, 1) < 0 && errno == EINTR) {}
    close(toldp[0]);
    if (word != 0) early_discard(&ahead);
    else if (told != 'a' && ahead.pidfd >= 0) syscall(SYS_pidfd_send_signal, ahead.pidfd, SIGKILL, NULL, 0);
    if (ahead.pidfd >= 0) { close(ahead.pidfd); ahead.pidfd = -1; }
    if (word != 0) while (waitpid(mon, NULL, WNOHANG) < 0 && errno == EINTR) {}
    if (word >= 0) {
      kill(g_node, SIGKILL);
      return word;
    }
    return pass_status(wait_node(sigfd));
  }
  if (wait_plan(sv[0], sigfd)) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    g_helper_t0 = (double)t0.tv_sec + t0.tv_nsec / 1e9; /* the setup figure starts with the plan */
    struct sj_plan plan;
    char err[256];
    memset(&plan, 0, sizeof plan);
    g_status_fd = sv[0];
    int r = plan_read(sv[0], &plan, err, sizeof err);
    if (r < 0) emit_error(-1, r == -2 ? "protocol" : "plan", r == -2 ? EPROTO : EINVAL, "", err);
    else if ((plan.flags & SJ_F_OCI) && (plan.flags & SJ_F_DETACH)) {
      /* sysjail-oci create: the container's monitor must outlive this call: a child of its own
       * session runs the plan, reporting to Node on the same channel; this process only waits
       * for Node and leaves. The monitor clones the container's init as its sibling (run.c),
       * this process's child until it leaves, which it never reaps (only Node): the pid stays
       * the init's while create runs. Both then belong to the engine's subreaper, which waits
       * for the init (named in the pid file) and reaps it, as runc's init. */
      /* the early init (early.c) goes to the monitor when it has the plan's namespaces (run.c
       * adopts it then); it is this process's child, as the monitor's own clone would be */
      uint64_t cf = 0;
      const struct sj_op_rec *cop = plan_find(&plan, OP_CLONE);
      int hand = cop && !arg_u64(cop, 0, &cf) && !plan_find(&plan, OP_NS_JOIN) && !plan_find(&plan, OP_PROC_NS) && early_fits(&ahead, cf);
      emit("{\"ev\":\"hello\",\"proto\":%d,\"pid\":%d}", SJ_PROTO, (int)getpid());
      pid_t m = fork();
      if (m == 0) {
        if (donep[0] >= 0) close(donep[0]);
        /* an early init that does not fit is the front's to end, not the monitor's */
        if (!hand) {
          early_handed(&ahead);
          if (ahead.pidfd >= 0) close(ahead.pidfd);
          early_none(&ahead);
        }
        setsid();
        g_front = 1;
        _exit(run_main(&plan, hand ? &ahead : NULL));
      }
      if (m < 0) emit_error(-1, "fork", errno, "", NULL);
      /* one that does not fit is ended only now, while the monitor works: its kill and reaping
       * (the kernel tearing down its namespaces, about a millisecond) are off create's path */
      if (hand && m > 0) early_handed(&ahead);
      else early_discard(&ahead);
      close(sv[0]);
      g_status_fd = -1;
      /* Node says its status once the container is recorded and its pid file written (its exit
       * handlers have run), and it has closed the engine's stdio before (src/helper/front.ts
       * lastWord): what is left of it is its own teardown (freeing its heap, ending its threads:
       * a millisecond or two an engine would wait for at every create). It is ended here and
       * not waited for: the SIGKILL is queued before this call returns, so no code of Node runs
       * after it, and it holds nothing of the engine's; the engine's subreaper (or init) reaps
       * it, as it reaps the container's init. */
      int word = donep[0] >= 0 ? wait_word(donep[0], sigfd) : -1;
      /* an early init handed to the monitor is the container's init once create succeeded;
       * after a failed create nothing made ahead stays: killed (the monitor has, then) and
       * reaped here, its parent. After a success it is left alone and its pidfd closed. */
      if (word != 0) early_discard(&ahead);
      else if (ahead.pidfd >= 0) { close(ahead.pidfd); ahead.pidfd = -1; }
      if (word >= 0) {
        kill(g_node, SIGKILL);
        return word;
      }
      return pass_status(wait_node(sigfd));
    }
    else if (plan.flags & SJ_F_DETACH) emit_error(-1, "plan", EINVAL, "", "a background jail's monitor is spawned by sysjail, not run by its front");
    else {
      emit("{\"ev\":\"hello\",\"proto\":%d,\"pid\":%d}", SJ_PROTO, (int)getpid());
      g_front = 1;
      run_main(&plan, &ahead);
      early_discard(&ahead); /* adopted, or discarded already, unless the plan was refused first */
      /* the jail is gone and cleaned up. Node has (or will have) the report; once it has said
       * its status it has nothing left to do, and its own teardown (freeing its heap, ending its
       * threads: milliseconds) is cut short. It is this process's child and still reaped here,
       * so nothing outlives the front. */
      shutdown(sv[0], SHUT_WR); /* Node sees the end of the channel */
      int word = wait_word(sv[0], sigfd);
      g_status_fd = -1;
      if (word >= 0) {
        kill(g_node, SIGKILL);
        (void)wait_node(sigfd);
        close(sv[0]);
        return word;
      }
    }
  }
  close(sv[0]); /* Node sees the end of the channel */
  g_status_fd = -1;
  /* no jail was run from the early init: it ends while Node does */
  if (ahead.pid > 0) kill(ahead.pid, SIGKILL);
  int st = wait_node(sigfd);
  early_discard(&ahead);
  return pass_status(st);
}
