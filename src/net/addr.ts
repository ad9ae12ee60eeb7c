// Jail addresses: strict parsing of IPv4 and IPv6 text, canonical forms, 16-byte keys (IPv4 as
// IPv4-mapped IPv6), and the rules for which addresses a jail may claim.
import { usageError } from "../errors.js";

/** A parsed jail address: family, canonical text, the 16-byte key form, and a prefix length. */
export interface JailAddr {
  family: 4 | 6;
  /** Canonical text without prefix (dotted quad; RFC 5952 for IPv6). */
  text: string;
  /** IPv4: ::ffff:a.b.c.d; IPv6: the address. This is the key in the jail's address map. */
  key: Uint8Array;
  /** Prefix length given as addr/len (vnet only), else 32 or 128. */
  prefix: number;
  /** True when the text had an explicit /len. */
  hasPrefix: boolean;
}

/** Four bytes of a dotted quad, or undefined (no leading zeros, no shorthand). */
export function ip4Bytes(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

/** Sixteen bytes of an IPv6 address (with an optional embedded dotted quad), or undefined. */
export function ip6Bytes(s: string): Uint8Array | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.length > 45) return undefined;
  let tail: Uint8Array | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    tail = ip4Bytes(s.slice(lastColon + 1));
    if (!tail) return undefined;
    text = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] | undefined => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]!), rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const fill = 8 - head.length - rest.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill("0"), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i]!;
    if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

/** Dotted quad of 4 bytes. */
export function ip4Text(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952 text of 16 bytes: lowercase, longest zero run (2+ groups) as "::", mapped as ::ffff:a.b.c.d. */
export function ip6Text(b: Uint8Array): string {
  if (isMapped(b)) return `::ffff:${ip4Text(b.subarray(12))}`;
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** True for ::ffff:0:0/96, the IPv4-mapped range. */
export function isMapped(b: Uint8Array): boolean {
  return b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

/** The map key of IPv4 bytes: ::ffff:a.b.c.d. */
export function mapped4(b4: Uint8Array): Uint8Array {
  const k = new Uint8Array(16);
  k[10] = 0xff;
  k[11] = 0xff;
  k.set(b4, 12);
  return k;
}

/** Parses one address of a family; `allowPrefix` accepts addr/len (vnet jails). Throws a usage error. */
export function parseJailAddr(text: string, family: 4 | 6, allowPrefix: boolean): JailAddr {
  const flag = family === 4 ? "-4" : "-6";
  const slash = text.indexOf("/");
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    if (!allowPrefix) throw usageError(`sysjail: ${flag} ${text}: a prefix length is only meaningful with --vnet`);
    const p = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > max || Number(p) === 0) throw usageError(`sysjail: ${flag} ${text}: bad prefix length`);
    prefix = Number(p);
  }
  const raw = family === 4 ? ip4Bytes(addrText) : ip6Bytes(addrText);
  if (!raw) throw usageError(`sysjail: ${flag} '${text}': not an ${family === 4 ? "IPv4" : "IPv6"} address`);
  const why = refusal(raw, family);
  if (why) throw usageError(`sysjail: ${flag} ${addrText}: ${why}`);
  return {
    family,
    text: family === 4 ? ip4Text(raw) : ip6Text(raw),
    key: family === 4 ? mapped4(raw) : raw,
    prefix,
    hasPrefix: slash >= 0,
  };
}

/** Why an address cannot be a jail's, or undefined. */
function refusal(b: Uint8Array, family: 4 | 6): string | undefined {
  if (family === 4) {
    if (b[0] === 0) return "0.0.0.0/8 is not an address a jail can own";
    if (b[0]! >= 224) return "multicast, broadcast and reserved addresses cannot be jail addresses";
    return undefined;
  }
  if (b.every((x) => x === 0)) return ":: is the wildcard, not an address";
  if (b[0] === 0xff) return "multicast addresses cannot be jail addresses";
  if (isMapped(b)) return "an IPv4-mapped address: give the IPv4 address with -4";
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return "link-local addresses need an interface scope; not supported";
  return undefined;
}

/** Parses a spec's address lists; duplicates are dropped, order kept (the first is the fallback). */
export function parseJailAddrs(ip4: readonly string[], ip6: readonly string[], allowPrefix: boolean): { v4: JailAddr[]; v6: JailAddr[] } {
  const uniq = (xs: JailAddr[]) => xs.filter((a, i) => xs.findIndex((b) => b.text === a.text) === i);
  const v4 = uniq(ip4.map((t) => parseJailAddr(t, 4, allowPrefix)));
  const v6 = uniq(ip6.map((t) => parseJailAddr(t, 6, allowPrefix)));
  if (v4.length + v6.length > MAX_ADDRS) throw usageError(`sysjail: at most ${MAX_ADDRS} jail addresses`);
  return { v4, v6 };
}

/** Most addresses one jail may have (the address map holds two more entries: the fallbacks). */
export const MAX_ADDRS = 62;

/** Canonical text of an address as given on a command line (prefix kept), for specs and the registry. */
export function canonicalAddr(text: string, family: 4 | 6, allowPrefix: boolean): string {
  const a = parseJailAddr(text, family, allowPrefix);
  return a.hasPrefix ? `${a.text}/${a.prefix}` : a.text;
}
