// Helpers of the fault tests: what a registry's jails left on the host.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { cgroupParents } from "../../src/manage/gc.js";
import { instanceName } from "../../src/registry/instance.js";
import { stateFiles } from "../helpers/index.js";

/** Cgroup directories named as the registry in DIR names its jails. */
export function jailCgroups(dir: string): string[] {
  const prefix = instanceName(dir, 0).slice(0, -1);
  return cgroupParents().flatMap((p) => readdirSync(p).filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length))).map((n) => join(p, n)));
}

/** Host links of this registry's vnet jails (src/net/context.ts hostIfName). */
export function jailLinks(dir: string): string[] {
  const stem = `sj${instanceName(dir, 0).slice(0, -1).replace(/[^A-Za-z0-9]/g, "")}`;
  return execFileSync("ip", ["-o", "link"], { encoding: "utf8" }).split("\n").map((l) => l.split(": ")[1]?.split("@")[0] ?? "").filter((n) => n.startsWith(stem));
}

/** What is left of the jails of DIR on the host. */
export function leftovers(dir: string): string[] {
  return [...jailCgroups(dir), ...stateFiles(dir).map((f) => `state ${f}`), ...jailLinks(dir).map((l) => `link ${l}`)];
}

