// Temporary directories that are removed safely: never through a mount point. If a broken jail
// ever left a mount on the host under a test's directory, `rm -r` would walk into whatever is
// mounted there (possibly the host's own tree), so removal first detaches such mounts and refuses
// to delete anything that is still mounted.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const created = new Set<string>();

/** A fresh directory under the system temp dir (mode 0755 unless given: jails of other users and
 * the unprivileged runner must be able to reach it). Removed by removeTree or removeAllTemp. */
export function makeTempDir(prefix = "sysjail-test-", mode = 0o755, base = tmpdir()): string {
  const d = mkdtempSync(join(base, prefix));
  chmodSync(d, mode);
  created.add(d);
  return d;
}

/** A directory owned by uid/gid (for the unprivileged runner: its XDG_RUNTIME_DIR, roots). */
export function makeOwnedDir(uid: number, gid: number, prefix = "sysjail-test-", mode = 0o700): string {
  const d = makeTempDir(prefix, mode);
  chownSync(d, uid, gid);
  return d;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The host's mount table (this process's mount namespace), one record per line. */
export function hostMounts(): { id: number; parent: number; root: string; mountPoint: string; options: string; fsType: string; source: string; line: string }[] {
  return parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
}

/** Parses mountinfo text (the host's, or one a probe printed from inside a jail). */
export function parseMountinfo(text: string) {
  return text.split("\n").filter(Boolean).map((line) => {
    const [left = "", right = ""] = line.split(" - ");
    const f = left.split(" ");
    const r = right.split(" ");
    return {
      id: Number(f[0]), parent: Number(f[1]), root: unescapeMount(f[3] ?? ""), mountPoint: unescapeMount(f[4] ?? ""),
      options: f[5] ?? "", fsType: r[0] ?? "", source: r[1] ?? "", line,
    };
  });
}

/** Host mount lines whose mount point or root is PATH or lies below it, or mention it at all. */
export function hostMountsMentioning(path: string): string[] {
  return hostMounts().filter((m) => m.mountPoint === path || m.mountPoint.startsWith(`${path}/`) || m.root.includes(path) || m.line.includes(path)).map((m) => m.line);
}

/** Removes a tree made by the tests; detaches (lazily) any host mount found below it first and
 * throws rather than delete through a mount that is still there. */
export function removeTree(dir: string): void {
  if (!existsSync(dir)) { created.delete(dir); return; }
  const under = () => hostMounts().filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(`${dir}/`)).map((m) => m.mountPoint);
  for (const mp of under().sort((a, b) => b.length - a.length)) spawnSync("umount", ["-l", mp], { stdio: "ignore" });
  const left = under();
  if (left.length) throw new Error(`refusing to remove ${dir}: still mounted on the host: ${left.join(", ")}`);
  // make everything removable (a jail may have created read-only directories)
  spawnSync("chmod", ["-R", "u+rwX", dir], { stdio: "ignore" });
  rmSync(dir, { recursive: true, force: true });
  created.delete(dir);
}

/** Removes every directory makeTempDir created and that is still there (an after() safety net). */
export function removeAllTemp(): void {
  const errors: string[] = [];
  for (const d of [...created]) {
    try {
      removeTree(d);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new Error(errors.join("; "));
}

/** Every non-directory entry below DIR, as paths relative to it ([] when DIR does not exist).
 * A state directory after a run must give []. */
export function filesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const r = rel ? `${rel}/${n}` : n;
      if (lstatSync(p).isDirectory()) walk(p, r);
      else out.push(r);
    }
  };
  walk(dir, "");
  return out.sort();
}
