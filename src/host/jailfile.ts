// Reads files of a jail's tree for the host side, confined to the jail's root (the helper's
// read-in-root: openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS, no symlink at the end, regular
// files only, non-blocking, a size cap; native/src/readroot.c). Node has no openat2, and a plain
// open by the host would follow a jail's symlink to a host file or block on its FIFO.
import { errnoName } from "../errors.js";
import { helperPath } from "../helper/launch.js";
import { builtin } from "../helper/locate.js";

/** Where a jail's tree is: a directory (a jail not started yet: the caller's own path), or the
 * root of a running process of the jail (its own mounts), pinned by pid and start time. */
export type JailRoot = { dir: string } | { pid: number; start: number };

/** One file's outcome: its bytes, or why not (code: an errno name, or ETOOBIG). */
export type JailFile =
  | { ok: true; data: Buffer }
  | { ok: false; code: string; reason: string };

const TYPES: Record<number, [string, string]> = {
  0o040000: ["EISDIR", "is a directory"],
  0o120000: ["ELOOP", "is a symbolic link"],
  0o010000: ["ENOTREG", "is a FIFO"],
  0o020000: ["ENOTREG", "is a character device"],
  0o060000: ["ENOTREG", "is a block device"],
  0o140000: ["ENOTREG", "is a socket"],
};

function failed(code: string, reason?: string): JailFile {
  return { ok: false, code, reason: reason ?? code };
}

/** Reads PATHS (absolute or relative, both inside the jail's root), each at most MAX bytes, in
 * one run of the helper. Never throws for what the jail's tree holds. */
export function readJailFiles(root: JailRoot, paths: readonly string[], max: number): JailFile[] {
  const args = "dir" in root
    ? ["read-in-root", root.dir, String(max), ...paths]
    : ["read-in-proc-root", String(root.pid), String(root.start), String(max), ...paths];
  const r = builtin<typeof import("node:child_process")>("node:child_process").spawnSync(helperPath(), args, {
    stdio: ["ignore", "pipe", "ignore"], timeout: 10_000, maxBuffer: paths.length * (max + 64) + 64,
  });
  const out = r.stdout ?? Buffer.alloc(0);
  if (r.error || r.signal) return paths.map(() => failed("ETIMEDOUT", "could not be read in time"));
  const res: JailFile[] = [];
  let at = 0;
  for (let i = 0; i < paths.length; i++) {
    const nl = out.indexOf(10, at);
    if (nl < 0) break;
    const line = out.subarray(at, nl).toString("latin1");
    at = nl + 1;
    let m: RegExpExecArray | null;
    if ((m = /^ok (\d+)$/.exec(line))) {
      const n = Number(m[1]);
      res.push({ ok: true, data: out.subarray(at, at + n) });
      at += n;
    } else if ((m = /^err (\d+)$/.exec(line))) {
      const code = errnoName(Number(m[1]));
      if (r.status !== 0) return paths.map(() => failed(code, code === "ESRCH" ? "the jail's process is gone" : `the jail's root: ${code}`));
      res.push(failed(code));
    } else if ((m = /^type ([0-7]+)$/.exec(line))) {
      const [code, reason] = TYPES[parseInt(m[1]!, 8)] ?? ["ENOTREG", "is not a regular file"];
      res.push(failed(code, reason));
    } else if (line === "big") res.push(failed("ETOOBIG", `is larger than ${max} bytes`));
    else break;
  }
  while (res.length < paths.length) res.push(failed("EPROTO", "no answer from the helper"));
  return res;
}

/** Reads one file of a jail's tree (see readJailFiles). */
export function readJailFile(root: JailRoot, path: string, max: number): JailFile {
  return readJailFiles(root, [path], max)[0]!;
}

/** True when PATH is a directory in the jail's tree (looked at the same confined way; a
 * symlink is not followed, so a symlink to a directory answers false). */
export function isJailDir(root: JailRoot, path: string): boolean {
  const f = readJailFile(root, path, 0);
  return !f.ok && f.code === "EISDIR";
}
