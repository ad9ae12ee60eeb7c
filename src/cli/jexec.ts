// jexec(8): jexec [-lv] [-d dir] [-e name=value ...] [-u user | -U user] jail [command ...]
import { isatty } from "node:tty";
import { SysjailError, Exit, usageError } from "../errors.js";
import type { HelperRun } from "../helper/launch.js";
import { hostFacts } from "../host/facts.js";
import { enterContext, enterEnv, enterStatus, jailRoot, planEnter, resolveEnterUser, runEnter } from "../manage/enter.js";
import { isJailDir } from "../host/jailfile.js";
import { findJail } from "../manage/locate.js";
import { getopt } from "./getopt.js";
import { mainPathRan } from "./main.js";

const USAGE = `usage: jexec [-lv] [-d dir] [-e name=value ...] [-u user | -U user] jail [command ...]
  Runs COMMAND (default: the user's shell) in the running jail JAIL (jid or name), with the jail's
  root, namespaces, system-call policy, capabilities, no_new_privs and limits. Its stdio is a
  new pty of the jail on a terminal, else pipes, relayed by jexec: never jexec's own descriptors.
  -l  clean environment (HOME, SHELL, USER, TERM, PATH), starting in the user's home
  -v  at the end, the calls a pledged jail's policy refused the command (one line each)
  -d  working directory in the jail (default /)
  -e  set a variable in the command's environment (repeatable)
  -u  run as this user of the host's user database   -U  ... of the jail's user database
  See jexec(8).`;

/** Parsed jexec command line. */
export interface JexecArgs {
  jail: string;
  command: string[];
  clean: boolean;
  cwd?: string | undefined;
  env: Record<string, string>;
  user?: { name: string; from: "host" | "jail" } | undefined;
  /** -v: print the refused calls at the end (a pledged jail's listener saw them). */
  verbose?: boolean | undefined;
}

/** Parses jexec's command line ("help" for -h). */
export function parseJexec(argv: string[]): JexecArgs | "help" {
  const { opts, rest } = getopt("jexec", argv, { flags: "lhnv", withValue: "deuU", longFlags: ["help"] });
  let clean = false;
  let verbose = false;
  let cwd: string | undefined;
  const env: Record<string, string> = {};
  let user: JexecArgs["user"];
  for (const o of opts) {
    switch (o.name) {
      case "h": case "help": return "help";
      case "n": break; // FreeBSD: accepted, unused
      case "l": clean = true; break;
      case "v": verbose = true; break;
      case "d": cwd = o.value!; break;
      case "e": {
        const eq = o.value!.indexOf("=");
        if (eq <= 0) throw usageError(`jexec: -e ${o.value}: expected name=value`);
        env[o.value!.slice(0, eq)] = o.value!.slice(eq + 1);
        break;
      }
      case "u": case "U":
        if (user && user.from !== (o.name === "u" ? "host" : "jail")) throw usageError("jexec: -u and -U cannot be used together");
        user = { name: o.value!, from: o.name === "u" ? "host" : "jail" };
        break;
    }
  }
  if (rest.length < 1) throw usageError("jexec: missing jail (usage: jexec [-lv] [-d dir] [-e name=value ...] [-u user | -U user] jail [command ...])");
  if (cwd !== undefined && !cwd.startsWith("/")) throw usageError(`jexec: -d ${cwd}: must be an absolute path in the jail`);
  const [jail, ...command] = rest as [string, ...string[]];
  return { jail, command, clean, cwd, env, user, ...(verbose ? { verbose } : {}) };
}

/** The jexec tool: resolves to the command's exit status (128+signal when it was killed). */
export async function jexecMain(argv: string[]): Promise<number> {
  const a = parseJexec(argv);
  if (a === "help") { process.stdout.write(`${USAGE}\n`); return 0; }
  const ref = findJail("jexec", a.jail);
  const { entry } = ref;
  const root = jailRoot(entry);
  const user = resolveEnterUser(entry, a.user?.name, a.user?.from ?? "jail", root);
  if (!user) {
    const where = a.user?.from === "host" ? "the host's" : "the jail's";
    throw new SysjailError(`jexec: ${a.user?.name}: no such user in ${where} user database`, { code: "ENOUSER", phase: "usage", exitCode: Exit.noUser });
  }
  // the shell: the jail's passwd for -U and jail root; a host user's shell may not exist in the jail
  const shell = a.user?.from === "host" ? "/bin/sh" : user.shell || "/bin/sh";
  const argvIn = a.command.length ? a.command : [shell];
  const home = user.home || "/";
  const cwd = a.cwd ?? (a.clean && home !== "/" && isJailDir(root, home) ? home : "/");
  const facts = hostFacts();
  const ctx = await enterContext(entry, ref.dirOwner, facts, ref.dir);
  // on a terminal, a new pty of the jail; else pipes: the helper relays either way
  const stdio = isatty(0) && isatty(1) ? "pty" : "pipe";
  const plan = planEnter(entry, { argv: argvIn, user, env: enterEnv(process.env, a.clean, user, a.env), cwd, stdio }, ctx);
  // root entering a user's jail: the host's supplementary groups must not come along (a rootless
  // jail cannot set its own), so the entered process holds exactly what the jail's processes hold
  if (facts.uid === 0 && ctx.ids.rootless) process.setgroups?.([]);
  let helper: HelperRun | undefined;
  const forward = (sig: NodeJS.Signals) => () => helper?.child?.kill(sig);
  const onInt = () => undefined; // the helper passes ^C on to the command (or the pty carries it)
  const onTerm = forward("SIGTERM");
  const onHup = forward("SIGHUP");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  process.on("SIGHUP", onHup);
  try {
    const ev = await runEnter(plan, "inherit", entry.path, (h) => (helper = h));
    mainPathRan();
    if (a.verbose && ev.calls.length) {
      const { denialsFor, denialLine } = await import("../jail/denials.js");
      for (const d of await denialsFor(entry.spec, ev.calls)) process.stderr.write(denialLine("jexec", d));
    }
    return enterStatus(ev);
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    process.off("SIGHUP", onHup);
  }
}
