// mount.devfs: the host's device nodes a jail's devfs_ruleset lets through, as the device list
// prepare() puts into the jail's /dev (each one a bind mount of the host's node).
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_DEVFS_RULES, devfsNodes, linuxDevType, parseDevfsRules, type DevfsRules } from "../conf/devfs.js";
import { lookupUser } from "../host/users.js";

/** Entries the jail's /dev always makes itself (its own devpts, ptmx, fd links, shm, mqueue): a
 * ruleset can show or hide them, but never brings in the host's own instances. */
const SELF_MADE = /^(ptmx|pts(\/.*)?|fd|stdin|stdout|stderr|shm(\/.*)?|mqueue(\/.*)?)$/;

/** Host device nodes below DIR as /dev names ("null", "dri/card0"): character and block devices
 * only, no symbolic links, no directories, at most DEPTH levels down. */
export function hostDeviceNames(dir = "/dev", depth = 3): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string, level: number): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const r = rel ? `${rel}/${n}` : n;
      let st;
      try {
        st = lstatSync(join(d, n));
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (level < depth && !SELF_MADE.test(r)) walk(join(d, n), r, level + 1);
      } else if ((st.isCharacterDevice() || st.isBlockDevice()) && !SELF_MADE.test(r)) out.push(r);
    }
  };
  walk(dir, "", 1);
  return out;
}

/** The devfs.rules file: $SYSJAIL_DEVFS_RULES, else /etc/sysjail/devfs.rules when it exists. */
export function devfsRulesFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SYSJAIL_DEVFS_RULES) return env.SYSJAIL_DEVFS_RULES;
  return existsSync(DEFAULT_DEVFS_RULES) ? DEFAULT_DEVFS_RULES : undefined;
}

/** The administrator's rulesets (undefined: only the built-in ones). */
export function loadDevfsRules(file = devfsRulesFile()): DevfsRules | undefined {
  if (file === undefined) return undefined;
  return parseDevfsRules(readFileSync(file, "utf8"), file);
}

/** Device names for a jail's /dev under RULESET, from the host's nodes. */
export function jailDevices(ruleset: number, rules: DevfsRules | undefined = loadDevfsRules(), hostNames = hostDeviceNames()): string[] {
  const group = (name: string): number | undefined => {
    try {
      const line = readFileSync("/etc/group", "utf8").split("\n").find((l) => l.split(":")[0] === name);
      return line ? Number(line.split(":")[2]) : undefined;
    } catch {
      return undefined;
    }
  };
  const nodes = devfsNodes(hostNames, ruleset, rules, { typeOf: linuxDevType, user: (n) => lookupUser(n)?.uid, group });
  return nodes.map((n) => n.name);
}
