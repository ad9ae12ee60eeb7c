// The jail parameters jls shows: FreeBSD's names, types and values, read from a registry entry.
import { release } from "node:os";
import { ownNetns } from "../plan/planner.js";
import { storeGet, storeKeys, storeSetAll } from "../conf/kvstore.js";
import type { JailEntry } from "../registry/types.js";

/** A parameter's value: numbers, strings, booleans, or address lists. */
export type ParamValue = number | string | boolean | string[];

/** How FreeBSD types a parameter ("jailsys" is new/inherit/disable). */
export type ParamType = "int" | "string" | "bool" | "jailsys" | "addrs";

/** One parameter jls knows. */
export interface ParamDef {
  name: string;
  type: ParamType;
  /** Settable when the jail is created (jls -s prints only these). */
  writable: boolean;
  get(e: JailEntry): ParamValue;
}

function lifecycle(e: JailEntry): Record<string, unknown> {
  return (e.lifecycle ?? {}) as Record<string, unknown>;
}

function lifeNum(e: JailEntry, key: string, dflt: number): number {
  const v = lifecycle(e)[key];
  return typeof v === "number" && Number.isFinite(v) ? v : dflt;
}

/** A store's whole text: the free text jail(8) keeps (lifecycle metaText/envText), else the
 * key=value record of a jail made without it (the library). With ESC each line is passed
 * through it, so that no control character reaches a terminal. */
function storeOf(e: JailEntry, store: "meta" | "env", esc: (s: string) => string): string {
  const text = lifecycle(e)[`${store}Text`];
  if (typeof text === "string") return text.split("\n").map(esc).join("\n");
  const rec = store === "meta" ? e.spec.meta : lifecycle(e).env;
  if (!rec || typeof rec !== "object") return "";
  return Object.entries(rec as Record<string, unknown>).map(([k, v]) => `${esc(k)}=${esc(String(v))}`).join("\n");
}

/** The meta store as FreeBSD prints it: its free text, whose key=value lines meta.KEY reads. */
export function metaText(e: JailEntry, esc: (s: string) => string = (s) => s): string {
  return storeOf(e, "meta", esc);
}

/** The env store, as metaText. */
export function envText(e: JailEntry, esc: (s: string) => string = (s) => s): string {
  return storeOf(e, "env", esc);
}

function addrMode(e: JailEntry, fam: "ip4" | "ip6"): string {
  const m = lifecycle(e)[`${fam}Mode`];
  if (m === "new" || m === "inherit" || m === "disable") return m;
  if (e.spec.vnet) return "inherit";
  return e[fam].length > 0 ? "new" : "disable";
}

function domainname(e: JailEntry): string {
  const v = e.spec.params?.["host.domainname"];
  return typeof v === "string" ? v : "";
}

const P = (name: string, type: ParamType, writable: boolean, get: (e: JailEntry) => ParamValue): ParamDef => ({ name, type, writable, get });

/** Every fixed parameter, in FreeBSD's `all` order: top-level names first, then dotted ones. */
export const PARAMS: readonly ParamDef[] = [
  P("devfs_ruleset", "int", true, (e) => e.spec.devfsRuleset ?? 4),
  P("dying", "bool", false, () => false),
  P("enforce_statfs", "int", true, (e) => lifeNum(e, "enforceStatfs", 2)),
  P("env", "string", true, (e) => envText(e)),
  P("host", "jailsys", true, () => "new"),
  P("ip4", "jailsys", true, (e) => addrMode(e, "ip4")),
  P("ip6", "jailsys", true, (e) => addrMode(e, "ip6")),
  P("jid", "int", true, (e) => e.jid),
  P("meta", "string", true, (e) => metaText(e)),
  P("name", "string", true, (e) => e.name),
  P("osrelease", "string", false, () => release()),
  P("parent", "int", false, () => 0),
  P("path", "string", true, (e) => e.path),
  P("persist", "bool", true, (e) => e.persist),
  P("sysvmsg", "jailsys", true, (e) => (e.spec.policy.allowIpc ? "new" : "disable")),
  P("sysvsem", "jailsys", true, (e) => (e.spec.policy.allowIpc ? "new" : "disable")),
  P("sysvshm", "jailsys", true, (e) => (e.spec.policy.allowIpc ? "new" : "disable")),
  P("vnet", "jailsys", true, (e) => (e.spec.vnet || ownNetns(e.spec) ? "new" : "inherit")),
  P("allow.chflags", "bool", true, (e) => e.spec.policy.allowChflags),
  P("allow.raw_sockets", "bool", true, (e) => e.spec.policy.allowRawSockets),
  P("allow.set_hostname", "bool", true, (e) => e.spec.policy.allowSetHostname),
  P("allow.setuid", "bool", true, (e) => e.spec.policy.allowSetuid === true),
  P("allow.socket_af", "bool", true, (e) => e.spec.policy.allowAllDomains),
  P("allow.sysvipc", "bool", true, (e) => e.spec.policy.allowIpc),
  P("children.cur", "int", false, (e) => lifeNum(e, "childrenCur", 0)),
  P("children.max", "int", true, (e) => lifeNum(e, "childrenMax", 0)),
  P("host.domainname", "string", true, domainname),
  P("host.hostname", "string", true, (e) => e.hostname),
  P("ip4.addr", "addrs", true, (e) => [...e.ip4]),
  P("ip6.addr", "addrs", true, (e) => [...e.ip6]),
];

const BY_NAME = new Map(PARAMS.map((p) => [p.name, p]));

/** The definition of a parameter name for this jail (meta.KEY and env.KEY included), or undefined. */
export function lookupParam(name: string): ParamDef | undefined {
  const fixed = BY_NAME.get(name);
  if (fixed) return fixed;
  const m = /^(meta|env)\.(.+)$/.exec(name);
  if (!m) return undefined;
  const [, store, key] = m as unknown as [string, "meta" | "env", string];
  return P(name, "string", true, (j) => storeGet(storeSetAll([storeOf(j, store, (s) => s)]), key) ?? "");
}

/** `all` for one jail: the fixed parameters plus a meta.KEY for each key of its meta store. */
export function allParams(e: JailEntry): ParamDef[] {
  const extra = storeKeys(storeSetAll([metaText(e)])).map((k) => lookupParam(`meta.${k}`)!);
  const top = PARAMS.filter((p) => !p.name.includes("."));
  const dotted = [...PARAMS.filter((p) => p.name.includes(".")), ...extra].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...top, ...dotted];
}

/** The jailsys parameter a dotted parameter belongs to (host for host.hostname), if any. */
export function jailsysParent(name: string): string | undefined {
  const dot = name.indexOf(".");
  if (dot < 0) return undefined;
  const parent = BY_NAME.get(name.slice(0, dot));
  return parent?.type === "jailsys" ? parent.name : undefined;
}

/** A value as jls prints it in text: addresses comma-separated, booleans true/false. */
export function valueText(v: ParamValue): string {
  if (Array.isArray(v)) return v.join(",");
  if (typeof v === "boolean") return v ? "true" : "false";
  return String(v);
}

/** FreeBSD's negated boolean name: persist -> nopersist, allow.chflags -> allow.nochflags. */
export function noName(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? `no${name}` : `${name.slice(0, dot)}.no${name.slice(dot + 1)}`;
}
