#!/usr/bin/env node
// Builds the C helper (native/build/sysjail-helper) with the machine's C compiler, and the links
// native/build/TOOL to it for each command of package.json bin (the commands' native front). Run by
// `npm run build`, and by npm's install step when no prebuilt helper fits or one is built from
// source on request (scripts/install-native.mjs); and sjtest's attacker program
// (native/build/sjprobe, from native/probe).
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync, existsSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BASE_FLAGS, BUILD_DIR as outDir, REAPER_FLAGS, REAPER_SRC, ROOT as root, SRC_DIR as srcDir, linkTools, sources as relSources } from "./native-common.mjs";

const out = join(outDir, "sysjail-helper");
const cc = process.env.CC || "cc";

/** native/build/TOOL for each command of package.json bin: links to the helper, which is those
 * commands' front when started under their names (native/src/front.c). */
const ensureLinks = () => linkTools("sysjail-helper");

const probe = spawnSync(cc, ["--version"], { stdio: "ignore" });
if (probe.error || probe.status !== 0) {
  console.error(`sysjail: no C compiler found ('${cc}'); install one (Debian: apt-get install gcc libc6-dev) and run npm rebuild`);
  process.exit(1);
}
const sources = relSources().map((f) => join(root, f));
const inputs = [...sources, ...readdirSync(srcDir).filter((f) => f.endsWith(".h")).map((f) => join(srcDir, f))];
const fresh = (file, from) => existsSync(file) && !process.argv.includes("--force") && from.every((f) => statSync(f).mtimeMs < statSync(file).mtimeMs);

/** native/build/sjprobe: sjtest's attacker program, static so it runs in any jail root. */
function buildProbe() {
  const src = join(root, "native", "probe", "sjprobe.c");
  const probeOut = join(outDir, "sjprobe");
  if (fresh(probeOut, [src])) return;
  mkdirSync(outDir, { recursive: true });
  const tmpProbe = `${probeOut}.${process.pid}.tmp`;
  // static (it runs in jail roots that hold nothing else); sjtest alone needs it, so a C library
  // without a static flavour costs only a warning and a dynamic probe (path=/ jails still work)
  for (const link of ["-static-pie", "-static", "-pie"]) {
    const pr = spawnSync(cc, ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-fPIE", link, "-o", tmpProbe, src], { stdio: ["ignore", "ignore", "pipe"] });
    if (pr.status === 0) {
      renameSync(tmpProbe, probeOut);
      if (link === "-pie") console.error("sysjail: sjtest's probe is dynamically linked (no static C library; Debian: libc6-dev): sjtest's tests in jail roots of their own will fail");
      return;
    }
  }
  rmSync(tmpProbe, { force: true });
  console.error("sysjail: cannot build sjtest's probe (native/probe/sjprobe.c); sjtest will fail its system-call tests");
}

/** native/build/sysjail-reaper: what an idle OCI container's monitor becomes (ocimon.c, handover.c); without
 * it the monitor stays whole (more memory, nothing else lost), so a failure is only a warning. */
function buildReaper() {
  const src = join(root, REAPER_SRC);
  const reaperOut = join(outDir, "sysjail-reaper");
  if (fresh(reaperOut, [src])) return;
  mkdirSync(outDir, { recursive: true });
  const tmpReaper = `${reaperOut}.${process.pid}.tmp`;
  const rr = spawnSync(cc, [...REAPER_FLAGS, "-o", tmpReaper, src], { stdio: "inherit" });
  if (rr.status === 0) renameSync(tmpReaper, reaperOut);
  else {
    rmSync(tmpReaper, { force: true });
    console.error("sysjail: cannot build sysjail-reaper (native/reaper/reaper.c); idle OCI monitors stay whole");
  }
}

/** native/build/sysjail-restrict.node: the Node addon behind restrict() (src/lib/restrict.ts). */
function buildAddon(quiet = false) {
  const src = join(root, "native", "addon", "restrict.c");
  const addonOut = join(outDir, "sysjail-restrict.node");
  if (fresh(addonOut, [src])) return;
  mkdirSync(outDir, { recursive: true });
  const tmpAddon = `${addonOut}.${process.pid}.tmp`;
  const ar = spawnSync(cc, ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-fPIC", "-shared", "-fvisibility=hidden", "-o", tmpAddon, src], { stdio: quiet ? "ignore" : "inherit" });
  if (ar.status === 0) renameSync(tmpAddon, addonOut);
  else {
    rmSync(tmpAddon, { force: true });
    if (!quiet) console.error("sysjail: cannot build the restrict() addon (native/addon/restrict.c); restrict() will fail");
  }
}

// npm's install step with a prebuilt helper: only the addon, best effort and quiet (restrict()
// names the missing addon when called)
if (process.argv.includes("--addon-only")) {
  buildAddon(true);
  process.exit(0);
}

if (existsSync(out) && statSync(out).isFile() && fresh(out, inputs)) {
  ensureLinks();
  buildReaper();
  buildProbe();
  buildAddon();
  process.exit(0);
}
mkdirSync(outDir, { recursive: true });
const flags = [...BASE_FLAGS];
// static-pie when the C library allows it: no dynamic loader work at each jail start
const staticOk = spawnSync(cc, ["-static-pie", "-x", "c", "-o", "/dev/null", "-"], { input: "int main(void){return 0;}" }).status === 0;
flags.push(staticOk ? "-static-pie" : "-pie");
// the front runs `node` from PATH, as `#!/usr/bin/env node` would; this Node when PATH has none
flags.push(`-DSJ_NODE=${JSON.stringify(process.execPath)}`);
// an installed package (no test/ directory) gets a release helper: no fault injection (helper.h)
if (!existsSync(join(root, "test"))) flags.push("-DSJ_RELEASE");
// build aside and rename into place: a jail starting meanwhile never runs a half-written helper
const tmp = `${out}.${process.pid}.tmp`;
const r = spawnSync(cc, [...flags, "-o", tmp, ...sources], { stdio: "inherit" });
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  console.error("sysjail: building the C helper failed (see the compiler output above)");
  process.exit(1);
}
renameSync(tmp, out);
ensureLinks();
buildReaper();
buildProbe();
buildAddon();
