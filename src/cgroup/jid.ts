// The jail's cgroup directory name: its jid, checked so that it is one safe path component.
import { SysjailError } from "../errors.js";

/** The jid as a cgroup directory name; throws for anything but [A-Za-z0-9_.-] (and not "." or ".."). */
export function cgroupName(jid: string | number): string {
  const s = String(jid);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(s) || s === "." || s === "..") {
    throw new SysjailError(`bad jail id for a cgroup name: "${s}"`, { code: "EINVAL", phase: "plan" });
  }
  return s;
}
