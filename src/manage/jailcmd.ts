// jail(8)'s -r, -R and -m forms: jail -r jail... | jail -r '*' | jail -m jail|jid=N|name=X param=value...
import { vis } from "./vis.js";
import { usageError } from "../errors.js";
import { getopt } from "../cli/getopt.js";
import { findJail, listJails, matchKey, notFound, reportUnusable, type JailRef, type Unusable } from "./locate.js";
import { checkModifications, modifyJail, parseParamArgs, persistArg } from "./modify.js";
import { changePersist } from "../jailconf/persist.js";
import { removeJail } from "./remove.js";

/** The jail(8) options of the management forms ("-j dir": the state directory, as in the legacy form). */
const OPTS = { flags: "rRmdhqv", withValue: "j" };

/** jail -r/-R/-m; resolves to the exit status. */
export async function jailManageMain(argv: string[]): Promise<number> {
  const { opts, rest } = getopt("jail", argv, OPTS);
  let remove = false, force = false, modify = false, quiet = false, verbose = false;
  for (const o of opts) {
    if (o.name === "r") remove = true;
    if (o.name === "R") { remove = true; force = true; }
    if (o.name === "m") modify = true;
    if (o.name === "q") quiet = true;
    if (o.name === "v") verbose = true;
    if (o.name === "j") process.env.SYSJAIL_STATE_DIR = o.value!;
    if (o.name === "h") {
      process.stdout.write("usage: jail [-qv] -r jail ... | jail -r '*' | jail -R jail ...\n       jail [-qv] -m jail|jid=N|name=X param=value ...\n  See jail(8).\n");
      return 0;
    }
  }
  if (remove && modify) throw usageError("jail: -r and -m cannot be used together");
  return remove ? removeMain(rest, force, quiet) : modifyMain(rest, quiet, verbose);
}

async function removeMain(keys: string[], force: boolean, quiet: boolean): Promise<number> {
  if (keys.length === 0) throw usageError("jail: -r needs a jail (a jid, a name, or '*')");
  const unusable: Unusable[] = [];
  const all = listJails(undefined, { corrupt: true, unusable });
  reportUnusable("jail", unusable, all);
  const targets: JailRef[] = [];
  let status = 0;
  for (const key of keys) {
    if (key === "*") { targets.push(...all); continue; }
    const hits = matchKey(all, key);
    if (!hits.length) {
      process.stderr.write(`jail: "${vis(key)}" not found\n`);
      status = 1;
      continue;
    }
    try {
      targets.push(findJail("jail", key, all));
    } catch (err) {
      process.stderr.write(`${vis((err as Error).message)}\n`);
      status = 1;
    }
  }
  const unique = [...new Map(targets.map((t) => [`${t.dir}\0${t.entry.jid}`, t])).values()];
  // jails stop in parallel (each waits up to its own stop.timeout); each reports when it is gone
  await Promise.all(unique.map(async (ref) => {
    try {
      await removeJail(ref, { force });
      if (!quiet) process.stdout.write(`${vis(ref.entry.name)}: removed\n`);
    } catch (err) {
      process.stderr.write(`${(err as Error).message.startsWith("jail:") ? "" : "jail: "}${vis((err as Error).message)}\n`);
      status = 1;
    }
  }));
  return status;
}

async function modifyMain(operands: string[], quiet: boolean, _verbose: boolean): Promise<number> {
  let args = parseParamArgs(operands);
  let key: string | undefined;
  if (operands.length && !operands[0]!.includes("=")) {
    key = operands[0];
    args = args.slice(1);
  } else {
    const id = args.find((a) => a.name === "jid") ?? args.find((a) => a.name === "name");
    key = id?.raw;
    args = args.filter((a) => a !== id);
  }
  if (key === undefined || key === "") throw usageError("jail: -m needs a jail (a jid, a name, jid=N or name=X)");
  if (args.length === 0) throw usageError("jail: -m needs at least one param=value");
  const refs = listJails();
  if (!matchKey(refs, key).length) throw notFound("jail", key);
  const ref = findJail("jail", key, refs);
  checkModifications(ref.entry.name, args);
  let persist: boolean | undefined;
  for (const a of args) persist = persistArg(a) ?? persist;
  const rest = args.filter((a) => persistArg(a) === undefined);
  const done = rest.length ? await modifyJail(ref, rest) : ref;
  if (!quiet) process.stdout.write(`${vis(done.entry.name)}: updated\n`);
  // persist last: nopersist removes a jail that has no processes (FreeBSD does the same)
  if (persist !== undefined) await changePersist(done, persist);
  return 0;
}
