// The jail's address map: its entries for a list of addresses, their encoding for the helper, and
// the ordered changes that move a running jail from one list to another (jail -m).
import type { JailAddr } from "./addr.js";

/** Map name in the kernel (bpftool map show), key and value sizes, capacity. */
export const ADDR_MAP = { name: "sysjail_addrs", keySize: 16, valueSize: 16, maxEntries: 64 } as const;

/** One map entry: 16-byte key and value. */
export interface MapEntry {
  key: Uint8Array;
  value: Uint8Array;
}

const FALLBACK4 = (() => { const k = new Uint8Array(16); k[10] = 0xff; k[11] = 0xff; return k; })();
const FALLBACK6 = new Uint8Array(16);

/** The entries for the address lists: members (each address to itself), then the fallbacks
 * (::ffff:0.0.0.0 -> first IPv4, :: -> first IPv6) when the family has addresses. */
export function mapEntries(v4: readonly JailAddr[], v6: readonly JailAddr[]): MapEntry[] {
  const out: MapEntry[] = [];
  for (const a of [...v4, ...v6]) out.push({ key: a.key, value: a.key });
  if (v4[0]) out.push({ key: FALLBACK4, value: v4[0].key });
  if (v6[0]) out.push({ key: FALLBACK6, value: v6[0].key });
  return out;
}

/** Key and value bytes back to back, as the helper's map ops take them. */
export function encodeEntries(entries: readonly MapEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * 32);
  entries.forEach((e, i) => { out.set(e.key, i * 32); out.set(e.value, i * 32 + 16); });
  return out;
}

/** Keys back to back (deletions). */
export function encodeKeys(keys: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(keys.length * 16);
  keys.forEach((k, i) => out.set(k, i * 16));
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const isFallback = (k: Uint8Array) => hex(k) === hex(FALLBACK4) || hex(k) === hex(FALLBACK6);

/** The changes from one address list to another, ordered so that at every moment each fallback
 * present is also a member: new members, then fallbacks, then removed fallbacks, then removed
 * members. A jail never holds an address of neither list, and never loses one it keeps. */
export function mapChanges(from: readonly MapEntry[], to: readonly MapEntry[]): { sets: MapEntry[]; deletes: Uint8Array[] } {
  const old = new Map(from.map((e) => [hex(e.key), hex(e.value)]));
  const next = new Set(to.map((e) => hex(e.key)));
  const changed = to.filter((e) => old.get(hex(e.key)) !== hex(e.value));
  const sets = [...changed.filter((e) => !isFallback(e.key)), ...changed.filter((e) => isFallback(e.key))];
  const gone = from.filter((e) => !next.has(hex(e.key)));
  const deletes = [...gone.filter((e) => isFallback(e.key)), ...gone.filter((e) => !isFallback(e.key))].map((e) => e.key);
  return { sets, deletes };
}
