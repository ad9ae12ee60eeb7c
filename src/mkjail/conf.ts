// The jail.conf block for a new tree (-n writes /etc/jail.conf.d/NAME.conf; otherwise printed).
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import type { DevProfile } from "./types.js";

/** -d profiles as devfs rulesets (docs/JAIL_CONF.md, built-in rulesets). */
export const DEV_RULESETS: Record<DevProfile, number> = { base: 2, ssh: 4, http: 2, all: 5 };

/** Where -n writes. */
export const JAIL_CONF_D = "/etc/jail.conf.d";

const q = (s: string) => `"${s.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;

/** The block for a jail NAME at PATH. */
export function confBlock(name: string, path: string, opts: { sets: string[]; devs?: DevProfile | undefined }): string {
  const lines = [`${name} {`, `  path = ${q(path)};`, `  host.hostname = ${q(name)};`, "  mount.devfs;", "  mount.procfs;"];
  lines.push(`  devfs_ruleset = ${DEV_RULESETS[opts.devs ?? (opts.sets.includes("ssh") ? "ssh" : "base")]};`);
  if (opts.sets.includes("init")) {
    lines.push(`  exec.start = ${q("/etc/init.d/rc 2")};`, `  exec.stop = ${q("/etc/init.d/rc 0")};`);
  } else if (opts.sets.includes("ssh")) {
    lines.push(`  exec.start = ${q("/etc/init.d/ssh start")};`, `  exec.stop = ${q("/etc/init.d/ssh stop")};`);
  }
  lines.push("  persist;", "}");
  return `${lines.join("\n")}\n`;
}

/** Writes the block to /etc/jail.conf.d/NAME.conf (a temporary file renamed into place). */
export function writeConf(name: string, block: string, dir = JAIL_CONF_D): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = `${dir}/${name}.conf`;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, block, { mode: 0o644 });
  renameSync(tmp, file);
  return file;
}
