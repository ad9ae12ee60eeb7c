// fstab(5) lines (jail.conf `mount` values and mount.fstab files) as MountSpec: bind/nullfs, tmpfs, proc.
import { posix } from "node:path";
import type { MountSpec } from "../spec/types.js";
import { confError, type SourcePos } from "./errors.js";

const BIND_TYPES = new Set(["nullfs", "bind"]);
const PROC_TYPES = new Set(["procfs", "proc", "linprocfs"]);
/** Options that only mean something to mount(8) or fstab processing; dropped. */
const DROPPED = new Set(["defaults", "auto", "noauto", "late", "failok", "nofail", "bind", "_netdev", "user", "nouser"]);

interface Field {
  text: string;
  col: number;
}

/** Splits a line into whitespace-separated fields with their columns; \NNN octal escapes decoded. */
function fields(line: string): Field[] {
  const out: Field[] = [];
  const re = /[^ \t]+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const text = m[0].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ text, col: m.index + 1 });
  }
  return out;
}

/** Converts a mount target to a path inside the jail: a host path under JAILPATH, or a jail-relative path. */
export function jailTarget(target: string, jailPath: string, pos: SourcePos, token: string): string {
  if (!target.startsWith("/")) {
    const rel = posix.normalize(target);
    if (rel === ".." || rel.startsWith("../")) throw confError(pos, `mount target '${target}' leaves the jail`, token);
    return rel === "." ? "/" : `/${rel.replace(/\/+$/, "")}`;
  }
  const t = posix.normalize(target).replace(/(.)\/+$/, "$1");
  const root = posix.normalize(jailPath).replace(/(.)\/+$/, "$1");
  if (root === "/") return t;
  if (t === root) return "/";
  if (t.startsWith(`${root}/`)) return t.slice(root.length);
  throw confError(pos, `mount target '${target}' is outside the jail's path '${root}'`, token);
}

/**
 * Parses one fstab line into a MountSpec (null for a blank or comment line). The target is a host path
 * under JAILPATH (FreeBSD style) or a path relative to the jail root; anything else is an error.
 */
export function parseFstabLine(line: string, jailPath: string | undefined, file = "fstab", lineNo = 1, col = 1): MountSpec | null {
  return parseFstabAt(line, jailPath, { file, line: lineNo, col });
}

/** parseFstabLine with the position of the line's first character (a conf value, a command-line argument). */
export function parseFstabAt(line: string, jailPath: string | undefined, base: SourcePos): MountSpec | null {
  const hash = line.indexOf("#");
  const text = hash >= 0 ? line.slice(0, hash) : line;
  const f = fields(text);
  if (f.length === 0) return null;
  const at = (k: number): SourcePos => ({ ...base, col: base.col + (f[k]?.col ?? text.length + 1) - 1 });
  if (f.length < 3) throw confError(at(f.length), "an fstab line needs at least: source target type [options [dump [pass]]]", line.trim());
  if (f.length > 6) throw confError(at(6), "too many fields in an fstab line", f[6]!.text);
  const [spec, target, type] = [f[0]!.text, f[1]!.text, f[2]!.text];
  const opts = (f[3]?.text ?? "rw").split(",").filter((o) => o !== "");
  for (const k of [4, 5]) {
    if (f[k] && !/^[0-9]+$/.test(f[k]!.text)) throw confError(at(k), "the dump and pass fields must be numbers", f[k]!.text);
  }
  let kind: MountSpec["type"];
  if (BIND_TYPES.has(type) || (type === "none" && opts.some((o) => o === "bind" || o === "rbind"))) kind = "bind";
  else if (type === "tmpfs") kind = "tmpfs";
  else if (PROC_TYPES.has(type)) kind = "proc";
  else if (type === "devfs") throw confError(at(2), "devfs is mounted with mount.devfs, not with a mount line", type);
  else throw confError(at(2), `unsupported filesystem type '${type}' (use nullfs or bind, tmpfs, procfs or proc)`, type);
  if (kind === "bind" && !spec.startsWith("/")) throw confError(at(0), "the source of a bind (nullfs) mount must be an absolute host path", spec);
  if (jailPath === undefined || jailPath === "") throw confError(at(1), "a mount line needs the jail's path parameter", target);
  let readonly = false;
  const options: string[] = [];
  for (const o of opts) {
    if (o === "ro" || o === "rdonly") readonly = true;
    else if (o === "rw") readonly = false;
    else if (!DROPPED.has(o)) options.push(o);
  }
  return {
    source: kind === "bind" ? posix.normalize(spec) : kind,
    target: jailTarget(target, jailPath, at(1), target),
    type: kind,
    readonly,
    options,
  };
}

/** Parses a whole fstab file (mount.fstab) into MountSpecs, with file:line:column errors. */
export function parseFstab(text: string, jailPath: string | undefined, file = "fstab"): MountSpec[] {
  const out: MountSpec[] = [];
  text.split("\n").forEach((line, i) => {
    const m = parseFstabLine(line, jailPath, file, i + 1);
    if (m) out.push(m);
  });
  return out;
}
