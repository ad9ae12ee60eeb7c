// net.ipv4.ping_group_range of a joined network namespace: its gids in the container's terms,
// turned into the monitor's (the kernel reads them in the writer's user namespace).
import { mapLines } from "./idmap.js";

/** The /proc/sys path of the one namespaced sysctl whose value names ids (a gid range). */
export const PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range";

/** VALUE ("LOW HIGH") through GIDMAP (the container's gid_map text: inside, outside, count).
 * A range of the container's own gids (inside one line of its map: podman's "0 0") becomes the
 * same gids as the monitor's, which the container reads back as LOW HIGH, as under runc (which
 * writes it from inside the container). Any other range (one reaching past the container's gids:
 * Kubernetes' "0 2147483647", every group) is written as given, in the monitor's gids, as runc
 * without a user namespace writes it; so is anything that is not two whole numbers (the kernel
 * takes or refuses it). */
export function hostGidRange(value: string, gidMap: string): string {
  const m = /^\s*(\d{1,10})\s+(\d{1,10})\s*$/.exec(value);
  if (!m) return value;
  const low = Number(m[1]), high = Number(m[2]);
  const hit = low <= high ? mapLines(gidMap).find(([c, , n]) => c <= low && high < c + n) : undefined;
  return hit ? `${hit[1] + low - hit[0]} ${hit[1] + high - hit[0]}` : value;
}
