// sjadopt(8): sjadopt [-r base | -n name] [-u] [--json] dir — shift a root-owned jail tree into one
// of sysjail's host id ranges (or back), so setuid files in it belong to an unprivileged host id.
import { Exit, SysjailError, usageError } from "../errors.js";
import { adoptTreeSync, unadoptTreeSync } from "../ids/adopt.js";
import { listLeases } from "../ids/leases.js";
import { blockBase, idPool } from "../ids/pool.js";
import { getopt } from "./getopt.js";
import { mainPathRan } from "./main.js";

const USAGE = `usage: sjadopt [-r base | -n name] [--json] dir
       sjadopt -u [--json] dir
       sjadopt -l [--json]
  Shifts every owner u (0-65535) of the tree dir to B+u, where B is the base of one of sysjail's
  host id ranges: a jail on the tree then maps jail ids 0-65535 onto B.., sees the tree as its
  own, and a setuid file in it belongs to an unprivileged host id. Symbolic links are never
  followed, the walk stays on dir's file system, set-id bits are kept and file capabilities
  dropped (set them again inside the jail). Running it again finishes an interrupted run.
  -r  this range base (default: a range leased to the tree)
  -n  the range leased to this jail name (the jail named so then shares it)
  -u  shift an adopted tree back to ids 0-65535, clear every set-id bit, end the tree's lease
  -l  list the leases of host id ranges (name, tree, ephemeral) with their ranges
  --json  print the result as JSON
  Exit status: 0 done, 64 usage, 65 an owner outside the range (nothing changed), 66 no such
  directory, 77 not root.`;

/** The sjadopt tool. */
export async function sjadoptMain(argv: string[]): Promise<number> {
  const { opts, rest } = getopt("sjadopt", argv, { flags: "hul", withValue: "rn", longFlags: ["json", "help"] });
  let base: number | undefined, name: string | undefined, undo = false, json = false, list = false;
  for (const o of opts) {
    switch (o.name) {
      case "h": case "help": process.stdout.write(`${USAGE}\n`); return 0;
      case "u": undo = true; break;
      case "l": list = true; break;
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
  if (list) {
    if (rest.length || undo || base !== undefined || name !== undefined) throw usageError("sjadopt: -l takes nothing else but --json (see sjadopt -h)");
    if ((process.getuid?.() ?? 0) !== 0) throw new SysjailError("sjadopt: only root's jails have leases", { code: "EPERM", phase: "usage", exitCode: Exit.noPerm });
    mainPathRan();
    return listMain(json);
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

function listMain(json: boolean): number {
  const pool = idPool();
  const rows = listLeases().filter((l) => l.block < pool.blocks).map((l) => ({ ...l, uid: blockBase(pool, l.block).uid, gid: blockBase(pool, l.block).gid, count: pool.size }));
  if (json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  process.stdout.write(`${"RANGE".padEnd(23)} ${"LEASE".padEnd(9)} KEY\n`);
  for (const r of rows) process.stdout.write(`${`${r.uid}-${r.uid + r.count - 1}`.padEnd(23)} ${r.kind.padEnd(9)} ${JSON.stringify(r.key)}\n`);
  return 0;
}

