// Gathers sysjail doctor's facts: /proc/sys settings, the cgroup layout and delegation, the
// active LSMs, programs on PATH, and the kernel's answers through the helper (`--probe`).
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { detectCgroups } from "../cgroup/detect.js";
import { findDelegation } from "../cgroup/delegate.js";
import { helperPath } from "../helper/launch.js";
import type { DoctorFacts, ProbeAnswers } from "./checks.js";

/** Programs doctor looks for. */
const PROGRAMS = ["pasta", "slirp4netns", "mmdebstrap", "debootstrap", "podman", "conmon"];

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
}

function which(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir.startsWith("/")) continue; // a relative PATH entry would depend on where doctor runs
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

const PROBE_KEYS: (keyof ProbeAnswers)[] = ["landlock", "openat2", "pidfd_getfd", "mount_setattr", "userns", "bpf_cgroup", "seccomp"];

/** The helper's answers, checked to be exactly the numbers it reports. */
export function parseProbe(text: string): ProbeAnswers | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (!PROBE_KEYS.every((k) => Number.isSafeInteger(o[k]))) return undefined;
  return Object.fromEntries(PROBE_KEYS.map((k) => [k, o[k]])) as unknown as ProbeAnswers;
}

function probe(): ProbeAnswers | { error: string } {
  let helper: string;
  try {
    helper = helperPath();
  } catch (err) {
    return { error: (err as Error).message };
  }
  const r = spawnSync(helper, ["--probe"], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "pipe"] });
  if (r.error) return { error: `${helper}: ${r.error.message}` };
  return parseProbe(r.stdout.trim()) ?? { error: `${helper} --probe gave no answer (exit ${r.status ?? r.signal})` };
}

/** This host's facts, as the calling user sees them. */
export function gatherFacts(): DoctorFacts {
  const uid = process.getuid?.() ?? 0;
  const layout = detectCgroups();
  const controllers = [...new Set([...(layout.v2?.controllers ?? []), ...Object.keys(layout.v1)])];
  let delegation: DoctorFacts["cgroup"]["delegation"];
  if (uid !== 0) {
    const d = findDelegation(layout, uid);
    delegation = d.v2 ? { top: d.v2.top, controllers: d.v2.controllers }
      : d.v1 && Object.keys(d.v1).length ? { top: Object.values(d.v1).join(", "), controllers: Object.keys(d.v1) }
        : { why: d.why ?? `no cgroup delegated to uid ${uid}` };
  }
  const path = process.env.PATH ?? "";
  return {
    uid,
    sysctl: {
      unprivilegedUsernsClone: read("/proc/sys/kernel/unprivileged_userns_clone"),
      maxUserNamespaces: read("/proc/sys/user/max_user_namespaces"),
      apparmorRestrictUserns: read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
    },
    probe: probe(),
    cgroup: { mode: layout.mode, controllers, delegation },
    lsm: read("/sys/kernel/security/lsm")?.split(",").filter(Boolean),
    programs: Object.fromEntries(PROGRAMS.map((p) => [p, which(p, path)])),
  };
}
