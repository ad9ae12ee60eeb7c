// Builds the static probe (test/core/fixtures/probe.c) once per test process.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./paths.js";
import { makeTempDir, removeTree } from "./tmp.js";

/** The probe's source. */
export const PROBE_SOURCE = join(REPO, "test", "core", "fixtures", "probe.c");

let built: string | undefined;

/** Compiles the probe with `gcc -O2 -static` into a temp dir (0755, so the unprivileged runner
 * and every jail can execute it) and returns its path; the same path for the rest of the
 * process, removed when the process exits. Throws a clear error when it cannot be built. */
export function buildProbe(): string {
  if (built && existsSync(built)) return built;
  const dir = makeTempDir("sysjail-probe-");
  const out = join(dir, "probe");
  const r = spawnSync("gcc", ["-O2", "-static", "-o", out, PROBE_SOURCE], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    removeTree(dir);
    throw new Error(`cannot build the test probe (gcc -O2 -static ${PROBE_SOURCE}): ${r.error?.message ?? r.stderr.trim().split("\n").slice(-3).join(" | ")}; the core tests need gcc and a static libc (libc6-dev)`);
  }
  chmodSync(out, 0o755);
  process.on("exit", () => {
    try {
      removeTree(dir);
    } catch {
      /* reported by the suite's own after() */
    }
  });
  built = out;
  return out;
}
