// update: new resources for a running container: written into its cgroups (src/cgroup/update.ts
// plans which files), and on cgroup v2 a new device program attached in place of the old one.
import { writeFileSync } from "node:fs";
import { DEVICE_ATTACH_TYPE, DEVICE_PROG_TYPE, deviceProgram, type DeviceRule } from "../cgroup/devices.js";
import { PIDS_OVERHEAD } from "../cgroup/pids.js";
import { planUpdate, type UpdateResources } from "../cgroup/update.js";
import { usageError } from "../errors.js";
import { runEnter } from "../manage/enter.js";
import { op } from "../plan/types.js";
import { ociError } from "./config.js";
import { jailEntry, type Globals } from "./lifecycle.js";
import { readRecord, statusOf } from "./state.js";

export { flagResources, resourcesFile, sizeArg, intArg } from "./updateargs.js";

/** Whether R sets anything at all. */
function anything(r: UpdateResources): boolean {
  return Object.values(r).some((v) => v !== undefined && (typeof v !== "object" || Object.keys(v).length > 0 || Array.isArray(v)));
}

/** Writes R into the container's cgroups. Every value is checked and every refusal made (a
 * controller the container has no cgroup of, CPUs outside the parent's...) before the first write. */
export async function update(g: Globals, id: string, r: UpdateResources): Promise<void> {
  if (!anything(r)) throw usageError("update: nothing to change (give a limit such as --memory, --cpu-shares, --cpuset-cpus, --pids-limit, or --resources)");
  const rec = readRecord(g.root, id);
  if (statusOf(g.root, rec) === "stopped") throw ociError(`container ${id} is stopped`);
  const e = jailEntry(rec);
  if (r.devices && process.geteuid?.() !== 0) {
    // as at create: a user's container has no device cgroup (its only nodes are its devfs's)
    g.warn("devices: not enforced for a user's container (no device cgroup; its only device nodes are its devfs's)");
    delete r.devices;
  }
  const plan = planUpdate({ dirs: e.cgroups ?? {}, pidsOverhead: rec.cgroupsPath ? 0 : PIDS_OVERHEAD }, r, (m) => ociError(`container ${id}: ${m}`));
  for (const w of plan.warnings) g.warn(w);
  for (const [file, v] of plan.writes) {
    try {
      writeFileSync(file, v);
    } catch (err) {
      throw ociError(`container ${id}: ${file.split("/").pop()} = ${v.slice(0, 60)}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  if (plan.deviceProgram) await replaceDeviceProgram(e.initPid, e.initStart, plan.deviceProgram.dir, plan.deviceProgram.rules);
}

/** cgroup v2: compiles RULES and has the helper attach the program to DIR in place of the one
 * there (one attach without flags replaces the cgroup's program in one step: no moment with both
 * or neither), while the process PID (started at START, the container's init) lives. */
export async function replaceDeviceProgram(pid: number, start: number | string, dir: string, rules: readonly DeviceRule[]): Promise<void> {
  const plan = {
    mode: "enter" as const, flags: 0,
    ops: [op("enter", [pid, start, 0], "only while the container lives: no namespace is joined"), op("bpfProg", ["sj_devices", DEVICE_PROG_TYPE, DEVICE_ATTACH_TYPE, dir, 0, deviceProgram(rules)], "the container's new device rules")],
  };
  try {
    await runEnter(plan, ["ignore", "ignore", "inherit"], dir);
  } catch (err) {
    throw ociError(`devices: the new device program could not replace the old one in ${dir}: ${(err as Error).message.replace(/^sysjail: /, "")}`);
  }
}
