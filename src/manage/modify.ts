// jail -m: changes the parameters of a running jail that can change (hostname, domain name, meta, env).
import { applyStoreArgs, storeRecord } from "../conf/kvstore.js";
import { SysjailError, Exit, usageError } from "../errors.js";
import { checkHostname } from "../spec/validate.js";
import { enterTarget, enterVia, planSetNames, runEnter, viaOps } from "./enter.js";
import { writeEntry } from "./entryfile.js";
import { refresh, notFound, type JailRef } from "./locate.js";
import { withJailLock } from "./lock.js";
import { envText, lookupParam, metaText } from "./params.js";
import { addressUpdateOps } from "../net/update.js";
import { NS } from "../plan/planner.js";
import { op } from "../plan/types.js";

/** One name=value (or bare boolean) argument of jail -m. */
export interface ParamArg {
  name: string;
  /** Comma-separated values split; a bare name has none. */
  values: string[];
  /** The value as given (undefined for a bare name). */
  raw?: string | undefined;
}

/** Parameters jail -m may change while the jail runs. */
export const MODIFIABLE = ["host.hostname", "host.domainname", "meta", "env", "ip4.addr", "ip6.addr"] as const;

/** Parses "name=value" / "name" arguments. */
export function parseParamArgs(args: string[]): ParamArg[] {
  return args.map((a) => {
    const eq = a.indexOf("=");
    if (eq < 0) return { name: a, values: [] };
    const raw = a.slice(eq + 1);
    return { name: a.slice(0, eq), values: raw === "" ? [""] : raw.split(","), raw };
  });
}

/** persist/nopersist (or persist=true|false): the persist a jail -m asks for, else undefined. */
export function persistArg(a: ParamArg): boolean | undefined {
  if (a.name !== "persist" && a.name !== "nopersist") return undefined;
  const v = a.raw === undefined || a.raw === "" ? true : /^(true|1|yes|on)$/i.test(a.raw) ? true : /^(false|0|no|off)$/i.test(a.raw) ? false : undefined;
  if (v === undefined) throw usageError(`jail: ${a.name}: '${a.raw}' is not a boolean (true or false)`);
  return a.name === "persist" ? v : !v;
}

function modifiable(name: string): boolean {
  return (MODIFIABLE as readonly string[]).includes(name) || /^(meta|env)\..+/.test(name);
}

/** Checks the arguments: unknown names and parameters fixed at creation are refused by name (64). */
export function checkModifications(jailName: string, args: ParamArg[]): void {
  for (const a of args) {
    const base = a.name.replace(/^(.*\.)?no(?=[^.]+$)/, "$1");
    if (persistArg(a) !== undefined) continue; // changed by the caller (src/jailconf/persist.ts)
    if (modifiable(a.name)) {
      // meta.KEY / env.KEY without '=' sets the key empty (FreeBSD 14.2's jail(8)); the others need a value
      if (a.raw === undefined && /^(meta|env)\../.test(a.name)) continue;
      if (a.raw === undefined) throw usageError(`jail: ${a.name}: needs a value (${a.name}=...)`);
      if (a.name === "host.hostname") checkHostname(a.raw);
      if (a.name === "host.domainname" && a.raw !== "" && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(a.raw)) {
        throw usageError(`jail: invalid domain name '${a.raw}': use letters, digits, '-', '_' and '.' only`);
      }
      continue;
    }
    if (lookupParam(a.name) || lookupParam(base) || /^(ip4|ip6|mount|exec|allow|vnet|children|securelevel|osrelease|osreldate|devfs_ruleset|enforce_statfs|cpuset|stop|command|depend|interface|linux|sysv)/.test(a.name)) {
      throw usageError(`jail: ${jailName}: ${a.name} cannot be changed after creation`);
    }
    throw usageError(`jail: unknown parameter: ${a.name}`);
  }
}

/** Applies the changes to a running jail: the kernel first (through the helper's enter mode), then
 * its registry entry, all under the jail's lock so that concurrent jail -m lose no change. */
export async function modifyJail(ref: JailRef, args: ParamArg[]): Promise<JailRef> {
  checkModifications(ref.entry.name, args);
  return withJailLock(ref.dir, ref.entry.jid, async () => {
    const cur = refresh(ref);
    if (!cur) throw notFound("jail", ref.entry.name);
    const e = structuredClone(cur.entry);
    let hostname: string | undefined;
    let domainname: string | undefined;
    for (const a of args) {
      if (a.name === "host.hostname") hostname = a.raw!;
      else if (a.name === "host.domainname") domainname = a.raw!;
    }
    const metaArgs = args.filter((a) => a.name === "meta" || a.name.startsWith("meta."));
    if (metaArgs.length) {
      const text = applyStoreArgs(metaText(e), "meta", metaArgs);
      ((e.lifecycle ??= {}) as Record<string, unknown>).metaText = text;
      e.spec.meta = storeRecord(text.split("\n"));
    }
    const envArgs = args.filter((a) => a.name === "env" || a.name.startsWith("env."));
    if (envArgs.length) {
      const text = applyStoreArgs(envText(e), "env", envArgs);
      const life = (e.lifecycle ??= {}) as Record<string, unknown>;
      life.envText = text;
      life.env = storeRecord(text.split("\n"));
    }
    const ip4Arg = args.find((a) => a.name === "ip4.addr");
    const ip6Arg = args.find((a) => a.name === "ip6.addr");
    if (ip4Arg || ip6Arg) {
      // the address map of a shared-stack jail's programs, changed in place by the helper from the
      // host side (it needs host privilege); the jail's processes see the new list at once
      const list = (a: ParamArg | undefined, cur: string[]) => (a ? a.values.map((v) => v.trim()).filter((v) => v !== "") : cur);
      const ip4 = list(ip4Arg, e.ip4);
      const ip6 = list(ip6Arg, e.ip6);
      const via = enterVia(e, cur.dir);
      const t = via ? { pid: e.initPid, start: e.initStart } : enterTarget(e);
      const plan = { mode: "enter" as const, flags: 0, ops: [op("enter", [t.pid, t.start, NS.CLONE_NEWUTS]), ...viaOps(via), ...addressUpdateOps(e, ip4, ip6)] };
      const ev = await runEnter(plan, ["ignore", "ignore", "inherit"], e.path);
      if (ev.setupFailed) throw new SysjailError(`jail: ${e.name}: cannot change the addresses`, { code: "EIO", phase: "runtime", exitCode: Exit.osErr });
      e.ip4 = ip4; e.ip6 = ip6; e.spec.ip4 = ip4; e.spec.ip6 = ip6;
    }
    if (hostname !== undefined || domainname !== undefined) {
      const via = enterVia(e, cur.dir);
      const ev = await runEnter(planSetNames(e, { hostname, domainname }, via ? undefined : enterTarget(e), via), ["ignore", "ignore", "inherit"], e.path);
      if (ev.setupFailed) throw new SysjailError(`jail: ${e.name}: cannot change the names`, { code: "EIO", phase: "runtime", exitCode: Exit.osErr });
      if (hostname !== undefined) { e.hostname = hostname; e.spec.hostname = hostname; }
      if (domainname !== undefined) e.spec.params = { ...(e.spec.params ?? {}), "host.domainname": domainname };
    }
    writeEntry(cur.dir, cur.dirOwner, e);
    return { ...cur, entry: e };
  }, undefined, ref.dirOwner);
}
