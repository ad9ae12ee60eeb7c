/* net.h: the network steps of a plan: eBPF programs on the jail's cgroup, vnet links, addresses. */
#ifndef SJ_NET_H
#define SJ_NET_H
#include <sys/types.h>
#include "proto.h"

/* Monitor, before clone: OP_BPF_MAP and OP_BPF_PROG. Reports its own error; -1 on failure. */
int net_host_pre(const struct sj_plan *plan, const struct sj_op_rec *op);
/* Monitor, after the id maps and cgroups, before "go": vnet links, host addresses and routes,
 * user-mode networking helpers. Reports its own error; -1 on failure. */
int net_host_post(const struct sj_plan *plan, pid_t pid);
/* Monitor, right after clone (the init still dumpable): holds the jail's network and user
 * namespaces for the helpers of OP_NET_HELPER ({netns}, {userns}). */
void net_hold(pid_t pid);
/* The jail's init, after the mounts: addresses and routes inside the jail (dies on failure). */
void net_init(const struct sj_plan *plan, int msgfd);
/* Monitor, at the end (also after a failed start): give moved interfaces back, delete the host
 * end of veth pairs, stop helpers, close what is left. */
void net_cleanup(void);
int net_busy(void);
/* Monitor, on SIGCHLD: reaps helpers that ended while the jail runs, with a warning each. */
void net_reap(void);
/* Enter mode: OP_BPF_UPDATE (jail -m). Reports its own error; -1 on failure. */
int net_enter(const struct sj_plan *plan);
#endif
