// Running mkjail (node bin/mkjail.js, as package.json installs it) and sysjail on what it made,
// as root or as 65534; trees live in temp directories removed after each test.
import { spawnSync } from "node:child_process";
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { REPO, type Nobody } from "../helpers/index.js";

export interface Ran { code: number | null; stdout: string; stderr: string }

/** Runs mkjail with ARGS (stdin closed, output piped). */
export function mkjail(args: string[], opts: { as?: Nobody | undefined; env?: Record<string, string> } = {}): Ran {
  const argv = [process.execPath, join(REPO, "bin", "mkjail.js"), ...args];
  const full = opts.as ? [...opts.as.prefix, ...argv] : argv;
  const r = spawnSync(full[0]!, full.slice(1), { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...(opts.env ?? {}) } });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Runs the installed sysjail (native front) with ARGS. */
export function sysjail(args: string[], opts: { as?: Nobody | undefined } = {}): Ran {
  const argv = [join(REPO, "native", "build", "sysjail"), ...args];
  const full = opts.as ? [...opts.as.prefix, ...argv] : argv;
  const r = spawnSync(full[0]!, full.slice(1), { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** For assertion messages. */
export const show = (r: Ran) => `exit ${r.code}\nstdout: ${r.stdout.slice(0, 600)}\nstderr: ${r.stderr.slice(0, 600)}`;

/** Regular files below DIR (no link followed). */
export function regularFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    for (const n of readdirSync(p)) {
      const q = join(p, n);
      const st = lstatSync(q);
      if (st.isDirectory()) walk(q);
      else if (st.isFile()) out.push(q);
    }
  };
  walk(dir);
  return out;
}

/** Every entry below DIR with its lstat (no link followed). */
export function entries(dir: string): { path: string; uid: number; mode: number; kind: string }[] {
  const out: { path: string; uid: number; mode: number; kind: string }[] = [];
  const walk = (p: string) => {
    for (const n of readdirSync(p)) {
      const q = join(p, n);
      const st = lstatSync(q);
      const kind = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "link" : st.isCharacterDevice() || st.isBlockDevice() ? "dev" : "other";
      out.push({ path: q.slice(dir.length), uid: st.uid, mode: st.mode, kind });
      if (kind === "dir") walk(q);
    }
  };
  walk(dir);
  return out;
}

/** Names in DIR (a failed build must leave nothing: no DIR, no DIR.partial). */
export const names = (dir: string) => readdirSync(dir).sort();

/** A one-line error: the status, one line on stderr, no stack trace, nothing on stdout. */
export function oneLineError(r: Ran, codes: number[]): string | undefined {
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  if (!codes.includes(r.code ?? -1)) return `exit ${r.code}, wanted ${codes.join(" or ")}`;
  if (lines.length !== 1) return `${lines.length} lines on stderr`;
  if (/^\s+at |node:internal/m.test(r.stderr)) return "a stack trace";
  if (r.stdout !== "") return "output on stdout";
  return undefined;
}
