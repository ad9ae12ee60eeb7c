// jail(8)'s -c, -cm, -rc, -r and -e forms: which jails, in which order (depend), and what to do
// with each; creation is create.ts's sequence, removal src/manage's stop sequence.
import { vis } from "../manage/vis.js";
import { appendFileSync, writeFileSync } from "node:fs";
import { createOrder, removeOrder } from "../conf/depend.js";
import { findJailBlock, resolveJail } from "../conf/resolve.js";
import type { JailConf } from "../conf/parser.js";
import { SysjailError, usageError } from "../errors.js";
import { listJails, matchKey, reportUnusable, type JailRef, type Unusable } from "../manage/locate.js";
import { removeJail } from "../manage/remove.js";
import { parseJailCommand, USAGE, type JailCommand } from "./args.js";
import { runCreate, StepFailure, type CreateContext } from "./create.js";
import { stopHookRunner } from "./hooks.js";
import { configuredJails, defaultConfName, loadConfJail, loadParamJail, lookupKey, readConf, type LoadedJail } from "./load.js";
import { dropPersist, reaperMain, REAPER_FLAG } from "./persist.js";
import { exportLine, jidFileLine, reporter, type Reporter } from "./report.js";
import { updateJail } from "./update.js";

/** One jail to act on: loaded, and whether it was named or came in as a dependency. */
interface Target {
  jail: LoadedJail;
  dependency: boolean;
}

/** The running jail a key names (the caller's own first), if any. */
function running(key: string | undefined, corrupt = false): JailRef | undefined {
  if (key === undefined) return undefined;
  const hits = matchKey(listJails(undefined, { corrupt }), key);
  return hits.find((r) => r.own) ?? hits[0];
}

/** The jails of a -c/-cm/-rc: the parameters' one, or the configuration's (dependencies first). */
function targets(cmd: JailCommand, conf: JailConf | undefined): Target[] {
  if (cmd.form === "params") return [{ jail: loadParamJail(cmd.params), dependency: false }];
  if (!conf) throw usageError(`jail: ${cmd.confFile ?? defaultConfName()}: no such file (give parameters, or -f conf_file)`);
  const all = cmd.names.length === 0 || cmd.names.includes("*");
  const named = all ? configuredJails(conf) : cmd.names.map((n) => findJailBlock(conf, n)?.name ?? n);
  const order = cmd.op.create ? createOrder(conf, named) : named;
  return order.map((n) => ({ jail: loadConfJail(conf, n), dependency: !named.includes(n) }));
}

/** Creates one jail through the creation sequence; writes -J and drops persist afterwards. */
async function create(t: Target, cmd: JailCommand, out: Reporter): Promise<boolean> {
  const j = t.jail;
  const life = j.lifecycle;
  const ctx: CreateContext = {
    jail: j,
    opts: { stateDir: cmd.stateDir, printJid: cmd.printJid, out },
    hook: {
      name: j.label ?? "", jid: j.jid, path: j.spec.path, clean: life.clean, jailUser: life.jailUser,
      systemJailUser: life.systemJailUser, systemUser: life.systemUser, execTimeout: life.execTimeout, consoleLog: life.consoleLog,
    },
  };
  let ref: JailRef;
  try {
    ref = await runCreate(ctx);
  } catch (err) {
    if (err instanceof StepFailure) {
      out.warn(j.label, err.message);
      return false;
    }
    throw err;
  }
  if (cmd.jidFile !== undefined) appendFileSync(cmd.jidFile, jidFileLine(ref.entry.jid, j.resolved.params));
  if (!life.persist) await dropPersist(ref);
  return true;
}

/** Removes one running jail through src/manage's stop sequence, with this module's hook runner. */
async function remove(ref: JailRef, label: string, out: Reporter): Promise<boolean> {
  try {
    await removeJail(ref, { runHook: stopHookRunner(out.verbose, out.warn), warn: (l) => out.warn(undefined, l) });
  } catch (err) {
    // a failed hook was reported by the runner already
    if ((err as SysjailError).code !== "EHOOK") out.warn(undefined, (err as Error).message.replace(/^jail: /, ""));
    return false;
  }
  out.note(label, "removed");
  return true;
}

/** jail -r: named jails (with the ones that depend on them first), or '*' for every running one. */
async function removeMain(cmd: JailCommand, conf: JailConf | undefined, out: Reporter): Promise<number> {
  if (cmd.names.length === 0) throw usageError("jail: -r needs a jail (a name, a jid, or '*')");
  let status = 0;
  const seen = new Set<string>();
  const list: { ref: JailRef; label: string }[] = [];
  const add = (ref: JailRef, label: string) => {
    const k = `${ref.dir}\0${ref.entry.jid}`;
    if (!seen.has(k)) { seen.add(k); list.push({ ref, label }); }
  };
  for (const key of cmd.names) {
    if (key === "*") {
      const unusable: Unusable[] = [];
      const all = listJails(undefined, { corrupt: true, unusable });
      reportUnusable("jail", unusable, all);
      for (const r of all) add(r, r.entry.name);
      continue;
    }
    const order = conf && findJailBlock(conf, key) ? removeOrder(conf, [key]) : [key];
    for (const name of order) {
      const ref = running(lookupConfKey(conf, name), true);
      if (ref) add(ref, name);
      else if (name === key) {
        out.warn(undefined, `"${key}" not found`);
        status = 1;
      }
    }
  }
  for (const { ref, label } of list) if (!(await remove(ref, label, out))) status = 1;
  return status;
}

/** The running-jail key of a name on the command line: a configured jail's name/jid parameter. */
function lookupConfKey(conf: JailConf | undefined, name: string): string {
  if (!conf || !findJailBlock(conf, name)) return name;
  try {
    return lookupKey(loadConfJail(conf, name)) ?? name;
  } catch {
    return name;
  }
}

/** jail -e SEP: every configured jail's parameters on one line. */
function exportMain(cmd: JailCommand): number {
  const conf = readConf(cmd.confFile);
  if (!conf) throw usageError(`jail: ${cmd.confFile ?? defaultConfName()}: no such file`);
  for (const name of configuredJails(conf)) process.stdout.write(exportLine(resolveJail(conf, name).params, cmd.separator!));
  return 0;
}

/** What -c, -cm, -rc and -m do with one jail, given whether it runs; resolves to success. */
async function act(t: Target, cmd: JailCommand, out: Reporter): Promise<boolean> {
  const j = t.jail;
  const ref = running(lookupKey(j));
  const label = j.label ?? ref?.entry.name;
  const { create: c, modify: m, remove: r } = cmd.op;
  if (ref && t.dependency) return true; // a dependency that runs is left as it is
  if (ref && r) return (await remove(ref, label!, out)) && create(t, cmd, out);
  if (ref && m) {
    const fixed = await updateJail(ref, j);
    for (const f of fixed) out.warn(label, `${f} cannot be changed after creation`);
    if (fixed.length === 0) out.note(label, "updated");
    return fixed.length === 0;
  }
  if (ref) {
    out.warn(undefined, `"${label}" already exists`);
    return false;
  }
  if (!t.dependency && (r || (m && !c))) {
    out.warn(undefined, `"${j.label ?? lookupKey(j) ?? ""}" not found`);
    return false;
  }
  return create(t, cmd, out);
}

/** The jail tool for the -c, -cm, -rc, -r, -e and configuration -m forms; resolves to the exit status. */
export async function jailconfMain(argv: string[]): Promise<number> {
  if (argv[0] === REAPER_FLAG) return reaperMain(argv.slice(1));
  const cmd = parseJailCommand(argv);
  if (cmd.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (cmd.stateDir) process.env.SYSJAIL_STATE_DIR = cmd.stateDir;
  if (cmd.form === "export") return exportMain(cmd);
  const out = reporter(cmd.quiet, cmd.verbose);
  const conf = cmd.form === "conf" ? readConf(cmd.confFile) : undefined;
  if (cmd.op.remove && !cmd.op.create) return removeMain(cmd, conf, out);
  const list = targets(cmd, conf);
  if (cmd.jidFile !== undefined) writeFileSync(cmd.jidFile, "");
  const failed = new Set<string>();
  for (const t of list) {
    const j = t.jail;
    if (!cmd.quiet) for (const w of j.warnings) process.stderr.write(`jail: ${vis(w)}\n`);
    const deps = conf && Array.isArray(j.resolved.params.depend) ? j.resolved.params.depend : [];
    const broken = deps.find((d) => failed.has(findJailBlock(conf!, d)?.name ?? d));
    if (broken) out.warn(j.label, `not created: it depends on ${broken}, which failed`);
    if (broken || !(await act(t, cmd, out))) failed.add(j.label ?? "");
  }
  return failed.size ? 1 : 0;
}
