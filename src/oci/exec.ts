// exec: another process in a running container, through sysjail's enter plan (the jail's own
// namespaces, cgroups, policy and filter), with the container's own filter stacked on top.
import { readFileSync } from "node:fs";
import { errnoName, SysjailError } from "../errors.js";
import { HelperRun, stepError } from "../helper/launch.js";
import { enterContext, planEnter, JAIL_ROOT } from "../manage/enter.js";
import { op, PlanFlag } from "../plan/types.js";
import { checkJsonBound, checkProcess, ociError, type OciProcess } from "./config.js";
import { addHome } from "./home.js";
import { consoleSocket, containerFilter, jailEntry, type Globals } from "./lifecycle.js";
import { readRecord, statusOf, type OciRecord } from "./state.js";
import { patchProcess, processPatch } from "./translate.js";
import { writePidFile } from "./pidfile.js";

/** exec's options. */
export interface ExecArgs {
  id: string;
  processFile?: string | undefined;
  args: string[];
  env: string[];
  cwd?: string | undefined;
  user?: string | undefined;
  detach: boolean;
  pidFile?: string | undefined;
  tty: boolean;
  consoleSocket?: string | undefined;
  /** --no-new-privs (without --process). */
  noNewPrivs?: boolean | undefined;
  /** --apparmor and --process-label (without --process): warned about, as config.json's are. */
  apparmor?: string | undefined;
  processLabel?: string | undefined;
  /** runc's other exec options given, which sysjail-oci does not apply (each named in a warning). */
  unapplied?: string[] | undefined;
}

/** The process to start: --process's, or one from the command line on the container's own user,
 * capabilities, rlimits and noNewPrivileges (BASE, its record's), as runc's exec: the person running
 * exec gives the container's code no privilege its config.json did not. A record without BASE
 * (an older sysjail-oci's) gets runc's default capabilities, as before. */
function processOf(a: ExecArgs, base: OciRecord["process"]): OciProcess {
  if (a.processFile) {
    let text: string;
    try {
      text = readFileSync(a.processFile, "utf8");
    } catch (err) {
      throw ociError(`--process ${a.processFile}: ${(err as NodeJS.ErrnoException).code ?? "EIO"}`);
    }
    checkJsonBound(text, `--process ${a.processFile}`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw ociError(`--process ${a.processFile}: not valid JSON`);
    }
    return checkProcess(raw, `--process ${a.processFile}`);
  }
  if (!a.args.length) throw ociError("exec: a command (or --process) is needed", "EUSAGE");
  const m = a.user ? /^(\d+)(?::(\d+))?$/.exec(a.user) : null;
  if (a.user && !m) throw ociError(`--user ${JSON.stringify(a.user)}: uid[:gid] (numbers) is needed`, "EUSAGE");
  return {
    args: a.args, env: a.env.length ? a.env : ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], cwd: a.cwd ?? "/",
    user: m ? { uid: Number(m[1]), gid: m[2] ? Number(m[2]) : 0 } : base?.user ?? { uid: 0, gid: 0 },
    ...(a.noNewPrivs || base?.noNewPrivileges === true ? { noNewPrivileges: true } : {}),
    ...(base?.rlimits ? { rlimits: base.rlimits } : {}),
    ...(a.apparmor ? { apparmorProfile: a.apparmor } : {}),
    ...(a.processLabel ? { selinuxLabel: a.processLabel } : {}),
    capabilities: base ? base.capabilities ?? {} : { bounding: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"] },
  };
}

/** Runs the process in the container; with DETACH returns once it runs (its pid in --pid-file
 * is the helper that waits for it and exits with its status), else with its status. */
export async function exec(g: Globals, a: ExecArgs): Promise<number> {
  const rec = readRecord(g.root, a.id);
  const st = statusOf(g.root, rec);
  if (st !== "running") throw ociError(`container ${a.id} is ${st}: exec needs a running container`);
  const p = processOf(a, rec.process);
  // nothing asked for is dropped silently (with --process these come from its JSON)
  for (const o of a.unapplied ?? []) g.warn(`exec ${o}: not applied by sysjail-oci`);
  const tty = p.terminal === true || a.tty;
  if (a.consoleSocket && !tty) throw ociError(`exec: --console-socket ${a.consoleSocket} needs --tty (or process.terminal)`);
  if (tty && a.detach && !a.consoleSocket) throw ociError("exec: --tty with --detach needs --console-socket (the engine receives the terminal there)");
  const console = tty && a.consoleSocket ? consoleSocket(true, a.consoleSocket) : undefined;
  if (!p.args?.length) throw ociError("exec: process.args is empty");
  const entry = jailEntry(rec);
  const ctx = await enterContext(entry, 0);
  const env: Record<string, string> = {};
  for (const kv of p.env ?? []) { const i = kv.indexOf("="); if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1); }
  addHome(env, p.user?.uid ?? 0, { pid: entry.initPid, start: entry.initStart }, g.warn);
  // the engine's own descriptors stay outside: the helper relays them (no descriptor of the caller enters)
  const plan = planEnter(entry, { argv: p.args, env, cwd: p.cwd ?? "/", user: JAIL_ROOT, stdio: tty && !console ? "pty" : "pipe", jailProcess: true }, ctx);
  let ops = patchProcess(plan.ops, processPatch(p, g.warn), ctx.ids);
  if (rec.seccompPolicy) {
    const f = await containerFilter(entry.spec, rec.seccompPolicy);
    ops = ops.flatMap((o) => (o.op === "seccomp" ? [o, op("seccomp", [f.flags, f.program], "the container's own seccomp profile, stacked")] : [o]));
  }
  // with the engine's console socket the command's pty is made as for create (op console); --tty
  // alone: the helper's relay makes one of the jail's devpts, as jexec does
  if (console) ops.push(op("console", [console, p.consoleSize?.height ?? 0, p.consoleSize?.width ?? 0], "exec --console-socket"));
  const h = new HelperRun({ ...plan, flags: plan.flags | PlanFlag.oci, ops }, "inherit", a.detach);
  for (;;) {
    const ev = await h.next();
    if (!ev) throw ociError("exec: the helper ended without a report");
    if (ev.ev === "error") throw ev.step === "exec" ? execError(ev.errno, ev.path) : stepError(ev, entry.path);
    if (ev.ev === "ready") {
      if (a.pidFile) writePidFile(a.pidFile, h.child?.pid ?? 0);
      if (a.detach) { h.release(); return 0; }
    }
    if (ev.ev === "exit") {
      // the helper joined the container's cgroups from the host's pid namespace: exec returns once
      // it is gone (as runc exec's own process is), so that the engine's next look at the cgroup
      // (ps, pause, delete) finds the container's processes only
      await h.exited();
      return ev.cmdCode >= 0 ? ev.cmdCode : 128 + ev.cmdSignal;
    }
  }
}

/** A command exec could not run, worded as runc's (engines read the words: podman exec exits 127
 * for "no such file or directory", 126 for "permission denied") with the shell's status. */
export function execError(errno: number, file: string): SysjailError {
  const why = errno === 2 ? "no such file or directory" : errno === 13 ? "permission denied" : errno === 8 ? "exec format error" : `${errnoName(errno)}`;
  return new SysjailError(`exec ${JSON.stringify(file)}: ${why}`, { code: errnoName(errno), phase: "exec", step: "exec", errno, path: file, exitCode: errno === 2 ? 127 : 126 });
}
