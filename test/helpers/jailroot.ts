// Jail roots for tests: a temp directory with the probe at /probe and empty proc, dev, tmp, etc,
// sys, like a minimal jail a user would build; plus options for users, ownership and extra files.
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, copyFileSync, mkdirSync, readdirSync, lstatSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { makeTempDir, removeTree } from "./tmp.js";

export interface JailRootOptions {
  /** Contents of the root's /etc/passwd and /etc/group (for -U). */
  passwd?: string;
  group?: string;
  /** Extra files (path inside the root -> content) and directories. */
  files?: Record<string, string>;
  dirs?: string[];
  /** chown the whole tree to this uid/gid (e.g. 65534 for a root the unprivileged runner owns). */
  owner?: { uid: number; gid: number };
  /** Leave these standard directories out (e.g. ["sys"]). */
  omit?: string[];
}

export interface JailRoot {
  /** The jail path (canonical: no symlinks in it). */
  path: string;
  /** The directory holding `path` (room for victims and other fixtures next to the root). */
  base: string;
  /** A unique line in /etc/marker. */
  marker: string;
  /** Host path of a file inside the root. */
  at(p: string): string;
  remove(): void;
}

/** A fresh jail root holding the probe (a copy of `probe`). */
export function makeJailRoot(probe: string, opts: JailRootOptions = {}): JailRoot {
  const base = makeTempDir("sysjail-core-");
  const path = join(base, "root");
  mkdirSync(path, { mode: 0o755 });
  chmodSync(path, 0o755);
  for (const d of ["proc", "dev", "tmp", "etc", "sys"]) if (!opts.omit?.includes(d)) mkdirSync(join(path, d), { mode: 0o755 });
  if (!opts.omit?.includes("tmp")) chmodSync(join(path, "tmp"), 0o1777);
  copyFileSync(probe, join(path, "probe"));
  chmodSync(join(path, "probe"), 0o755);
  const marker = `jailroot-marker-${randomBytes(6).toString("hex")}`;
  mkdirSync(join(path, "etc"), { recursive: true });
  writeFileSync(join(path, "etc", "marker"), `${marker}\n`);
  if (opts.passwd !== undefined) writeFileSync(join(path, "etc", "passwd"), opts.passwd);
  if (opts.group !== undefined) writeFileSync(join(path, "etc", "group"), opts.group);
  for (const d of opts.dirs ?? []) mkdirSync(join(path, d), { recursive: true, mode: 0o755 });
  for (const [p, c] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(join(path, p)), { recursive: true });
    writeFileSync(join(path, p), c);
  }
  if (opts.owner) chownTree(path, opts.owner.uid, opts.owner.gid);
  return { path, base, marker, at: (p: string) => join(path, p), remove: () => removeTree(base) };
}

/** chown -R without following symlinks. */
export function chownTree(p: string, uid: number, gid: number): void {
  const st = lstatSync(p);
  if (st.isDirectory()) for (const n of readdirSync(p)) chownTree(join(p, n), uid, gid);
  if (!st.isSymbolicLink()) chownSync(p, uid, gid);
}
