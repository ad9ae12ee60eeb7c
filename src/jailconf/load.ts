// Loading: the jail.conf file, one jail's parameters (configuration or command line) resolved and
// turned into the JailSpec the helper builds and the lifecycle jail(8) itself acts on.
import { existsSync, readFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { confErrorNoPos } from "../conf/errors.js";
import { fsGlob, hasGlobMeta } from "../conf/glob.js";
import type { ParamArg } from "../conf/cli.js";
import { defaultJailConfs, listJails as confJails, parseJailConf, type JailConf } from "../conf/parser.js";
import { resolveJail, resolveParams, type ResolvedJail } from "../conf/resolve.js";
import { paramsToSpec, type JailLifecycle } from "../conf/spec.js";
import { normalizeLimits } from "../limits/parse.js";
import { baseSpec, checkName } from "../spec/validate.js";
import type { JailSpec } from "../spec/types.js";

/** The directory the default configuration lives under: /etc, or SYSJAIL_CONF_ETC (for tests, which
 * must never write the host's /etc/jail.conf). */
function confEtc(): string {
  const e = process.env.SYSJAIL_CONF_ETC;
  return e && e.startsWith("/") ? e : "/etc";
}

/** The default configuration files that exist, in reading order (globs expanded, sorted). */
export function defaultConfFiles(): string[] {
  const out: string[] = [];
  for (const p of defaultJailConfs(confEtc())) {
    for (const f of hasGlobMeta(p) ? fsGlob(p) : [p]) if (existsSync(f) && !out.includes(f)) out.push(f);
  }
  return out;
}

/** A name for the default configuration in messages: the files jail(8) looked for. */
export function defaultConfName(): string {
  return defaultJailConfs(confEtc()).join(", ");
}

/** Reads the configuration: FILE, or the default ones that exist ("-" is standard input). Without
 * -f, FreeBSD 14's /etc/jail.conf and /etc/jail.conf.d/*.conf are read as one configuration, as if
 * each were included in turn, followed by sysjail's /etc/sysjail/jail.conf. */
export function readConf(file: string | undefined, readOnce?: (path: string) => string): JailConf | undefined {
  if (file === undefined) {
    const files = defaultConfFiles();
    if (files.length === 0) return undefined;
    // a file read once is not read again: a sysjail/jail.conf that includes jail.conf.d/*.conf
    // (as these docs once advised) defines no jail twice
    const seen = new Set<string>();
    const readOnce = (p: string) => {
      if (seen.has(p)) return "";
      seen.add(p);
      return readFileSync(p, "utf8");
    };
    let conf: JailConf | undefined;
    for (const f of files) {
      if (seen.has(f)) continue;
      const one = readConf(f, readOnce)!;
      if (!conf) conf = one;
      else {
        conf.files.push(...one.files);
        conf.blocks.push(...one.blocks);
      }
    }
    return conf;
  }
  const name = file;
  let text: string;
  try {
    text = readOnce && name !== "-" ? readOnce(name) : readFileSync(name === "-" ? 0 : name, "utf8");
  } catch (err) {
    throw confErrorNoPos(`jail: ${name}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as NodeJS.ErrnoException).code}`, name);
  }
  return parseJailConf(text, name, readOnce ? { readFile: readOnce } : {});
}

/** The non-wildcard jails a configuration defines, in file order. */
export function configuredJails(conf: JailConf): string[] {
  return confJails(conf);
}

/** One jail, ready to be created. */
export interface LoadedJail {
  /** The name jail(8) prints ("web: created"): the configuration's block name, or the name (else
   * jid) parameter; undefined for a jail given without either. */
  label: string | undefined;
  resolved: ResolvedJail;
  /** The spec as configured: persist as asked, no command (jail(8) runs command itself). */
  spec: JailSpec;
  lifecycle: JailLifecycle & { persist: boolean };
  /** A requested jid (jid parameter or numbered block). */
  jid?: number | undefined;
  /** command came from the command line (one argv) rather than a configuration (command lines). */
  commandArgv: boolean;
  warnings: string[];
}

/** Limits from limits.* and rctl, in Limits units, through the same parser as --limit. */
function parseLimit(key: string, raw: string): number | undefined {
  return (normalizeLimits({ [key]: raw }) as Record<string, number | undefined>)[key];
}

/** A valid hostname from the host's own (FreeBSD copies the parent's hostname to a new jail). */
function defaultHostname(): string {
  const h = osHostname();
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(h) ? h : "localhost";
}

/** Turns resolved parameters into the jail's spec and lifecycle. The path is not checked here:
 * exec.prepare may create it. */
export function toLoaded(r: ResolvedJail, label: string | undefined): LoadedJail {
  const { spec: part, lifecycle, warnings } = paramsToSpec(r, { parseLimit });
  const spec = baseSpec(part.path ?? "/", part.hostname || defaultHostname());
  if (part.name !== undefined) spec.name = checkName(part.name);
  spec.ip4 = part.ip4 ?? [];
  spec.ip6 = part.ip6 ?? [];
  // FreeBSD's vnet jail has its own stack with only lo0 unless vnet.interface moves interfaces
  // in: that is sysjail's jail without addresses (no veth pair), which jls shows as vnet=new
  spec.vnet = (part.vnet ?? false) && (spec.ip4.length > 0 || spec.ip6.length > 0 || lifecycle.vnetInterfaces.length > 0);
  spec.persist = part.persist ?? false;
  spec.cleanEnv = part.cleanEnv ?? false;
  spec.mounts = part.mounts ?? [];
  spec.mountDev = part.mountDev ?? false;
  spec.mountProc = part.mountProc ?? false;
  spec.devfsRuleset = part.devfsRuleset ?? 4;
  if (part.policy) spec.policy = part.policy;
  spec.meta = part.meta ?? {};
  spec.limits = part.limits ?? {};
  if (part.params) spec.params = part.params;
  if (part.unveil) spec.unveil = part.unveil;
  if (part.unveilBestEffort) spec.unveilBestEffort = true;
  const commandArgv = r.sources.command?.arg !== undefined;
  return {
    label,
    resolved: r,
    spec,
    lifecycle: { ...lifecycle, persist: spec.persist },
    jid: lifecycle.jid,
    commandArgv,
    warnings,
  };
}

/** A jail of the configuration, with command-line parameters applied last. */
export function loadConfJail(conf: JailConf, nameOrJid: string, cli: readonly ParamArg[] = []): LoadedJail {
  const r = resolveJail(conf, nameOrJid, cli);
  return toLoaded(r, r.name);
}

/** A jail given by parameters on the command line alone. */
export function loadParamJail(params: readonly ParamArg[]): LoadedJail {
  const r = resolveParams(params);
  const name = typeof r.params.name === "string" ? r.params.name : typeof r.params.jid === "string" && r.params.jid !== "0" ? r.params.jid : undefined;
  return toLoaded(r, name);
}

/** How a loaded jail is looked up among running ones: its name, else its jid. */
export function lookupKey(j: LoadedJail): string | undefined {
  return j.spec.name ?? (j.jid ? String(j.jid) : undefined);
}
