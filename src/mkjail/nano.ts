// nano:PROG[,PROG...]: the programs, the libraries they load, a minimal /etc; nothing else.
import { accessSync, constants, closeSync, openSync, readSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { Exit, SysjailError } from "../errors.js";
import { elfInterpreter, sharedLibraries } from "./elf.js";
import { skeleton } from "./etc.js";
import { placeHostPath } from "./hostpath.js";
import type { Progress } from "./types.js";

function missing(msg: string): SysjailError {
  return new SysjailError(`mkjail: ${msg}`, { code: "ENOENT", phase: "usage", exitCode: Exit.noInput });
}

/** PROG as a host path: absolute, or looked up on PATH. */
export function findProgram(prog: string): string {
  const dirs = isAbsolute(prog) ? [""] : prog.includes("/") ? [] : (process.env.PATH ?? "/usr/bin:/bin").split(":").filter((d) => d.startsWith("/"));
  for (const d of dirs) {
    const p = d ? `${d}/${prog}` : prog;
    try {
      if (statSync(p).isFile()) { accessSync(p, constants.X_OK); return p; }
    } catch { /* next */ }
  }
  throw missing(`nano: no program ${JSON.stringify(prog)}${isAbsolute(prog) ? "" : " (an absolute path, or a name on PATH)"}`);
}

/** A script's interpreter (#!), if FILE is one. */
function scriptInterpreter(file: string): string | undefined {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, 256, 0);
    const line = buf.toString("latin1", 0, n).split("\n")[0]!;
    const m = /^#!\s*(\/\S+)/.exec(line);
    return m?.[1];
  } finally {
    closeSync(fd);
  }
}

/** Every host file the programs need: programs, script interpreters, libraries. */
export function nanoClosure(programs: string[]): string[] {
  const want: string[] = [];
  const queue = programs.map(findProgram);
  const seen = new Set<string>();
  while (queue.length) {
    const p = queue.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    want.push(p);
    const interp = elfInterpreter(p);
    if (interp === null) {
      const s = scriptInterpreter(p);
      if (s) queue.push(findProgram(s));
      continue;
    }
    if (interp === undefined) continue; // static
    try {
      for (const lib of sharedLibraries(p, interp)) if (!seen.has(lib)) { seen.add(lib); want.push(lib); }
    } catch (err) {
      throw missing(`nano: ${p}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  return want;
}

/** Fills TREE with a nano jail of FILES (nanoClosure's list, checked before the tree is made). */
export async function buildNano(tree: string, files: string[], progress: Progress): Promise<void> {
  progress.step(`nano: ${files.length} files`);
  skeleton(tree);
  for (const f of files) placeHostPath(tree, f);
}
