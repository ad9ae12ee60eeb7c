// jail(8): the FreeBSD command. This file holds the legacy positional form
// `jail [-i] [-l -u user | -l -U user] path hostname ip-number command ...`.
import { usageError } from "../errors.js";
import { baseSpec, checkHostname, checkPath, validateSpec } from "../spec/validate.js";
import type { JailSpec } from "../spec/types.js";
import { jailForm } from "../jailconf/form.js";
import { canonicalAddr } from "../net/addr.js";
import { getopt } from "./getopt.js";
import { foreground, type CliRunOptions } from "./runjail.js";
import { dropFront } from "../helper/front.js";

const USAGE = `usage: jail [-i] [-l -u user | -l -U user] path hostname ip-number command ...
  ip-number: the jail's addresses, IPv4 and IPv6, separated by commas (as ip4.addr and ip6.addr:
             the first of each family is the one the wildcard and loopback become), or '-' for none
             (the jail gets a private network namespace with loopback only)
  See jail(8).`;

/** Parses the legacy positional form. */
export function parseLegacy(argv: string[]): { spec: JailSpec; run: CliRunOptions } | "help" {
  const { opts, rest } = getopt("jail", argv, { flags: "ilhd", withValue: "uUj" });
  const run: CliRunOptions = { tool: "jail", debug: 0, background: false, printJid: false, dryRun: false };
  let user: JailSpec["user"];
  let clean = false;
  for (const o of opts) {
    if (o.name === "h") return "help";
    if (o.name === "i") run.printJid = true;
    if (o.name === "d") run.debug++;
    if (o.name === "l") clean = true;
    if (o.name === "j") run.stateDir = o.value;
    if (o.name === "u" || o.name === "U") {
      if (user) throw usageError("jail: -u and -U cannot be used together");
      user = { name: o.value!, from: o.name === "u" ? "host" : "jail" };
    }
  }
  if (rest.length < 4) throw usageError("jail: expected path, hostname, ip-number and command (see jail -h)");
  const [path, hostname, ip, ...command] = rest as [string, string, string, ...string[]];
  if (clean && !user) throw usageError("jail: -l needs -u or -U");
  checkHostname(hostname);
  const spec = baseSpec(checkPath(path), hostname);
  if (ip !== "-") {
    for (const a of ip.split(",").map((x) => x.trim()).filter(Boolean)) {
      const fam = a.includes(":") ? 6 : 4;
      const list = fam === 4 ? spec.ip4 : spec.ip6;
      const c = canonicalAddr(a, fam, false);
      if (!list.includes(c)) list.push(c);
    }
    if (!spec.ip4.length && !spec.ip6.length) throw usageError(`jail: ip-number '${ip}': no address; use '-' for none`);
  }
  spec.command = command;
  spec.cleanEnv = clean;
  spec.env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  if (user) spec.user = user;
  return { spec: validateSpec(spec), run };
}

/** The jail tool. */
export async function jailMain(argv: string[]): Promise<number> {
  // -c, -cm, -rc, -r and -e: src/jailconf; -R and -m act on running jails: src/manage
  const { form, argv: args } = jailForm(argv);
  if (form === "jailconf" || form === "manage") dropFront(); // only foreground() uses it
  if (form === "jailconf") return (await import("../jailconf/main.js")).jailconfMain(args);
  if (form === "manage") return (await import("../manage/jailcmd.js")).jailManageMain(args);
  const parsed = parseLegacy(argv);
  if (parsed === "help") { dropFront(); process.stdout.write(`${USAGE}\n`); return 0; }
  return foreground(parsed.spec, parsed.run);
}
