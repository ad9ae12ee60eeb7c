// tar:FILE: a root file system tarball, unpacked with GNU tar (compression detected by tar).
//
// Security reasoning. The tarball is untrusted. GNU tar strips leading '/' and refuses members
// with '..' and, by default, creates a link that could lead out of the tree only after every
// other member is in place (as a placeholder until then), so no member is written through a link
// of the archive. Ownership is kept numerically for root (then shifted to the jail's range by
// adoptTree) inside DIR.partial, mode 0700, which no other host user can enter; device nodes are
// removed afterwards (scrubTree), since the jail's /dev is its own and a node in the tree would
// give jail root the host's device.
import { statSync } from "node:fs";
import { Exit, SysjailError } from "../errors.js";
import { runTool } from "./partial.js";
import type { Progress } from "./types.js";

/** tar's options for unpacking into a jail tree as this caller. */
export function tarExtractArgs(file: string, tree: string, extra: string[] = []): string[] {
  const root = (process.getuid?.() ?? 0) === 0;
  return ["-x", "-f", file, "-C", tree, "--no-overwrite-dir", "--delay-directory-restore", "--warning=no-unknown-keyword",
    ...(root ? ["--numeric-owner", "--same-owner", "--same-permissions"] : ["--no-same-owner", "--no-same-permissions"]),
    // anchored: only the tree's top /dev (device nodes cannot be made rootless, and go anyway)
    "--anchored", "--exclude=./dev/*", "--exclude=dev/*", "--no-anchored", ...extra];
}

/** Checks FILE before anything is made. */
export function checkTarball(file: string): void {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st?.isFile()) { // a FIFO or a device would block or never end
    throw new SysjailError(`mkjail: tar: ${JSON.stringify(file)} is no tarball (a regular file)`, { code: "ENOENT", phase: "usage", exitCode: Exit.noInput });
  }
}

/** Fills TREE from FILE. */
export async function buildTar(tree: string, file: string, progress: Progress): Promise<void> {
  progress.step(`unpacking ${file}`);
  await runTool("tar", tarExtractArgs(file, tree), { what: "tar", onLine: (l) => progress.log(l) });
}
