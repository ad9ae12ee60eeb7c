// jls output: FreeBSD's default table, -N, -v, parameter lists (-n, -q, -h, -s) and libxo JSON. Pure.
import type { JailEntry } from "../registry/types.js";
import { vis } from "./vis.js";
import { envText, metaText } from "./params.js";
import { allParams, jailsysParent, lookupParam, noName, PARAMS, valueText, type ParamDef, type ParamValue } from "./params.js";

/** What jls prints, from its flags (FreeBSD's PRINT_* bits, as booleans). */
export interface JlsFormat {
  /** -v: the multi-line layout (only without parameter operands). */
  verbose: boolean;
  /** -N: names instead of jids in the default table. */
  names: boolean;
  /** -h: a header line of parameter names. */
  header: boolean;
  /** -n: name=value pairs. */
  nameval: boolean;
  /** -q: quote values with spaces, quotes, or nothing in them. */
  quoted: boolean;
  /** -s: only what jail -c takes back. */
  skip: boolean;
  /** Parameter operands (empty: the table, or "all" with -h/-n). */
  params: string[];
}

/** The layout a format selects. */
export function layoutOf(f: JlsFormat): "table" | "verbose" | "params" {
  if (f.params.length > 0 || f.header || f.nameval) return "params";
  return f.verbose ? "verbose" : "table";
}

/** Cuts S to at most N bytes without splitting a character (C's %.Ns on UTF-8 text). */
export function cut(s: string, n: number): string {
  if (Buffer.byteLength(s) <= n) return s;
  let out = "";
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > n) break;
    out += ch;
  }
  return out;
}

/** C's %-W.Ws: cut to W bytes, then padded with spaces to W. */
export function fit(s: string, w: number): string {
  const c = cut(s, w);
  return c + " ".repeat(Math.max(0, w - Buffer.byteLength(c)));
}

function padLeft(s: string, w: number): string {
  return " ".repeat(Math.max(0, w - s.length)) + s;
}

/** The default table's header line (with -N: the name layout). */
export function tableHeader(names: boolean): string {
  if (names) return ` ${fit("JID", 15)} ${fit("IP Address", 15)} ${fit("Hostname", 29)} Path`;
  return `${padLeft("JID", 6)}  IP Address${" ".repeat(6)}Hostname${" ".repeat(22)}Path`;
}

/** One row of the default table: jid (or name), first IPv4 address, hostname, path. */
export function tableRow(e: JailEntry, names: boolean): string {
  const rest = `${fit(vis(e.ip4[0] ?? ""), 15)} ${fit(vis(e.hostname), 29)} ${cut(vis(e.path), 74)}`;
  return names ? ` ${vis(e.name).padEnd(15)} ${rest}` : `${padLeft(String(e.jid), 6)}  ${rest}`;
}

/** The -v header: JID/Hostname/Path, Name/State, then the addresses. */
export function verboseHeader(): string[] {
  return [
    `   JID  Hostname${" ".repeat(22)}Path`,
    `${" ".repeat(8)}Name${" ".repeat(26)}State`,
    `${" ".repeat(8)}IP Address(es)`,
  ];
}

/** One jail in the -v layout. */
export function verboseRows(e: JailEntry): string[] {
  return [
    `${padLeft(String(e.jid), 6)}  ${fit(vis(e.hostname), 29)} ${cut(vis(e.path), 74)}`,
    `${" ".repeat(8)}${fit(vis(e.name), 29)} ACTIVE`,
    ...[...e.ip4, ...e.ip6].map((a) => `${" ".repeat(8)}${vis(a)}`),
    ...(idRangeText(e) ? [`${" ".repeat(8)}Host ids ${vis(idRangeText(e))}`] : []),
  ];
}

/** Whether E is a root container on the host's ids one to one (sysjail-oci's sysjail.ids=host). */
const onHostIds = (e: JailEntry) => e.owner === 0 && !e.ids && e.idmap?.uidMap === "0 0 4294967295\n" && e.idmap.gidMap === "0 0 4294967295\n";

/** A root jail's host id range, as recorded ("1879113728-1879179263 (tree)"), or "". */
export function idRangeText(e: JailEntry): string {
  if (onHostIds(e)) return "0-4294967294 (host, one to one)";
  const r = e.ids;
  if (!r || ![r.uid, r.gid, r.count].every(Number.isSafeInteger) || !/^[a-z]{1,16}$/.test(String(r.lease))) return "";
  const gid = r.gid !== r.uid ? `, gids ${r.gid}-${r.gid + r.count - 1}` : "";
  return `${r.uid}-${r.uid + r.count - 1}${gid} (${r.lease})`;
}

/** The parameters to print for these jails: the operands, or `all` (with every jail's meta keys). */
export function paramList(f: JlsFormat, jails: JailEntry[], unknown: (name: string) => never): ParamDef[] {
  const names = f.params.length ? f.params : ["all"];
  const out: ParamDef[] = [];
  const seen = new Set<string>();
  const add = (d: ParamDef) => {
    if (!seen.has(d.name)) { seen.add(d.name); out.push(d); }
  };
  for (const n of names) {
    if (n === "all") {
      // every jail's meta keys: a header line (-h) names them all
      const byName = new Map<string, ParamDef>();
      for (const j of jails) for (const d of allParams(j)) byName.set(d.name, d);
      if (jails.length === 0) for (const d of PARAMS) byName.set(d.name, d);
      const defs = [...byName.values()];
      const top = defs.filter((d) => !d.name.includes("."));
      const dotted = defs.filter((d) => d.name.includes(".")).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      [...top, ...dotted].forEach(add);
      continue;
    }
    const d = lookupParam(n);
    if (!d) unknown(n);
    add(d!);
  }
  return out;
}

function isEmpty(v: ParamValue): boolean {
  return v === "" || (Array.isArray(v) && v.length === 0);
}

/** FreeBSD's quoting: "..." around values with ' or blanks, '...' around values with ". */
export function quoteValue(s: string, quoted: boolean): string {
  if (!quoted) return s;
  const qc = s.includes("'") ? '"' : s.includes('"') ? "'" : /[ \t\n]/.test(s) ? '"' : "";
  return qc ? `${qc}${s}${qc}` : s;
}

/** Whether -s leaves a parameter out: not settable, or its jailsys parent is not "new". */
function skipped(d: ParamDef, e: JailEntry): boolean {
  if (!d.writable) return true;
  const parent = jailsysParent(d.name);
  return parent !== undefined && lookupParam(parent)!.get(e) !== "new";
}

/** A value escaped for a terminal (vis); the key=value lines of the meta and env stores keep
 * their line breaks, with each key and value escaped. */
function visValue(d: ParamDef, e: JailEntry, v: ParamValue): string {
  if (d.name === "meta") return metaText(e, vis);
  if (d.name === "env") return envText(e, vis);
  return vis(valueText(v));
}

/** The -h header line: the parameter names. */
export function paramHeader(defs: ParamDef[]): string {
  return defs.map((d) => vis(d.name)).join(" ");
}

/** One jail's parameter line (plain, -n, -q, -s). */
export function paramLine(e: JailEntry, defs: ParamDef[], f: JlsFormat): string {
  const parts: string[] = [];
  for (const d of defs) {
    if (f.skip && skipped(d, e)) continue;
    const v = d.get(e);
    if (f.nameval && d.type === "bool") {
      parts.push(vis(v ? d.name : noName(d.name)));
      continue;
    }
    const prefix = f.nameval ? `${vis(d.name)}=` : "";
    // an empty string is "" with -q and in name=value form, nothing in a plain line (FreeBSD);
    // an empty list is "-" in a plain line
    if (isEmpty(v)) parts.push(prefix + (f.quoted || (f.nameval && !Array.isArray(v)) ? '""' : f.nameval || !Array.isArray(v) ? "" : "-"));
    else parts.push(prefix + quoteValue(visValue(d, e, v), f.quoted));
  }
  return parts.join(" ");
}

/** One jail as a libxo JSON instance, with the keys FreeBSD's jls uses for the layout. */
export function jsonInstance(e: JailEntry, f: JlsFormat, defs: ParamDef[]): Record<string, unknown> {
  const layout = layoutOf(f);
  if (layout === "table") {
    const head = f.names ? { name: e.name } : { jid: e.jid };
    return { ...head, ipv4: e.ip4[0] ?? "", hostname: e.hostname, path: e.path };
  }
  if (layout === "verbose") {
    const v: Record<string, unknown> = { jid: e.jid, hostname: e.hostname, path: e.path, name: e.name, state: "ACTIVE", ipv4_addrs: [...e.ip4], ipv6_addrs: [...e.ip6] };
    if (onHostIds(e)) v.host_ids = { uid: 0, gid: 0, count: 4294967295, lease: "host" };
    else if (idRangeText(e)) v.host_ids = { uid: e.ids!.uid, gid: e.ids!.gid, count: e.ids!.count, lease: e.ids!.lease };
    return v;
  }
  const out: Record<string, unknown> = {};
  for (const d of defs) {
    if (f.skip && skipped(d, e)) continue;
    const v = d.get(e);
    if (Array.isArray(v)) out[d.name] = v;
    else if (typeof v === "boolean" && f.nameval) out[d.name] = v;
    else out[d.name] = valueText(v);
  }
  return out;
}

/** The whole libxo JSON document (version 2, as jls emits it). */
export function jsonDocument(instances: Record<string, unknown>[], pretty = false): string {
  if (pretty) {
    return `${JSON.stringify({ __version: "2", "jail-information": { jail: instances } }, null, 2)}\n`;
  }
  return `{"__version": "2", "jail-information": {"jail": [${instances.map((i) => JSON.stringify(i)).join(", ")}]}}\n`;
}

/** Everything jls prints for these jails, in text. */
export function formatText(jails: JailEntry[], f: JlsFormat, defs: ParamDef[]): string {
  const lines: string[] = [];
  const layout = layoutOf(f);
  if (layout === "table") {
    lines.push(tableHeader(f.names), ...jails.map((e) => tableRow(e, f.names)));
  } else if (layout === "verbose") {
    lines.push(...verboseHeader());
    for (const e of jails) lines.push(...verboseRows(e));
  } else {
    if (f.header) lines.push(paramHeader(defs));
    for (const e of jails) lines.push(paramLine(e, defs, f));
  }
  return lines.map((l) => `${l}\n`).join("");
}
