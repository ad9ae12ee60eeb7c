// sjadopt(8): sjadopt [-r base | -n name] [-u] [--json] dir — shift a root-owned jail tree into one
// of sysjail's host id ranges (or back), so setuid files in it belong to an unprivileged host id.
import { usageError } from "../errors.js";
import { adoptTreeSync, unadoptTreeSync } from "../ids/adopt.js";
import { getopt } from "./getopt.js";
import { mainPathRan } from "./main.js";

const USAGE = `usage: sjadopt [-r base | -n name] [--json] dir
       sjadopt -u [--json] dir
  Shifts every owner u (0-65535) of the tree dir to B+u, where B is the base of one of sysjail's
  host id ranges: a jail on the tree then maps jail ids 0-65535 onto B.., sees the tree as its
  own, and a setuid file in it belongs to an unprivileged host id. Symbolic links are never
  followed, the walk stays on dir's file system, set-id bits are kept and file capabilities
  dropped (set them again inside the jail). Running it again finishes an interrupted run.
  -r  this range base (default: a range leased to the tree)
  -n  the range leased to this jail name (the jail named so then shares it)
  -u  shift an adopted tree back to ids 0-65535, clear every set-id bit, end the tree's lease
  --json  print the result as JSON
  Exit status: 0 done, 64 usage, 65 an owner outside the range (nothing changed), 66 no such
  directory, 77 not root.`;

/** The sjadopt tool. */
export async function sjadoptMain(argv: string[]): Promise<number> {
  const { opts, rest } = getopt("sjadopt", argv, { flags: "hu", withValue: "rn", longFlags: ["json", "help"] });
  let base: number | undefined, name: string | undefined, undo = false, json = false;
  for (const o of opts) {
    switch (o.name) {
      case "h": case "help": process.stdout.write(`${USAGE}\n`); return 0;
      case "u": undo = true; break;
      case "json": json = true; break;
      case "n": name = o.value!; break;
      case "r": {
        const v = o.value!;
        base = /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : NaN;
        if (!Number.isSafeInteger(base)) throw usageError(`sjadopt: -r ${JSON.stringify(v)}: a range base (a number) is needed`);
        break;
      }
      default: break;
    }
  }
  if (rest.length !== 1) throw usageError("sjadopt: exactly one directory is needed (see sjadopt -h)");
  if (undo && (base !== undefined || name !== undefined)) throw usageError("sjadopt: -u takes no -r or -n");
  mainPathRan();
  const r = undo ? unadoptTreeSync(rest[0]!) : adoptTreeSync(rest[0]!, { base, name });
  if (json) {
    process.stdout.write(`${JSON.stringify({ path: r.path, uid: r.base, gid: r.gidBase, count: r.count, changed: r.changed, cleared: r.cleared, adopted: !undo })}\n`);
  } else if (undo) {
    process.stdout.write(`sjadopt: ${JSON.stringify(r.path)}: owners ${r.base}-${r.base + r.count - 1} shifted back to 0-${r.count - 1} (${r.changed} entries, ${r.cleared} set-id bits cleared)\n`);
  } else {
    process.stdout.write(`sjadopt: ${JSON.stringify(r.path)}: owners 0-${r.count - 1} are now host uids ${r.base}-${r.base + r.count - 1}, gids ${r.gidBase}-${r.gidBase + r.count - 1} (${r.changed} entries)\n`);
  }
  return 0;
}
