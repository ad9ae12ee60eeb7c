/* probe.c: `sysjail-helper --probe`: asks the kernel which features it has, for `sysjail doctor`
 * (Node cannot make these system calls). Each answer is data, one JSON line: a number >= 0 when
 * the call worked (Landlock: its ABI version), else the negated errno; what that means for a jail
 * is decided in TypeScript (src/doctor). Every probe is harmless: calls with invalid arguments
 * that only show whether the call exists, a child that makes a user namespace and exits, a BPF
 * program loaded and closed without being attached. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"

#ifndef __NR_openat2
#define __NR_openat2 437
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif

static long answer(long r) { return r < 0 ? -(long)errno : r; }

/* RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS on "/": how sysjail reads a jail's files */
static long probe_openat2(void) {
  struct { uint64_t flags, mode, resolve; } how = { O_PATH | O_CLOEXEC, 0, 0x10 | 0x02 };
  long fd = syscall(__NR_openat2, AT_FDCWD, "/", &how, sizeof how);
  if (fd >= 0) { close((int)fd); return 0; }
  return -(long)errno;
}

/* an invalid descriptor: EBADF says the call exists, ENOSYS that it does not */
static long probe_exists(long nr, long a, long b, long c, long d, long e) {
  long r = syscall(nr, a, b, c, d, e);
  if (r >= 0) return 0;
  return errno == EBADF || errno == EINVAL ? 0 : -(long)errno;
}

/* a child makes a user namespace (as the caller would for a jail) and exits */
static long probe_userns(void) {
  int p[2];
  if (pipe(p) < 0) return -(long)errno;
  pid_t pid = fork();
  if (pid < 0) return -(long)errno;
  if (pid == 0) {
    close(p[0]);
    int e = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
    (void)!write(p[1], &e, sizeof e);
    _exit(0);
  }
  close(p[1]);
  int e = EIO;
  if (read(p[0], &e, sizeof e) != (ssize_t)sizeof e) e = EIO;
  close(p[0]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  return -(long)e;
}

/* a cgroup-skb program that returns 1 (allow), loaded and closed: sysjail's address jails attach
 * such programs to a jail's cgroup */
static long probe_bpf_cgroup(void) {
  struct bpf_insn prog[2];
  memset(prog, 0, sizeof prog);
  prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K; prog[0].dst_reg = BPF_REG_0; prog[0].imm = 1;
  prog[1].code = BPF_JMP | BPF_EXIT;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_SKB;
  a.expected_attach_type = BPF_CGROUP_INET_EGRESS;
  a.insns = (uint64_t)(uintptr_t)prog;
  a.insn_cnt = 2;
  a.license = (uint64_t)(uintptr_t)"GPL";
  long fd = syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof a);
  if (fd >= 0) { close((int)fd); return 0; }
  return -(long)errno;
}

int probe_main(void) {
  printf("{\"landlock\":%ld,\"openat2\":%ld,\"pidfd_getfd\":%ld,\"mount_setattr\":%ld,\"userns\":%ld,\"bpf_cgroup\":%ld,\"seccomp\":%ld}\n",
         answer(syscall(__NR_landlock_create_ruleset, NULL, 0, 1UL)),
         probe_openat2(),
         probe_exists(__NR_pidfd_getfd, -1, 0, 0, 0, 0),
         probe_exists(__NR_mount_setattr, -1, (long)"", 0x1000 /* AT_EMPTY_PATH */, 0, 0),
         probe_userns(),
         probe_bpf_cgroup(),
         answer(prctl(PR_GET_SECCOMP, 0, 0, 0, 0)));
  return 0;
}
