// sysjail doctor's judgement: host facts in (gathered by facts.ts), per feature what is missing
// and the exact setting or package that fixes it out. Pure, so every case has a unit test.

/** The kernel's answers to `sysjail-helper --probe` (native/src/probe.c): >= 0 when the call
 * worked (landlock: the ABI version), else the negated errno. */
export interface ProbeAnswers {
  landlock: number;
  openat2: number;
  pidfd_getfd: number;
  mount_setattr: number;
  userns: number;
  bpf_cgroup: number;
  seccomp: number;
}

/** What doctor looks at. */
export interface DoctorFacts {
  uid: number;
  /** /proc/sys values, trimmed; undefined when the file does not exist. */
  sysctl: {
    unprivilegedUsernsClone?: string | undefined;
    maxUserNamespaces?: string | undefined;
    apparmorRestrictUserns?: string | undefined;
  };
  /** The helper's probe, or why it could not run. */
  probe: ProbeAnswers | { error: string };
  cgroup: {
    mode: "v2" | "v1" | "hybrid" | "none";
    /** Controllers of the unified mount (v2) or the v1 hierarchies present. */
    controllers: string[];
    /** Non-root: the delegated cgroup and its controllers, or why there is none. */
    delegation?: { top: string; controllers: string[] } | { why: string } | undefined;
  };
  /** /sys/kernel/security/lsm, if readable. */
  lsm?: string[] | undefined;
  /** Programs found on PATH: name -> path. */
  programs: Record<string, string | undefined>;
}

/** One thing a feature needs. */
export interface Check {
  name: string;
  ok: boolean;
  /** What was found. */
  detail: string;
  /** When not ok: the setting or package that fixes it. */
  fix?: string;
}

/** A feature and what it needs; ok when every check holds. */
export interface FeatureReport {
  name: string;
  what: string;
  ok: boolean;
  checks: Check[];
}

/** The features doctor knows, in the order it reports them. */
export const FEATURES: Readonly<Record<string, string>> = {
  core: "any jail: namespaces, seccomp, safe reads of jail files",
  userns: "jails started by users other than root (user namespaces)",
  cgroups: "limits (--limit, limits: {...}) and the run report's figures",
  ebpf: "addresses on the shared stack (-4/-6): cgroup eBPF programs",
  landlock: "Landlock rulesets (unveil)",
  net: "outbound networking for jails of users other than root",
  mkjail: "mkjail: building a Debian root",
  oci: "the OCI runtime under podman",
  kernel: "kernel calls sysjail uses when present: openat2, idmapped mounts, pidfd_getfd",
};

const ERRNO: Record<number, string> = { 1: "EPERM", 12: "ENOMEM", 13: "EACCES", 22: "EINVAL", 28: "ENOSPC", 38: "ENOSYS", 95: "EOPNOTSUPP" };
const errname = (n: number) => ERRNO[-n] ?? `errno ${-n}`;

function probeOf(f: DoctorFacts): ProbeAnswers | undefined {
  return "error" in f.probe ? undefined : f.probe;
}

/** A check from a probe answer: the call worked, or the fix. */
function kernelCall(f: DoctorFacts, name: string, key: keyof ProbeAnswers, what: string, fix: string): Check {
  const p = probeOf(f);
  if (!p) return { name, ok: false, detail: `not probed: ${(f.probe as { error: string }).error}`, fix: "reinstall sysjail so that its helper runs (npm rebuild sysjail)" };
  return p[key] >= 0 ? { name, ok: true, detail: what } : { name, ok: false, detail: `${what}: ${errname(p[key])}`, fix };
}

function program(f: DoctorFacts, names: string[], pkg: string): Check {
  const found = names.find((n) => f.programs[n]);
  return found
    ? { name: names.join(" or "), ok: true, detail: f.programs[found]! }
    : { name: names.join(" or "), ok: false, detail: "not on PATH", fix: `apt-get install ${pkg}` };
}

function userns(f: DoctorFacts): Check[] {
  const out: Check[] = [];
  const s = f.sysctl;
  if (s.unprivilegedUsernsClone !== undefined) {
    out.push(s.unprivilegedUsernsClone === "0"
      ? { name: "kernel.unprivileged_userns_clone", ok: false, detail: "0", fix: "sysctl -w kernel.unprivileged_userns_clone=1 (and in /etc/sysctl.d/ to keep it)" }
      : { name: "kernel.unprivileged_userns_clone", ok: true, detail: s.unprivilegedUsernsClone });
  }
  if (s.maxUserNamespaces !== undefined) {
    out.push(s.maxUserNamespaces === "0"
      ? { name: "user.max_user_namespaces", ok: false, detail: "0", fix: "sysctl -w user.max_user_namespaces=15000 (and in /etc/sysctl.d/ to keep it)" }
      : { name: "user.max_user_namespaces", ok: true, detail: s.maxUserNamespaces });
  }
  if (s.apparmorRestrictUserns !== undefined) {
    out.push(s.apparmorRestrictUserns === "1"
      ? { name: "kernel.apparmor_restrict_unprivileged_userns", ok: false, detail: "1: AppArmor refuses user namespaces to unconfined programs", fix: "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for node with the userns rule" }
      : { name: "kernel.apparmor_restrict_unprivileged_userns", ok: true, detail: s.apparmorRestrictUserns });
  }
  // the caller's own attempt says it all (as root it only shows that the kernel has them)
  const p = probeOf(f);
  if (p && (f.uid !== 0 || p.userns < 0)) {
    out.push(p.userns >= 0
      ? { name: "unshare(CLONE_NEWUSER)", ok: true, detail: `works for uid ${f.uid}` }
      : { name: "unshare(CLONE_NEWUSER)", ok: false, detail: `${errname(p.userns)} for uid ${f.uid}`, fix: p.userns === -38 || p.userns === -22 ? "a kernel with CONFIG_USER_NS=y" : "the settings above; or user.max_user_namespaces is used up" });
  }
  return out;
}

const LIMIT_CONTROLLERS = ["memory", "pids", "cpu"];

function cgroups(f: DoctorFacts): Check[] {
  const c = f.cgroup;
  if (c.mode === "none") {
    return [{ name: "cgroup file system", ok: false, detail: "none mounted on /sys/fs/cgroup", fix: "mount -t cgroup2 none /sys/fs/cgroup (systemd does at boot)" }];
  }
  const out: Check[] = [c.mode === "v2"
    ? { name: "cgroup v2", ok: true, detail: "unified hierarchy on /sys/fs/cgroup" }
    : { name: "cgroup v2", ok: true, detail: `${c.mode} (v1 hierarchies work; v2 is better: boot with systemd.unified_cgroup_hierarchy=1)` }];
  const missing = LIMIT_CONTROLLERS.filter((k) => !c.controllers.includes(k));
  out.push(missing.length === 0
    ? { name: "controllers", ok: true, detail: LIMIT_CONTROLLERS.join(" ") }
    : { name: "controllers", ok: false, detail: `missing ${missing.join(" ")}`, fix: `a kernel with the ${missing.join(", ")} controllers (CONFIG_MEMCG, CONFIG_CGROUP_PIDS, CONFIG_CGROUP_SCHED), not disabled by cgroup_disable= at boot` });
  if (f.uid !== 0) {
    const d = c.delegation;
    if (d && "top" in d) {
      const lack = LIMIT_CONTROLLERS.filter((k) => !d.controllers.includes(k));
      out.push(lack.length === 0
        ? { name: "delegation", ok: true, detail: `${d.top} (${d.controllers.join(" ")})` }
        : { name: "delegation", ok: false, detail: `${d.top} lacks ${lack.join(" ")}`, fix: "systemctl edit user@.service: [Service] Delegate=cpu memory pids" });
    } else {
      out.push({ name: "delegation", ok: false, detail: d && "why" in d ? d.why : `no cgroup delegated to uid ${f.uid}`, fix: "run under systemd-run --user --scope -p Delegate=yes, or systemctl edit user@.service: [Service] Delegate=cpu memory pids" });
    }
  }
  return out;
}

function ebpf(f: DoctorFacts): Check[] {
  const out: Check[] = [];
  out.push(f.cgroup.mode === "v2" || f.cgroup.mode === "hybrid"
    ? { name: "cgroup v2", ok: true, detail: "for attaching programs" }
    : { name: "cgroup v2", ok: false, detail: `cgroups are ${f.cgroup.mode}`, fix: "boot with systemd.unified_cgroup_hierarchy=1" });
  if (f.uid !== 0) {
    out.push({ name: "root", ok: false, detail: `uid ${f.uid}: only root loads cgroup programs; other users' jails get addresses on a private stack (feature net)`, fix: "run sysjail as root for shared-stack addresses" });
    return out;
  }
  out.push(kernelCall(f, "BPF_PROG_LOAD cgroup_skb", "bpf_cgroup", "cgroup-skb program", "a kernel with CONFIG_BPF_SYSCALL=y and CONFIG_CGROUP_BPF=y"));
  return out;
}

function landlock(f: DoctorFacts): Check[] {
  const p = probeOf(f);
  const lsm = f.lsm ? ` (active LSMs: ${f.lsm.join(",")})` : "";
  if (!p) return [kernelCall(f, "landlock ABI", "landlock", "landlock_create_ruleset", "")];
  if (p.landlock >= 1) return [{ name: "landlock ABI", ok: true, detail: `${p.landlock}${lsm}` }];
  const fix = p.landlock === -95
    ? `add landlock to the lsm= boot parameter (e.g. lsm=landlock,${(f.lsm ?? ["lockdown", "capability", "yama", "apparmor"]).filter((x) => x !== "landlock").join(",")})`
    : "a kernel with CONFIG_SECURITY_LANDLOCK=y (Linux 5.13 or later)";
  return [{ name: "landlock ABI", ok: false, detail: `${errname(p.landlock)}${lsm}`, fix }];
}

/** Every feature's report (or only those named), in FEATURES order. */
export function diagnose(f: DoctorFacts, only?: readonly string[]): FeatureReport[] {
  const all: Record<string, () => Check[]> = {
    core: () => [
      kernelCall(f, "seccomp", "seccomp", "seccomp filters", "a kernel with CONFIG_SECCOMP_FILTER=y"),
      kernelCall(f, "openat2", "openat2", "openat2 RESOLVE_IN_ROOT", "Linux 5.6 or later"),
      ...(f.uid !== 0 ? userns(f) : []),
    ],
    userns: () => userns(f),
    cgroups: () => cgroups(f),
    ebpf: () => ebpf(f),
    landlock: () => landlock(f),
    net: () => [program(f, ["pasta", "slirp4netns"], "passt (pasta), or slirp4netns")],
    mkjail: () => [program(f, ["mmdebstrap", "debootstrap"], "mmdebstrap (or debootstrap)")],
    oci: () => [program(f, ["podman"], "podman"), program(f, ["conmon"], "conmon")],
    kernel: () => [
      kernelCall(f, "openat2", "openat2", "openat2 RESOLVE_IN_ROOT", "Linux 5.6 or later"),
      kernelCall(f, "idmapped mounts", "mount_setattr", "mount_setattr", "Linux 5.12 or later"),
      kernelCall(f, "pidfd_getfd", "pidfd_getfd", "pidfd_getfd", "Linux 5.6 or later"),
    ],
  };
  return Object.keys(FEATURES).filter((n) => !only || only.length === 0 || only.includes(n)).map((name) => {
    const checks = all[name]!();
    return { name, what: FEATURES[name]!, ok: checks.every((c) => c.ok), checks };
  });
}
