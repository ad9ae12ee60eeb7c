// sysjail-oci linux.devices and linux.resources.devices: the container's device nodes, made by
// the helper's monitor (host root) with config.json's type, numbers, mode and owner and bound
// into the container's /dev, and the device cgroup rules that say which devices it may use.
import { op, type PlanOp } from "../plan/types.js";
import type { IdMapping } from "../plan/ids.js";
import type { DeviceRule } from "../cgroup/devices.js";
import { ociError, type OciConfig } from "./config.js";

/** One entry of linux.devices, checked (type "u" is "c"; a fifo has numbers 0). */
export interface OciDevice {
  path: string;
  type: "c" | "b" | "p";
  major: number;
  minor: number;
  /** Permission bits (0 to 0o777; setuid, setgid and sticky bits dropped); runc's default 0o666. */
  mode: number;
  /** Container ids of the owner. */
  uid: number;
  gid: number;
}

/** What the jail's devfs holds itself (fs.ts devOps): mounts and symlinks a node may not replace or pass through. */
const JAIL_OWN = ["pts", "shm", "mqueue", "ptmx", "fd", "stdin", "stdout", "stderr"];
const DEV_PATH = /^\/dev\/[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*$/;
const isInt = (v: unknown, max: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max;

/** linux.devices checked entry by entry; a bad one is refused in one line naming it. A path
 * listed twice keeps its last entry (as a later mknod over an earlier one). */
export function parseDevices(config: OciConfig): OciDevice[] {
  const list = config.linux?.devices;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw ociError("linux.devices must be a list of devices");
  const out = new Map<string, OciDevice>();
  for (const d0 of list) {
    const d = (typeof d0 === "object" && d0 ? d0 : {}) as Record<string, unknown>;
    const path = typeof d.path === "string" ? d.path : "";
    const where = `linux.devices: ${JSON.stringify(path.slice(0, 80))}`;
    if (!DEV_PATH.test(path) || path.split("/").some((c) => c === "." || c === "..") || path.length > 200) throw ociError(`${where}: a path under /dev is needed`);
    // podman --privileged lists every node of the host's /dev, /dev/ptmx among them: the
    // container's own ptmx (its devpts') is that device already, nothing to make
    if (path === "/dev/ptmx" && (d.type === "c" || d.type === "u") && d.major === 5 && d.minor === 2) continue;
    if (JAIL_OWN.includes(path.split("/")[2]!)) {
      throw ociError(`${where}: the container's own devpts, shm, mqueue, ptmx and fd links live there; a device node is made elsewhere under /dev`);
    }
    const type = d.type === "u" ? "c" : d.type;
    if (type !== "c" && type !== "b" && type !== "p") throw ociError(`${where}: type ${JSON.stringify(d.type)}: c, u, b or p is needed`);
    if (type !== "p" && (!isInt(d.major, 0xfff) || !isInt(d.minor, 0xfffff))) throw ociError(`${where}: major (0-4095) and minor (0-1048575) numbers are needed`);
    // engines send the type bits too (podman: 0o20666); only the permission bits are used
    const mode = d.fileMode === undefined ? 0o666 : d.fileMode;
    if (!isInt(mode, 0o177777)) throw ociError(`${where}: fileMode ${JSON.stringify(mode)}: a file mode (permission bits 0 to 0777, type bits ignored) is needed`);
    for (const k of ["uid", "gid"] as const) {
      if (d[k] !== undefined && !isInt(d[k], 0xfffffffe)) throw ociError(`${where}: ${k} ${JSON.stringify(d[k])} must be a container id`);
    }
    out.delete(path);
    out.set(path, {
      path, type, major: type === "p" ? 0 : (d.major as number), minor: type === "p" ? 0 : (d.minor as number),
      mode: mode & 0o777, uid: (d.uid as number | undefined) ?? 0, gid: (d.gid as number | undefined) ?? 0,
    });
  }
  return [...out.values()];
}

/** The plan ops making DEVICES in the container's /dev, placed before pivot_root after the
 * container's mounts: one devNode each (the monitor makes the node in a tmpfs of its own, the
 * init makes missing directories and binds it onto the path, never through a symlink:
 * native/src/devnodes.c, mounts.c). The owner is the host id of the container's id in the
 * jail's map. */
export function devNodeOps(devices: readonly OciDevice[], ids: IdMapping): PlanOp[] {
  const ops: PlanOp[] = [];
  for (const d of devices) {
    for (const [k, v] of [["uid", d.uid], ["gid", d.gid]] as const) {
      if (v >= ids.count) throw ociError(`linux.devices: ${JSON.stringify(d.path)}: ${k} ${v} is outside the container's id map (0-${ids.count - 1})`);
    }
    ops.push(op("devNode", [d.path, d.type, d.major, d.minor, `0${d.mode.toString(8)}`, ids.hostBase + d.uid, (ids.gidBase ?? ids.hostBase) + d.gid], "linux.devices: a node the monitor makes"));
  }
  return ops;
}

/** The devices every container may use, as runc allows them after config.json's rules: null,
 * zero, full, random, urandom, tty, ptmx and the pseudo-terminals of its devpts. */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 2], [136, -1]].map(([major, minor]): DeviceRule => ({ allow: true, type: "c", major: major!, minor: minor!, access: "rwm" })),
];

/** The container's device cgroup rules, in order (a later matching rule decides): config.json's
 * linux.resources.devices, then the defaults, as runc does. A linux.devices node is no grant of
 * its own (engines list its rule in resources.devices beside it): a container without a rule
 * for a device cannot open a node of it, whatever node it holds. */
export function deviceRules(config: OciConfig): DeviceRule[] {
  const list = config.linux?.resources?.devices;
  if (list !== undefined && !Array.isArray(list)) throw ociError("linux.resources.devices must be a list of rules");
  const rules: DeviceRule[] = [];
  for (const [i, r0] of (list ?? []).entries()) {
    const r = (typeof r0 === "object" && r0 ? r0 : {}) as Record<string, unknown>;
    const where = `linux.resources.devices[${i}]`;
    if (typeof r.allow !== "boolean") throw ociError(`${where}: "allow" must be true or false`);
    const type = r.type ?? "a";
    if (type !== "a" && type !== "c" && type !== "b") throw ociError(`${where}: type ${JSON.stringify(type)}: a, c or b is allowed`);
    const number = (k: "major" | "minor", max: number) => {
      const v = r[k];
      if (v === undefined || v === null || v === -1) return -1;
      if (!isInt(v, max)) throw ociError(`${where}: ${k} ${JSON.stringify(v)}: a number from 0 to ${max}, or -1 for any, is allowed`);
      return v;
    };
    const major = number("major", 0xfff), minor = number("minor", 0xfffff);
    const access = r.access === undefined || r.access === "" ? "rwm" : r.access;
    if (typeof access !== "string" || !/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) throw ociError(`${where}: access ${JSON.stringify(access)}: letters of "rwm" are allowed`);
    rules.push({ allow: r.allow, type, major: type === "a" ? -1 : major, minor: type === "a" ? -1 : minor, access: type === "a" ? "rwm" : access });
  }
  rules.push(...DEFAULT_DEVICE_RULES);
  return rules;
}
