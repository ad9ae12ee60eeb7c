// linux.uidMappings and gidMappings of a root caller: a block of sysjail's id pool (shared on
// purpose, as idrange), or any ranges root names (podman --uidmap, userns=auto) except host id 0.
import { readFileSync } from "node:fs";
import { initialUserNs } from "../ids/choose.js";
import { blockBase, blockOfBase, idPool } from "../ids/pool.js";
import { ociError, type OciConfig } from "./config.js";

/** One line of an id map: container id, host id, count. */
export type IdRange = [number, number, number];

/** What config.json's mappings give the jail: a pool block to run on (idrange) or the exact maps. */
export type OciIds =
  | { kind: "block"; idrange: string; size: number }
  | { kind: "maps"; uid: IdRange[]; gid: IdRange[]; uidMap: string; gidMap: string; count: number };

const MAX_ID = 0xffffffff; // (uid_t)-1 is never an id

/** The ranges of linux.K: whole numbers, within the id space, no two overlapping on either side
 * (the kernel refuses those too, but later and without naming them). */
function ranges(k: "uidMappings" | "gidMappings", m: unknown): IdRange[] {
  if (!Array.isArray(m) || m.length < 1 || m.length > 340) throw ociError(`linux.${k}: a list of 1 to 340 {containerID, hostID, size} is needed`);
  const out: IdRange[] = m.map((x) => {
    const { containerID: c, hostID: h, size: s } = (typeof x === "object" && x ? x : {}) as Record<string, unknown>;
    if (![c, h, s].every((v) => Number.isSafeInteger(v) && (v as number) >= 0) || (s as number) < 1 || (c as number) + (s as number) > MAX_ID || (h as number) + (s as number) > MAX_ID) {
      throw ociError(`linux.${k}: ${JSON.stringify(x).slice(0, 80)}: {containerID, hostID, size} of whole numbers below 4294967295 is needed`);
    }
    return [c as number, h as number, s as number];
  });
  for (const side of [0, 1] as const) {
    const sorted = [...out].sort((a, b) => a[side] - b[side]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i - 1]![side] + sorted[i - 1]![2] > sorted[i]![side]) throw ociError(`linux.${k}: the ranges overlap in their ${side ? "host" : "container"} ids`);
    }
  }
  return out;
}

/** Container ids 0..N-1 mapped without a gap. */
function fromZero(r: IdRange[]): number {
  let n = 0;
  for (;;) {
    const hit = r.find(([c, , s]) => c <= n && n < c + s);
    if (!hit) return n;
    n = hit[0] + hit[2];
  }
}

/** Names of /etc/passwd or /etc/group entries whose id lies in the host side of R (up to four). */
function hostNames(file: string, r: IdRange[]): string[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const [name, , id] = line.split(":");
    const n = Number(id);
    if (name && id && Number.isInteger(n) && r.some(([, h, s]) => h <= n && n < h + s)) out.push(`${name.replace(/[^\x21-\x7e]/g, "?").slice(0, 32)} (${n})`);
  }
  return out.slice(0, 4);
}

const overlaps = (a: IdRange[], b: IdRange[]) => a.some(([, h, s]) => b.some(([, h2, s2]) => h < h2 + s2 && h2 < h + s));

/** The host id container id ID maps onto in R, or undefined when it is not mapped. */
export function hostIdOf(r: IdRange[], id: number): number | undefined {
  const hit = r.find(([c, , s]) => c <= id && id < c + s);
  return hit ? hit[1] + (id - hit[0]) : undefined;
}

/** The lines of an id map text (a registry entry's). */
export function mapLines(text: string): IdRange[] {
  return text.split("\n").map((l) => l.trim().split(/\s+/).map(Number)).filter((v) => v.length === 3 && v.every(Number.isSafeInteger)) as IdRange[];
}

/** The inside ids an id map's lines (this process's own map) put onto outside id 0. */
export function idsOntoZero(text: string): number[] {
  return mapLines(text).filter(([, o, n]) => o === 0 && n > 0).map(([i]) => i);
}

function readOwnMap(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "0 0 1\n"; // unreadable: as if id 0 were host root's
  }
}

/** What a root caller's config.json mappings mean (undefined: none, the jail's own block).
 * Security stance (docs/JAILS.md, Security, "OCI id mappings"): the caller is root and the
 * mapping is its explicit choice, so any host range is accepted except one holding host uid or
 * gid 0: a container process that is host uid 0 could signal and, where dumpable, trace root's
 * processes and owns every root-owned file it can reach, which no jail may. Overlaps with the
 * host's users and groups or another running jail's range are allowed (sharing is what such a
 * mapping asks for) but named in a warning. */
export function ociIds(config: OciConfig, warn: (m: string) => void, running: () => { name: string; uidMap: string; gidMap: string }[] = () => []): OciIds | undefined {
  const l = config.linux ?? {};
  if (l.uidMappings === undefined && l.gidMappings === undefined) return undefined;
  if (l.uidMappings === undefined || l.gidMappings === undefined) throw ociError(`linux.${l.uidMappings === undefined ? "uidMappings" : "gidMappings"} is missing: both maps are needed`);
  const uid = ranges("uidMappings", l.uidMappings), gid = ranges("gidMappings", l.gidMappings);
  if (process.getuid?.() !== 0) throw ociError("linux.uidMappings: only root's containers choose their host ids (a user's container maps only the user)");
  const initial = initialUserNs();
  for (const [k, r, f] of [["uidMappings", uid, "/proc/self/uid_map"], ["gidMappings", gid, "/proc/self/gid_map"]] as const) {
    const roots = initial ? [0] : idsOntoZero(readOwnMap(f));
    const zero = r.find(([, h, s]) => roots.some((z) => h <= z && z < h + s));
    if (zero) throw ociError(`linux.${k}: container id ${zero[0]} onto host id 0${initial ? "" : ` (this namespace's ${roots[0]})`}: host root is never a container's id (map onto other host ids)`);
  }
  // root of another user namespace (rootless podman's): its ids are that namespace's, never the
  // host's or the pool's; the kernel takes only ids the namespace has (docs/OCI.md, Rootless)
  if (!initial) {
    const text = (r: IdRange[]) => r.map((x) => `${x.join(" ")}\n`).join("");
    return { kind: "maps", uid, gid, uidMap: text(uid), gidMap: text(gid), count: Math.min(fromZero(uid), fromZero(gid)) };
  }
  // one range onto a block of the pool: the jail runs on that block, as before
  const pool = idPool();
  const block = uid.length === 1 && gid.length === 1 && uid[0]![0] === 0 && gid[0]![0] === 0 ? blockOfBase(pool, uid[0]![1]) : undefined;
  if (block !== undefined && blockBase(pool, block).gid === gid[0]![1] && uid[0]![2] === gid[0]![2] && uid[0]![2] <= pool.size) {
    return { kind: "block", idrange: String(uid[0]![1]), size: uid[0]![2] };
  }
  const users = hostNames("/etc/passwd", uid), groups = hostNames("/etc/group", gid);
  if (users.length || groups.length) warn(`linux.uidMappings: the container's ids include the host's ${[users.length ? `users ${users.join(", ")}` : "", groups.length ? `groups ${groups.join(", ")}` : ""].filter(Boolean).join(" and ")}: they and the container can signal and trace each other's processes and share files`);
  const pooled: IdRange[] = [[0, pool.uidStart, pool.blocks * pool.size]];
  if (overlaps(uid, pooled)) warn("linux.uidMappings: the host ids lie in sysjail's id pool, which is leased to jails: the container may share ids with one");
  const shared = running().filter((e) => overlaps(uid, mapLines(e.uidMap)) || overlaps(gid, mapLines(e.gidMap))).map((e) => e.name.replace(/[^\x21-\x7e]/g, "?").slice(0, 64));
  if (shared.length) warn(`linux.uidMappings: the host ids overlap those of running jails ${shared.slice(0, 4).join(", ")}${shared.length > 4 ? ", ..." : ""}: they share users`);
  const text = (r: IdRange[]) => r.map((x) => `${x.join(" ")}\n`).join("");
  return { kind: "maps", uid, gid, uidMap: text(uid), gidMap: text(gid), count: Math.min(fromZero(uid), fromZero(gid)) };
}
