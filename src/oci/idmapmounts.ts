// The idmapped image: a container to which sysjail-oci adds a user namespace sees its root and
// config.json's binds through idmapped mounts (docs/JAILS.md, Security, "Idmapped image for
// containers without a user namespace"; native/src/idmaptree.c makes them).
import { initialUserNs } from "../ids/choose.js";
import { MountFlag as F, type PlanOp } from "../plan/types.js";
import type { OciConfig } from "./config.js";

/** Whether the container's root and binds are idmapped: config.json names no user namespace and
 * no id maps (sysjail-oci adds the namespace, where runc would run the container as host root),
 * and the caller is root of the host's user namespace (only it can idmap a host filesystem). */
export function idmapsImage(config: OciConfig): boolean {
  const l = config.linux ?? {};
  if (l.uidMappings !== undefined || l.gidMappings !== undefined) return false;
  if (Array.isArray(l.namespaces) && l.namespaces.some((n) => n?.type === "user")) return false;
  return process.getuid?.() === 0 && initialUserNs();
}

/** A root or bind op with the idmap flag: idmapped, or (a filesystem the kernel cannot idmap,
 * a recursive bind holding one) mounted as it is with a warning. */
export function idmapped(o: PlanOp): PlanOp {
  if (o.op === "bind") return { ...o, args: [o.args[0]!, o.args[1]!, `${String(o.args[2] ?? "")}${F.idmapTry}`, ...o.args.slice(3)] };
  if (o.op === "root") return { ...o, args: [o.args[0]!, `${String(o.args[1] ?? "")}${F.idmapTry}`] };
  return o;
}
