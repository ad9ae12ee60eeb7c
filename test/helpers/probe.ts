// Builds the static probe (test/core/fixtures/probe.c) once per test process.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./paths.js";
import { makeTempDir, removeTree } from "./tmp.js";

/** The probe's source. */
export const PROBE_SOURCE = join(REPO, "test", "core", "fixtures", "probe.c");

const built = new Map<string, string>();

/** Compiles SOURCE with `gcc -O2 -static` into a 0755 temp dir (so the unprivileged runner and
 * every jail can execute it) as NAME, once per test process; removed when the process exits.
 * Throws a clear error when it cannot be built (the tests need gcc and a static libc). */
export function buildStatic(source: string, name: string): string {
  const have = built.get(source);
  if (have && existsSync(have)) return have;
  const dir = makeTempDir(`sysjail-${name}-`);
  const out = join(dir, name);
  const r = spawnSync("gcc", ["-O2", "-static", "-o", out, source], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    removeTree(dir);
    throw new Error(`cannot build ${source} with gcc -O2 -static: ${r.error?.message ?? r.stderr.trim().split("\n").slice(-3).join(" | ")}; the tests need gcc and a static libc (libc6-dev)`);
  }
  chmodSync(out, 0o755);
  process.on("exit", () => {
    try {
      removeTree(dir);
    } catch {
      /* reported by the suite's own after() */
    }
  });
  built.set(source, out);
  return out;
}

/** The core probe (test/core/fixtures/probe.c), built once per test process. */
export function buildProbe(): string {
  return buildStatic(PROBE_SOURCE, "probe");
}
