// Helpers of the host id tests: a lease directory of the file's own, the pool, sjadopt, and a
// host-side look at what a jail left (set-id bits, file capabilities).
import { spawnSync } from "node:child_process";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after } from "node:test";
import { REPO } from "../helpers/paths.js";
import { makeTempDir, removeTree } from "../helpers/tmp.js";
import type { CliResult, Nobody } from "../helpers/index.js";

/** Gives the file a lease directory of its own, also under scripts/test.mjs (whose one directory
 * the files running beside it share): the file's assertions about leases and blocks then see only
 * its own jails' leases. */
export function privateLeases(): string {
  const d = makeTempDir("sysjail-ids-");
  process.env.SYSJAIL_IDS_DIR = d;
  after(() => removeTree(d));
  return d;
}

/** The pool: /etc/subuid's `sysjail` line, or 0x70000000..0x80000000 in 65536-blocks. */
export function pool(): { start: number; size: number; end: number } {
  try {
    for (const l of readFileSync("/etc/subuid", "utf8").split("\n")) {
      const [who, start, count] = l.trim().split(":");
      if (who === "sysjail" && start && count) return { start: Number(start), size: Math.min(Number(count), 65536), end: Number(start) + Number(count) };
    }
  } catch {
    /* none */
  }
  return { start: 0x70000000, size: 65536, end: 0x80000000 };
}

/** The host uid a `read /proc/self/uid_map` probe line maps jail root onto. */
export function mapBase(line: string): number {
  const m = /^ok\s+0\s+(\d+)\s+(\d+)\s*$/.exec(line);
  if (!m) throw new Error(`not a one-line uid_map: ${line}`);
  return Number(m[1]);
}

/** Runs sjadopt (node bin/sjadopt.js), as root or as NOBODY. */
export function sjadopt(args: string[], as?: Nobody): CliResult {
  const cmd = [...(as?.prefix ?? []), process.execPath, join(REPO, "bin", "sjadopt.js"), ...args];
  const p = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", timeout: 60_000 });
  return { code: p.status, signal: p.signal, stdout: p.stdout, stderr: p.stderr, token: "", pid: p.pid ?? 0 };
}

/** Reads security.capability of a host file through the probe: "VERSION ROOTID" or undefined. */
export function hostCap(probe: string, file: string): string | undefined {
  const r = spawnSync(probe, ["getcap", file], { encoding: "utf8" });
  const m = /^ok (\d+) (-?\d+)$/m.exec(r.stdout);
  return m ? `${m[1]} ${m[2]}` : undefined;
}

/** Every non-directory below DIR that would run on the host with more than an unprivileged id:
 * setuid to uid 0, setgid to gid 0, or a file capability that is v2 (no root id) or v3 for
 * host root. Not following symbolic links. */
export function hostPrivileged(probe: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        walk(p);
        continue;
      }
      if (st.mode & 0o4000 && st.uid === 0) out.push(`${p}: setuid root`);
      if (st.mode & 0o2000 && st.mode & 0o010 && st.gid === 0) out.push(`${p}: setgid root`);
      const cap = hostCap(probe, p);
      if (cap && (cap.startsWith("2 ") || cap.endsWith(" 0"))) out.push(`${p}: file capability ${cap}`);
    }
  };
  walk(dir);
  return out;
}
