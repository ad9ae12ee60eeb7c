// sysjail doctor's judgement (src/doctor/checks.ts): for each way a host can lack a feature, the
// check fails and names the exact setting or package that fixes it; a sound host passes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diagnose, type DoctorFacts, type ProbeAnswers } from "../../src/doctor/checks.js";
import { parseProbe } from "../../src/doctor/facts.js";

const GOOD_PROBE: ProbeAnswers = { landlock: 4, openat2: 0, pidfd_getfd: 0, mount_setattr: 0, userns: 0, bpf_cgroup: 0, seccomp: 0 };

/** A host that has everything; each test takes something away. */
function sound(over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    uid: 0,
    sysctl: { unprivilegedUsernsClone: "1", maxUserNamespaces: "1000", apparmorRestrictUserns: "0" },
    probe: GOOD_PROBE,
    cgroup: { mode: "v2", controllers: ["cpu", "memory", "pids", "io"] },
    lsm: ["lockdown", "capability", "landlock", "apparmor"],
    programs: { pasta: "/usr/bin/pasta", mmdebstrap: "/usr/bin/mmdebstrap", podman: "/usr/bin/podman", conmon: "/usr/bin/conmon" },
    ...over,
  };
}

/** The failing checks of FEATURE for FACTS: name -> fix. */
function missing(facts: DoctorFacts, feature: string): Record<string, string | undefined> {
  const [r] = diagnose(facts, [feature]);
  assert.ok(r, feature);
  return Object.fromEntries(r.checks.filter((c) => !c.ok).map((c) => [c.name, c.fix]));
}

describe("doctor's checks", () => {
  it("a sound host lacks nothing, as root and (with delegation) as another user", () => {
    assert.deepEqual(diagnose(sound()).filter((r) => !r.ok).map((r) => r.name), []);
    const user = sound({ uid: 1000, cgroup: { mode: "v2", controllers: ["cpu", "memory", "pids"], delegation: { top: "/sys/fs/cgroup/user.slice/u", controllers: ["cpu", "memory", "pids"] } } });
    assert.deepEqual(diagnose(user).filter((r) => !r.ok).map((r) => r.name), ["ebpf"]); // only root loads cgroup programs
  });

  it("user namespaces: each sysctl that turns them off, with its fix", () => {
    const off = sound({ sysctl: { unprivilegedUsernsClone: "0", maxUserNamespaces: "0", apparmorRestrictUserns: "1" } });
    const m = missing(off, "userns");
    assert.match(m["kernel.unprivileged_userns_clone"]!, /^sysctl -w kernel\.unprivileged_userns_clone=1/);
    assert.match(m["user.max_user_namespaces"]!, /^sysctl -w user\.max_user_namespaces=\d+/);
    assert.match(m["kernel.apparmor_restrict_unprivileged_userns"]!, /^sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0/);
  });

  it("user namespaces: the caller's own attempt counts for a user other than root", () => {
    const m = missing(sound({ uid: 1000, probe: { ...GOOD_PROBE, userns: -28 } }), "userns");
    assert.ok("unshare(CLONE_NEWUSER)" in m);
    assert.ok(!("unshare(CLONE_NEWUSER)" in missing(sound({ uid: 1000 }), "userns")));
  });

  it("cgroups: none mounted, a controller missing, no delegation for a user", () => {
    assert.match(missing(sound({ cgroup: { mode: "none", controllers: [] } }), "cgroups")["cgroup file system"]!, /mount -t cgroup2/);
    assert.match(missing(sound({ cgroup: { mode: "v2", controllers: ["cpu", "memory"] } }), "cgroups").controllers!, /pids/);
    const m = missing(sound({ uid: 1000, cgroup: { mode: "v2", controllers: ["cpu", "memory", "pids"], delegation: { why: "no systemd user scope" } } }), "cgroups");
    assert.match(m.delegation!, /Delegate=/);
  });

  it("ebpf: the kernel refuses cgroup programs; cgroups v1 only", () => {
    assert.match(missing(sound({ probe: { ...GOOD_PROBE, bpf_cgroup: -22 } }), "ebpf")["BPF_PROG_LOAD cgroup_skb"]!, /CONFIG_CGROUP_BPF/);
    assert.match(missing(sound({ cgroup: { mode: "v1", controllers: ["cpu", "memory", "pids"] } }), "ebpf")["cgroup v2"]!, /unified_cgroup_hierarchy/);
  });

  it("landlock: not built (ENOSYS) or not enabled at boot (EOPNOTSUPP)", () => {
    assert.match(missing(sound({ probe: { ...GOOD_PROBE, landlock: -38 } }), "landlock")["landlock ABI"]!, /CONFIG_SECURITY_LANDLOCK/);
    const boot = missing(sound({ probe: { ...GOOD_PROBE, landlock: -95 }, lsm: ["capability", "apparmor"] }), "landlock")["landlock ABI"]!;
    assert.equal(boot, "add landlock to the lsm= boot parameter (e.g. lsm=landlock,capability,apparmor)");
  });

  it("programs: pasta or slirp4netns, mmdebstrap or debootstrap, podman and conmon, with the package", () => {
    const none = sound({ programs: {} });
    assert.deepEqual(missing(none, "net"), { "pasta or slirp4netns": "apt-get install passt (pasta), or slirp4netns" });
    assert.deepEqual(missing(none, "mkjail"), { "mmdebstrap or debootstrap": "apt-get install mmdebstrap (or debootstrap)" });
    assert.deepEqual(missing(none, "oci"), { podman: "apt-get install podman", conmon: "apt-get install conmon" });
    assert.deepEqual(missing(sound({ programs: { slirp4netns: "/usr/bin/slirp4netns", debootstrap: "/usr/sbin/debootstrap" } }), "net"), {});
  });

  it("kernel calls: each one missing names the Linux version that has it", () => {
    const old: ProbeAnswers = { ...GOOD_PROBE, openat2: -38, mount_setattr: -38, pidfd_getfd: -38 };
    assert.deepEqual(missing(sound({ probe: old }), "kernel"), { openat2: "Linux 5.6 or later", "idmapped mounts": "Linux 5.12 or later", pidfd_getfd: "Linux 5.6 or later" });
  });

  it("a helper that could not be asked fails the kernel checks and says how to get one", () => {
    const m = missing(sound({ probe: { error: "the C helper is not built" } }), "core");
    assert.match(m.seccomp!, /npm rebuild sysjail/);
  });

  it("only the features asked for, in the usual order", () => {
    assert.deepEqual(diagnose(sound(), ["oci", "core"]).map((r) => r.name), ["core", "oci"]);
  });

  it("takes the helper's answer only as numbers", () => {
    assert.deepEqual(parseProbe(JSON.stringify(GOOD_PROBE)), GOOD_PROBE);
    assert.equal(parseProbe('{"landlock":"7"}'), undefined);
    assert.equal(parseProbe("not json"), undefined);
  });
});
