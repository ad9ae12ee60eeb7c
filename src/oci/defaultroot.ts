// Where sysjail-oci keeps its state when no --root is given, and where the registry of a rootless
// engine's containers lives: runc's rule, so that an engine finds us where it finds runc.
import { join } from "node:path";
import { initialUserNs } from "../ids/choose.js";

/** Whether the caller is not host root for the purpose of where state lives (runc's
 * shouldHonorXDGRuntimeDir): XDG_RUNTIME_DIR is set and absolute, and the caller is not root, or
 * is root of a user namespace other than the host's (rootless podman runs its runtime so) whose
 * USER is not "root". Decides paths only: what the caller may do is the kernel's answer to its ids. */
export function rootlessState(env: NodeJS.ProcessEnv = process.env, euid = process.geteuid?.() ?? 0, initial: () => boolean = initialUserNs): boolean {
  const x = env.XDG_RUNTIME_DIR;
  if (!x || !x.startsWith("/")) return false;
  if (euid !== 0) return true;
  if (initial()) return false;
  return env.USER !== "root";
}

/** The default --root: /run/sysjail-oci, or $XDG_RUNTIME_DIR/sysjail-oci (rootlessState). Kept
 * equal to native/src/oci.c's default_root. */
export function defaultOciRoot(env: NodeJS.ProcessEnv = process.env, euid = process.geteuid?.() ?? 0, initial: () => boolean = initialUserNs): string {
  return rootlessState(env, euid, initial) ? join(env.XDG_RUNTIME_DIR!, "sysjail-oci") : "/run/sysjail-oci";
}

/** The registry directory of the containers of root of a user namespace other than the host's
 * (rootless podman's) when none is set ($SYSJAIL_STATE_DIR): $XDG_RUNTIME_DIR/sysjail-userns.
 * Not $XDG_RUNTIME_DIR/sysjail: root's jls reads that one (as /run/user/UID/sysjail) and trusts
 * an entry only when its owner is the directory's owner as root sees it (the user's uid) and its
 * jail maps the user alone; these entries record owner 0 (the id in that namespace) and map the
 * user's subordinate ids too, so there each would be reported as a corrupt entry. Root's default
 * there would be the host's /run/sysjail. Undefined where the usual default holds. */
export function rootlessStateDir(env: NodeJS.ProcessEnv = process.env, euid = process.geteuid?.() ?? 0, initial: () => boolean = initialUserNs): string | undefined {
  if (env.SYSJAIL_STATE_DIR || euid !== 0 || !rootlessState(env, euid, initial)) return undefined;
  return join(env.XDG_RUNTIME_DIR!, "sysjail-userns");
}
