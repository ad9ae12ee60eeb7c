// The jail's capability set: what jail root keeps, and what it may never hold.

/** Capability numbers (linux/capability.h). */
export const Cap = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7,
  SETPCAP: 8, LINUX_IMMUTABLE: 9, NET_BIND_SERVICE: 10, NET_BROADCAST: 11, NET_ADMIN: 12, NET_RAW: 13,
  IPC_LOCK: 14, IPC_OWNER: 15, SYS_MODULE: 16, SYS_RAWIO: 17, SYS_CHROOT: 18, SYS_PTRACE: 19,
  SYS_PACCT: 20, SYS_ADMIN: 21, SYS_BOOT: 22, SYS_NICE: 23, SYS_RESOURCE: 24, SYS_TIME: 25,
  SYS_TTY_CONFIG: 26, MKNOD: 27, LEASE: 28, AUDIT_WRITE: 29, AUDIT_CONTROL: 30, SETFCAP: 31,
  MAC_OVERRIDE: 32, MAC_ADMIN: 33, SYSLOG: 34, WAKE_ALARM: 35, BLOCK_SUSPEND: 36, AUDIT_READ: 37,
  PERFMON: 38, BPF: 39, CHECKPOINT_RESTORE: 40,
} as const;

/** A capability's name (CAP_ without its prefix). */
export type CapName = keyof typeof Cap;

/** What jail root keeps by default: FreeBSD's jailed-root rights, mapped onto Linux capabilities.
 * All of them act only inside the jail's own user namespace. CAP_SYS_BOOT stays so that reboot(2)
 * halts the jail (the kernel confines it to the jail's pid namespace). */
export const JAIL_CAPS: readonly CapName[] = [
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
  "NET_BIND_SERVICE", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_CHROOT", "SYS_PTRACE", "SYS_BOOT", "SYS_NICE",
  "LEASE", "AUDIT_WRITE", "SETFCAP",
];

/** Never in a jail's bounding set, whatever the plan says; the helper re-checks this set. */
export const FORBIDDEN_CAPS: readonly CapName[] = [
  "SYS_MODULE", "SYS_RAWIO", "SYS_TIME", "MKNOD", "SYS_PACCT", "AUDIT_CONTROL", "MAC_OVERRIDE", "MAC_ADMIN",
  "SYSLOG", "PERFMON", "BPF", "WAKE_ALARM", "SYS_TTY_CONFIG",
];

/** Forbidden, yet given when an OCI config.json asks for it: CAP_MKNOD. The kernel checks it only
 * in the initial user namespace (vfs_mknod: capable(), not ns_capable()), so a jail's root that
 * holds it in the jail's own user namespace still gets EPERM for every device node; the rest of
 * FORBIDDEN_CAPS stays out (docs/JAILS.md, "Security", "CAP_MKNOD in an OCI container"). */
export const OCI_GRANTABLE_CAPS: readonly CapName[] = ["MKNOD"];

/** The forbidden mask for a process that keeps KEEP under an OCI config: FORBIDDEN_CAPS less the
 * grantable ones KEEP holds (the helper re-checks the rest). */
export function ociForbiddenMask(keep: bigint): bigint {
  return capMask(FORBIDDEN_CAPS) & ~(keep & capMask(OCI_GRANTABLE_CAPS));
}

/** A bit mask of capabilities, as the helper's decimal u64 text. */
export function capMask(names: readonly CapName[]): bigint {
  let m = 0n;
  for (const n of names) m |= 1n << BigInt(Cap[n]);
  return m;
}

/** The capabilities a jail keeps, given its policy options. */
export function jailCaps(opts: { allowSetHostname: boolean; vnet: boolean }): CapName[] {
  const caps: CapName[] = [...JAIL_CAPS];
  if (opts.allowSetHostname) caps.push("SYS_ADMIN"); // sethostname needs it; seccomp still refuses mount etc.
  if (opts.vnet) caps.push("NET_ADMIN"); // a vnet jail configures its own stack, as on FreeBSD
  return caps;
}
