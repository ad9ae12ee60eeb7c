// mkjail(1): makes a jail's root tree (debian, nano, thin, tar, oci) in DIR.partial, renamed to DIR.
import { writeSync } from "node:fs";
import { basename, resolve } from "node:path";
import { adoptTree } from "../ids/adopt.js";
import { markThin } from "../jail/thin.js";
import { DEBIAN_SETS, parseMkjail, USAGE } from "../mkjail/args.js";
import { confBlock, writeConf } from "../mkjail/conf.js";
import { buildDebian, debianBuild } from "../mkjail/debian.js";
import { buildNano, nanoClosure } from "../mkjail/nano.js";
import { ociLayers, buildOci } from "../mkjail/oci.js";
import { buildTree, checkTarget } from "../mkjail/partial.js";
import { makeProgress } from "../mkjail/progress.js";
import { scrubTree } from "../mkjail/scrub.js";
import { laySite, runInstallSite, siteTarballs } from "../mkjail/site.js";
import { buildTar, checkTarball } from "../mkjail/tar.js";
import { buildThin } from "../mkjail/thin.js";
import { mainPathRan } from "./main.js";

/** mkjail's main: returns the exit status. */
export async function mkjailMain(argv: string[]): Promise<number> {
  const args = parseMkjail(argv);
  if (args.help) {
    writeSync(1, `${USAGE}\n`);
    return 0;
  }
  mainPathRan();
  const progress = makeProgress(args.json);
  const dir = resolve(args.dir);
  const root = (process.getuid?.() ?? 0) === 0;
  // everything that can be checked is checked before anything is made
  checkTarget(dir, args.force);
  const src = args.source;
  const site = siteTarballs(args.sets, args.siteDir ?? ".", args.name ?? basename(dir));
  const baseSets = args.sets.filter((s) => (DEBIAN_SETS as readonly string[]).includes(s));
  let fill: (tree: string) => Promise<void>;
  switch (src.kind) {
    case "nano": {
      const files = nanoClosure(src.programs);
      fill = (t) => buildNano(t, files, progress);
      break;
    }
    case "thin":
      fill = (t) => buildThin(t, progress);
      break;
    case "tar":
      checkTarball(src.file);
      fill = (t) => buildTar(t, resolve(src.file), progress);
      break;
    case "oci": {
      const layers = ociLayers(src.dir);
      fill = (t) => buildOci(t, resolve(src.dir), layers, progress);
      break;
    }
    case "debian": {
      const b = debianBuild(src.suite, baseSets, args.mirror);
      fill = (t) => buildDebian(t, b, args.cacheDir ? resolve(args.cacheDir) : undefined, progress);
      break;
    }
  }
  await buildTree(dir, args.force, async (t) => {
    await fill(t);
    if (site.length) await laySite(t, site, progress);
  }, async (tree) => {
    const removed = scrubTree(tree);
    if (removed) progress.step(`removed ${removed} device node(s): the jail's /dev is its own`);
    if (root) {
      progress.step("giving the tree to the jail's id range");
      const { base } = await adoptTree(tree, { rebase: true });
      progress.event({ ev: "adopted", base });
    }
    if (src.kind === "thin") markThin(tree, dir);
    // after adoption: install.site runs with the jail's real ids
    if (site.length && await runInstallSite(tree, progress)) progress.event({ ev: "install.site", ok: true });
  });
  const name = args.name ?? "NAME";
  const block = confBlock(name, dir, { sets: src.kind === "debian" ? baseSets : ["base"], devs: args.devs });
  let confFile: string | undefined;
  if (args.name) confFile = writeConf(args.name, block);
  progress.step(`done: ${dir}`, 100);
  if (args.json) progress.event({ ev: "done", path: dir, ...(confFile ? { conf: confFile } : { block }) });
  else if (!confFile) writeSync(1, block);
  return 0;
}
