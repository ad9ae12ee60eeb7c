// A jail's instance name: what its cgroups and host-side links are called on the host.
import { stateDir } from "./paths.js";

/** The jid for jails of the caller's default registry; for another state directory (-j, tests)
 * the jid behind a short hash of that directory, so that two registries never share a name. */
export function instanceName(dir: string, jid: number): string {
  if (dir === stateDir(undefined, { ...process.env, SYSJAIL_STATE_DIR: undefined })) return String(jid);
  let h = 0x811c9dc5;
  for (let i = 0; i < dir.length; i++) h = Math.imul(h ^ dir.charCodeAt(i), 0x01000193) >>> 0;
  return `${(h & 0xffff).toString(16).padStart(4, "0")}-${jid}`;
}
