// The build's lifecycle: DIR.partial (mode 0700) made, filled, finished and renamed to DIR; removed
// on any failure or signal, so an interrupted or failed build leaves nothing half-made.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { Exit, SysjailError, usageError } from "../errors.js";
import { printable } from "./progress.js";

const children = new Set<ChildProcess>();

/** Removes a tree without crossing into other file systems and without following links. */
export function removeTree(path: string): void {
  if (lstatSync(path, { throwIfNoEntry: false }) === undefined) return;
  spawnSync("rm", ["-rf", "--one-file-system", "--", path], { stdio: "ignore" });
}

/** Runs a program to its end; rejects with one line (its last stderr line) when it fails. */
export function runTool(cmd: string, args: string[], opts: SpawnOptions & { onLine?: (line: string) => void; what?: string; terminal?: boolean; lastFromStderr?: boolean } = {}): Promise<void> {
  return new Promise((res, rej) => {
    // on a terminal the tool draws its own steps and percentages (mmdebstrap, apt)
    const child = spawn(cmd, args, { stdio: ["ignore", opts.terminal ? 2 : "pipe", opts.terminal ? 2 : "pipe"], ...opts });
    children.add(child);
    let last = "";
    const feed = (buf: Buffer, err: boolean) => {
      for (const line of buf.toString("utf8").split(/[\r\n]+/)) {
        if (line.trim() === "") continue;
        if (err || !opts.lastFromStderr) last = line.trim();
        opts.onLine?.(last);
      }
    };
    child.stdout?.on("data", (b: Buffer) => feed(b, false));
    child.stderr?.on("data", (b: Buffer) => feed(b, true));
    child.on("error", (err) => {
      children.delete(child);
      rej(new SysjailError(`mkjail: cannot run ${cmd}: ${err.message}`, { code: "ENOENT", phase: "runtime", exitCode: Exit.osErr }));
    });
    child.on("close", (code, sig) => {
      children.delete(child);
      if (code === 0) res();
      else rej(new SysjailError(`mkjail: ${opts.what ?? cmd} failed (${sig ? `signal ${sig}` : `exit ${code}`})${last ? `: ${printable(last.slice(0, 200))}` : ""}`, { code: "ETOOL", phase: "runtime", exitCode: Exit.software }));
    });
  });
}

/** Is DIR absent or an empty directory? */
function emptyOrAbsent(dir: string): "absent" | "empty" | "full" | "notdir" {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return "absent";
  if (!st.isDirectory()) return "notdir";
  return readdirSync(dir).length === 0 ? "empty" : "full";
}

/** Checks DIR before anything is made: its parent exists, and DIR is absent, empty, or -f was given. */
export function checkTarget(dir: string, force: boolean): void {
  const parent = dirname(resolve(dir));
  const pst = lstatSync(parent, { throwIfNoEntry: false });
  if (!pst?.isDirectory()) throw new SysjailError(`mkjail: ${JSON.stringify(parent)} (DIR's parent) is not a directory`, { code: "ENOENT", phase: "usage", exitCode: Exit.noInput });
  const state = emptyOrAbsent(dir);
  if (state === "notdir" && !force) throw usageError(`mkjail: ${JSON.stringify(dir)} exists and is not a directory (use -f to replace it)`);
  if (state === "full" && !force) throw usageError(`mkjail: ${JSON.stringify(dir)} exists and is not empty (use -f to replace it)`);
}

/** Builds DIR through DIR.partial: FILL fills it, FINISH (ownership) runs last, then the rename. */
export async function buildTree(dir: string, force: boolean, fill: (partial: string) => Promise<void>, finish: (partial: string) => Promise<void>): Promise<void> {
  const target = resolve(dir);
  const partial = `${target}.partial`;
  removeTree(partial); // an earlier build's leftover (the name is mkjail's own)
  mkdirSync(partial, { mode: 0o700 });
  const onSignal = (sig: NodeJS.Signals) => {
    for (const c of children) c.kill("SIGTERM");
    removeTree(partial);
    process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGHUP" ? 1 : 15));
  };
  const sigs: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of sigs) process.on(s, onSignal);
  try {
    await fill(partial);
    await finish(partial);
    chmodSync(partial, 0o755);
    const state = emptyOrAbsent(target);
    if (state === "empty") rmdirSync(target);
    else if (state !== "absent") {
      // checked at the start (checkTarget), and again here: DIR may have been filled meanwhile
      if (!force) throw usageError(`mkjail: ${JSON.stringify(dir)} was filled while the tree was built (use -f to replace it); nothing replaced`);
      const old = `${dirname(target)}/.${basename(target)}.old.${process.pid}`;
      renameSync(target, old);
      renameSync(partial, target);
      removeTree(old);
      return;
    }
    renameSync(partial, target);
  } catch (err) {
    removeTree(partial);
    throw err;
  } finally {
    for (const s of sigs) process.off(s, onSignal);
  }
}
