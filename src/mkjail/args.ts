// mkjail's command line: mkjail [-c cachedir] [-s sets] [-d devs] [-n name] [--json] [-f] [--mirror URL] [--site-dir DIR] SOURCE DIR
import { usageError } from "../errors.js";
import { getopt } from "../cli/getopt.js";
import type { DevProfile, MkjailArgs, Source } from "./types.js";

/** mkjail's usage text. */
export const USAGE = `usage: mkjail [-f] [-c cachedir] [-s sets] [-d devs] [-n name] [--json] [--mirror URL]
              [--site-dir DIR] SOURCE DIR
  SOURCE: debian[:SUITE]         a Debian root (mmdebstrap, else debootstrap) from apt's configured mirror
          nano:PROG[,PROG...]    the programs, the libraries they load, a minimal /etc
          thin                   the host's /usr shared read-only; its own /etc, /var, /tmp, /root
          tar:FILE               a root file system tarball
          oci:DIR                an OCI image layout (layers in order, whiteouts honoured)
  -c cachedir  keep what a Debian build fetched; the same build again needs no network
  -s sets      comma-separated: base (always); debian only: ssh, init, dev; any source:
               site (SITEDIR/site.tgz) and sitelocal (SITEDIR/site-NAME.tgz, NAME: -n, else DIR's
               last component), laid over the tree; an executable /install.site in it then runs
               inside the new jail (jail root, no network, wall limit 600 s) and is removed
  --site-dir   SITEDIR, where the site tarballs are (default: the current directory)
  -d devs      device profile for the jail.conf block: base, ssh, http, all
  -n name      write /etc/jail.conf.d/NAME.conf for the new jail (without it the block is printed)
  -f           replace an existing non-empty DIR
  --json       JSON events on stdout; --mirror URL  use this Debian mirror instead of apt's
  The tree is built in DIR.partial and renamed to DIR when complete.
  See mkjail(1).`;

/** The sets a Debian build knows. */
export const DEBIAN_SETS = ["base", "ssh", "init", "dev"] as const;
/** The sets any source may name (src/mkjail/site.ts). */
export const SITE_SETS = ["site", "sitelocal"] as const;
const DEVS: DevProfile[] = ["base", "ssh", "http", "all"];
const SUITE = /^[a-z][a-z0-9.+-]{0,39}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function show(v: string): string {
  return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v);
}

/** Parses SOURCE. */
export function parseSource(s: string): Source {
  const colon = s.indexOf(":");
  const kind = colon < 0 ? s : s.slice(0, colon);
  const arg = colon < 0 ? undefined : s.slice(colon + 1);
  switch (kind) {
    case "debian": {
      const suite = arg ?? "bookworm";
      if (!SUITE.test(suite)) throw usageError(`mkjail: bad Debian suite ${show(suite)} (a name such as bookworm or trixie)`);
      return { kind: "debian", suite };
    }
    case "nano": {
      const programs = (arg ?? "").split(",").filter((p) => p !== "");
      if (programs.length === 0) throw usageError("mkjail: nano: needs programs, as nano:PROG[,PROG...]");
      for (const p of programs) if (p.includes("\0")) throw usageError(`mkjail: nano: bad program name ${show(p)}`);
      return { kind: "nano", programs };
    }
    case "thin":
      if (arg !== undefined) throw usageError("mkjail: thin takes no argument");
      return { kind: "thin" };
    case "tar":
    case "oci":
      if (!arg) throw usageError(`mkjail: ${kind}: needs a path, as ${kind}:${kind === "tar" ? "FILE" : "DIR"}`);
      return kind === "tar" ? { kind, file: arg } : { kind, dir: arg };
    default:
      throw usageError(`mkjail: unknown source ${show(s)} (debian[:SUITE], nano:PROG[,PROG...], thin, tar:FILE or oci:DIR)`);
  }
}

/** Parses the whole command line. */
export function parseMkjail(argv: string[]): MkjailArgs {
  const { opts, rest } = getopt("mkjail", argv, { flags: "fh", withValue: "csdn", longFlags: ["json", "help"], longWithValue: ["mirror", "site-dir"] });
  const out: MkjailArgs = { source: { kind: "thin" }, dir: "", sets: ["base"], json: false, force: false, help: false };
  for (const o of opts) {
    switch (o.name) {
      case "h": case "help": out.help = true; break;
      case "f": out.force = true; break;
      case "json": out.json = true; break;
      case "c": if (!o.value) throw usageError("mkjail: -c needs a directory"); out.cacheDir = o.value; break;
      case "s": {
        const sets = o.value!.split(",").filter((x) => x !== "");
        const known: readonly string[] = [...DEBIAN_SETS, ...SITE_SETS];
        for (const x of sets) if (!known.includes(x)) throw usageError(`mkjail: unknown set ${show(x)} (${known.join(", ")})`);
        out.sets = [...new Set(["base", ...sets])].sort();
        break;
      }
      case "d":
        if (!(DEVS as string[]).includes(o.value!)) throw usageError(`mkjail: unknown device profile ${show(o.value!)} (${DEVS.join(", ")})`);
        out.devs = o.value as DevProfile;
        break;
      case "n":
        if (!NAME.test(o.value!)) throw usageError(`mkjail: bad jail name ${show(o.value!)} (letters, digits, '_', '.', '-'; at most 64)`);
        out.name = o.value;
        break;
      case "site-dir":
        if (!o.value || o.value.includes("\0")) throw usageError("mkjail: --site-dir needs a directory");
        out.siteDir = o.value;
        break;
      case "mirror":
        if (!/^(https?|file):\/\/[^\s"'\\]+$/.test(o.value!)) throw usageError(`mkjail: bad mirror ${show(o.value!)} (an http://, https:// or file:// URL)`);
        out.mirror = o.value;
        break;
    }
  }
  if (out.help) return out;
  if (rest.length !== 2) throw usageError(`mkjail: needs SOURCE and DIR (see mkjail -h)`);
  out.source = parseSource(rest[0]!);
  if (rest[1] === "" || rest[1]!.includes("\0")) throw usageError("mkjail: DIR must be a path");
  out.dir = rest[1]!;
  if (out.source.kind !== "debian" && out.sets.some((s) => (DEBIAN_SETS as readonly string[]).includes(s) && s !== "base")) {
    throw usageError(`mkjail: -s ${out.sets.filter((s) => (DEBIAN_SETS as readonly string[]).includes(s) && s !== "base").join(",")}: debian sources only (any source: site, sitelocal)`);
  }
  return out;
}
