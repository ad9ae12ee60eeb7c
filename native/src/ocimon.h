/* ocimon.h: sysjail-oci's start-up and monitor machinery, called by run.c (contract in ocimon.c). */
#ifndef SJ_OCIMON_H
#define SJ_OCIMON_H
#include <sys/types.h>
#include "helper.h"

/* the init's pidfd (-1 when none) */
extern int g_initfd;
/* the start gate after its byte came, held until the command's exec (-1 when not held) */
extern int g_gate_hold;

/* 1: the plan's OP_NS_JOIN ops are valid and none repeats a namespace CFLAGS makes; *JOINED gets
 * their types. 0 after reporting why not. */
int ocimon_check_joins(const struct sj_plan *first, uint64_t cflags, uint64_t *joined);
/* before the clone: keeps the monitor's own mount namespace (a joined one), joins the plan's
 * namespaces, makes the procfs of OP_PROC_NS POP (or NULL); -1 after reporting */
int ocimon_before_clone(const struct sj_plan *first, uint64_t joined, const struct sj_op_rec *pop);
/* whether the init is cloned as the monitor's sibling (CLONE_PARENT); sets g_init_sibling */
int ocimon_sibling(const struct sj_plan *first, int adopt);
/* right after the clone in the monitor (PID != 0): the init's pidfd (INITFD from CLONE_PIDFD, or
 * opened for an ADOPTed init), back in the monitor's own mount namespace, the container's user
 * namespace noted when it has no pid namespace of its own. Exits 70 if it cannot return. */
void ocimon_after_clone(pid_t pid, int adopt, int initfd, uint64_t cflags);
/* SIG to the init, through its pidfd when there is one */
void kill_init(pid_t pid, int sig);
/* waits until the init has ended */
void wait_init(pid_t pid);
/* linux.devices: makes the nodes and hands them to the init ('D' on SYNC); -1 after reporting */
int ocimon_devnodes(const struct sj_plan *plan, int prelude_early, int sync);
/* the start gate FIFO of OP_START_GATE into *GATEFD (-1: none); -1 after reporting */
int ocimon_gate_open(const struct sj_plan *plan, int *gatefd);
/* the gate of a container never started goes with it */
void ocimon_gate_drop(const struct sj_plan *plan, int gatefd);
/* the command was exec'd: the start gate's second path, and the held gate closed */
void mark_started(const struct sj_plan *plan);
/* whether the monitor may hand over to sysjail-reaper, given that nothing of run.c's own
 * (channels, timers, failures, reasons, namespace socket, the jail's end) is BUSY */
int ocimon_may_hand_over(const struct sj_plan *plan, int ready_sent, int busy);
/* after the init's end: SIGKILL to the rest of the container's user namespace, if noted */
void ocimon_kill_userns(void);

/* run.c: tells the init to go on with BYTE, FD (or -1) along */
void send_token(int sync, char byte, int fd);
#endif
