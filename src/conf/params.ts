// The parameter table: every jail(8)/jail.conf(5) parameter sysjail knows, its type and Linux meaning.

/** How a parameter's values are read. */
export type ParamKind =
  | "bool" // valueless, no-prefixed, true/false or an integer
  | "int" // a decimal integer (the last value)
  | "string" // a scalar string (the last value)
  | "list" // every value, in order; `+=` appends
  | "command" // an argv (the `command` pseudo-parameter)
  | "enum" // one of `values`
  | "store"; // a key=value text store (meta, env)

/** One row of the table. */
export interface ParamInfo {
  name: string;
  kind: ParamKind;
  /** The Linux meaning, for docs/JAIL_CONF.md and `jail -h` style help. */
  doc: string;
  /** Allowed words for "enum"; extra words for "bool" (vnet = new | inherit). */
  values?: readonly string[];
  /** For "bool" parameters that also take words: the word's truth value. */
  words?: Readonly<Record<string, boolean>>;
  /** Integer bounds. */
  min?: number;
  max?: number;
  /** Accepted for compatibility and ignored on Linux, with one warning when it asks for something. */
  ignored?: boolean;
  /** Reported by the kernel on FreeBSD; setting it is an error. */
  readOnly?: boolean;
  /** On the command line, `param=a,b` gives two values (ip4.addr, ip6.addr, depend, ...). */
  splitComma?: boolean;
  /** A sysjail extension, not a FreeBSD parameter. */
  extension?: boolean;
  /** A scalar that must have a value (path = ;  is an error). */
  needsValue?: boolean;
  /** For limits.*: the Limits field it fills. */
  limit?: string;
}

const IPMODE = ["new", "inherit", "disable"] as const;

const p = (name: string, kind: ParamKind, doc: string, extra: Partial<ParamInfo> = {}): ParamInfo => ({
  name,
  kind,
  doc,
  ...extra,
});
const ignoredBool = (name: string, doc: string): ParamInfo => p(name, "bool", doc, { ignored: true });
const hook = (name: string, doc: string): ParamInfo => p(name, "list", doc);
const limit = (name: string, field: string, doc: string): ParamInfo =>
  p(`limits.${name}`, "string", doc, { extension: true, needsValue: true, limit: field });

/** Every parameter sysjail understands, FreeBSD's and its own extensions. */
export const PARAMS: readonly ParamInfo[] = [
  // Identity and root
  p("jid", "int", "Jail id. Assigned automatically when unset or 0: the one after the last handed out (ids grow, as on FreeBSD).", { min: 0, max: 2147483647 }),
  p("name", "string", "Jail name; defaults to the jid. May not contain '.', and a numeric name must equal the jid.", { needsValue: true }),
  p("path", "string", "Absolute host directory that becomes the jail's root.", { needsValue: true }),
  p("host.hostname", "string", "Hostname inside the jail (its own UTS namespace); default: the host's, as FreeBSD copies it."),
  p("host.domainname", "string", "NIS domain name. Ignored.", { ignored: true }),
  p("host.hostuuid", "string", "Host UUID. Ignored.", { ignored: true }),
  p("host.hostid", "int", "Host id. Ignored.", { ignored: true }),
  p("host", "enum", "new|inherit origin of host.* values. Ignored: a jail always has its own hostname.", { values: ["new", "inherit"], ignored: true }),
  // Network
  p("ip4.addr", "list", "IPv4 addresses the jail may use (sysjail -4). `iface|addr/mask` is accepted; the interface and mask are dropped with a warning.", { splitComma: true }),
  p("ip6.addr", "list", "IPv6 addresses the jail may use (sysjail -6), same forms as ip4.addr.", { splitComma: true }),
  p("ip4", "enum", "new: only ip4.addr (the default when addresses are given); disable: no IPv4 (the default without addresses); inherit: every host address.", { values: IPMODE }),
  p("ip6", "enum", "Same as ip4, for IPv6.", { values: IPMODE }),
  p("ip4.saddrsel", "bool", "Source address selection. Ignored.", { ignored: true }),
  p("ip6.saddrsel", "bool", "Source address selection. Ignored.", { ignored: true }),
  p("vnet", "bool", "Own network stack (new) or the host's (inherit). Without vnet.interface or addresses it is the jail's own namespace with loopback only. Also vnet / novnet.", { words: { new: true, inherit: false, disable: false } }),
  p("vnet.interface", "list", "Host network interfaces moved into the vnet jail when it is created, and given back when it is removed.", { splitComma: true }),
  p("interface", "string", "Interface to add ip4.addr/ip6.addr aliases to. Ignored: sysjail does not add host addresses.", { ignored: true }),
  p("ip_hostname", "bool", "Add the addresses host.hostname resolves to. Ignored.", { ignored: true }),
  // Lifetime and kernel-side settings
  p("persist", "bool", "The jail exists without processes until jail -r."),
  p("securelevel", "int", "BSD securelevel. Ignored: Linux has none.", { ignored: true }),
  p("devfs_ruleset", "int", "devfs ruleset for /dev when mount.devfs is set (default 4). 0 means no rules (mem/kmem/port stay hidden).", { min: 0, max: 65535 }),
  p("children.max", "int", "Child jails allowed (default 0). Above 0 the jail may run jail(8) inside; the kernel counts its user namespaces against it.", { min: 0 }),
  p("children.cur", "int", "Number of child jails (read-only).", { readOnly: true }),
  p("enforce_statfs", "int", "Mount visibility (0-2). Accepted; a jail always sees only the mounts of its own mount namespace (its root, /proc, /dev, its mount lines), i.e. 1, whatever the value.", { min: 0, max: 2 }),
  p("cpuset.id", "int", "The jail's cpuset (read-only on FreeBSD). Ignored: use limits.cores.", { ignored: true }),
  p("dying", "bool", "The jail is being removed (read-only).", { readOnly: true }),
  p("parent", "int", "Parent jail id (read-only).", { readOnly: true }),
  p("osrelease", "string", "kern.osrelease / uname -r. Ignored.", { ignored: true }),
  p("osreldate", "int", "kern.osreldate. Ignored.", { ignored: true }),
  p("meta", "store", "A free string; meta.KEY=VALUE sets its line KEY=VALUE, meta.KEY reads or empties one. Shown by jls."),
  p("env", "store", "A second free string like meta (FreeBSD shows it inside the jail). Not the command's environment."),
  // Permissions mapped onto the system-call policy
  p("allow.set_hostname", "bool", "sethostname(2) inside the jail (policy allowSetHostname). Off by default, unlike FreeBSD."),
  p("allow.setuid", "bool", "No no_new_privs: setuid programs and file capabilities of the jail's own ids (an adopted or mkjail tree: sudo, passwd) work inside; they grant at most jail root. Off by default.", { extension: true }),
  p("allow.sysvipc", "bool", "SysV IPC calls (policy allowIpc), in the jail's own IPC namespace."),
  p("allow.raw_sockets", "bool", "SOCK_RAW, IPPROTO_RAW and AF_PACKET sockets (policy allowRawSockets)."),
  p("allow.chflags", "bool", "FS_IOC_SETFLAGS / FS_IOC_FSSETXATTR (policy allowChflags)."),
  p("allow.socket_af", "bool", "Socket families beyond unix, inet, inet6 and netlink-route (policy allowAllDomains)."),
  p("sysvmsg", "enum", "new or inherit allow SysV IPC (policy allowIpc) in the jail's own IPC namespace; disable leaves it denied.", { values: IPMODE }),
  p("sysvsem", "enum", "As sysvmsg.", { values: IPMODE }),
  p("sysvshm", "enum", "As sysvmsg.", { values: IPMODE }),
  ignoredBool("allow.mount", "Mounting inside the jail. Ignored (never granted)."),
  ignoredBool("allow.mount.devfs", "Ignored (never granted)."),
  ignoredBool("allow.mount.fdescfs", "Ignored (never granted)."),
  ignoredBool("allow.mount.fusefs", "Ignored (never granted); unhide /dev/fuse with a devfs rule instead."),
  ignoredBool("allow.mount.nullfs", "Ignored (never granted)."),
  ignoredBool("allow.mount.procfs", "Ignored (never granted)."),
  ignoredBool("allow.mount.linprocfs", "Ignored (never granted)."),
  ignoredBool("allow.mount.linsysfs", "Ignored (never granted)."),
  ignoredBool("allow.mount.tmpfs", "Ignored (never granted)."),
  ignoredBool("allow.mount.zfs", "Ignored (never granted)."),
  ignoredBool("allow.quotas", "Ignored (never granted)."),
  ignoredBool("allow.mlock", "Ignored."),
  ignoredBool("allow.reserved_ports", "Ignored: binding ports below 1024 follows the jail's capabilities."),
  ignoredBool("allow.read_msgbuf", "Ignored (the kernel log stays hidden)."),
  ignoredBool("allow.unprivileged_proc_debug", "Ignored."),
  ignoredBool("allow.unprivileged_parent_tampering", "Ignored."),
  ignoredBool("allow.suser", "Ignored."),
  ignoredBool("allow.nfsd", "Ignored."),
  ignoredBool("allow.vmm", "Ignored."),
  ignoredBool("allow.extattr", "Ignored."),
  ignoredBool("allow.adjtime", "Ignored (never granted)."),
  ignoredBool("allow.settime", "Ignored (never granted)."),
  ignoredBool("allow.routing", "Ignored."),
  ignoredBool("allow.dying", "Changes to a dying jail. Ignored."),
  p("linux", "enum", "Linux emulation environment. Ignored.", { values: ["new", "inherit"], ignored: true }),
  p("linux.osname", "string", "Ignored.", { ignored: true }),
  p("linux.osrelease", "string", "Ignored.", { ignored: true }),
  p("linux.oss_version", "string", "Ignored.", { ignored: true }),
  // Pseudo-parameters used by jail(8) itself
  p("command", "command", "Run in the jail after exec.start, as exec.jail_user; jail(8) waits for it. On the command line it takes the rest of the arguments as one argv; in a file each value is a command line."),
  hook("exec.prepare", "sh(1) commands run on the host first, before addresses and mounts (may create the root)."),
  hook("exec.prestart", "sh(1) commands run on the host after the mounts, before the jail is created."),
  hook("exec.created", "sh(1) commands run on the host right after the jail exists, before anything runs in it."),
  hook("exec.start", "Commands run inside the jail when it is created, as exec.jail_user (through /bin/sh -c when they use shell syntax)."),
  hook("exec.poststart", "sh(1) commands run on the host after exec.start and command have been started."),
  hook("exec.prestop", "sh(1) commands run on the host before the jail is removed."),
  hook("exec.stop", "Commands run inside the jail before it is removed, like exec.start."),
  hook("exec.poststop", "sh(1) commands run on the host after the jail is removed and its mounts undone."),
  hook("exec.release", "sh(1) commands run on the host last, after everything else."),
  p("exec.clean", "bool", "Run commands with a clean environment (HOME, SHELL, TERM, USER, PATH); the command's -l."),
  p("exec.jail_user", "string", "User that jailed commands run as (looked up in the jail's passwd unless exec.system_jail_user)."),
  p("exec.system_jail_user", "bool", "Look exec.jail_user up in the host's passwd."),
  p("exec.system_user", "string", "User that host-side exec.* commands run as."),
  p("exec.timeout", "int", "Seconds an exec.* command may take; a command that runs longer fails the operation.", { min: 0 }),
  p("exec.consolelog", "string", "Host file that exec.* output (stdout and stderr) is appended to."),
  p("exec.fib", "int", "FIB for jailed commands. Ignored.", { ignored: true }),
  p("stop.timeout", "int", "Seconds between SIGTERM and SIGKILL when the jail is removed (default 10; 0 kills at once).", { min: 0 }),
  p("mount", "list", "fstab(5) lines mounted before the jail is created (nullfs/bind, tmpfs, procfs/proc).", {}),
  p("mount.fstab", "list", "fstab(5) files whose lines are mounted like mount lines."),
  p("mount.devfs", "bool", "Mount a /dev with the devfs_ruleset's devices (also done when the root's /dev is a host mount)."),
  p("mount.fdescfs", "bool", "fdescfs on /dev/fd. Ignored: /dev/fd comes with mount.devfs.", { ignored: true }),
  p("mount.procfs", "bool", "Mount the jail's own procfs on /proc; on unless set false (Linux tools need /proc)."),
  p("depend", "list", "Jails that must exist first; created before this one and removed after it.", { splitComma: true }),
  // sysjail extensions: limits.KEY for every `sysjail --limit KEY=VALUE` key
  limit("memory", "memory", "Memory limit (e.g. 256M)."),
  limit("swap", "swap", "Swap limit."),
  limit("pids", "pids", "Maximum number of processes."),
  limit("cpu", "cpu", "CPU time limit (e.g. 10s)."),
  limit("wall", "wall", "Wall-clock limit (e.g. 1h)."),
  limit("cpushares", "cpuShares", "CPU weight."),
  limit("cores", "cores", "CPU cores (may be fractional)."),
  limit("openfiles", "openFiles", "Maximum open files."),
  limit("filesize", "fileSize", "Maximum file size."),
  limit("tmp", "tmpSize", "Size of the jail's /tmp tmpfs."),
  limit("shm", "shmSize", "Size of the jail's /dev/shm."),
  p("rctl", "list", "rctl(8)-style rules `[jail:NAME:]resource:deny=amount` mapped onto limits.*.", { extension: true }),
  p("allow.rlimit", "bool", "Raising resource limits (sysjail --allow-rlimit).", { extension: true }),
  p("policy.files", "list", "Policy files added to the default system-call policy (sysjail --policy).", { extension: true }),
  p("idrange", "string", "Root's jails: share the host id range of another jail (its name or jid) or a range base of the pool, on purpose (sysjail --idrange). Default: the tree's range, the name's lease, the tree's lease, or an ephemeral range.", { extension: true }),
  p("policy.replace", "bool", "policy.files replace the default policy instead of adding to it.", { extension: true }),
  p("pledge", "string", "OpenBSD promises (\"stdio rpath inet ...\") for the jail's command and entered processes: calls outside them are refused (sysjail --pledge, docs/PLEDGE.md).", { extension: true }),
  p("unveil", "list", "PATH:PERMS (r w x c; one per value, `+=` appends): the jail's command and entered processes reach only these paths, by Landlock (sysjail --unveil).", { extension: true }),
  p("unveil.best_effort", "bool", "Run anyway, with a warning, where the kernel has no Landlock for unveil (sysjail --unveil-best-effort).", { extension: true }),
];

const BY_NAME = new Map(PARAMS.map((e) => [e.name, e]));

/** What a parameter name refers to. */
export type ParamRef =
  | { type: "param"; info: ParamInfo; negated: boolean }
  | { type: "key"; store: "meta" | "env"; key: string };

/** Looks a parameter name up: exact, `no`-prefixed boolean (nopersist, allow.noraw_sockets), or meta/env key. */
export function lookupParam(name: string): ParamRef | undefined {
  const exact = BY_NAME.get(name);
  if (exact) return { type: "param", info: exact, negated: false };
  const dot = name.lastIndexOf(".");
  const head = name.slice(0, dot + 1);
  const last = name.slice(dot + 1);
  if (last.startsWith("no")) {
    const info = BY_NAME.get(head + last.slice(2));
    if (info && info.kind === "bool") return { type: "param", info, negated: true };
  }
  const m = /^(meta|env)\.(.+)$/.exec(name);
  if (m) return { type: "key", store: m[1] as "meta" | "env", key: m[2]! };
  return undefined;
}

/** Do two spellings denote one parameter (persist and nopersist, mount.devfs and mount.nodevfs)? */
export function sameParam(a: string, b: string): boolean {
  if (a === b) return true;
  const positive = (n: string): string | undefined => {
    const ref = lookupParam(n);
    return ref?.type === "param" && ref.negated ? ref.info.name : undefined;
  };
  return positive(a) === b || positive(b) === a;
}
