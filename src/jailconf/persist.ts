// A jail without persist lives only while it has processes. jail(8) creates every jail persistent
// (as FreeBSD does while the exec.* hooks run), then drops persist: an empty jail is removed at
// once; one that still has processes is watched by a small detached reaper that removes it when
// the last of them is gone.
import { spawn } from "node:child_process";
import { ownNodeEnv } from "../helper/front.js";
import { readEntry, writeEntry } from "../manage/entryfile.js";
import { refresh, type JailRef } from "../manage/locate.js";
import { withJailLock } from "../manage/lock.js";
import { jailNamespace, pidsInNamespace, statFields } from "../manage/proc.js";
import { removeJail } from "../manage/remove.js";
import { isAlive } from "../registry/store.js";
import type { JailEntry } from "../registry/types.js";

/** The argument that starts the reaper (an internal form of the jail tool). */
export const REAPER_FLAG = "--reap-when-empty";

/** True when a process other than the jail's init (and other than zombies) is in the jail. */
export function hasProcesses(e: Pick<JailEntry, "initPid">): boolean {
  const ns = jailNamespace(e.initPid);
  if (!ns) return false;
  return pidsInNamespace(ns).some((p) => p !== e.initPid && statFields(p)?.[0] !== "Z");
}

/** Records nopersist, then removes the jail if it is empty, else leaves the reaper to do it. */
export async function dropPersist(ref: JailRef, settleMs = 5000): Promise<"removed" | "watched" | "gone"> {
  const cur = await withJailLock(ref.dir, ref.entry.jid, async () => {
    const r = refresh(ref);
    if (!r) return undefined;
    const e = structuredClone(r.entry);
    e.persist = false;
    e.spec.persist = false;
    if (e.lifecycle) e.lifecycle = { ...e.lifecycle, persist: false };
    writeEntry(r.dir, r.dirOwner, e);
    return { ...r, entry: e };
  }, undefined, ref.dirOwner);
  if (!cur) return "gone";
  if (!hasProcesses(cur.entry)) {
    await removeJail(cur, { force: true, settleMs, warn: () => undefined });
    return "removed";
  }
  const script = process.argv[1];
  if (!script) return "watched";
  spawn(process.execPath, [script, REAPER_FLAG, cur.dir, String(cur.entry.jid), String(cur.entry.initStart)], {
    detached: true, stdio: "ignore", cwd: "/", env: ownNodeEnv(process.env),
  }).unref();
  return "watched";
}

/** jail -m persist / nopersist: records persist, or drops it as jail -c does for a jail created
 * without it (an empty jail is removed; one with processes is watched by the reaper). */
export async function changePersist(ref: JailRef, on: boolean): Promise<void> {
  if (!on) {
    await dropPersist(ref);
    return;
  }
  await withJailLock(ref.dir, ref.entry.jid, async () => {
    const r = refresh(ref);
    if (!r) return;
    const e = structuredClone(r.entry);
    e.persist = true;
    e.spec.persist = true;
    if (e.lifecycle) e.lifecycle = { ...e.lifecycle, persist: true };
    writeEntry(r.dir, r.dirOwner, e);
  }, undefined, ref.dirOwner);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The reaper: polls the jail (a little, then once a second) and removes it once it is empty; ends
 * when the jail is gone or was replaced. A process entering at the very moment of the check is
 * ended with the jail (the kernel does this check atomically on FreeBSD). */
export async function reaperMain(args: string[]): Promise<number> {
  const [dir, jidText, startText] = args;
  const jid = Number(jidText), start = Number(startText);
  if (!dir || !Number.isInteger(jid) || !Number.isFinite(start)) return 64;
  for (let delay = 100; ; delay = Math.min(1000, delay * 2)) {
    await sleep(delay);
    const e = readEntry(dir, jid);
    if (!e || e.initStart !== start || !isAlive(e) || e.persist) return 0;
    if (!hasProcesses(e)) {
      await removeJail({ entry: e, dir, dirOwner: process.getuid?.() ?? 0, own: true }, { force: true, warn: () => undefined });
      return 0;
    }
  }
}
