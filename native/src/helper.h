/* helper.h: shared declarations of the sysjail helper's parts. */
#ifndef SJ_HELPER_H
#define SJ_HELPER_H
#include <stdint.h>
#include <sys/types.h>
#include "proto.h"

/* Messages from the jail's init and command to the monitor (one write each, < PIPE_BUF). */
enum sj_msg_type { MSG_ERROR = 1, MSG_READY, MSG_CMD_EXIT, MSG_WARN, MSG_STEP, MSG_EMPTY, MSG_LISTENER };
struct sj_msg {
  int32_t type, op, err, value;
  char text[240];
};

/* status channel to the TypeScript side (fd 3): JSON lines */
extern int g_status_fd;
void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void json_str(char *out, size_t outlen, const char *s);
void emit_error(int op, const char *step, int err, const char *path, const char *msg);

/* child-to-monitor messages */
void msg_send(int fd, int type, int op, int err, int value, const char *text);
/* the exec channel (a SOCK_SEQPACKET pair): a message with a descriptor, sent and received */
int msg_send_fd(int fd, int type, int op, int value);
ssize_t msg_recv_fd(int fd, struct sj_msg *m, int *rfd);
/* report a failed step from inside (init or command) and exit */
void die_step(int fd, const struct sj_op_rec *op, int err, const char *path) __attribute__((noreturn));
/* sysjail-oci's console socket, connected by init_preopen (mounts.c) with the caller's
 * credentials before pivot; -1 with g_console_err when that failed */
extern int g_console_fd, g_console_err;
/* connects g_console_fd when the plan has OP_CONSOLE (sysjail-oci plans only) */
void console_connect(const struct sj_plan *plan);

/* sysjail-oci linux.devices (devnodes.c): the monitor makes the plan's OP_DEV_NODE nodes in a
 * detached tmpfs; *OUT is its mount descriptor (-1: the plan has none). -1 after reporting. */
int devnodes_make(const struct sj_plan *plan, int *out);
/* that descriptor in the init, sent with 'D' before 'G'; mounts.c binds its nodes */
extern int g_devfs;

/* sysjail-oci's idmapped trees (idmaptree.c): the ops whose tree is idmapped (MF_IDMAP or
 * MF_IDMAP_TRY in their flags), and how many a plan has */
int idmap_wanted(const struct sj_op_rec *op);
int idmap_count(const struct sj_plan *plan);
/* the init's end of the exchange (its sync channel while it builds the jail, or -1); idmap_ask
 * hands the detached tree TREEFD to the monitor and returns 0 or the errno of its idmapping;
 * idmap_done tells the monitor there is no more (after the plan's last such op, mounts.c) */
extern int g_idmap_sync;
/* the init's channel kept for the monitor's 'S' (a start gate: init.c), or -1 */
extern int g_gate_sync;
int idmap_ask(int treefd);
void idmap_done(void);
/* the monitor: the user namespace of the init PID (checked alive through INITFD), and the
 * answers to the init's trees until its 'E' or its end */
int idmap_userns(pid_t pid, int initfd);
void idmap_serve(int sync, int userns, int initfd);
/* MSG_WARN's value with this bit: the tree of the op could not be idmapped (reported as the step "idmap") */
#define SJ_WARN_IDMAP 0x10000

/* init phase (runs as the jail's pid 1): mounts, pivot_root, hostname, loopback */
void init_preopen(const struct sj_plan *plan);
void init_setup(const struct sj_plan *plan, int msgfd, int treefd);
/* command phase: limits, ids, capabilities, no_new_privs, seccomp, exec (never returns) */
void command_exec(const struct sj_plan *plan, int msgfd) __attribute__((noreturn));
/* sysjail-oci: the plan's command looked up before the start gate (OP_LOOKUP); exits through
 * die_step, as the exec's failure, when the exec is sure to fail (lookup.c) */
void command_lookup(const struct sj_plan *plan, int msgw);
/* sysjail-oci: the terminal's pty made and its master sent before the start gate */
void console_early(const struct sj_plan *plan, int msgfd);
/* the same setup, then the startContainer hook HOOK exec'd instead of the command (hook.c) */
void command_exec_hook(const struct sj_plan *plan, int msgfd, const struct sj_op_rec *hook) __attribute__((noreturn));
/* sysjail-oci hooks in the container (hook.c): run one OP_HOOK, die_step on its failure;
 * CONFINED: set up as the command is first. Called in the init only: the state's pid is its getpid() */
/* sysjail-oci: a procfs of a joined pid namespace, made by the monitor for the init (ocimon.c), or -1 */
extern int g_proc_mnt;
void hook_run(const struct sj_plan *plan, const struct sj_op_rec *op, int msgw, int confined);
int hook_args(const struct sj_op_rec *op, const char **file, char ***argv, char ***envp);
/* the pid-1 loop: reap, report the command's status, end per the plan flags */
void init_loop(const struct sj_plan *plan, int msgfd, pid_t cmd) __attribute__((noreturn));
/* the jail's init (init.c), from a whole plan or from a prelude and the whole plan on PLANFD */
void init_main(const struct sj_plan *plan, uint64_t cflags, int sync, int msgw, int execw) __attribute__((noreturn));
void init_from_prelude(const struct sj_plan *prelude, int planfd, uint64_t cflags, int sync, int msgw, int execw) __attribute__((noreturn));

/* the jail's init cloned ahead of its plan by the front (early.c): its pid and the monitor's
 * ends of its message, exec, sync and plan channels (the child's ends are -1 here) */
struct sj_early {
  pid_t pid;
  int pidfd; /* the early init's pidfd (CLONE_PIDFD): alive or not, also from a sibling (sysjail-oci's monitor) */
  int msg[2], exec[2], sync[2], plan[2];
};
/* no early init (yet) */
/* cgwarm.c: the cgroup migration path kept open while a plan is coming (a no-op self-move) */
int cgwarm_open(void);
void cgwarm_once(int fd);
void early_none(struct sj_early *e);
/* clones the early init; DROP[0..NDROP) are descriptors of the front it must not keep */
void early_start(struct sj_early *e, const int *drop, int ndrop);
/* 1 when the early init is alive and has the namespaces of a plan with clone flags CFLAGS */
int early_fits(struct sj_early *e, uint64_t cflags);
/* the front after forking sysjail-oci's monitor, which adopts the early init: closes the front's
 * copies of its channels, keeps its pid and pidfd (early_discard still kills and reaps it) */
void early_handed(struct sj_early *e);
/* kills and reaps the early init (if any) and closes its channels */
void early_discard(struct sj_early *e);

/* runs a jail from PLAN; EARLY (or NULL) is an init the front cloned ahead, adopted or discarded */
int run_main(struct sj_plan *plan, struct sj_early *early);
/* `sysjail` and `jail` as native commands: Node plans as a child, this process runs the plan */
int front_main(int argc, char **argv, const char *tool);
/* nodeseed.c: OUT gets a --random-seed=N for Node whose V8 hash-secret search is short; -1 when none */
int node_seed(char *out, size_t n);
int oci_main(int argc, char **argv);
/* probe.c: `--probe`, the kernel features sysjail doctor reports */
int probe_main(void);
extern int g_front;
/* sysjail-oci create: the init is the monitor's sibling (CLONE_PARENT, ocimon.c); it arms no
 * parent-death signal (its parent is the front, then the engine's subreaper) */
extern int g_init_sibling;
int enter_main(struct sj_plan *plan);
/* `read-in-root` / `read-in-proc-root`: files of a jail's tree, read inside its root (readroot.c) */
int read_in_root_main(int argc, char **argv);
/* signal.c: signals pinned by a pidfd. Whether PID is alive (not a zombie) and started at START */
int proc_alive(long pid, unsigned long long start);
/* SIG to PID through a pidfd opened before its start time is checked: 0, -ESRCH (not that process), -errno */
int signal_pinned(long pid, unsigned long long start, int sig);
/* SIG to every other process of IPID's pid namespace (in a joined one, of its user namespace too),
 * IPID pinned while its namespaces are read, each other process pinned before its are: the count
 * signalled, or -ESRCH when IPID is not the process that started at ISTART */
int signal_ns_others(long ipid, unsigned long long istart, int sig);
/* `signal SIG PID START [PID START]...`: signal_pinned for Node, one answer line each on stdout */
int signal_main(int argc, char **argv);
/* `mkdir-in-root`: missing mount points of a jail's tree, made inside its root (mkroot.c) */
int mkdir_in_root_main(int argc, char **argv);
/* OP_MOUNT_POINTS: the monitor makes the plan's missing mount points, before the clone (mkroot.c) */
void mkroot_plan(const struct sj_plan *plan);

/* the name a jail sees for its pid 1 (and for an entered process before its exec) */
#define SJ_INIT_NAME "sysjail-init"
/* the most cgroup v1 `tasks` files one cgroupJoin exchange hands the init (run.c join_cgroups) */
#define SJ_MAX_JOINS 32
/* title.c: main records where argv and the environment lie; title_set overwrites both areas with
 * NAME (what /proc/PID/cmdline shows), clears environ and sets the thread name */
void title_record(int argc, char **argv);
void title_set(const char *name);

/* Fault injection for the test suite (test/faults): with SYSJAIL_TEST_FAULT=STEP in its
 * environment, the process of the helper that reaches STEP of the start table of
 * docs/ARCHITECTURE.md ("2", "2b", "3", "3b", "4", "5b", "6", "7" ... "13") stops dead there
 * (SIGKILL; the jail's init, which cannot be killed from inside, exits); "STEP+caller" kills
 * the caller too once it finds the helper gone (src/jail/run.ts). With "fail:OP" the monitor's
 * host-side write of that op (its plan name: cgroup-mkdir, cgroup-write, bpf-map, bpf-prog,
 * setgroups, uid-map, gid-map, cgroup-attach, vnet-link, host-addr, host-route, ns-socket, idmap) fails
 * with ENOSPC, as on a full disk: fault_fail returns -1 with errno set. With "slow:POINT" the
 * process reaching fault_slow(POINT) sleeps 300 ms there (a helper descheduled at a bad moment:
 * "enter-exit", the entering helper after its exit report). Release builds (-DSJ_RELEASE,
 * scripts/pack-native.mjs) compile it out: the variable does nothing there. */
#ifdef SJ_RELEASE
#define fault_init() ((void)0)
#define fault_point(step) ((void)0)
#define fault_fail(op) 0
#define fault_slow(point) ((void)0)
#else
void fault_init(void);
void fault_point(const char *step);
int fault_fail(const char *op);
void fault_slow(const char *point);
#endif

/* notify.c: the monitor's seccomp listener (OP_NOTIFY) */
void notify_setup(const struct sj_plan *plan);
int notify_fd(void);
int notify_on(void);
void notify_grab(pid_t init, int num);
void notify_take(int fd);
void notify_grab_from(pid_t init, pid_t cmd_known, int num);
void notify_handle(int exec_done);
void notify_hangup(void);
void notify_report(void);
int notify_timeout(void);
void notify_tick(void);

/* settle.c: sysjail-oci start's wait for the supervisor PID to accept the connections queued on
 * its listening unix sockets, at most BOUND_MS: the number still pending (0: none), -1 when they
 * cannot be read. settle_pending: the connections queued on those of sockets INO[N] that listen. */
int settle_listeners(long pid, int bound_ms);
int settle_pending(const unsigned long *ino, int n);

/* small utilities */
void reset_signals(void);
int write_file(const char *path, const char *data, size_t len);
/* trim.c: an idle monitor gives back its clean code pages, unused stack and free heap */
void trim_idle(void);
ssize_t read_file(const char *path, char *buf, size_t len);
/* /proc/self/uid_map into BUF (NUL-terminated): its length, 0 when empty, -1 when unreadable */
ssize_t read_own_uid_map(char *buf, size_t len);
/* the next "inside outside count" line of an id map at *P (advancing *P), 0 when none starts there */
int idmap_next(const char **p, unsigned long *in, unsigned long *out, unsigned long *count);
int read_starttime(pid_t pid, unsigned long long *out);
const struct sj_op_rec *plan_find(const struct sj_plan *plan, uint32_t code);
/* the init phase: idmap-root to loopback, the ops init_setup performs before the command phase */
int op_in_init_phase(uint32_t code);
/* a prelude that carries the init phase (it has the pivot_root op) */
int prelude_has_init_phase(const struct sj_plan *prelude);
/* NULL when WHOLE repeats its PRELUDE (flags, namespaces, id maps, init phase), else why not */
const char *prelude_mismatch(const struct sj_plan *prelude, const struct sj_plan *whole);
int uidmap_safe(const char *map);
/* whether MAP is the host-ids map (0 0 4294967295) PLAN may write (sysjail-oci's sysjail.ids=host) */
int hostids_map_ok(const struct sj_plan *plan, const char *map);
#endif
