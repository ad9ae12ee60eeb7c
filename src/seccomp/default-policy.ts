// sysjail's default system-call policy, in the policy file format: a base allow-list, one fragment
// per sysjail(1) restriction (each --allow-* flag leaves its fragment out), and hardening that
// always applies. The same texts are in policy/default/*.policy for reading; a test keeps them equal.
import type { PolicyOptions } from "../spec/types.js";

/** The base: every call not named fails with ENOSYS; the calls ordinary programs need are allowed. */
export const BASE = `# sysjail base policy: an allow-list. Calls not named here fail with ENOSYS, as on a kernel
# that lacks them, so newer C libraries fall back to older calls.
default errno ENOSYS

# processes, threads, credentials
exit, exit_group, fork, vfork, clone, execve, execveat, wait4, waitid, waitpid allow
getpid, getppid, gettid, getpgid, getpgrp, getsid, setsid, setpgid allow
kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_open, pidfd_send_signal, pidfd_getfd allow
set_tid_address, set_robust_list, get_robust_list, restart_syscall, rseq, membarrier allow
futex, futex_time64, futex_waitv, futex_wake, futex_wait, futex_requeue allow
ptrace, process_vm_readv, process_vm_writev, kcmp allow
prctl, arch_prctl, seccomp, landlock_create_ruleset, landlock_add_rule, landlock_restrict_self allow
capget, capset, lsm_get_self_attr, lsm_set_self_attr, lsm_list_modules allow
getuid, geteuid, getgid, getegid, getresuid, getresgid, getgroups allow
getuid32, geteuid32, getgid32, getegid32, getresuid32, getresgid32, getgroups32 allow
setuid, setgid, setreuid, setregid, setresuid, setresgid, setfsuid, setfsgid, setgroups allow
setuid32, setgid32, setreuid32, setregid32, setresuid32, setresgid32, setfsuid32, setfsgid32, setgroups32 allow
unshare, personality, uname, olduname, oldolduname, sysinfo, getcpu, reboot allow
getrlimit, ugetrlimit, setrlimit, prlimit64, getrusage, times allow
sched_yield, sched_getaffinity, sched_setaffinity, sched_getparam, sched_setparam allow
sched_getscheduler, sched_setscheduler, sched_get_priority_max, sched_get_priority_min allow
sched_rr_get_interval, sched_rr_get_interval_time64, sched_getattr, sched_setattr allow
getpriority, setpriority, nice, ioprio_get, ioprio_set allow

# signals
rt_sigaction, rt_sigprocmask, rt_sigreturn, rt_sigpending, rt_sigsuspend allow
rt_sigtimedwait, rt_sigtimedwait_time64, sigaltstack, signalfd, signalfd4 allow
sigaction, sigprocmask, sigreturn, sigpending, sigsuspend, signal, sgetmask, ssetmask allow
pause, alarm, getitimer, setitimer allow

# clocks and timers (reading and sleeping; setting the time is refused below)
time, gettimeofday, clock_gettime, clock_gettime64, clock_getres, clock_getres_time64 allow
nanosleep, clock_nanosleep, clock_nanosleep_time64 allow
timer_create, timer_settime, timer_settime64, timer_gettime, timer_gettime64, timer_getoverrun, timer_delete allow
timerfd_create, timerfd_settime, timerfd_settime64, timerfd_gettime, timerfd_gettime64 allow

# memory
brk, mmap, mmap2, munmap, mremap, mprotect, pkey_mprotect, pkey_alloc, pkey_free allow
madvise, process_madvise, process_mrelease, mincore, msync, mseal, map_shadow_stack allow
mlock, mlock2, munlock, mlockall, munlockall, remap_file_pages allow
mbind, get_mempolicy, set_mempolicy, set_mempolicy_home_node, migrate_pages, move_pages allow
memfd_create, memfd_secret, cachestat allow
modify_ldt, set_thread_area, get_thread_area allow
ARM_set_tls, ARM_get_tls, ARM_cacheflush, ARM_breakpoint allow

# files and descriptors
read, write, readv, writev, pread64, pwrite64, preadv, pwritev, preadv2, pwritev2 allow
open, openat, openat2, creat, close, close_range, lseek, _llseek allow
dup, dup2, dup3, pipe, pipe2, fcntl, fcntl64, flock, ioctl allow
fsync, fdatasync, sync, syncfs, sync_file_range, arm_sync_file_range allow
truncate, truncate64, ftruncate, ftruncate64, fallocate allow
fadvise64, fadvise64_64, arm_fadvise64_64, readahead allow
sendfile, sendfile64, splice, tee, vmsplice, copy_file_range allow
stat, lstat, fstat, stat64, lstat64, fstat64, fstatat64, newfstatat, statx allow
oldstat, oldlstat, oldfstat, statfs, fstatfs, statfs64, fstatfs64 allow
access, faccessat, faccessat2, getdents, getdents64, readdir, getcwd, chdir, fchdir, chroot allow
mkdir, mkdirat, rmdir, rename, renameat, renameat2, link, linkat, unlink, unlinkat allow
symlink, symlinkat, readlink, readlinkat, mknod, mknodat allow
chmod, fchmod, fchmodat, fchmodat2, chown, fchown, lchown, fchownat, chown32, fchown32, lchown32 allow
umask, utime, utimes, utimensat, utimensat_time64, futimesat allow
setxattr, lsetxattr, fsetxattr, getxattr, lgetxattr, fgetxattr allow
listxattr, llistxattr, flistxattr, removexattr, lremovexattr, fremovexattr allow
setxattrat, getxattrat, listxattrat, removexattrat, file_getattr, file_setattr allow
name_to_handle_at, statmount, listmount allow
inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch, fanotify_init, fanotify_mark allow

# waiting for events
poll, ppoll, ppoll_time64, select, _newselect, pselect6, pselect6_time64 allow
epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2, eventfd, eventfd2 allow
io_setup, io_destroy, io_submit, io_cancel, io_getevents, io_pgetevents, io_pgetevents_time64 allow

# sockets (socket and socketpair are narrowed by the fragments below)
socket, socketpair, bind, connect, listen, accept, accept4, shutdown allow
getsockname, getpeername, getsockopt, setsockopt allow
sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg, recvmmsg_time64, send, recv allow

# POSIX message queues (in the jail's IPC namespace) and randomness
mq_open, mq_unlink, mq_timedsend, mq_timedsend_time64, mq_timedreceive, mq_timedreceive_time64 allow
mq_notify, mq_getsetattr, getrandom allow

# System V IPC and the host name: refused by the fragments below unless a flag allows them
msgget, msgsnd, msgrcv, msgctl, semget, semop, semctl, semtimedop, semtimedop_time64 allow
shmget, shmat, shmdt, shmctl, sethostname, setdomainname allow
`;

/** sysjail(1): socket families other than unix, inet, inet6 and netlink-route (unless --allow-all-domains). */
export const DOMAINS = `# Socket families: only AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK with NETLINK_ROUTE (AF_PACKET
# is a raw socket: the raw-sockets fragment decides on it). Left out by --allow-all-domains.
socket, socketpair arg0 not in [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET] errno EPROTONOSUPPORT
socket, socketpair arg0 == AF_NETLINK && arg2 != NETLINK_ROUTE errno EPROTONOSUPPORT
`;

/** sysjail(1): raw sockets (unless --allow-raw-sockets). */
export const RAW_SOCKETS = `# Raw sockets: AF_PACKET, SOCK_RAW (netlink and unix sockets are SOCK_RAW or SOCK_DGRAM by
# design and stay allowed) and IPPROTO_RAW. EPERM, as the kernel answers without CAP_NET_RAW.
# Left out by --allow-raw-sockets.
socket, socketpair arg0 == AF_PACKET errno EPERM
socket, socketpair arg0 not in [AF_UNIX, AF_NETLINK] && arg1 & SOCK_TYPE_MASK == SOCK_RAW errno EPERM
socket, socketpair arg0 in [AF_INET, AF_INET6] && arg2 == IPPROTO_RAW errno EPERM
`;

/** sysjail(1): System V IPC (unless --allow-ipc). */
export const IPC = `# System V IPC fails with EPERM. Left out by --allow-ipc.
msgget, msgsnd, msgrcv, msgctl errno EPERM
semget, semop, semctl, semtimedop, semtimedop_time64 errno EPERM
shmget, shmat, shmdt, shmctl errno EPERM
`;

/** sysjail(1): file flags, chattr +i / +a (unless --allow-chflags). */
export const CHFLAGS = `# File flags (chattr +i, +a): the flag-setting ioctls, in their 64-bit and 32-bit forms, and
# file_setattr(2). EPERM. Left out by --allow-chflags.
ioctl arg1 in [FS_IOC_SETFLAGS, FS_IOC32_SETFLAGS, FS_IOC_FSSETXATTR] errno EPERM
file_setattr errno EPERM
`;

/** Resource limits: a process may change only its own (unless --allow-rlimit). */
export const RLIMIT = `# Resource limits. Raising a hard limit needs CAP_SYS_RESOURCE in the initial user namespace,
# which a jail never holds, so the kernel itself refuses it (EPERM). The filter adds: a process
# sets only its own limits (pid 0); prlimit64 setting another process's limits fails with EPERM.
# Left out by --allow-rlimit.
prlimit64 arg0 != 0 && arg2 != 0 errno EPERM
`;

/** sysjail(1): setting the host name (unless allow.set_hostname). */
export const HOSTNAME = `# Host and domain name: EPERM. Left out by allow.set_hostname and children.max.
sethostname, setdomainname errno EPERM
`;

/** Jails that may not make child jails (children.max = 0, the default). */
export const NO_NESTING = `# No child jails: no new user namespace, no mounts, no entering other namespaces. Left out
# for a jail with children.max > 0, which runs jail(8) inside; the child's namespaces and
# mounts belong to the jail's own user namespace, and the kernel limits how many it makes.
mount, umount, umount2, pivot_root errno EPERM
fsopen, fsconfig, fsmount, fspick, move_mount, open_tree, open_tree_attr, mount_setattr errno EPERM
setns errno EPERM
clone, unshare arg0 & CLONE_NEWUSER != 0 errno EPERM
`;

/** Jails with children.max > 0: the calls jail(8) and the helper need to make a child jail. */
export const NESTING = `# Child jails (children.max > 0): the helper inside makes the child's user namespace (clone,
# unshare: allowed by the base), mounts its root and enters it. The mounts belong to the jail's
# own user namespace: the kernel refuses any that would reach the host's.
mount, umount2, pivot_root, setns allow
fsopen, fsconfig, fsmount, fspick, move_mount, open_tree, mount_setattr allow
`;

/** Hardening beyond sysjail(1), always applied. */
export const HARDENING = `# Hardening beyond the original sysjail, whatever the flags.
# Kernel keyrings are not namespaced: ENOSYS, as on a kernel without them.
add_key, request_key, keyctl errno ENOSYS
# eBPF, perf events, userfaultfd: large kernel attack surface. The errnos are what an
# unprivileged process gets from a locked-down kernel.
bpf errno EPERM
perf_event_open errno EACCES
userfaultfd errno EPERM
# io_uring runs its operations without passing them through seccomp: ENOSYS, so libraries
# fall back to ordinary calls.
io_uring_setup, io_uring_enter, io_uring_register errno ENOSYS
# kexec, kernel modules, file handles (open_by_handle_at escapes a chroot), swap, accounting
kexec_load, kexec_file_load errno EPERM
init_module, finit_module, delete_module errno EPERM
open_by_handle_at errno EPERM
swapon, swapoff, acct errno EPERM
# the clock, the kernel log, port I/O, quotas, other namespaces
settimeofday, stime, clock_settime, clock_settime64, adjtimex, clock_adjtime, clock_adjtime64 errno EPERM
syslog, iopl, ioperm, quotactl, quotactl_fd errno EPERM
# personality: only PER_LINUX, PER_LINUX32, UNAME26, ADDR_NO_RANDOMIZE and the query
personality arg0 & ~(PER_LINUX32 | UNAME26 | ADDR_NO_RANDOMIZE) != 0 && arg0 != PER_QUERY errno EPERM
# clone3 keeps its flags in memory, so it fails with ENOSYS and libc falls back to clone, whose
# flags the filter can see
clone3 errno ENOSYS
# terminal input injection and the virtual-console multiplexer (the kernel reads only the low
# 32 bits of the ioctl number, and so does this rule)
ioctl arg1 in [TIOCSTI, TIOCLINUX] errno EPERM
# device nodes (mode is a 16-bit umode_t)
mknod arg1 & S_IFMT in [S_IFCHR, S_IFBLK] errno EPERM
mknodat arg2 & S_IFMT in [S_IFCHR, S_IFBLK] errno EPERM
# AF_VSOCK reaches the hypervisor's host: refused even with --allow-all-domains
socket, socketpair arg0 == AF_VSOCK errno EPROTONOSUPPORT
`;

/** The default policy's fragments in order, each with the option that leaves it out (if any). */
export const FRAGMENTS: readonly { name: string; text: string; unless?: keyof PolicyOptions | (keyof PolicyOptions)[]; when?: keyof PolicyOptions }[] = [
  { name: "base", text: BASE },
  { name: "domains", text: DOMAINS, unless: "allowAllDomains" },
  { name: "raw-sockets", text: RAW_SOCKETS, unless: "allowRawSockets" },
  { name: "ipc", text: IPC, unless: "allowIpc" },
  { name: "chflags", text: CHFLAGS, unless: "allowChflags" },
  { name: "rlimit", text: RLIMIT, unless: "allowRlimit" },
  // a child jail's init sets the child's hostname under its parent's filter too
  { name: "hostname", text: HOSTNAME, unless: ["allowSetHostname", "allowNesting"] },
  { name: "no-nesting", text: NO_NESTING, unless: "allowNesting" },
  { name: "nesting", text: NESTING, when: "allowNesting" },
  { name: "hardening", text: HARDENING },
];

/** Whether a fragment is part of the default policy for these options. */
export function applies(f: (typeof FRAGMENTS)[number], opts: PolicyOptions): boolean {
  const unless = f.unless === undefined ? [] : Array.isArray(f.unless) ? f.unless : [f.unless];
  return !unless.some((k) => opts[k]) && (!f.when || opts[f.when] === true);
}

/** The default policy text for these options (the fragments that apply, in order). */
export function defaultPolicyText(opts: PolicyOptions): string {
  return FRAGMENTS.filter((f) => applies(f, opts)).map((f) => f.text).join("\n");
}
