// The site sets (-s site,sitelocal): the admin's own tarballs laid over a new tree, and the tree's
// /install.site run inside the new jail, as OpenBSD's installer and sysjail's mkjail do.
//
// Security reasoning. The tree below may come from a hostile tarball or image (tar:, oci:) and hold
// links such as etc -> /etc; GNU tar follows links of the tree it unpacks into for a member's
// parent directories, so a site tarball is never unpacked into the tree. It is unpacked into an
// empty staging directory (where tar's own link protection holds, with the tar: options: owners
// kept numerically for root and shifted with the tree by adoptTree, '..' members refused), then
// each entry is moved in by rename, its parent resolved as the jail will see it: inside the tree
// (a link's absolute target starts again at the tree's top, '..' stops there). Nothing runs in
// the tree while this happens (DIR.partial is 0700 and no jail is started before the move ends),
// so the walk cannot be raced. Device nodes are removed afterwards by scrubTree with the rest.
// /install.site runs through sysjail: jail root in the jail's own ids, the default policy, no
// network, a wall-clock limit; the host never runs anything from the tree.
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, unlinkSync, chownSync, chmodSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Exit, SysjailError } from "../errors.js";
import { helperPath } from "../helper/launch.js";
import { removeTree, runTool } from "./partial.js";
import { tarExtractArgs } from "./tar.js";
import type { Progress } from "./types.js";

/** Wall-clock limit of /install.site. */
export const INSTALL_SITE_WALL = "600s";
const MAX_LINKS = 40;
const STAGE = ".mkjail-site";

/** The tarballs the site sets name, in the order they are laid: DIR/site.tgz, DIR/site-NAME.tgz. */
export function siteTarballs(sets: string[], siteDir: string, name: string): string[] {
  const out: string[] = [];
  if (sets.includes("site")) out.push(join(resolve(siteDir), "site.tgz"));
  if (sets.includes("sitelocal")) out.push(join(resolve(siteDir), `site-${name}.tgz`));
  for (const f of out) {
    const st = lstatSync(f, { throwIfNoEntry: false });
    if (!st?.isFile()) {
      throw new SysjailError(`mkjail: site: ${JSON.stringify(f)} is missing or not a regular file (see --site-dir)`, { code: "ENOENT", phase: "usage", exitCode: Exit.noInput });
    }
  }
  return out;
}

/** The tree path REL (relative) resolves to inside TREE, as the jail sees it; missing directories are made. */
function inRoot(tree: string, rel: string): string {
  const cur: string[] = [];
  let links = 0;
  const walk = (parts: string[]) => {
    for (const c of parts) {
      if (c === "" || c === ".") continue;
      if (c === "..") { cur.pop(); continue; }
      const p = join(tree, ...cur, c);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st) { mkdirSync(p, { mode: 0o755 }); cur.push(c); continue; }
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw new Error(`too many links at /${rel}`);
        const target = readlinkSync(p);
        if (target.startsWith("/")) cur.length = 0;
        walk(target.split("/"));
        continue;
      }
      if (!st.isDirectory()) throw new Error(`/${[...cur, c].join("/")} is not a directory`);
      cur.push(c);
    }
  };
  walk(rel.split("/"));
  return join(tree, ...cur);
}

/** Moves the staged entry at REL (and below) into TREE. */
function moveIn(stage: string, tree: string, rel: string): void {
  const from = join(stage, rel);
  const st = lstatSync(from);
  const parent = inRoot(tree, dirname(rel));
  const name = rel.split("/").pop()!;
  const to = join(parent, name);
  const there = lstatSync(to, { throwIfNoEntry: false });
  if (st.isDirectory()) {
    if (!there) {
      mkdirSync(to);
      chownSync(to, st.uid, st.gid);
      chmodSync(to, st.mode & 0o7777);
    } else if (there.isSymbolicLink()) inRoot(tree, rel); // e.g. bin -> usr/bin: its children go where it leads
    else if (!there.isDirectory()) throw new Error(`/${rel} is a directory in the tarball and a file in the tree`);
    for (const n of readdirSync(from)) moveIn(stage, tree, `${rel}/${n}`);
    return;
  }
  if (there?.isDirectory()) throw new Error(`/${rel} is a file in the tarball and a directory in the tree`);
  if (there) unlinkSync(to); // a link there is replaced, never followed
  renameSync(from, to);
}

/** Lays the site tarballs FILES over TREE (before scrubTree and adoption). */
export async function laySite(tree: string, files: string[], progress: Progress): Promise<void> {
  for (const f of files) {
    progress.step(`site: unpacking ${f}`);
    const stage = join(tree, STAGE);
    removeTree(stage);
    mkdirSync(stage, { mode: 0o700 });
    try {
      await runTool("tar", tarExtractArgs(f, stage), { what: `tar (${f})`, onLine: (l) => progress.log(l) });
      try {
        for (const n of readdirSync(stage)) moveIn(stage, tree, n);
      } catch (err) {
        throw new SysjailError(`mkjail: site: ${JSON.stringify(f)}: ${(err as Error).message}`, { code: "EBADSITE", phase: "runtime", exitCode: Exit.dataErr });
      }
    } finally {
      removeTree(stage);
    }
  }
}

/** The sysjail front that runs /install.site: the native one next to the helper, else bin/sysjail.js. */
function sysjailCommand(): string[] {
  const native = join(dirname(helperPath()), "sysjail");
  if (existsSync(native)) return [native];
  return [process.execPath, join(dirname(process.argv[1] ?? "."), "sysjail.js")];
}

/** Runs TREE's /install.site (when an executable regular file) inside a jail of TREE, then removes it. */
export async function runInstallSite(tree: string, progress: Progress): Promise<boolean> {
  const script = join(tree, "install.site");
  const st = lstatSync(script, { throwIfNoEntry: false });
  if (!st?.isFile() || (st.mode & 0o111) === 0) return false;
  progress.step("site: running /install.site in the new jail");
  const [cmd, ...pre] = sysjailCommand();
  await runTool(cmd!, [...pre, "-n", `mkjail-site-${process.pid}`, "--limit", `wall=${INSTALL_SITE_WALL}`, tree, "site", "/install.site"], {
    what: "/install.site", lastFromStderr: true, onLine: (l) => progress.log(l),
  });
  rmSync(script, { force: true });
  return true;
}
