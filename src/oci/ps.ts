// ps's table form, as runc's: ps(1) run with the caller's options, only the container's lines kept.
import { spawnSync } from "node:child_process";
import { vis } from "../manage/vis.js";
import { ociError } from "./config.js";

/** ps(1)'s header and the lines whose PID column names one of PIDS (the container's, pinned by
 * the caller), ps run with ARGS (default `-ef`, as runc). Each line is escaped before it is
 * printed: a command line there is the container's (vis). */
export function psTable(pids: readonly number[], args: readonly string[]): string {
  const argv = args.length ? [...args] : ["-ef"];
  const r = spawnSync("ps", argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20, timeout: 30_000 });
  if (r.error) throw ociError(`ps: cannot run ps(1): ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
  if (r.status !== 0) throw ociError(`ps ${vis(argv.join(" ")).slice(0, 200)}: ps(1) failed: ${vis((r.stderr.trim().split("\n")[0] ?? "").slice(0, 200))}`);
  const lines = r.stdout.split("\n");
  const head = lines[0] ?? "";
  const col = head.trim().split(/\s+/).indexOf("PID");
  if (col < 0) throw ociError(`ps ${vis(argv.join(" ")).slice(0, 200)}: ps(1)'s output has no PID column (keep it in the options, e.g. -o pid,comm)`);
  const want = new Set(pids);
  const rows = lines.slice(1).filter((l) => l.trim() !== "" && want.has(Number(l.trim().split(/\s+/)[col])));
  return [head, ...rows].map((l) => `${vis(l)}\n`).join("");
}
