// Running as the unprivileged user 65534 through setpriv, with an XDG_RUNTIME_DIR of its own,
// exactly as the project brief prescribes:
//   setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_RUNTIME_DIR=<dir> HOME=/ ...
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { makeOwnedDir, removeTree } from "./tmp.js";

export const NOBODY_UID = 65534;
export const NOBODY_GID = 65534;

export interface Nobody {
  /** Its XDG_RUNTIME_DIR (owned by 65534, mode 0700). */
  xdg: string;
  /** The command prefix that runs what follows as 65534. */
  prefix: string[];
  remove(): void;
}

/** Fails with a clear message unless the suite runs as root (it needs setpriv to become 65534,
 * and root to test root-created jails). */
export function requireRoot(what = "the core jail tests"): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`${what} must run as root: they start jails as root and, through setpriv, as uid 65534 (run \`sudo npm test\`)`);
  }
}

/** A fresh unprivileged identity (its own XDG_RUNTIME_DIR). */
export function makeNobody(): Nobody {
  requireRoot();
  const xdg = makeOwnedDir(NOBODY_UID, NOBODY_GID, "sysjail-xdg-", 0o700);
  return {
    xdg,
    prefix: ["setpriv", `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_GID}`, "--clear-groups", "env", `XDG_RUNTIME_DIR=${xdg}`, "HOME=/"],
    remove: () => removeTree(xdg),
  };
}

/** Runs a command as 65534 (synchronously; for host-side controls such as reading a file). */
export function runAsNobody(nobody: Nobody, cmd: string, args: string[], input?: string): SpawnSyncReturns<string> {
  const [p0, ...rest] = nobody.prefix;
  return spawnSync(p0!, [...rest, cmd, ...args], { encoding: "utf8", input, timeout: 30_000 });
}
