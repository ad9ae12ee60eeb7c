// The annotation sysjail.ids: a container without a user namespace of config.json's runs on a
// block of sysjail's id pool (pool, the default) or, asked for, on the host's ids one to one in a
// user namespace of its own (host). Security reasoning: docs/JAILS.md, Security, "Host ids on
// request (sysjail.ids=host)".
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

/** Whether config.json asks for host ids (sysjail.ids=host). OWNED_LEFT_OUT: the names of the
 * pid, ipc and network namespaces the container does not have of its own (left out, or named by
 * a path to the runtime's own). Security stance: a process that is host uid 0 in a child user
 * namespace has no capability over the host, but the kernel compares bare uids when it signals
 * (kill_ok_by_cred), checks SysV IPC owners (ipcperms) and a network namespace's sysctl owner
 * (net_ctl_permissions): so host ids only with its own pid, ipc and network namespaces, only for
 * root of the host's user namespace, and never with config.json's own user namespace or maps. */
export function hostIdsAsked(config: OciConfig, notOwned: string[]): boolean {
  const a = config.annotations;
  const v = a && typeof a === "object" && Object.prototype.hasOwnProperty.call(a, IDS_ANNOTATION) ? (a as Record<string, unknown>)[IDS_ANNOTATION] : undefined;
  if (v === undefined || v === "pool") return false;
  if (v !== "host") throw ociError(`annotations: ${IDS_ANNOTATION}=${show(v)}: allowed are "pool" (the default: ids of sysjail's pool) and "host" (the host's ids in a user namespace of its own)`);
  const l = config.linux ?? {};
  if (l.uidMappings !== undefined || l.gidMappings !== undefined || (Array.isArray(l.namespaces) && l.namespaces.some((n) => n?.type === "user"))) {
    throw ociError(`annotations: ${IDS_ANNOTATION}=host with a user namespace or id maps in config.json: give one or the other (host ids replace the maps)`);
  }
  if (process.getuid?.() !== 0 || !initialUserNs()) throw ociError(`annotations: ${IDS_ANNOTATION}=host: only root of the host's user namespace runs a container on the host's ids`);
  if (notOwned.length) throw ociError(`annotations: ${IDS_ANNOTATION}=host needs the container's own pid, ipc and network namespaces (made, or a pod's joined by path), not the runtime's ${notOwned.join(", ")}`);
  return true;
}
