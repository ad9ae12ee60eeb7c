// sjls(1): a more featureful jls. sjls [-v] [-j jail] [--json] | sjls -p jail [--json] | sjls --watch [-i sec] [--count n]
import { usageError } from "../errors.js";
import { findJail, listJails, matchKey, reportUnusable, type JailRef, type Unusable } from "../manage/locate.js";
import { longForm, processTable, tableHeader, tableRow } from "../manage/sjlsformat.js";
import { jailInfo, jailProcesses } from "../manage/sjlsinfo.js";
import { watch } from "../manage/watch.js";
import { collectLeftovers } from "../manage/gc.js";
import { vis } from "../manage/vis.js";
import { stateDir } from "../registry/paths.js";
import { getopt } from "./getopt.js";
import { mainPathRan } from "./main.js";

const USAGE = `usage: sjls [-v] [-j jail] [--json]
       sjls -p jail [--json]
       sjls --watch [-i seconds] [--count n] [-j jail]
       sjls --gc [--json]
  Lists running jails with what the registry and the kernel know: owner, init pid, uptime,
  command, processes, memory and CPU used so far, id mapping, policy and limits.
  -v  the long form, one block per jail       -j  only this jail (jid or name)
  -p  the jail's processes: host pid and jail pid side by side, with their command lines
  --json  machine-readable output (an array)  --watch  a live table sorted by CPU (q quits)
  -i  seconds between --watch frames (default 2)   --count  stop after n frames
  --gc  remove what killed jails left (cgroups, registry files) and list it; jls, jail -r and
        a start with limits or addresses do the same without a word
  See sjls(1).`;

/** Parsed sjls command line. */
export interface SjlsArgs {
  verbose: boolean;
  json: boolean;
  jail?: string | undefined;
  procs?: string | undefined;
  watch: boolean;
  interval: number;
  count?: number | undefined;
  help: boolean;
  gc: boolean;
}

function positive(tool: string, what: string, v: string, integer: boolean): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw usageError(`${tool}: ${what} ${v}: expected a positive ${integer ? "integer" : "number"}`);
  return n;
}

/** Parses sjls's command line. */
export function parseSjls(argv: string[]): SjlsArgs {
  const { opts, rest } = getopt("sjls", argv, { flags: "hv", withValue: "jpi", longFlags: ["json", "watch", "help", "gc"], longWithValue: ["count", "interval"] });
  const a: SjlsArgs = { verbose: false, json: false, watch: false, interval: 2, help: false, gc: false };
  for (const o of opts) {
    switch (o.name) {
      case "h": case "help": a.help = true; break;
      case "v": a.verbose = true; break;
      case "j": a.jail = o.value; break;
      case "p": a.procs = o.value; break;
      case "json": a.json = true; break;
      case "watch": a.watch = true; break;
      case "gc": a.gc = true; break;
      case "i": case "interval": a.interval = positive("sjls", "interval", o.value!, false); break;
      case "count": a.count = positive("sjls", "--count", o.value!, true); break;
    }
  }
  if (rest.length) throw usageError(`sjls: unexpected operand '${rest[0]}' (see sjls -h)`);
  if (a.watch && (a.json || a.procs !== undefined)) throw usageError("sjls: --watch cannot be combined with --json or -p");
  if (a.gc && (a.watch || a.verbose || a.procs !== undefined || a.jail !== undefined)) throw usageError("sjls: --gc takes only --json");
  return a;
}

/** The sjls tool. */
export async function sjlsMain(argv: string[]): Promise<number> {
  const a = parseSjls(argv);
  if (a.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (a.gc) {
    const r = collectLeftovers(stateDir());
    if (a.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else {
      const lines = [
        ...r.cgroups.map((d) => `removed cgroup ${vis(d)}`),
        ...r.jails.map((j) => `removed registry files of jail ${j}`),
        ...r.busy.map((d) => `left cgroup ${vis(d)}: processes still inside`),
      ];
      process.stdout.write(lines.length ? `${lines.join("\n")}\n` : "nothing to remove\n");
    }
    return 0;
  }
  if (a.watch) {
    const jail = a.jail;
    await watch({
      interval: a.interval,
      count: a.count,
      filter: jail === undefined ? undefined : (r: JailRef) => matchKey([r], jail).length > 0,
    });
    return 0;
  }
  const unusable: Unusable[] = [];
  const all = listJails(undefined, { corrupt: true, unusable });
  reportUnusable("sjls", unusable, all);
  if (a.procs !== undefined) {
    const ref = findJail("sjls", a.procs, all);
    const procs = jailProcesses(ref);
    if (a.json) process.stdout.write(`${JSON.stringify(procs, null, 2)}\n`);
    else process.stdout.write(processTable(procs).map((l) => `${l}\n`).join(""));
    return 0;
  }
  const refs = a.jail !== undefined ? [findJail("sjls", a.jail, all)] : all;
  const now = Date.now();
  const infos = refs.map((r) => jailInfo(r, now));
  if (a.json) {
    process.stdout.write(`${JSON.stringify(infos, null, 2)}\n`);
  } else if (a.verbose) {
    process.stdout.write(infos.map((i) => longForm(i).join("\n")).join("\n\n") + (infos.length ? "\n" : ""));
  } else {
    process.stdout.write([tableHeader(), ...infos.map((i) => tableRow(i))].map((l) => `${l}\n`).join(""));
  }
  mainPathRan();
  return 0;
}
