/* proto.h: the plan format shared with src/plan/encode.ts. Any change here bumps SJ_PROTO. */
#ifndef SJ_PROTO_H
#define SJ_PROTO_H
#include <stdint.h>
#include <stddef.h>

#define SJ_PROTO 9
#define SJ_MAGIC "SJP1"
#define SJ_MAX_PLAN (4u << 20)
#define SJ_MAX_ARGS 4096

/* header flags */
#define SJ_F_DEBUG 1u      /* report every step */
#define SJ_F_PERSIST 2u    /* init stays when the jail has no process left */
#define SJ_F_KILLALL 4u    /* the jail ends when its command ends (else: when every process has) */
#define SJ_F_DETACH 8u     /* background jail: the monitor outlives the caller */
#define SJ_F_PRELUDE 16u   /* a prelude: the clone flags and id maps, and perhaps the init phase,
                            * sent while the caller is still planning; the whole plan follows and
                            * must repeat them (run.c read_whole_plan) */
#define SJ_F_OCI 32u       /* an OCI container (sysjail-oci): the command is exec'd by the init itself,
                            * so it is pid 1 of the jail, and the monitor exits with its status */

/* Operation codes, grouped by the phase that performs them; the init phase is the range
 * OP_IDMAP_ROOT..OP_LO_UP (util.c op_in_init_phase). */
enum sj_op {
  /* monitor (host side, before clone) */
  OP_CLONE = 1,        /* flags(u64 as text) */
  OP_CGROUP_MKDIR,     /* dir */
  OP_CGROUP_WRITE,     /* file value */
  OP_CGROUP_ATTACH,    /* cgroup.procs file: the jail's init is written there before it runs */
  OP_CGROUP_STAT,      /* name file: read at exit, reported */
  OP_STATE_FILE,       /* file removed when the jail ends */
  OP_WALL_LIMIT,       /* milliseconds */
  OP_CPU_LIMIT,        /* nanoseconds usage-file: whole-jail cpu cap, polled */
  /* monitor (host side, after clone) */
  OP_SETGROUPS,        /* "deny" | "allow" */
  OP_UIDMAP,           /* map text */
  OP_GIDMAP,           /* map text */
  OP_IDMAP_ROOT,       /* host path: refused (host.c); sysjail-oci's idmapped trees are MF_IDMAP flags */
  /* init (inside the new namespaces, before pivot) */
  OP_ROOT,             /* host path of the jail root (cloned by init itself) [flags: MF_RO, MF_IDMAP(_TRY)] */
  OP_STAGING,          /* host directory where the root is attached before pivot_root */
  OP_MOUNT_FS,         /* fstype target flags(text) options(k=v,...) mode */
  OP_BIND,             /* host-src target flags */
  OP_REBIND,           /* target flags: bind a jail path onto itself (ro etc.) */
  OP_MASK,             /* target: hide with an empty read-only file or directory */
  OP_MKDIR,            /* target mode */
  OP_MKFILE,           /* target mode */
  OP_SYMLINK,          /* linktext target */
  OP_PIVOT,            /* (no args) */
  OP_HOSTNAME,         /* name */
  OP_DOMAINNAME,       /* name */
  OP_LO_UP,            /* (no args) */
  /* command (the jail's first process, after pivot) */
  OP_RLIMIT,           /* resource soft hard */
  OP_CWD,              /* dir */
  OP_GROUPS,           /* gid... */
  OP_GID,              /* gid */
  OP_UID,              /* uid */
  OP_CAPS,             /* keep-mask(u64 text) forbidden-mask(u64 text) */
  OP_NNP,              /* (no args) */
  OP_SECCOMP,          /* flags program(blob of struct sock_filter) */
  OP_ENV,              /* NAME=value */
  OP_EXEC,             /* file argv0 argv1 ... */
  /* enter mode (jexec, jail -m) */
  OP_ENTER,            /* init-pid starttime nsflags */
  OP_UMASK,            /* octal */
  /* network (net.c). monitor, before clone: */
  OP_BPF_MAP,          /* name key-size value-size max-entries entries(blob: key,value pairs) */
  OP_BPF_PROG,         /* name prog-type attach-type cgroup-dir attach-flags insns(blob); map = fd_array[0] */
  /* network, monitor after clone (before "go"): */
  OP_VNET_LINK,        /* "veth"|"move" host-ifname jail-ifname */
  OP_HOST_ADDR,        /* ifname address/prefix */
  OP_HOST_ROUTE,       /* destination/prefix ifname */
  OP_NET_HELPER,       /* file argv0 argv1 ... ("{netns}"/"{userns}": paths to the jail's namespaces,
                        * "{ready}"/"{ready-path}": a descriptor / path it writes when ready);
                        * killed when the jail ends */
  /* network, init (after loopback): */
  OP_JAIL_ADDR,        /* ifname address/prefix (the link is brought up) */
  OP_JAIL_ROUTE,       /* destination/prefix gateway|"" ifname */
  /* network, enter mode (jail -m): */
  OP_BPF_UPDATE,       /* cgroup-dir map-name sets(blob: key,value pairs) deletes(blob: keys) */
  /* enter mode: the entered command's stdio, relayed by the helper (relay.c) */
  OP_STDIO,            /* "pty" | "pipe" [fallback: "pipe" when the jail has no devpts ptmx, or ""]
                        * [after the command: "keep" (relay its pipes into fds 1/2 until EOF) | "drop"] */
  /* command: a Landlock domain with only these scopes (LANDLOCK_SCOPE_*), after no_new_privs */
  OP_LANDLOCK_SCOPE,   /* scopes(u64 text) "optional"|"required" (optional: skipped on a kernel without them)
                        * [handled_fs(u64 text), then path rights pairs: unveil] */
  /* monitor: serve the jail's namespace descriptors to its owner (nsserve.c) */
  OP_NS_SOCKET,        /* socket-path owner-uid */
  /* enter mode: take the namespaces from the jail's monitor instead of a pidfd of a jail process */
  OP_ENTER_VIA,        /* socket-path monitor-pid monitor-starttime */
  /* monitor (notify.c): */
  OP_NOTIFY,           /* "answer"|"learn" answer-program(blob of struct sock_filter) [count-file] */
  /* command (before exec): */
  OP_DUP2,             /* from to: the command's descriptor TO becomes a copy of FROM */
  /* monitor (after the start is reported): */
  OP_START_GATE,       /* fifo [started]: the monitor makes and holds the fifo; the init builds the jail,
                        * then waits for 'S', which the monitor sends once a byte arrives there (sysjail-oci
                        * start); the monitor makes the file STARTED once the command was exec'd */
  /* init (before pivot; mounts.c): */
  OP_USERNS_MAX,       /* count: user.max_user_namespaces of the jail's own user namespace */
  /* init (before pivot, connect) and command (before exec): sysjail-oci process.terminal */
  OP_CONSOLE,          /* socket-path rows cols: a pty of the jail's devpts, its master sent over the
                        * unix socket (SCM_RIGHTS), its slave the command's controlling terminal */
  /* init: sysjail-oci's createContainer hooks (where the op stands, before pivot) and
   * startContainer hooks (after 'S', before the command; confined as the command is): hook.c */
  OP_HOOK,             /* "create"|"start" timeout-s state-prefix state-suffix path nenv env... argv0 argv... */
  /* monitor, before clone: join an existing namespace (sysjail-oci linux.namespaces path), which
   * the clone then does not make anew: network, uts, ipc, pid or mount */
  OP_NS_JOIN,          /* clone-flag(u64 text) path */
  /* init, before pivot: a namespaced sysctl, written through the host's /proc while the init is in
   * the container's namespaces (sysjail-oci linux.sysctl) */
  OP_SYSCTL,           /* /proc/sys/... value */
  /* unused code (kept so that the codes after it keep their numbers) */
  OP_OOM_ADJ,          /* reserved (was the oom score; sysjail-oci create writes it itself, src/oci/oom.ts) */
  /* monitor (host side, after clone), done by the init itself: */
  OP_CGROUP_JOIN,      /* a cgroup v1 `tasks` file: the monitor opens it and hands it to the init, which
                        * writes "0" (itself) there before it runs (run.c join_cgroups) */
  /* monitor, before clone (sysjail-oci, a joined pid namespace or the runtime's own): a procfs of it, which
   * the init mounts in place of the plan's proc mount (run.c proc_of_pidns, mounts.c) */
  OP_PROC_NS = 62,     /* mount-flags fs-options */
  /* monitor (host side, after clone, before 'G') makes the node in a detached tmpfs of its own
   * (devnodes.c); the init binds it onto TARGET before pivot (mounts.c): sysjail-oci linux.devices */
  OP_DEV_NODE = 63,    /* target(/dev/...) type(c|b|p) major minor mode(octal) host-uid host-gid */
  /* monitor, before clone and before any namespace join (sysjail-oci create): the mount points the
   * image lacks, made inside ROOT as runc makes them (mkroot.c); one not made is left to the jail */
  OP_MOUNT_POINTS = 64, /* root target("d:PATH"|"f:PATH")... */
  /* monitor, at the clone: the init is born in this cgroup2 directory (clone3 CLONE_INTO_CGROUP: no
   * migration, so no wait for the kernel's RCU grace period that a cgroup.procs write of a whole
   * process takes); from a prelude (the init is cloned before the directory is made) the monitor
   * writes the init's pid there instead, as cgroup-attach does (run.c) */
  OP_CGROUP_INTO = 65, /* dir (a hybrid host's unified hierarchy: the jail's leaf) */
  /* monitor, before clone, after the OP_NS_JOIN joins of network and ipc namespaces (and before a
   * mount namespace's): a sysctl of such a joined namespace, written by the monitor there (the
   * container's root is not privileged over it); sysjail-oci linux.sysctl (ocimon.c) */
  OP_NS_SYSCTL = 67,   /* clone-flag(u64 text: CLONE_NEWNET|CLONE_NEWIPC) /proc/sys/... value */
  /* monitor, before clone (sysjail-oci create): the container's stdio pipes (fds 0-2 that are
   * anonymous pipes, the engine's) are given to the process's user, as runc does (ocimon.c) */
  OP_STDIO_OWNER = 70, /* host-uid host-gid */
  /* init, after the build and before the start gate (sysjail-oci): the command's lookup, as the
   * exec's PATH search would try it; a missing or unrunnable command is reported as the exec's
   * failure before the container is created (lookup.c) */
  OP_LOOKUP = 71,      /* file... (absolute, in execvpe's order) */
  OP_MAX
};

/* mount flags (text of letters in the flags argument) */
#define MF_RO 'r'        /* read-only */
#define MF_STRICT 's'    /* no symlink anywhere on the target path */
#define MF_REC 'R'       /* recursive bind */
#define MF_NOSUID 'u'
#define MF_NODEV 'd'
#define MF_NOEXEC 'x'
#define MF_FILE 'f'      /* the target is a file (created if missing) */
#define MF_CREATE 'c'    /* create a missing target directory */
#define MF_OPTIONAL 'o'  /* skip (with a warning) when the target or source is missing */
#define MF_QUIET 'q'     /* with MF_OPTIONAL: skip without a warning (sysjail-oci readonlyPaths, as runc) */
/* sysjail-oci mount options: access times, and the propagation the mount gets once attached
 * (only among the jail's own mounts: every one is a copy of the jail's private namespace) */
#define MF_STRICTATIME 'T'
#define MF_NOATIME 'N'
#define MF_NODIRATIME 'D'
#define MF_SHARED 'S'
#define MF_SLAVE 'L'
#define MF_PRIVATE 'P'
#define MF_UNBINDABLE 'U'
#define MF_PROP_REC 'A'  /* the propagation for the whole tree (rshared, rslave, ...) */
/* sysjail-oci (OP_ROOT's flags, OP_BIND's): the tree idmapped onto the jail's user namespace by
 * the monitor (idmaptree.c), so on-disk id k is jail id k; when the kernel cannot, MF_IDMAP fails
 * the step and MF_IDMAP_TRY mounts the tree as it is and warns (step "idmap") */
#define MF_IDMAP 'I'
#define MF_IDMAP_TRY 'i'

struct sj_arg { uint32_t len; const char *p; };
struct sj_op_rec { uint32_t code; uint32_t argc; struct sj_arg *argv; int index; };
struct sj_plan {
  uint32_t flags;
  uint32_t nops;
  uint32_t len;             /* body length (the ops as read) */
  struct sj_op_rec *ops;
  char *buf;
};

int plan_read(int fd, struct sj_plan *plan, char *err, size_t errlen);
int plan_write(int fd, const struct sj_plan *plan);
const char *op_name(uint32_t code);
const char *arg_str(const struct sj_op_rec *op, uint32_t i);
int arg_u64(const struct sj_op_rec *op, uint32_t i, uint64_t *out);
int flag_has(const char *flags, char f);
#endif
