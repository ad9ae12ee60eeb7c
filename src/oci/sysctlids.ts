// net.ipv4.ping_group_range of a joined network namespace: its gids in the container's terms,
// turned into the monitor's (the kernel reads them in the writer's user namespace).
import { mapLines } from "./idmap.js";

/** The /proc/sys path of the one namespaced sysctl whose value names ids (a gid range). */
export const PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range";

/** VALUE ("LOW HIGH", container gids) through GIDMAP (the container's gid_map text: inside,
 * outside, count): the range's first stretch that the map covers, as the monitor's gids, which
 * the container then reads back as LOW-HIGH (runc writes it from inside the container's user
 * namespace: the same range). A range with no mapped gid becomes "1 0" (nobody); anything that
 * is not two whole numbers, or an empty range, is left for the kernel to take or refuse. */
export function hostGidRange(value: string, gidMap: string): string {
  const m = /^\s*(\d{1,10})\s+(\d{1,10})\s*$/.exec(value);
  if (!m) return value;
  const low = Number(m[1]), high = Number(m[2]);
  if (low > high) return value;
  const hit = mapLines(gidMap).filter(([c, , n]) => c <= high && low < c + n).sort((a, b) => a[0] - b[0])[0];
  if (!hit) return "1 0";
  const [c, h, n] = hit;
  return `${h + Math.max(low, c) - c} ${h + Math.min(high, c + n - 1) - c}`;
}
