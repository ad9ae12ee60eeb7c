// The jail(8) command line of the -c, -m, -r, -cm, -rc and -e forms: options, then jail names
// (the configuration form) or param=value arguments (the parameter form).
import { usageError } from "../errors.js";
import { getopt } from "../cli/getopt.js";
import { parseParamArgs, type ParamArg } from "../conf/cli.js";
import type { SourcePos } from "../conf/errors.js";

/** jail(8)'s usage text for these forms. */
export const USAGE = `usage: jail [-dhilqv] [-J jid_file] [-u user | -U user] -[cm] param=value ... [command=command ...]
       jail [-dqv] [-f conf_file] -[cmr] [jail]
       jail [-qv] [-f conf_file] -[rR] ['*' | jail ...]
       jail [-f conf_file] -e separator
       jail [-i] [-l -u user | -l -U user] path hostname ip-number command ...
  -c create   -m modify   -r remove   -cm create or modify   -rc restart   -R remove without hooks
  -f  the configuration (default /etc/jail.conf[.d])        -e  list the configured jails
  -i  print the new jail's jid   -J  write the parameters used to a file   -q  errors only
  -v  every step                 -l  clean environment (exec.clean)
  -u / -U  run commands in the jail as this user of the host's / the jail's user database
  -n  the jail's name            -j  the state directory (default $SYSJAIL_STATE_DIR or the usual)
  See jail(8) and jail.conf(5); docs/JAIL_CONF.md for the order in which the exec.* hooks run.`;

/** The operation: FreeBSD's JF_START, JF_SET and JF_STOP bits, as booleans. */
export interface JailOp {
  create: boolean;
  modify: boolean;
  remove: boolean;
}

/** A parsed jail(8) command line of the forms src/jailconf handles. */
export interface JailCommand {
  op: JailOp;
  /** "params": param=value arguments; "conf": jail names from the configuration; "export": -e. */
  form: "params" | "conf" | "export";
  /** -f; undefined means the default file, read when it exists. */
  confFile?: string | undefined;
  /** -e separator. */
  separator?: string | undefined;
  quiet: boolean;
  verbose: boolean;
  /** -i: print the jid of each created jail (and nothing else). */
  printJid: boolean;
  /** -J file. */
  jidFile?: string | undefined;
  /** -j dir: the state directory. */
  stateDir?: string | undefined;
  /** Jail names (or '*') of the configuration form; empty means every configured jail. */
  names: string[];
  /** Parameters: the options' (-l, -u, -U, -n, -s) first, then the param=value arguments. */
  params: ParamArg[];
  help: boolean;
}

function optPos(opt: string): SourcePos {
  return { file: `option -${opt}`, line: 1, col: 1 };
}

function optParam(opt: string, name: string, value?: string): ParamArg {
  const raw = value === undefined ? name : `${name}=${value}`;
  return { name, op: value === undefined ? "none" : "=", values: value === undefined ? [] : [value], pos: optPos(opt), raw };
}

/** Parses the command line (after the form was found to be one of these). */
export function parseJailCommand(argv: string[]): JailCommand {
  const { opts, rest } = getopt("jail", argv, { flags: "cdhilmqrRv", withValue: "fJuUnspej" });
  const cmd: JailCommand = {
    op: { create: false, modify: false, remove: false },
    form: "params", quiet: false, verbose: false, printJid: false, names: [], params: [], help: false,
  };
  const optParams: ParamArg[] = [];
  let noConf = false;
  for (const o of opts) {
    switch (o.name) {
      case "c": cmd.op.create = true; break;
      case "m": cmd.op.modify = true; break;
      case "r": cmd.op.remove = true; break;
      case "R": throw usageError("jail: -R is handled by jail -R alone (no -c or -m with it)");
      case "d": break; // allow.dying: a Linux jail is never left dying
      case "h": cmd.help = true; break;
      case "i": cmd.printJid = true; cmd.quiet = true; break;
      case "q": cmd.quiet = true; cmd.verbose = false; break;
      case "v": cmd.verbose = true; cmd.quiet = false; break;
      case "f": cmd.confFile = o.value; break;
      case "J": cmd.jidFile = o.value; break;
      case "j": cmd.stateDir = o.value; break;
      case "e": cmd.separator = o.value; break;
      case "p": break; // parallel limit: jails are handled one after another
      case "l": optParams.push(optParam("l", "exec.clean")); noConf = true; break;
      case "u": case "U":
        optParams.push(optParam(o.name, "exec.jail_user", o.value!));
        optParams.push(optParam(o.name, o.name === "u" ? "exec.system_jail_user" : "exec.nosystem_jail_user"));
        noConf = true;
        break;
      case "n": optParams.push(optParam("n", "name", o.value!)); noConf = true; break;
      case "s": optParams.push(optParam("s", "securelevel", o.value!)); noConf = true; break;
    }
  }
  if (cmd.help) return cmd;
  if (cmd.separator !== undefined) {
    if (cmd.op.create || cmd.op.modify || cmd.op.remove || rest.length) throw usageError("jail: -e takes no other operation and no jail names");
    cmd.form = "export";
    return cmd;
  }
  if (!cmd.op.create && !cmd.op.modify && !cmd.op.remove) throw usageError("jail: expected -c, -m or -r (see jail -h)");
  if (cmd.op.remove && cmd.op.modify && !cmd.op.create) throw usageError("jail: -r and -m cannot be used together");
  const paramForm = rest.length > 1 || (rest.length === 1 && rest[0]!.includes("="));
  if (cmd.op.remove && !cmd.op.create) {
    if (paramForm && rest.some((a) => a.includes("="))) throw usageError("jail: -r takes jail names, not parameters");
    if (noConf) throw usageError("jail: -l, -u, -U, -n and -s cannot be used with -r");
    cmd.form = "conf";
    cmd.names = rest;
    return cmd;
  }
  if (paramForm) {
    if (cmd.confFile !== undefined) throw usageError("jail: -f cannot be used with parameters on the command line");
    cmd.form = "params";
    cmd.params = [...optParams, ...parseParamArgs(rest)];
    return cmd;
  }
  if (noConf) throw usageError("jail: -l, -u, -U, -n and -s need parameters on the command line, not a configuration");
  cmd.form = "conf";
  cmd.names = rest;
  return cmd;
}
