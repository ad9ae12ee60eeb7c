// Changes a running jail's cgroup limits (Jail.update({ limits })).
import { writeFileSync } from "node:fs";
import { SysjailError, Exit } from "../errors.js";
import { defaultBackend } from "../cgroup/select.js";
import { normalizeLimits } from "../limits/parse.js";
import { writeEntry } from "../manage/entryfile.js";
import type { JailRef } from "../manage/locate.js";
import { withJailLock } from "../manage/lock.js";

/** Limits the kernel holds in the jail's cgroups, and so may change while it runs. */
const LIVE = new Set(["memory", "swap", "pids", "cores", "cpuShares"]);

/** Writes new values into the jail's existing cgroups and records them in its entry. */
export async function updateLimits(ref: JailRef, raw: Record<string, string | number>): Promise<void> {
  const limits = normalizeLimits(raw);
  for (const k of Object.keys(limits)) {
    if (!LIVE.has(k)) throw new SysjailError(`sysjail: limit '${k}' cannot change while the jail runs (live: ${[...LIVE].join(", ")})`, { code: "EUSAGE", phase: "usage", exitCode: Exit.usage });
  }
  const have = ref.entry.cgroups ?? {};
  if (Object.keys(have).length === 0) {
    throw new SysjailError("sysjail: this jail has no cgroups (it was started without limits)", { code: "ENOTSUP", phase: "runtime", exitCode: Exit.usage });
  }
  const plan = defaultBackend().plan(ref.entry.jid, { ...ref.entry.spec.limits, ...limits });
  const known = new Set(Object.values(have));
  await withJailLock(ref.dir, ref.entry.jid, async () => {
    for (const o of plan.ops) {
      if (o.op !== "cgroupWrite") continue;
      const [file, value] = o.args.map(String) as [string, string];
      // only files inside the cgroups the jail was started with
      if (![...known].some((d) => file.startsWith(`${d}/`))) continue;
      writeFileSync(file, value);
    }
    const e = structuredClone(ref.entry);
    e.spec.limits = { ...e.spec.limits, ...limits };
    writeEntry(ref.dir, ref.dirOwner, e);
  });
}
