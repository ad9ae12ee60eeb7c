// Reads passwd(5) and group(5) databases (the host's, or a jail's for -U) to resolve -u/-U users.
import { readFileSync } from "node:fs";
import { SysjailError, Exit } from "../errors.js";
import { readJailFiles, type JailRoot } from "./jailfile.js";

/** A resolved user: ids, supplementary groups, home and shell. */
export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
  groups: number[];
  home: string;
  shell: string;
}

/** Largest passwd or group file read from a jail's tree, bytes. */
export const JAIL_DB_MAX = 1 << 20;
/** Largest passwd line used. */
const LINE_MAX = 1024;
/** Ids above this are refused (no jail maps more than 65536 ids). */
const ID_MAX = 65535;

/** Where a user database is: the host's ("/": its own files, trusted) or a jail's tree (read
 * confined to the jail's root, every byte hostile). */
export type UserSource = "/" | JailRoot;

const USER_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.@-]{0,63}\$?$/;
// C0 and C1 controls and DEL: never in a HOME, SHELL or USER that reaches a process or a terminal
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A database's text for SOURCE; "" when it does not exist. Throws (67) when a jail's file is
 * there but not usable: a symlink, FIFO, directory or device, too large, unreadable. */
function readDbs(source: UserSource, files: string[]): string[] {
  if (source === "/") {
    return files.map((f) => {
      try {
        return readFileSync(`/etc/${f}`, "utf8");
      } catch {
        return "";
      }
    });
  }
  return readJailFiles(source, files.map((f) => `/etc/${f}`), JAIL_DB_MAX).map((r, i) => {
    if (r.ok) return r.data.toString("utf8");
    if (r.code === "ENOENT") return "";
    throw dbError(`the jail's /etc/${files[i]} ${r.reason === r.code ? `cannot be read (${r.code})` : r.reason}: refusing to use it`);
  });
}

function dbError(msg: string): SysjailError {
  return new SysjailError(`sysjail: ${msg}`, { code: "ENOUSER", phase: "usage", exitCode: Exit.noUser });
}

function rows(text: string): string[][] {
  return text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(":"));
}

function validId(s: string | undefined): boolean {
  return s !== undefined && /^\d{1,5}$/.test(s) && Number(s) <= ID_MAX;
}

/** Why a passwd row cannot be used, or undefined when it can. */
function badRow(f: string[]): string | undefined {
  if (f.join(":").length > LINE_MAX) return `a line longer than ${LINE_MAX} bytes`;
  if (f.length !== 7) return `${f.length} fields where passwd(5) has 7`;
  const [name = "", , uid, gid, , home = "", shell = ""] = f;
  if (!USER_NAME.test(name)) return "a user name with characters other than letters, digits, '_', '.', '@' and '-'";
  if (!validId(uid)) return `uid '${shown(uid)}' (a decimal number 0-${ID_MAX} is needed)`;
  if (!validId(gid)) return `gid '${shown(gid)}' (a decimal number 0-${ID_MAX} is needed)`;
  if (CONTROL.test(home) || (home !== "" && !home.startsWith("/"))) return "a home directory that is not an absolute path without control characters";
  if (CONTROL.test(shell) || (shell !== "" && !shell.startsWith("/"))) return "a shell that is not an absolute path without control characters";
  return undefined;
}

/** A field of a jail's file as it may appear in a message: controls as \ooo, at most 40 characters. */
function shown(s: string | undefined): string {
  const t = [...(s ?? "")].slice(0, 40).map((c) => (CONTROL.test(c) || c === "\\" ? `\\${(c.codePointAt(0) ?? 0).toString(8).padStart(3, "0")}` : c)).join("");
  return (s ?? "").length > 40 ? `${t}...` : t;
}

function where(source: UserSource): string {
  return source === "/" ? "the host's" : "the jail's";
}

/** Looks a user up by name (or numeric id) in SOURCE's /etc/passwd and /etc/group. A line that
 * would be used but is malformed (field count, non-numeric or too large ids, control characters,
 * relative paths), or a jail database that is not a small regular file, throws a SysjailError
 * (exit 67) naming it; undefined means no such user. */
export function lookupUser(name: string, source: UserSource = "/"): UserInfo | undefined {
  const [pwText = "", grText = ""] = readDbs(source, ["passwd", "group"]);
  const pw = rows(pwText);
  const numeric = /^\d+$/.test(name) ? Number(name) : undefined;
  const row = pw.find((f) => f[0] === name) ?? (numeric !== undefined ? pw.find((f) => f.length === 7 && validId(f[2]) && Number(f[2]) === numeric) : undefined);
  if (!row) {
    if (numeric === undefined) return undefined;
    if (numeric > ID_MAX) throw dbError(`uid ${shown(name)} is out of range (0-${ID_MAX})`);
    return { name, uid: numeric, gid: numeric, groups: [], home: "/", shell: "/bin/sh" };
  }
  const bad = badRow(row);
  if (bad) throw dbError(`${where(source)} /etc/passwd entry of '${shown(name)}' has ${bad}: refusing to use it`);
  const [uname = name, , uid = "0", gid = "0", , home = "/", shell = "/bin/sh"] = row;
  const groups: number[] = [];
  for (const f of rows(grText)) {
    if (!(f[3] ?? "").split(",").includes(uname)) continue;
    if (f.length !== 4 || !validId(f[2])) throw dbError(`${where(source)} /etc/group entry '${shown(f[0])}' listing '${uname}' is malformed (4 fields and a gid 0-${ID_MAX} are needed): refusing to use it`);
    const g = Number(f[2]);
    if (g !== Number(gid) && !groups.includes(g)) groups.push(g);
  }
  return { name: uname, uid: Number(uid), gid: Number(gid), groups, home: home || "/", shell: shell || "/bin/sh" };
}

/** The name of a uid on the host, or the number as text. */
export function userName(uid: number): string {
  return rows(readDbs("/", ["passwd"])[0] ?? "").find((f) => Number(f[2]) === uid)?.[0] ?? String(uid);
}
