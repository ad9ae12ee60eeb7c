// Changes a running jail's cgroup limits (Jail.update({ limits })).
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { SysjailError, Exit } from "../errors.js";
import { defaultBackend } from "../cgroup/select.js";
import { normalizeLimits } from "../limits/parse.js";
import { writeEntry } from "../manage/entryfile.js";
import type { JailRef } from "../manage/locate.js";
import { withJailLock } from "../manage/lock.js";

const CONTROLLERS = new Set(["memory", "pids", "cpu", "cpuacct"]);

/** Limits the kernel holds in the jail's cgroups, and so may change while it runs. */
const LIVE = new Set(["memory", "swap", "pids", "cores", "cpuShares"]);

/** Writes new values into the jail's existing cgroups and records them in its entry. */
export async function updateLimits(ref: JailRef, raw: unknown): Promise<void> {
  const limits = normalizeLimits(raw);
  for (const k of Object.keys(limits)) {
    if (!LIVE.has(k)) throw new SysjailError(`sysjail: limit '${k}' cannot change while the jail runs (live: ${[...LIVE].join(", ")})`, { code: "EUSAGE", phase: "usage", exitCode: Exit.usage });
  }
  // the jail's own controller directories (an entry may also name other cgroups, e.g. "net")
  const have = Object.fromEntries(Object.entries(ref.entry.cgroups ?? {}).filter(([c]) => CONTROLLERS.has(c)));
  if (Object.keys(have).length === 0) {
    throw new SysjailError("sysjail: this jail has no cgroups (it was started without limits, or by a user without delegated cgroups)", { code: "ENOTSUP", phase: "runtime", exitCode: Exit.usage });
  }
  // plan under the jail's cgroup name (its jid, or registry-qualified: see registry/instance.ts),
  // read from the directories it was started with
  const name = basename(Object.values(have)[0]!);
  const plan = defaultBackend().plan(name, { ...ref.entry.spec.limits, ...limits });
  // a limit whose controller the jail was not started with cannot be added later: say so rather
  // than skip its writes
  // (the plan's other directories, such as a hybrid host's empty unified leaf, hold no limit)
  const missing = Object.keys(plan.paths).filter((c) => CONTROLLERS.has(c) && !(c in have));
  if (missing.length) {
    throw new SysjailError(`sysjail: this jail has no ${missing.join(", ")} cgroup; start it with such a limit to change it later`, { code: "ENOTSUP", phase: "runtime", exitCode: Exit.usage });
  }
  const known = new Set(Object.values(have));
  await withJailLock(ref.dir, ref.entry.jid, async () => {
    let pending: [string, string][] = [];
    for (const o of plan.ops) {
      if (o.op !== "cgroupWrite") continue;
      const [file, value] = o.args.map(String) as [string, string];
      // only files inside the cgroups the jail was started with
      if (![...known].some((d) => file.startsWith(`${d}/`))) continue;
      pending.push([file, value]);
    }
    // Some writes depend on order (v1: memory.memsw.limit_in_bytes may never be below
    // memory.limit_in_bytes, so raising needs memsw first, lowering needs it last): retry the
    // failed ones while that makes progress.
    for (;;) {
      const failed: [string, string, unknown][] = [];
      for (const [file, value] of pending) {
        try {
          writeFileSync(file, value);
        } catch (err) {
          failed.push([file, value, err]);
        }
      }
      if (failed.length === 0) break;
      if (failed.length === pending.length) {
        const [file, value, err] = failed[0]!;
        const e = err as NodeJS.ErrnoException;
        throw new SysjailError(`sysjail: cannot write ${value} to ${file}: ${e.code ?? e.message}`, { code: e.code ?? "EIO", phase: "runtime", path: file, errno: typeof e.errno === "number" ? -e.errno : undefined, cause: err });
      }
      pending = failed.map(([f, v]) => [f, v]);
    }
    const e = structuredClone(ref.entry);
    e.spec.limits = { ...e.spec.limits, ...limits };
    writeEntry(ref.dir, ref.dirOwner, e);
  }, undefined, ref.dirOwner);
}
