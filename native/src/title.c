/* title.c: what a jail can read about its pid 1. The init is this program, cloned, never exec'd, so
 * its /proc/1/cmdline would show the helper's host path and the caller's command line (the jail's
 * path among them), and /proc/1/comm the tool's name. /proc/PID/cmdline is readable without any
 * ptrace right, so the init overwrites the memory the kernel shows there: the argv area becomes
 * the neutral name SJ_INIT_NAME, the original environment area is zeroed (the init's environment
 * also stays unreadable: it is not dumpable, so /proc/1/environ, exe, maps and auxv need
 * CAP_SYS_PTRACE on the host), and the thread's name is set with PR_SET_NAME. prctl's
 * PR_SET_MM_ARG_START would need CAP_SYS_RESOURCE in the host's user namespace, so the area keeps
 * its place and only its bytes change. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/prctl.h>
#include "helper.h"

static char *g_args, *g_env;
static size_t g_args_len, g_env_len;
extern char **environ;

void title_record(int argc, char **argv) {
  if (argc > 0 && argv[0]) {
    g_args = argv[0];
    char *last = argv[argc - 1];
    g_args_len = (size_t)(last + strlen(last) + 1 - g_args);
  }
  if (environ && environ[0]) {
    size_t n = 0;
    while (environ[n]) n++;
    g_env = environ[0];
    char *last = environ[n - 1];
    if (last > g_env) g_env_len = (size_t)(last + strlen(last) + 1 - g_env);
  }
}

void title_set(const char *name) {
  static char *none[] = { NULL };
  if (g_env && g_env_len) { memset(g_env, 0, g_env_len); g_env_len = 0; }
  environ = none; /* the zeroed strings are no environment to read any more */
  if (g_args && g_args_len > 1) {
    /* "NAME\0" and zeros, and a non-zero last byte: the kernel then shows the area up to the
     * first NUL (its setproctitle case), that is exactly NAME */
    size_t n = strlen(name);
    if (n > g_args_len - 2) n = g_args_len - 2;
    memset(g_args, 0, g_args_len);
    memcpy(g_args, name, n);
    g_args[g_args_len - 1] = ' ';
  }
  prctl(PR_SET_NAME, name, 0, 0, 0);
}
