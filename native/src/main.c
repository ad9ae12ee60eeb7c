/* main.c: sysjail-helper. No policy and no defaults: it reads a plan on fd 3, performs it in a
 * fixed order, and reports on fd 3 as JSON lines. `sysjail-helper --version` prints the protocol.
 * Started as `sysjail`, `jail`, `jls`, `sjls` or `jexec` (links beside it), it is those commands'
 * front (front.c); `sysjail-helper --front TOOL ARGS...` is the same front for a caller that cannot
 * choose argv[0] (the package's sh stand-in for a bin entry, scripts/pack-native.mjs).
 * Started as `sysjail-oci`, it is the OCI runtime's native part (oci.c).
 * `sysjail-helper --probe` prints the kernel's answers for `sysjail doctor` (probe.c).
 * `read-in-root` and `read-in-proc-root` read files of a jail's tree for the host side,
 * confined to the jail's root (readroot.c); `mkdir-in-root` makes missing mount points in it
 * (mkroot.c). `signal` signals processes pinned by a pidfd for Node (signal.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>
#include "helper.h"

extern double g_helper_t0;

int main(int argc, char **argv) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  g_helper_t0 = (double)t0.tv_sec + t0.tv_nsec / 1e9;
  title_record(argc, argv);
  fault_init();
  /* Never setuid, setgid or with file capabilities: whoever runs the helper chooses its plan, and
   * the front runs `node` from PATH. Unprivileged jails come from user namespaces instead. */
  if (getauxval(AT_SECURE)) {
    fprintf(stderr, "sysjail: refusing to run setuid, setgid or with file capabilities (unprivileged jails need none)\n");
    return 77;
  }
  const char *base = strrchr(argv[0], '/');
  base = base ? base + 1 : argv[0];
  static const char *const tools[] = { "sysjail", "jail", "jls", "sjls", "jexec" };
  for (size_t i = 0; i < sizeof tools / sizeof *tools; i++)
    if (!strcmp(base, tools[i])) return front_main(argc, argv, base);
  /* sysjail-oci: start, state, kill and delete in C (oci.c), the rest through the front */
  if (!strcmp(base, "sysjail-oci")) return oci_main(argc, argv);
  if (argc >= 2 && (!strcmp(argv[1], "read-in-root") || !strcmp(argv[1], "read-in-proc-root"))) return read_in_root_main(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "mkdir-in-root")) return mkdir_in_root_main(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "signal")) return signal_main(argc, argv);
  if (argc >= 3 && !strcmp(argv[1], "--front")) {
    for (size_t i = 0; i < sizeof tools / sizeof *tools; i++)
      if (!strcmp(argv[2], tools[i])) return front_main(argc - 2, argv + 2, tools[i]);
    if (!strcmp(argv[2], "sysjail-oci")) return oci_main(argc - 2, argv + 2);
    fprintf(stderr, "sysjail-helper: --front: no tool named '%.64s'\n", argv[2]);
    return 64;
  }
  if (argc == 2 && !strcmp(argv[1], "--probe")) return probe_main();
  if (argc == 2 && !strcmp(argv[1], "--version")) { printf("sysjail-helper protocol %d\n", SJ_PROTO); return 0; }
  if (argc != 2 || (strcmp(argv[1], "run") && strcmp(argv[1], "enter"))) {
    fprintf(stderr, "sysjail-helper: run by sysjail only (usage: sysjail-helper run|enter, plan on fd 3)\n");
    return 64;
  }
  if (fcntl(3, F_GETFD) < 0) { fprintf(stderr, "sysjail-helper: no plan on fd 3\n"); return 64; }
  g_status_fd = 3;
  fcntl(3, F_SETFD, FD_CLOEXEC);
  struct sj_plan plan;
  memset(&plan, 0, sizeof plan);
  char err[256];
  int r = plan_read(3, &plan, err, sizeof err);
  if (r < 0) {
    emit_error(-1, r == -2 ? "protocol" : "plan", r == -2 ? EPROTO : EINVAL, "", err);
    return 70;
  }
  emit("{\"ev\":\"hello\",\"proto\":%d,\"pid\":%d}", SJ_PROTO, (int)getpid());
  return !strcmp(argv[1], "run") ? run_main(&plan, NULL) : enter_main(&plan);
}
