// JailSpec: the one validated description of a jail that the CLI, jail.conf and the library produce.

/** System-call policy options (sysjail(1) --allow-* flags, jail.conf allow.*, library). */
export interface PolicyOptions {
  /** --allow-raw-sockets / allow.raw_sockets: SOCK_RAW, IPPROTO_RAW, AF_PACKET. */
  allowRawSockets: boolean;
  /** --allow-all-domains / allow.socket_af: socket families beyond unix, inet, inet6, netlink-route. */
  allowAllDomains: boolean;
  /** --allow-ipc / allow.sysvipc: SysV IPC calls. */
  allowIpc: boolean;
  /** --allow-chflags / allow.chflags: FS_IOC_SETFLAGS and FS_IOC_FSSETXATTR. */
  allowChflags: boolean;
  /** --allow-rlimit: raising limits (see docs/POLICY.md for what this means on Linux). */
  allowRlimit: boolean;
  /** allow.set_hostname: sethostname from inside the jail (its own UTS namespace). */
  allowSetHostname: boolean;
  /** --allow-setuid / allow.setuid: no no_new_privs, so setuid programs of the jail's own (sudo,
   * passwd in an adopted tree) work inside; they grant at most jail root (docs/JAILS.md). */
  allowSetuid?: boolean;
  /** children.max > 0: the jail may make child jails (user namespaces, mounts and setns inside
   * its own user namespace; the kernel caps how many user namespaces it makes). */
  allowNesting?: boolean;
  /** Policy files added to (or replacing) the default policy, in order. */
  files: string[];
  /** Replace the default policy with the files instead of adding to it. */
  replaceDefault: boolean;
  /** --pledge / pledge / library `pledge`: OpenBSD promise names (src/seccomp/pledge.ts); the
   * calls they do not grant are refused after every other rule (docs/PLEDGE.md). */
  pledge?: string[];
}

/** One unveiled path (--unveil PATH:PERMS): a path inside the jail and OpenBSD's permissions
 * (r, w, x, c), enforced by Landlock in the jail's command (docs/PLEDGE.md). */
export interface UnveilSpec {
  path: string;
  perms: string;
}

/** Resource limits; absent fields are unlimited. Sizes in bytes, times in milliseconds. */
export interface Limits {
  memory?: number;
  swap?: number;
  pids?: number;
  cpu?: number;
  wall?: number;
  cpuShares?: number;
  cores?: number;
  openFiles?: number;
  fileSize?: number;
  tmpSize?: number;
  shmSize?: number;
}

/** An extra mount (jail.conf mount / mount.fstab lines, library mounts). */
export interface MountSpec {
  /** Host path for binds, or the filesystem source ("tmpfs", "proc"). */
  source: string;
  /** Path inside the jail. */
  target: string;
  type: "bind" | "tmpfs" | "proc";
  readonly: boolean;
  /** Filesystem options (tmpfs size=..., mode=...). */
  options: string[];
}

/** Which user the command runs as. */
export interface UserSpec {
  name: string;
  /** "host": -u, the host's user database; "jail": -U, the jail's. */
  from: "host" | "jail";
}

/** The validated jail description. */
export interface JailSpec {
  /** Absolute, canonical path of the jail's root directory. */
  path: string;
  hostname: string;
  /** Jail name; defaults to the jid. No dots. */
  name?: string;
  /** Root's jails: share another jail's host id range on purpose (a running jail's name or jid,
   * a jail name with a lease, or a range base of the pool); see docs/JAILS.md, Host ids. */
  idrange?: string;
  /** The command (argv) run in the jail; absent for a persistent jail with no process. */
  command?: string[];
  /** Environment of the command: exactly these variables. */
  env: Record<string, string>;
  /** -l: clean the environment to HOME, SHELL, USER, TERM, PATH. */
  cleanEnv: boolean;
  user?: UserSpec;
  /** Working directory inside the jail. */
  cwd?: string;
  ip4: string[];
  ip6: string[];
  vnet: boolean;
  policy: PolicyOptions;
  /** Paths the command may reach (Landlock); absent: the whole tree. */
  unveil?: UnveilSpec[];
  /** Run a kernel without Landlock anyway (with a warning) instead of refusing an unveil. */
  unveilBestEffort?: boolean;
  limits: Limits;
  /** The jail exists with no process until removed. */
  persist: boolean;
  /** The jail ends when its command ends, killing what is left (else: when every process has). */
  killOnExit: boolean;
  mounts: MountSpec[];
  /** devfs ruleset number for /dev (4 = the built-in jail ruleset). */
  devfsRuleset: number;
  /** Mount a procfs on /proc. */
  mountProc: boolean;
  /** Mount a devfs on /dev. */
  mountDev: boolean;
  /** Free-form key=value stores (jail.conf meta and env). */
  meta: Record<string, string>;
  /** Parameters recorded for jls -s / jail -c (jail.conf form), if any. */
  params?: Record<string, string | string[] | boolean>;
}

/** The default policy options: everything sysjail(1) denies stays denied. */
export function defaultPolicy(): PolicyOptions {
  return {
    allowRawSockets: false,
    allowAllDomains: false,
    allowIpc: false,
    allowChflags: false,
    allowRlimit: false,
    allowSetHostname: false,
    files: [],
    replaceDefault: false,
  };
}
