// Where the registry lives: /run/sysjail for root, $XDG_RUNTIME_DIR/sysjail for anyone else.
import { join } from "node:path";

/** The state directory for this caller: the one given with -j, else $SYSJAIL_STATE_DIR, else the default. */
export function stateDir(explicit?: string, env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (explicit) return explicit;
  if (env.SYSJAIL_STATE_DIR) return env.SYSJAIL_STATE_DIR;
  if (uid === 0) return "/run/sysjail";
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "sysjail");
  return `/tmp/sysjail-${uid}`;
}

/** Files of one jail inside a state directory. */
export function jailFiles(dir: string, jid: number): { entry: string; reservation: string } {
  return { entry: join(dir, "jails", `${jid}.json`), reservation: join(dir, "jails", `${jid}.jid`) };
}

/** The socket on which a user's jail's monitor serves the jail's namespaces to its owner. */
export function nsSocketPath(dir: string, jid: number): string {
  return join(dir, "jails", `${jid}.ns`);
}

/** The count of refused calls the monitor of a listening jail keeps up to date (sjls -v). */
export function denialsFile(dir: string, jid: number): string {
  return join(dir, "jails", `${jid}.denials`);
}

/** The name-lock file of a jail name. */
export function nameFile(dir: string, name: string): string {
  return join(dir, "names", name);
}
