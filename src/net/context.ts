// Which network a jail gets, and what the host offers for it: the decision (pure) and the look-up
// of the host (cgroup2 mount, user-mode networking tools), done once before planning.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { detectCgroups } from "../cgroup/detect.js";
import { SysjailError, Exit } from "../errors.js";
import type { JailEntry } from "../registry/types.js";
import type { JailSpec } from "../spec/types.js";
import { checkConflicts } from "./conflict.js";
import { netMode, type NetMode } from "./mode.js";

/** True on a little-endian machine (what node:os endianness() says, without loading node:os,
 * about 0.4 ms). */
function littleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

export { netMode, type NetMode };

/** A user-mode networking tool for rootless jails. */
export interface NetTool {
  name: "pasta" | "slirp4netns";
  path: string;
}

/** What the planner needs to know about the host for the jail's network. */
export interface NetContext {
  mode: NetMode;
  /** shared: the jail's cgroup v2 directory, where the programs are attached. */
  cgroupDir?: string;
  /** vnet: the host end of the veth pair. */
  hostIf?: string;
  /** vnet: host interfaces moved into the jail (vnet.interface), given back at the end. */
  moveIfs?: string[];
  /** private: the tool giving outbound connectivity, if one is installed and can work. */
  tool?: NetTool;
  /** private: why the installed tool cannot work here (then `tool` is unset). */
  toolProblem?: string;
}

/** The jail's end of its veth pair, as FreeBSD names a vnet jail's first epair end on Linux hosts. */
export const JAIL_IF = "eth0";
/** The host end of a vnet jail's veth pair (at most 15 bytes). */
export function hostIfName(jid: number | string): string {
  return `sj${String(jid).replace(/[^A-Za-z0-9]/g, "")}h`.slice(0, 15);
}

/** vnet.interface from a jail.conf-made spec (its recorded parameters). */
export function vnetInterfaces(spec: JailSpec): string[] {
  const v = spec.params?.["vnet.interface"];
  const list = Array.isArray(v) ? v : typeof v === "string" && v ? [v] : [];
  for (const n of list) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(n)) throw new SysjailError(`sysjail: vnet.interface '${n}': not an interface name`, { code: "EUSAGE", phase: "usage", exitCode: Exit.usage });
  }
  return list;
}

/** Where a tool is on PATH, if it is. */
function onPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** True when the caller's network namespace has a default route (IPv4 or IPv6): pasta copies
 * the jail's address and routes from that interface and refuses to start without one. */
export function hasDefaultRoute(): boolean {
  try {
    // /proc/net/route: Iface Destination Gateway ... Mask (hex); a default route has both zero
    for (const line of readFileSync("/proc/net/route", "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 7 && f[1] === "00000000" && f[7] === "00000000") return true;
    }
  } catch {
    /* no IPv4 table */
  }
  try {
    // /proc/net/ipv6_route: destination prefix-length ... device; ::/0 not on lo
    for (const line of readFileSync("/proc/net/ipv6_route", "utf8").split("\n")) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && /^0{32}$/.test(f[0]!) && f[1] === "00" && f[9] !== "lo") return true;
    }
  } catch {
    /* no IPv6 */
  }
  return false;
}

/** Why user-mode networking cannot work for this caller, or undefined: the tools create a tap
 * device in the jail's namespace through /dev/net/tun (udev makes it mode 0666). */
export function tunProblem(): string | undefined {
  try {
    accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "EIO";
    return code === "ENOENT"
      ? "/dev/net/tun is missing (modprobe tun)"
      : `/dev/net/tun is not readable and writable for this user (${code}; udev's default mode is 0666)`;
  }
}

/** The user-mode networking tool for a rootless jail: pasta when installed and the host has a
 * default route to copy (it needs one), else slirp4netns (which needs none), else pasta anyway;
 * undefined when neither is on PATH. */
export function findNetTool(path = process.env.PATH ?? "", defaultRoute: () => boolean = hasDefaultRoute): NetTool | undefined {
  const pasta = onPath("pasta", path), slirp = onPath("slirp4netns", path);
  if (pasta && (!slirp || defaultRoute())) return { name: "pasta", path: pasta };
  if (slirp) return { name: "slirp4netns", path: slirp };
  return undefined;
}

/** One line for a rootless caller giving addresses: what their jail gets and what is missing. */
export function rootlessNotice(tool: NetTool | undefined, problem?: string): string {
  if (tool && problem) return `sysjail: not root: the jail gets a private network with its addresses on loopback only; ${tool.name} cannot give it outbound traffic: ${problem}`;
  return tool
    ? `sysjail: not root: the jail gets a private network with its addresses on loopback; outbound traffic goes through ${tool.name}`
    : "sysjail: not root: the jail gets a private network with its addresses on loopback only; install pasta (passt) or slirp4netns for outbound connectivity";
}

function cgroupInUse(dir: string): boolean {
  try {
    return readFileSync(join(dir, "cgroup.procs"), "utf8").trim() !== "";
  } catch {
    return false;
  }
}

/** Options of prepareNet. */
export interface PrepareNetOptions {
  uid: number;
  jid: number;
  /** The jail's instance name (src/registry/instance.ts): names its cgroup and host link. */
  instance?: string | undefined;
  /** Live jails of the same registry, for the address-conflict rule (asked only when needed). */
  others?: () => readonly JailEntry[];
  /** Plan only: create nothing. */
  dryRun?: boolean;
  /** Where cgroup file systems are mounted (tests). */
  cgroupRoot?: string;
}

/** Looks at the host for a jail's network and makes the shared parent cgroup exist. Throws a
 * SysjailError when the jail's addresses cannot be had or enforced. */
export function prepareNet(spec: JailSpec, opts: PrepareNetOptions): NetContext {
  const mode = netMode(spec, opts.uid);
  if (mode === "none") return { mode };
  checkConflicts(spec, mode, opts.others?.() ?? []);
  if (mode === "private") {
    const tool = findNetTool();
    const problem = tool && tunProblem();
    return tool && !problem ? { mode, tool } : problem ? { mode, toolProblem: `${tool!.name}: ${problem}` } : { mode };
  }
  if (mode === "vnet") return { mode, hostIf: hostIfName(opts.instance ?? opts.jid), moveIfs: vnetInterfaces(spec) };
  if (!littleEndian()) {
    throw new SysjailError("sysjail: jail addresses on the shared stack are implemented for little-endian machines only", { code: "ENOTSUP", phase: "plan", exitCode: Exit.software });
  }
  const v2 = detectCgroups(opts.cgroupRoot ?? "/sys/fs/cgroup").v2?.path;
  if (!v2) {
    throw new SysjailError("sysjail: jail addresses on the shared stack need a cgroup2 hierarchy for their eBPF programs (mount -t cgroup2 none /sys/fs/cgroup/unified), or use --vnet", {
      code: "ENOTSUP", phase: "plan", exitCode: Exit.osErr,
    });
  }
  const base = join(v2, "sysjail");
  const dir = join(base, opts.instance ?? String(opts.jid));
  if (!opts.dryRun) {
    try {
      mkdirSync(base, { recursive: true, mode: 0o755 });
      if (existsSync(dir)) {
        if (cgroupInUse(dir)) throw Object.assign(new Error("busy"), { code: "EBUSY" });
        rmdirSync(dir); // left by a jail whose monitor was killed: its programs go with it
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "EIO";
      throw new SysjailError(`sysjail: cannot prepare the jail's cgroup ${dir}: ${code}`, { code, phase: "plan", path: dir, exitCode: Exit.cantCreate, cause: err });
    }
  }
  return { mode, cgroupDir: dir };
}
