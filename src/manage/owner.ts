// Who a jail's host-side commands run as: the jail's owner, whoever manages the jail.
//
// Security: a user's jail.conf hooks (exec.prestop, exec.poststop, exec.release, ...) live in the
// user's own registry entry, which the user can rewrite at will. When root removes or manages
// that jail (jail -r JID, jail -r '*'), running them as the caller would run the user's shell
// commands as root. So every host-side command of a jail runs as the jail's owner: its uid, the
// primary gid of its host passwd entry (its own uid when it has none), no supplementary groups
// (libuv calls setgroups(0) when it changes ids), a fresh environment (PATH, HOME, USER, LOGNAME,
// SHELL, TERM), the owner's home or / as its working directory (never the caller's), stdin on
// /dev/null and stdout/stderr through pipes the caller relays (escaped), so no descriptor of the
// caller (its terminal, its files) reaches the owner's processes. The owner is the uid that owns
// the state directory the entry was found in (checked with lstat, and the jail's uid_map must
// map only that uid): never a value read from the entry.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { lookupUser } from "../host/users.js";
import { vis } from "./vis.js";

/** The identity a host-side command of a jail runs as, when that is not the caller's own. */
export interface RunAs {
  uid: number;
  gid: number;
  name: string;
  home: string;
}

/** The identity to drop to for a jail owned by OWNER; undefined when the caller is the owner
 * (the hook then runs as the caller, with the caller's environment, as jail(8) does). */
export function runAsOwner(owner: number, me = process.getuid?.() ?? 0): RunAs | undefined {
  if (owner === me) return undefined;
  let u: ReturnType<typeof lookupUser>;
  try {
    u = lookupUser(String(owner), "/");
  } catch {
    u = undefined; // a uid the user database cannot hold (a jail's host id range): no row
  }
  const row = u && u.uid === owner ? u : undefined;
  let home = row?.home || "/";
  try {
    if (!lstatSync(home).isDirectory()) home = "/";
  } catch {
    home = "/";
  }
  return { uid: owner, gid: row ? row.gid : owner, name: row?.name ?? String(owner), home };
}

/** The whole environment of a command run as the owner: nothing of the caller's but TERM. */
export function ownerEnv(who: RunAs, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: "/usr/local/bin:/usr/bin:/bin", HOME: who.home, USER: who.name, LOGNAME: who.name, SHELL: "/bin/sh",
  };
  if (process.env.TERM && /^[A-Za-z0-9._+-]{1,64}$/.test(process.env.TERM)) env.TERM = process.env.TERM;
  return { ...env, ...extra };
}

/** Copies a child's output to one of ours, escaped (vis) line by line: an owner's command must
 * not drive the caller's terminal. */
export function relayEscaped(from: NodeJS.ReadableStream | null, to: NodeJS.WritableStream): void {
  if (!from) return;
  let pending = Buffer.alloc(0);
  const flush = (all: boolean) => {
    for (;;) {
      const nl = pending.indexOf(0x0a);
      if (nl < 0) break;
      to.write(`${vis(pending.subarray(0, nl))}\n`);
      pending = pending.subarray(nl + 1);
    }
    if (all && pending.length) {
      to.write(`${vis(pending)}\n`);
      pending = Buffer.alloc(0);
    }
  };
  from.on("data", (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    flush(pending.length > 65536);
  });
  from.on("end", () => flush(true));
}

/** Descriptors above 2 this process would pass on to a child: open without close-on-exec (left
 * by whoever started us; Node cannot mark them). Read from /proc/self/fdinfo's flags. */
export function inheritedFds(): number[] {
  const out: number[] = [];
  let names: string[];
  try {
    names = readdirSync("/proc/self/fd");
  } catch {
    return out;
  }
  for (const n of names) {
    const fd = Number(n);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0) out.push(fd);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/** The argv (arguments for LINE's $1... may follow) that runs LINE with sh after closing every inherited descriptor above 2 (bash can
 * close any number; dash only single digits). */
export function shArgv(line: string): string[] {
  const fds = inheritedFds();
  if (fds.length === 0) return ["/bin/sh", "-c", line, "sh"];
  return ["/bin/bash", "-c", `exec ${fds.map((f) => `${f}>&-`).join(" ")}; s=$1; shift; exec /bin/sh -c "$s" sh "$@"`, "bash", line];
}

/** Starts /bin/sh -c LINE as the owner: see the module comment for what it gets. */
export function spawnAsOwner(line: string, who: RunAs, env: Record<string, string>, detached = true): ChildProcess {
  const [file, ...args] = shArgv(line);
  const child = spawn(file!, args, {
    uid: who.uid, gid: who.gid, env, cwd: who.home, detached, stdio: ["ignore", "pipe", "pipe"],
  });
  relayEscaped(child.stdout, process.stdout);
  relayEscaped(child.stderr, process.stderr);
  return child;
}

/** Runs a small sh script as the owner, synchronously, with positional ARGS (file operations in
 * the owner's own directory: its permissions, not root's, decide what they may touch). */
export function shAsOwner(script: string, args: string[], who: RunAs, input?: string): number {
  const [file, ...rest] = shArgv(script);
  const r = spawnSync(file!, [...rest, ...args], {
    uid: who.uid, gid: who.gid, env: ownerEnv(who), cwd: "/", stdio: [input === undefined ? "ignore" : "pipe", "ignore", "ignore"],
    ...(input === undefined ? {} : { input }), timeout: 10_000,
  });
  return r.status ?? 1;
}
