// sysjail(1): sysjail [-bdhilv] [-j dir] [-u user | -U user] [options] path hostname command [arg ...]
import { usageError } from "../errors.js";
import { planToJson } from "../plan/encode.js";
import { PROTOCOL } from "../plan/types.js";
import { baseSpec, checkHostname, checkPath, validateSpec } from "../spec/validate.js";
import type { JailSpec, UnveilSpec } from "../spec/types.js";
import { checkUnveil, parseUnveilArg } from "../spec/unveil.js";
import { parsePromises } from "../seccomp/promises.js";
import { getopt, type OptSpec } from "./getopt.js";
import { foreground, background, type CliRunOptions } from "./runjail.js";
import { dropFront } from "../helper/front.js";
import { VERSION } from "../version.js";
import { parseLimits } from "../limits/parse.js";
import { canonicalAddr } from "../net/addr.js";

const USAGE = `usage: sysjail [-bdhilv] [-j dir] [-u user | -U user] [-n name] [-4 addr] [-6 addr] [--vnet] [--allow-raw-sockets]
               [--allow-all-domains] [--allow-ipc] [--allow-chflags] [--allow-rlimit] [--allow-set-hostname]
               [--allow-setuid] [--policy file] [--pledge "promises"] [--unveil path:rwxc] [--learn file] [--limit k=v,...] [--report file|-] [--idrange jail|base] [--dry-run]
               path hostname command [arg ...]
       sysjail --policy-dump [-4 addr] [-6 addr] [--allow-...] [--policy file]
       sysjail doctor [--json] [feature ...]   (what this host lacks, and the fix)
  -b  run in the background (stdin/stdout/stderr to /dev/null) and return at once
  -d  debug: once for warnings, twice for a trace of the plan and each setup step
  -h  this help            -i  print the new jail's id        -v  print the version
  -j  state directory (default /run/sysjail, or $XDG_RUNTIME_DIR/sysjail when not root)
  -l  clean the environment to HOME, SHELL, USER, TERM and PATH (with -u or -U)
  -u  run as this user of the host's user database   -U  ... of the jail's user database
  -n  name the jail (default: its jid)
  -4  an IPv4 address of the jail (repeatable; the first is the one the wildcard and 127.0.0.1
      become); without -4 the jail has no IPv4 outside its own loopback. -6: the same for IPv6
  --vnet     the jail gets its own network stack and a veth pair to the host (see docs/NETWORK.md)
  --limit    memory=256M,pids=64,cpu=2s,wall=5s,nofile=,fsize=,cores=,tmp=,shm= (repeatable)
  --report   write the run report (JSON) to a file, or - for standard output (the command's
             standard output then goes to standard error)
  --allow-setuid  no no_new_privs: setuid programs of the jail's own ids (an adopted tree) work
  --idrange  root: share the host id range of this jail (name or jid) or range base (docs/JAILS.md)
  --pledge   OpenBSD promises ("stdio rpath inet ..."): calls outside them are refused (docs/PLEDGE.md)
  --unveil   path:perms (r w x c; repeatable): the command reaches only these paths (Landlock)
  --unveil-best-effort  run anyway, with a warning, where the kernel has no Landlock
  --learn    record every call the command makes and write (or merge into) a policy file allowing them
  --dry-run  print the plan as JSON and run nothing
  See sysjail(1); the library: sysjail(3).`;

const OPTS: OptSpec = {
  flags: "bdhilv",
  withValue: "juUn46",
  longFlags: ["allow-raw-sockets", "allow-all-domains", "allow-ipc", "allow-chflags", "allow-rlimit", "allow-set-hostname", "allow-setuid", "dry-run", "policy-dump", "replace-policy", "help", "version", "vnet", "unveil-best-effort"],
  longWithValue: ["policy", "limit", "report", "idrange", "pledge", "unveil", "learn"],
};

/** Parses sysjail's command line into a spec and run options. */
export function parseSysjail(argv: string[]): { spec?: JailSpec; run: CliRunOptions; action: "run" | "help" | "version" | "dump" } {
  const { opts, rest } = getopt("sysjail", argv, OPTS);
  const run: CliRunOptions = { tool: "sysjail", debug: 0, background: false, printJid: false, dryRun: false };
  const policy = baseSpec("/", "x").policy;
  const limits: JailSpec["limits"] = {};
  let user: JailSpec["user"];
  let clean = false;
  let name: string | undefined;
  let idrange: string | undefined;
  let action: "run" | "help" | "version" | "dump" = "run";
  const ip4: string[] = [], ip6: string[] = [];
  let vnet = false;
  const unveil: UnveilSpec[] = [];
  let unveilBestEffort = false;
  for (const o of opts) {
    switch (o.name) {
      case "b": run.background = true; break;
      case "d": run.debug++; break;
      case "h": case "help": action = "help"; break;
      case "v": case "version": action = "version"; break;
      case "i": run.printJid = true; break;
      case "l": clean = true; break;
      case "j": run.stateDir = o.value; break;
      case "n": name = o.value; break;
      case "u": case "U":
        if (user && user.from !== (o.name === "u" ? "host" : "jail")) throw usageError("sysjail: -u and -U cannot be used together");
        user = { name: o.value!, from: o.name === "u" ? "host" : "jail" };
        break;
      case "allow-raw-sockets": policy.allowRawSockets = true; break;
      case "allow-all-domains": policy.allowAllDomains = true; break;
      case "allow-ipc": policy.allowIpc = true; break;
      case "allow-chflags": policy.allowChflags = true; break;
      case "allow-rlimit": policy.allowRlimit = true; break;
      case "allow-set-hostname": policy.allowSetHostname = true; break;
      case "allow-setuid": policy.allowSetuid = true; break;
      case "policy": policy.files.push(o.value!); break;
      case "replace-policy": policy.replaceDefault = true; break;
      case "pledge": policy.pledge = [...new Set([...(policy.pledge ?? []), ...parsePromises(o.value!)])]; break;
      case "unveil": unveil.push(parseUnveilArg(o.value!)); break;
      case "unveil-best-effort": unveilBestEffort = true; break;
      case "dry-run": run.dryRun = true; break;
      case "limit": parseLimits(o.value!, limits); break;
      case "report": run.report = o.value!; break;
      case "learn": run.learn = o.value!; break;
      case "idrange": idrange = o.value!; break;
      case "policy-dump": action = "dump"; break;
      case "4": ip4.push(o.value!); break;
      case "6": ip6.push(o.value!); break;
      case "vnet": vnet = true; break;
    }
  }
  // FreeBSD's list: the first address is the one the wildcard and loopback become; duplicates go
  const addrs = (xs: string[], fam: 4 | 6) => [...new Set(xs.map((a) => canonicalAddr(a, fam, vnet)))];
  const net = { ip4: addrs(ip4, 4), ip6: addrs(ip6, 6), vnet };
  if (action !== "run") {
    const spec = baseSpec("/", "dump");
    spec.policy = policy;
    Object.assign(spec, net);
    return { spec, run, action };
  }
  if (clean && !user) throw usageError("sysjail: -l needs -u or -U");
  if (run.learn !== undefined && run.background) throw usageError("sysjail: --learn needs a foreground jail (not -b)");
  if (rest.length < 3) throw usageError(`sysjail: expected path, hostname and command (see sysjail -h)`);
  const [path, hostname, ...command] = rest as [string, string, ...string[]];
  checkHostname(hostname);
  const spec = baseSpec(checkPath(path), hostname);
  spec.command = command;
  spec.policy = policy;
  spec.limits = limits;
  spec.cleanEnv = clean;
  Object.assign(spec, net);
  spec.env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  if (user) spec.user = user;
  if (name !== undefined) spec.name = name;
  if (idrange !== undefined) spec.idrange = idrange;
  if (unveil.length) spec.unveil = checkUnveil(unveil, "--unveil");
  if (unveilBestEffort) spec.unveilBestEffort = true;
  return { spec: validateSpec(spec), run, action };
}

/** The sysjail tool. */
export async function sysjailMain(argv: string[]): Promise<number> {
  if (argv[0] === "doctor") {
    dropFront();
    const { doctorMain } = await import("./doctor.js");
    return doctorMain(argv.slice(1));
  }
  const { spec, run, action } = parseSysjail(argv);
  if (action !== "run" || run.dryRun || run.background) dropFront(); // only foreground() uses it
  if (action === "help") { process.stdout.write(`${USAGE}\n`); return 0; }
  if (action === "version") { process.stdout.write(`sysjail ${VERSION} (helper protocol ${PROTOCOL})\n`); return 0; }
  if (action === "dump") {
    const { dumpPolicy } = await import("./policydump.js");
    const { dumpNet } = await import("../net/dump.js");
    process.stdout.write((await dumpPolicy(spec!)) + dumpNet(spec!));
    return 0;
  }
  if (run.dryRun) {
    const { prepare } = await import("../jail/prepare.js");
    const prep = await prepare(spec!, { stateDir: run.stateDir, debug: run.debug, detach: run.background, dryRun: true });
    process.stdout.write(`${JSON.stringify(planToJson(prep.plan), null, 2)}\n`);
    return 0;
  }
  if (process.getuid?.() !== 0 && (spec!.ip4.length || spec!.ip6.length)) {
    const { findNetTool, rootlessNotice, tunProblem } = await import("../net/context.js");
    const tool = findNetTool();
    const problem = tool && tunProblem();
    if (!tool || problem || run.debug) process.stderr.write(`${rootlessNotice(tool, problem)}\n`);
  }
  return run.background ? background(spec!, run) : foreground(spec!, run);
}
