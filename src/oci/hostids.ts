// The annotation sysjail.ids: a container without a user namespace of config.json's runs on a
// block of sysjail's id pool (pool, the default) or, asked for, on the host's ids one to one in a
// user namespace of its own (host). Security reasoning: docs/JAILS.md, Security, "Host ids on
// request (sysjail.ids=host)".
import { statSync } from "node:fs";
import { initialUserNs } from "../ids/choose.js";
import type { IdMapping } from "../plan/ids.js";
import { ociError, type OciConfig } from "./config.js";

/** The annotation's name. */
export const IDS_ANNOTATION = "sysjail.ids";

/** The whole id space one to one: the only map covering host id 0 the helper writes (hostids_map_ok). */
export const HOST_IDS_MAP = "0 0 4294967295\n";

/** The jail's mapping for host ids: no pool block, no lease. */
export function hostIdMapping(): IdMapping {
  return { uidMap: HOST_IDS_MAP, gidMap: HOST_IDS_MAP, setgroups: "allow", count: 0xffffffff, hostBase: 0, gidBase: 0, rootless: false };
}

const show = (v: unknown) => JSON.stringify(typeof v === "string" ? v.slice(0, 40) : v).replace(/[^\x20-\x7e]/g, "?");

/** The pid, ipc and network namespace clone flags and their /proc/PID/ns names. */
const OWN_NS: [number, string, string][] = [[0x20000000, "pid", "pid"], [0x08000000, "ipc", "ipc"], [0x40000000, "network", "net"]];

/** Whether namespace files A and B are the same namespace (one nsfs inode); false when either
 * cannot be read (the monitor's join reports a bad path). */
export function sameNamespace(a: string, b: string): boolean {
  try {
    const x = statSync(a), y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** The types of JOINS (clone flag, path) whose path is the host's namespace (pid 1's, as this
 * process sees it; HOSTNS: the directory to compare with): a runtime in a namespace of its own
 * could otherwise join the host's. */
export function hostNamespacesJoined(joins: [number, string][], hostNs = "/proc/1/ns"): string[] {
  const out: string[] = [];
  for (const [flag, path] of joins) {
    const t = OWN_NS.find(([f]) => f === flag);
    if (t && sameNamespace(path, `${hostNs}/${t[2]}`)) out.push(t[1]);
  }
  return out;
}

/** Whether config.json asks for host ids (sysjail.ids=host). NOT_OWNED: the names of the pid,
 * ipc and network namespaces the container does not have of its own (left out, or named by a
 * path to the runtime's own or the host's), asked only when host ids are. Security stance: a
 * process that is host uid 0 in a child user namespace has no capability over the host, but the
 * kernel compares bare uids when it signals (kill_ok_by_cred), checks SysV IPC owners (ipcperms)
 * and a network namespace's sysctl owner (net_ctl_permissions): so host ids only with its own
 * pid, ipc and network namespaces, only for root of the host's user namespace, and never with
 * config.json's own user namespace or maps. */
export function hostIdsAsked(config: OciConfig, notOwned: () => string[]): boolean {
  const a = config.annotations;
  const v = a && typeof a === "object" && Object.prototype.hasOwnProperty.call(a, IDS_ANNOTATION) ? (a as Record<string, unknown>)[IDS_ANNOTATION] : undefined;
  if (v === undefined || v === "pool") return false;
  if (v !== "host") throw ociError(`annotations: ${IDS_ANNOTATION}=${show(v)}: allowed are "pool" (the default: ids of sysjail's pool) and "host" (the host's ids in a user namespace of its own)`);
  const l = config.linux ?? {};
  if (l.uidMappings !== undefined || l.gidMappings !== undefined || (Array.isArray(l.namespaces) && l.namespaces.some((n) => n?.type === "user"))) {
    throw ociError(`annotations: ${IDS_ANNOTATION}=host with a user namespace or id maps in config.json: give one or the other (host ids replace the maps)`);
  }
  if (process.getuid?.() !== 0 || !initialUserNs()) throw ociError(`annotations: ${IDS_ANNOTATION}=host: only root of the host's user namespace runs a container on the host's ids`);
  const shared = notOwned();
  if (shared.length) throw ociError(`annotations: ${IDS_ANNOTATION}=host needs the container's own pid, ipc and network namespaces (made, or a pod's joined by path), not the host's or the runtime's ${shared.join(", ")}`);
  return true;
}
