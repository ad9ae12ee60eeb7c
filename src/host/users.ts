// Reads passwd(5) and group(5) databases (the host's, or a jail's for -U) to resolve -u/-U users.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A resolved user: ids, supplementary groups, home and shell. */
export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
  groups: number[];
  home: string;
  shell: string;
}

function readDb(root: string, file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(join(root, "etc", file), "utf8");
  } catch {
    return [];
  }
  return text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(":"));
}

/** Looks a user up by name (or numeric id) in ROOT/etc/passwd and ROOT/etc/group. */
export function lookupUser(name: string, root = "/"): UserInfo | undefined {
  const pw = readDb(root, "passwd");
  const numeric = /^\d+$/.test(name) ? Number(name) : undefined;
  const row = pw.find((f) => f[0] === name) ?? (numeric !== undefined ? pw.find((f) => Number(f[2]) === numeric) : undefined);
  if (!row || row.length < 7) {
    if (numeric === undefined) return undefined;
    return { name, uid: numeric, gid: numeric, groups: [], home: "/", shell: "/bin/sh" };
  }
  const [uname = name, , uid = "0", gid = "0", , home = "/", shell = "/bin/sh"] = row;
  const groups = readDb(root, "group")
    .filter((f) => (f[3] ?? "").split(",").includes(uname))
    .map((f) => Number(f[2]))
    .filter((g) => Number.isInteger(g) && g !== Number(gid));
  return { name: uname, uid: Number(uid), gid: Number(gid), groups, home: home || "/", shell: shell || "/bin/sh" };
}

/** The name of a uid on the host, or the number as text. */
export function userName(uid: number): string {
  return readDb("/", "passwd").find((f) => Number(f[2]) === uid)?.[0] ?? String(uid);
}
