// The monitor's last duty, done by its caller when the monitor was killed: a jail's monitor
// removes the jail's cgroups and registry files when the jail ends, but a monitor ended by
// SIGKILL (under a native front, SIGKILL to `sysjail` itself) cannot. Its jail dies with it (the
// init's parent-death signal); the caller, still running, then removes what the monitor left,
// with the pieces `jail -r` uses for a monitor that is gone (src/manage).
import { releaseEphemeral } from "../ids/leases.js";
import { isAlive, monitorAlive, type Registry } from "../registry/store.js";
import type { JailEntry } from "../registry/types.js";
import type { Prepared } from "./prepare.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Removes a jail's cgroups and registry files after its monitor died without doing so: only
 * once the monitor is gone and the init has ended (it is killed with the monitor), so nothing
 * is removed under a jail that still runs. Resolves false when it could not be sure and did
 * nothing (the registry prunes such an entry later, as for any dead jail). */
export async function cleanUpAfterMonitor(e: JailEntry, registry: Registry): Promise<boolean> {
  // loaded only on this failure path: the code stays off a jail's start
  const [{ statFields }, { removeLeftoverCgroups }] = await Promise.all([import("../manage/proc.js"), import("../manage/cgroups.js")]);
  // a zombie waits only for its reaper: it runs nothing and holds no cgroup
  const running = (pid: number, alive: boolean) => alive && statFields(pid)?.[0] !== "Z";
  const busy = () => running(e.monitorPid, monitorAlive(e)) || running(e.initPid, isAlive(e));
  for (let i = 0; i < 100 && busy(); i++) await sleep(20);
  if (busy()) return false;
  // the last processes may still be leaving the cgroups: EBUSY for a moment
  for (let i = 0; i < 50 && removeLeftoverCgroups(e.cgroups ?? {}).length > 0; i++) await sleep(10);
  registry.remove(e.jid, e.name);
  if (e.owner === 0 && e.ids?.lease === "ephemeral") releaseEphemeral(e.ids.file);
  return true;
}

/** Removes the cgroup directories of a jail whose monitor died before it reported the start
 * (the init it may have placed there dies with it: parent-death signal). Resolves true when
 * none is left, false when one still held a process after a while (a later collection,
 * src/manage/gc.ts, removes it, found through the reservation this leaves in place). */
export async function removeUnstartedCgroups(prep: Prepared): Promise<boolean> {
  const paths: Record<string, string> = { ...(prep.cgroups?.paths ?? {}), ...(prep.netCgroup ? { net: prep.netCgroup } : {}) };
  if (Object.keys(paths).length === 0) return true;
  const { removeLeftoverCgroups } = await import("../manage/cgroups.js");
  for (let i = 0; i < 100; i++) {
    if (removeLeftoverCgroups(paths).length === 0) return true;
    await sleep(20);
  }
  return false;
}
