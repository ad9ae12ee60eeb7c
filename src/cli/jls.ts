// jls(8): jls [-cdhNnqsv] [-j jail] [--json | --libxo json] [parameter ...]
import { SysjailError, usageError } from "../errors.js";
import { formatText, jsonDocument, jsonInstance, layoutOf, paramList, type JlsFormat } from "../manage/jlsformat.js";
import { listJails, matchKey, notFound, reportUnusable, type JailRef, type Unusable } from "../manage/locate.js";
import { getopt } from "./getopt.js";
import { mainPathRan } from "./main.js";

const USAGE = `usage: jls [-dhNnqsv] [-j jail] [--json | --libxo json] [parameter ...]
       jls -c -j jail
  -c  only check that the jail exists (exit 0) or not (exit 1)
  -d  also list dying jails (none on Linux: a jail is gone once its init is)
  -h  print a header line of parameter names    -N  show names instead of jids
  -n  print name=value pairs                    -q  quote values with spaces or empty
  -s  print parameters as jail -c takes them    -v  the multi-line layout
  -j  only this jail (jid or name)              --json, --libxo json  libxo JSON output
  parameters: jid name path host.hostname ip4.addr persist meta meta.KEY ... or all
  The state directory is $SYSJAIL_STATE_DIR, else /run/sysjail (root, who also sees every
  user's jails) or $XDG_RUNTIME_DIR/sysjail.
  See jls(8).`;

/** Parsed jls command line. */
export interface JlsArgs {
  format: JlsFormat;
  jail?: string | undefined;
  check: boolean;
  json: boolean;
  pretty: boolean;
  help: boolean;
}

/** Parses jls's options with FreeBSD's precedence (a later -h/-n/-s/-v overrides an earlier one). */
export function parseJls(argv: string[]): JlsArgs {
  let parsed: ReturnType<typeof getopt>;
  try {
    parsed = getopt("jls", argv, { flags: "acdhNnqsv", withValue: "j", longFlags: ["json", "help"], longWithValue: ["libxo"] });
  } catch (err) {
    // -h is jls's header flag: point at --help instead
    if (err instanceof SysjailError) throw usageError(err.message.replace("(see jls -h)", "(see jls --help)"));
    throw err;
  }
  const { opts, rest } = parsed;
  const f: JlsFormat = { verbose: false, names: false, header: false, nameval: false, quoted: false, skip: false, params: [] };
  const out: JlsArgs = { format: f, check: false, json: false, pretty: false, help: false };
  for (const o of opts) {
    switch (o.name) {
      case "a": case "d": break; // dying jails: there are none to add
      case "c": out.check = true; break;
      case "j": out.jail = o.value; break;
      case "h": f.header = true; f.skip = false; f.verbose = false; break;
      case "N": f.names = true; break;
      case "n": f.nameval = true; f.verbose = false; break;
      case "q": f.quoted = true; break;
      case "s": f.header = false; f.verbose = false; f.nameval = true; f.quoted = true; f.skip = true; break;
      case "v": f.header = false; f.nameval = false; f.skip = false; f.verbose = true; break;
      case "json": out.json = true; break;
      case "help": out.help = true; break;
      case "libxo": {
        const words = o.value!.split(/[,:]/).filter(Boolean);
        if (words.includes("json") || words.includes("J")) out.json = true;
        else if (!words.every((w) => ["text", "T", "pretty", "P", "warn", "W"].includes(w))) {
          throw usageError(`jls: --libxo ${o.value}: only json and text are supported`);
        }
        if (words.includes("pretty") || words.includes("P")) out.pretty = true;
        break;
      }
    }
  }
  f.params = rest;
  if (out.check && out.jail === undefined) throw usageError("jls: -c needs -j jail");
  return out;
}

/** The jls tool. */
export async function jlsMain(argv: string[]): Promise<number> {
  const a = parseJls(argv);
  if (a.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const unusable: Unusable[] = [];
  const all = listJails(undefined, { corrupt: true, unusable });
  if (!a.check) reportUnusable("jls", unusable, all);
  let refs: JailRef[] = all;
  if (a.jail !== undefined) {
    refs = matchKey(all, a.jail);
    const own = refs.filter((r) => r.own);
    if (own.length) refs = own.slice(0, 1);
    if (a.check) return refs.length ? 0 : 1;
    if (!refs.length) throw notFound("jls", a.jail);
  }
  const jails = refs.map((r) => r.entry);
  const defs = layoutOf(a.format) === "params"
    ? paramList(a.format, jails, (n) => {
      throw new SysjailError(`jls: unknown parameter: ${n}`, { code: "EUSAGE", phase: "usage", exitCode: 1 });
    })
    : [];
  if (a.json) process.stdout.write(jsonDocument(jails.map((e) => jsonInstance(e, a.format, defs)), a.pretty));
  else process.stdout.write(formatText(jails, a.format, defs));
  mainPathRan();
  return 0;
}
