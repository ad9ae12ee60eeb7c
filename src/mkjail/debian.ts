// debian[:SUITE]: a Debian root from the host's configured mirror, built with mmdebstrap (debootstrap
// when it is missing); with -c, the finished root is kept as a tarball keyed by suite, sets,
// architecture and mirrors and checked by its sha256, so the same build again runs offline.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Exit, SysjailError } from "../errors.js";
import { mirrorLines } from "./apt.js";
import { runTool } from "./partial.js";
import { tarExtractArgs } from "./tar.js";
import type { Progress } from "./types.js";

/** Packages each set adds to Debian's minbase. */
export const SET_PACKAGES: Record<string, string[]> = {
  base: [],
  ssh: ["openssh-server"],
  init: ["sysv-rc", "initscripts", "procps"],
  dev: ["build-essential"],
};
/** Bump when what a cached root holds changes. */
const CACHE_FORMAT = 1;
const DPKG_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "armhf", ia32: "i386", riscv64: "riscv64", s390x: "s390x", ppc64: "ppc64el" };

function have(cmd: string): string | undefined {
  for (const d of ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin", "/usr/local/sbin"]) {
    const p = `${d}/${cmd}`;
    if (lstatSync(p, { throwIfNoEntry: false })) return p;
  }
  return undefined;
}

/** What a Debian build is: the cache key covers all of it. */
export interface DebianBuild { suite: string; sets: string[]; arch: string; mirrors: string[] }

/** The build for SUITE and SETS from the host's sources (or --mirror). */
export function debianBuild(suite: string, sets: string[], mirror?: string): DebianBuild {
  const mirrors = mirrorLines(suite, mirror);
  if (mirrors.length === 0) {
    throw new SysjailError(`mkjail: no Debian mirror for ${suite} in apt's sources (/etc/apt/sources.list, sources.list.d); give --mirror URL`, { code: "ENOMIRROR", phase: "usage", exitCode: Exit.config });
  }
  return { suite, sets: [...sets].sort(), arch: DPKG_ARCH[process.arch] ?? process.arch, mirrors };
}

/** The cache file name for a build (hex of sha256 over its description). */
export function cacheKey(b: DebianBuild): string {
  const h = createHash("sha256").update(JSON.stringify({ f: CACHE_FORMAT, ...b })).digest("hex");
  return `debian-${b.suite}-${b.arch}-${h.slice(0, 24)}`;
}

function sha256File(file: string): string {
  const h = createHash("sha256");
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** The cached root of a build, when present and whole (its sha256 matches the recorded one). */
function cachedRoot(cacheDir: string, key: string): string | undefined {
  const tar = join(cacheDir, `${key}.tar`);
  let want: string;
  try {
    want = readFileSync(`${tar}.sha256`, "utf8").split(/\s/)[0]!;
  } catch {
    return undefined;
  }
  if (!lstatSync(tar, { throwIfNoEntry: false })?.isFile()) return undefined;
  if (sha256File(tar) === want) return tar;
  rmSync(tar, { force: true }); // damaged: built again
  rmSync(`${tar}.sha256`, { force: true });
  return undefined;
}

/** Builds a Debian root into TREE (empty) with mmdebstrap, else debootstrap. */
async function bootstrap(tree: string, b: DebianBuild, progress: Progress): Promise<void> {
  const pkgs = b.sets.flatMap((s) => SET_PACKAGES[s] ?? []);
  const onLine = (l: string) => progress.log(l);
  const mm = have("mmdebstrap");
  if (mm) {
    progress.step(`mmdebstrap ${b.suite} (${b.sets.join(",")}) from ${b.mirrors.length} apt source(s)`);
    const mode = (process.getuid?.() ?? 0) === 0 ? "root" : "unshare";
    await runTool(mm, [`--mode=${mode}`, "--variant=minbase", `--architectures=${b.arch}`,
      ...(pkgs.length ? [`--include=${pkgs.join(",")}`] : []), b.suite, tree, ...b.mirrors], { what: "mmdebstrap", onLine, terminal: progress.terminal });
    return;
  }
  const db = have("debootstrap");
  if (!db) throw new SysjailError("mkjail: debian needs mmdebstrap or debootstrap (apt-get install mmdebstrap)", { code: "ENOENT", phase: "usage", exitCode: Exit.config });
  if ((process.getuid?.() ?? 0) !== 0) throw new SysjailError("mkjail: debootstrap needs root (install mmdebstrap for an unprivileged build)", { code: "EPERM", phase: "usage", exitCode: Exit.noPerm });
  const first = b.mirrors.find((l) => l.split(" ")[2] === b.suite)?.split(" ")[1];
  if (!first) throw new SysjailError(`mkjail: no mirror for the suite ${b.suite} itself`, { code: "ENOMIRROR", phase: "usage", exitCode: Exit.config });
  progress.step(`debootstrap ${b.suite} (${b.sets.join(",")})`);
  await runTool(db, ["--variant=minbase", `--arch=${b.arch}`, ...(pkgs.length ? [`--include=${pkgs.join(",")}`] : []), b.suite, tree, first], { what: "debootstrap", onLine, terminal: progress.terminal });
}

/** Removes the ssh host keys a build made: every jail gets its own (sshHostKeys). */
function dropHostKeys(tree: string): void {
  const dir = join(tree, "etc", "ssh");
  if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return;
  for (const n of readdirSync(dir)) if (n.startsWith("ssh_host_")) unlinkSync(join(dir, n));
}

/** Fresh ssh host keys for a tree with sshd (the host's ssh-keygen, run on the tree's /etc/ssh). */
export function sshHostKeys(tree: string): void {
  if (!lstatSync(join(tree, "usr/sbin/sshd"), { throwIfNoEntry: false })) return;
  if (!lstatSync(join(tree, "etc/ssh"), { throwIfNoEntry: false })?.isDirectory()) return;
  const kg = have("ssh-keygen");
  if (!kg) throw new SysjailError("mkjail: the ssh set needs ssh-keygen on the host for the jail's host keys (apt-get install openssh-client)", { code: "ENOENT", phase: "runtime", exitCode: Exit.config });
  execFileSync(kg, ["-A", "-f", tree], { stdio: "ignore" });
  // root's authorized_keys, owned by jail root once the tree is adopted: a key written into it
  // from the host (which keeps the file's owner) passes sshd's StrictModes, where a file host
  // root creates would show as nobody's in the jail
  const dotSsh = join(tree, "root", ".ssh");
  if (lstatSync(join(tree, "root"), { throwIfNoEntry: false })?.isDirectory() && !lstatSync(dotSsh, { throwIfNoEntry: false })) {
    mkdirSync(dotSsh, { mode: 0o700 });
    writeFileSync(join(dotSsh, "authorized_keys"), "", { mode: 0o600 });
  }
}

/** Fills TREE with a Debian root (from CACHEDIR when it holds this build). */
export async function buildDebian(tree: string, b: DebianBuild, cacheDir: string | undefined, progress: Progress): Promise<void> {
  if (cacheDir) {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const key = cacheKey(b);
    let tar = cachedRoot(cacheDir, key);
    if (tar) progress.step(`from the cache: ${key}`);
    else {
      await bootstrap(tree, b, progress);
      dropHostKeys(tree);
      progress.step(`caching the root as ${key}.tar`);
      const final = join(cacheDir, `${key}.tar`);
      const tmp = `${final}.${process.pid}.tmp`;
      try {
        await runTool("tar", ["-c", "-f", tmp, "-C", tree, "--numeric-owner", "--xattrs", "--one-file-system", "."], { what: "tar (cache)" });
        writeFileSync(`${tmp}.sha256`, `${sha256File(tmp)}  ${key}.tar\n`);
        renameSync(tmp, final);
        renameSync(`${tmp}.sha256`, `${final}.sha256`);
      } finally {
        rmSync(tmp, { force: true });
        rmSync(`${tmp}.sha256`, { force: true });
      }
      tar = undefined; // the tree is already built
    }
    if (tar) {
      progress.step("unpacking the cached root");
      await runTool("tar", tarExtractArgs(tar, tree, ["--xattrs"]), { what: "tar", onLine: (l) => progress.log(l) });
    }
  } else {
    await bootstrap(tree, b, progress);
    dropHostKeys(tree);
  }
  sshHostKeys(tree);
}

