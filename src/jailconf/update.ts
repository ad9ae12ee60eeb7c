// jail -cm on a running jail: the parameters that differ from the running jail become a jail -m
// (src/manage/modify.ts); a difference in one fixed at creation is an error, as on FreeBSD.
import { realpathSync } from "node:fs";
import type { ParamValue } from "../conf/resolve.js";
import type { JailRef } from "../manage/locate.js";
import { modifyJail, type ParamArg } from "../manage/modify.js";
import { envText, metaText } from "../manage/params.js";
import type { JailEntry } from "../registry/types.js";
import type { LoadedJail } from "./load.js";
import { changePersist } from "./persist.js";

/** Parameters jail -cm can change in a running jail, and how to read their current value. */
const CHANGEABLE: Record<string, (e: JailEntry) => string> = {
  "host.hostname": (e) => e.hostname,
  "host.domainname": (e) => String(e.spec.params?.["host.domainname"] ?? ""),
  meta: (e) => metaText(e),
  env: (e) => envText(e),
};

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Parameters fixed at creation, and whether the asked value differs from the running jail's. */
const FIXED: Record<string, (e: JailEntry, v: ParamValue, j: LoadedJail) => boolean> = {
  path: (e, v) => typeof v === "string" && realOr(v) !== e.path,
  "ip4.addr": (e, _v, j) => !sameList(j.spec.ip4, e.ip4),
  "ip6.addr": (e, _v, j) => !sameList(j.spec.ip6, e.ip6),
  vnet: (e, v) => typeof v === "boolean" && v !== e.spec.vnet,
  devfs_ruleset: (e, v) => typeof v === "string" && Number(v) !== e.spec.devfsRuleset,
};

/** What jail -cm would change: modify arguments, and the fixed parameters that differ. */
export function modificationsFor(entry: JailEntry, j: LoadedJail): { args: ParamArg[]; fixed: string[] } {
  const args: ParamArg[] = [];
  const fixed: string[] = [];
  for (const [name, v] of Object.entries(j.resolved.params)) {
    const cur = CHANGEABLE[name];
    if (cur) {
      const want = Array.isArray(v) ? v.join("\n") : String(v === true ? "" : v);
      if (want !== cur(entry)) args.push({ name, values: [want], raw: want });
      continue;
    }
    if (FIXED[name]?.(entry, v, j)) fixed.push(name);
  }
  return { args, fixed };
}

/** Applies jail -cm to a running jail; resolves to the fixed parameters that prevent it (none: done). */
export async function updateJail(ref: JailRef, j: LoadedJail): Promise<string[]> {
  const { args, fixed } = modificationsFor(ref.entry, j);
  if (fixed.length) return fixed;
  const done = args.length ? await modifyJail(ref, args) : ref;
  // persist changes like the others (FreeBSD's jail -m persist/nopersist); nopersist goes last:
  // it removes a jail without processes
  const p = j.resolved.params.persist;
  if (typeof p === "boolean" && p !== done.entry.persist) await changePersist(done, p);
  return [];
}
