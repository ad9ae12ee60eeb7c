// A per-jail lock file (O_EXCL, with retry), around read-modify-write of a registry entry.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SysjailError } from "../errors.js";
import { processStart } from "../registry/store.js";
import { runAsOwner, shAsOwner } from "./owner.js";

/** The lock file of jail JID in state directory DIR. */
export function lockFile(dir: string, jid: number): string {
  return join(dir, "jails", `${jid}.lock`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function holderGone(text: string): boolean {
  const [pid, start] = text.trim().split(" ").map(Number);
  return pid === undefined || start === undefined || !Number.isInteger(pid) || processStart(pid) !== start;
}

/** The lock file's creation (O_EXCL) and removal, in another user's directory done as that
 * user (DIROWNER): a directory of the path it replaced by a symlink then leads only where that
 * user may write anyway. */
function lockOps(file: string, dirOwner: number): { create(stamp: string): void; remove(): void } {
  const who = runAsOwner(dirOwner);
  if (!who) {
    return {
      create(stamp) {
        const fd = openSync(file, "wx", 0o644);
        try {
          writeSync(fd, stamp);
        } finally {
          closeSync(fd);
        }
      },
      remove: () => rmSync(file, { force: true }),
    };
  }
  return {
    create(stamp) {
      // noclobber: sh opens the file with O_CREAT|O_EXCL
      const st = shAsOwner('set -C; printf %s "$2" > "$1"', [file, stamp], who);
      if (st !== 0) throw Object.assign(new Error(`cannot create ${file}`), { code: "EEXIST" });
    },
    remove: () => void shAsOwner('rm -f -- "$1"', [file], who),
  };
}

/** Runs FN holding jail JID's lock; waits (up to timeoutMs) while another process holds it, and
 * takes over a lock whose holder has died. O_CREAT|O_EXCL never follows a planted symlink. In a
 * user's directory (DIROWNER) the file is made and removed as that user. */
export async function withJailLock<T>(dir: string, jid: number, fn: () => Promise<T>, timeoutMs = 60000, dirOwner = process.getuid?.() ?? 0): Promise<T> {
  const file = lockFile(dir, jid);
  const ops = lockOps(file, dirOwner);
  const stamp = `${process.pid} ${processStart(process.pid) ?? 0}\n`;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      ops.create(stamp);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") {
        throw new SysjailError(`sysjail: cannot lock jail ${jid} (${file}): ${code}`, { code: code ?? "EIO", phase: "registry", path: file, cause: err });
      }
      let held = "";
      try {
        held = readFileSync(file, "utf8");
      } catch {
        continue; // released just now
      }
      // a holder that is gone (and wrote its stamp) left the lock behind: take it over, once
      if (held.endsWith("\n") && holderGone(held)) {
        try {
          if (readFileSync(file, "utf8") === held) ops.remove();
        } catch {
          /* someone else took it over */
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new SysjailError(`sysjail: jail ${jid} is locked by process ${held.trim().split(" ")[0] || "?"}`, { code: "EBUSY", phase: "registry", path: file, exitCode: 75 });
      }
      await sleep(5 + Math.floor(Math.random() * Math.min(50, 5 * (attempt + 1))));
    }
  }
  try {
    return await fn();
  } finally {
    ops.remove();
  }
}
