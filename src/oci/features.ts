// `sysjail-oci features`: what this runtime implements (runtime-spec features.md).
import { Cap } from "../plan/caps.js";
import { FORBIDDEN_CAPS, OCI_GRANTABLE_CAPS } from "../plan/caps.js";

/** The features document. */
export function features(): Record<string, unknown> {
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: "1.2.0",
    hooks: ["prestart", "createRuntime", "poststart", "poststop"],
    mountOptions: ["ro", "rw", "noexec", "nosuid", "nodev", "bind", "rbind"],
    linux: {
      namespaces: ["pid", "mount", "ipc", "uts", "user", "network", "cgroup"],
      capabilities: Object.keys(Cap).filter((c) => !FORBIDDEN_CAPS.includes(c as keyof typeof Cap) || OCI_GRANTABLE_CAPS.includes(c as keyof typeof Cap)).map((c) => `CAP_${c}`),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: {
        enabled: true,
        actions: ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"],
        operators: ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"],
        archs: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { "io.github.sysjail.compiler": "sysjail's own seccomp compiler; the container's profile is stacked on the jail's policy" },
  };
}
