// thin: the host's /usr is shared read-only (sysjail binds it at every start, src/jail/thin.ts);
// the tree has its own /etc, /var, /tmp, /root, and the host's top-level links into /usr.
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { skeleton } from "./etc.js";
import type { Progress } from "./types.js";

/** Host /etc entries a thin jail needs to use the shared /usr (no secrets among them):
 * Debian's alternatives links, the loader's cache and configuration, the time zone. */
const HOST_ETC = ["alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "debian_version", "os-release", "shells", "profile", "environment", "bash.bashrc", "mime.types"];
const DIRS: [string, number][] = [["usr", 0o755], ["var", 0o755], ["var/tmp", 0o1777], ["var/lib", 0o755], ["var/log", 0o755], ["var/cache", 0o755], ["run", 0o755], ["home", 0o755], ["opt", 0o755], ["srv", 0o755], ["mnt", 0o755]];

/** Copies a host /etc entry: links as links, files as files, directories of those, nothing else. */
function copyEtc(src: string, dst: string, depth = 0): void {
  const st = lstatSync(src, { throwIfNoEntry: false });
  if (!st || depth > 3) return;
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
  else if (st.isFile()) {
    copyFileSync(src, dst);
    chmodSync(dst, st.mode & 0o755);
  } else if (st.isDirectory()) {
    mkdirSync(dst, { mode: 0o755 });
    for (const name of readdirSync(src)) copyEtc(join(src, name), join(dst, name), depth + 1);
  }
}

/** Fills TREE with a thin jail. */
export async function buildThin(tree: string, progress: Progress): Promise<void> {
  progress.step("thin: skeleton, own /etc, the host's /usr shared at run time");
  skeleton(tree);
  for (const [d, mode] of DIRS) {
    mkdirSync(join(tree, d), { recursive: true });
    chmodSync(join(tree, d), mode);
  }
  // /bin -> usr/bin and the like, as on the host (merged /usr); else links into the shared /usr
  for (const name of ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]) {
    const st = lstatSync(`/${name}`, { throwIfNoEntry: false });
    if (!st) continue;
    const target = st.isSymbolicLink() ? readlinkSync(`/${name}`) : `usr/${name}`;
    if (target.startsWith("usr/") || target.startsWith("/usr/")) symlinkSync(target, join(tree, name));
  }
  for (const name of HOST_ETC) copyEtc(join("/etc", name), join(tree, "etc", name));
}
