// linux.cgroupsPath read and checked (pure): an absolute or relative cgroup path, or systemd's
// "slice:prefix:name" with --systemd-cgroup, as the segments of a path below a hierarchy.
import { ociError } from "./config.js";

/** A checked cgroupsPath: ABSOLUTE is below each hierarchy's root, else below the runtime's own
 * cgroup; SEGMENTS are its directory names, never empty, ".", ".." or with a control character. */
export interface CgroupsPath {
  absolute: boolean;
  segments: string[];
}

/** Caps: the whole path, one directory name (NAME_MAX), the depth. */
export const CGPATH_MAX = { bytes: 1024, segment: 255, depth: 32 };

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** One line naming the value and what is allowed. */
const bad = (v: unknown, why: string) => ociError(`linux.cgroupsPath ${JSON.stringify(v).slice(0, 100)}: ${why}`);

/** systemd's path of a slice: "a-b.slice" -> a.slice/a-b.slice, "-.slice" -> the root. */
export function expandSlice(v: string, slice: string): string[] {
  if (!slice.endsWith(".slice") || slice.includes("/")) throw bad(v, `the slice ${JSON.stringify(slice)} must be a name ending in .slice`);
  const stem = slice.slice(0, -".slice".length);
  if (stem === "-") return [];
  if (stem === "" || stem.startsWith("-") || stem.endsWith("-") || stem.includes("--")) throw bad(v, `the slice ${JSON.stringify(slice)} is not a valid slice name`);
  const parts = stem.split("-");
  return parts.map((_, i) => `${parts.slice(0, i + 1).join("-")}.slice`);
}

/** The segments systemd would give "slice:prefix:name" (no systemd runs here: the cgroupfs path
 * its unit would have, e.g. machine.slice:libpod:ID -> /machine.slice/libpod-ID.scope). */
function systemdSegments(v: string): string[] {
  const f = v.split(":");
  if (f.length !== 3) throw bad(v, `with --systemd-cgroup the form "slice:prefix:name" is needed (e.g. "machine.slice:libpod:ID")`);
  const [slice, prefix, name] = f as [string, string, string];
  if (!name || name.includes("/") || prefix.includes("/")) throw bad(v, "the prefix and name of \"slice:prefix:name\" are names without '/' (the name is needed)");
  // a name that is a slice is that slice itself (runc's rule); else a scope in the slice
  if (name.endsWith(".slice")) return expandSlice(v, name);
  return [...expandSlice(v, slice || "system.slice"), `${prefix ? `${prefix}-` : ""}${name}.scope`];
}

/** linux.cgroupsPath: undefined when not given (sysjail's own cgroup then), else checked:
 * no ".", "..", empty name or control character, at most CGPATH_MAX, never a hierarchy's root. */
export function parseCgroupsPath(v: unknown, systemd: boolean): CgroupsPath | undefined {
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "string") throw bad(v, "must be a string");
  if (CONTROL.test(v)) throw bad(v, "control characters are not allowed");
  if (Buffer.byteLength(v) > CGPATH_MAX.bytes) throw bad(v, `at most ${CGPATH_MAX.bytes} bytes are allowed`);
  let absolute: boolean;
  let segments: string[];
  if (systemd) {
    absolute = true;
    segments = systemdSegments(v);
  } else {
    absolute = v.startsWith("/");
    // runc cleans "a//b/" to a/b: empty names between slashes are dropped, nothing else
    segments = v.split("/").filter((s) => s !== "");
  }
  for (const s of segments) {
    if (s === "." || s === "..") throw bad(v, "'.' and '..' are not allowed (a cgroup path names its directories)");
    if (Buffer.byteLength(s) > CGPATH_MAX.segment) throw bad(v, `a directory name has at most ${CGPATH_MAX.segment} bytes`);
  }
  if (segments.length === 0) throw bad(v, "the root of the cgroup hierarchy is not a container's cgroup");
  if (segments.length > CGPATH_MAX.depth) throw bad(v, `at most ${CGPATH_MAX.depth} directories deep`);
  return { absolute, segments };
}
