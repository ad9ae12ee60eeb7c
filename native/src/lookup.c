/* lookup.c: sysjail-oci's command lookup before the start gate (OP_LOOKUP), as runc's init looks
 * its command up at create: a command the container lacks fails `create`, before any engine has
 * the container running (docs/OCI.md, "A command the image lacks").
 *
 * Flat: the plan lists the files the exec's PATH search will try, in its order (src/oci/lookup.ts
 * computes them from the plan's own command, environment and working directory); this only
 * looks at each. It fails only where the exec is sure to fail as well: every candidate missing
 * (ENOENT), or each one there a directory or a regular file without any execute bit (EACCES,
 * which execvpe also reports once its search is over). Anything else (a file it may run, another
 * type of file, a lookup error such as EACCES on a directory) ends the lookup and leaves the
 * answer to the exec, which checks what depends on the command's final ids and reports it as
 * before (command.c).
 *
 * Security: the init runs this in the container's final root and mount namespace (after
 * pivot_root), as the container's root, never on the host's side; it only stat()s, never opens,
 * so a FIFO or a device is not touched and nothing blocks on one. The names come from the
 * container's own config.json; the answer names only the container's own files. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/stat.h>
#include "helper.h"

void command_lookup(const struct sj_plan *plan, int msgw) {
  const struct sj_op_rec *op = plan_find(plan, OP_LOOKUP), *ex = plan_find(plan, OP_EXEC);
  if (!op) return;
  const char *name = ex ? arg_str(ex, 0) : NULL;
  if (!name) die_step(msgw, op, EINVAL, "the lookup needs the plan's command");
  int err = ENOENT;
  for (uint32_t i = 0; i < op->argc; i++) {
    const char *file = arg_str(op, i);
    if (!file) die_step(msgw, op, EINVAL, "bad arguments");
    struct stat st;
    if (stat(file, &st) < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return;
    }
    if (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && !(st.st_mode & 0111))) { err = EACCES; continue; }
    return;
  }
  /* reported as the exec's own failure: the same step, errno and command as a failed exec */
  die_step(msgw, ex, err, name);
}
