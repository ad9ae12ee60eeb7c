#!/usr/bin/env node
// npm pack's prepack step: cross-builds the static helpers the package ships
// (native/prebuilt/ARCH/sysjail-helper for x86_64 and aarch64, with Debian's cross compilers),
// each twice to prove the build reproducible, lists their checksums (native/prebuilt/SHA256SUMS),
// and puts a POSIX sh stand-in at native/build/TOOL for each bin command (npm pack drops the
// links a local build leaves there). `--restore` (postpack) puts the local build's links back.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE_FLAGS, BUILD_DIR, PREBUILT_DIR, REAPER_FLAGS, REAPER_SRC, ROOT, linkTools, sources, tools } from "./native-common.mjs";

/** Each prebuilt: Debian's cross compiler for it (on the machine of the same arch too: one name). */
const TARGETS = { x86_64: "x86_64-linux-gnu-gcc", aarch64: "aarch64-linux-gnu-gcc" };
const APT = { x86_64: "gcc-x86-64-linux-gnu libc6-dev-amd64-cross", aarch64: "gcc-aarch64-linux-gnu libc6-dev-arm64-cross" };

if (process.argv.includes("--restore")) {
  if (existsSync(join(BUILD_DIR, "sysjail-helper"))) linkTools("sysjail-helper");
  process.exit(0);
}

/** Fixed flags, no paths of this machine, no build id: the same sources give the same bytes.
 * SJ_ROOT_DEPTH: the helper finds bin/run-tool.js four levels up from native/prebuilt/ARCH/. No
 * SJ_NODE (a path of the packing machine): the front runs the `node` on PATH. Stripped: symbols
 * are only size here. SJ_RELEASE: no fault injection (SYSJAIL_TEST_FAULT does nothing, helper.h). */
const FLAGS = [...BASE_FLAGS, "-static-pie", "-s", "-DSJ_RELEASE", "-DSJ_ROOT_DEPTH=4", `-ffile-prefix-map=${ROOT}=.`,
  "-fno-ident", "-Wl,--build-id=none", "-Wl,--hash-style=gnu"];

/** The reaper (native/reaper/reaper.c), next to each helper: the same fixed, path-free flags. */
const REAPER = [...REAPER_FLAGS, "-s", `-ffile-prefix-map=${ROOT}=.`, "-fno-ident"];

function build(cc, out, args = [...FLAGS, "-o", out, ...sources()]) {
  const r = spawnSync(cc, args, {
    cwd: ROOT, encoding: "utf8", env: { ...process.env, LC_ALL: "C", SOURCE_DATE_EPOCH: "0" },
  });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.stderr.trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${cc}: ${why}`);
  }
  return readFileSync(out);
}

const sha = (b) => createHash("sha256").update(b).digest("hex");
const scratch = mkdtempSync(join(tmpdir(), "sysjail-pack-"));
/** One line, the scratch directory removed, exit 1 (process.exit skips the finally below). */
const fail = (msg) => {
  console.error(msg);
  rmSync(scratch, { recursive: true, force: true });
  process.exit(1);
};
const sums = [];
try {
  for (const [arch, cc] of Object.entries(TARGETS)) {
    let a, b;
    try {
      a = build(cc, join(scratch, `${arch}.1`));
      b = build(cc, join(scratch, `${arch}.2`));
    } catch (err) {
      fail(`sysjail: cannot build the ${arch} helper (${err.message}); install the cross compiler: apt-get install ${APT[arch]}`);
    }
    if (!a.equals(b)) {
      fail(`sysjail: the ${arch} helper is not reproducible: two builds differ`);
    }
    const dir = join(PREBUILT_DIR, arch);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `sysjail-helper.${process.pid}.tmp`);
    writeFileSync(tmp, a, { mode: 0o755 });
    chmodSync(tmp, 0o755);
    renameSync(tmp, join(dir, "sysjail-helper"));
    sums.push(`${sha(a)}  ${arch}/sysjail-helper\n`);
    let ra, rb;
    try {
      ra = build(cc, join(scratch, `${arch}.r1`), [...REAPER, "-o", join(scratch, `${arch}.r1`), REAPER_SRC]);
      rb = build(cc, join(scratch, `${arch}.r2`), [...REAPER, "-o", join(scratch, `${arch}.r2`), REAPER_SRC]);
    } catch (err) {
      fail(`sysjail: cannot build the ${arch} reaper (${err.message})`);
    }
    if (!ra.equals(rb)) {
      fail(`sysjail: the ${arch} reaper is not reproducible: two builds differ`);
    }
    const rtmp = join(dir, `sysjail-reaper.${process.pid}.tmp`);
    writeFileSync(rtmp, ra, { mode: 0o755 });
    chmodSync(rtmp, 0o755);
    renameSync(rtmp, join(dir, "sysjail-reaper"));
    sums.push(`${sha(ra)}  ${arch}/sysjail-reaper\n`);
  }
  writeFileSync(join(PREBUILT_DIR, "SHA256SUMS"), sums.join(""));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const name = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).name;
/** The stand-in for native/build/TOOL in the package: runs the prebuilt helper for this machine
 * as TOOL's front. npm's install step, when it runs, replaces it with a link to the helper
 * (install-native.mjs); with install scripts off it stays, and costs a shell's start. It finds
 * the package from $0 without a process for the usual places (the package itself, npm's
 * node_modules/.bin and PREFIX/bin links), checking each guess is this very file (-ef), and
 * asks readlink(1) only elsewhere. */
const standIn = (tool) => `#!/bin/sh
# sysjail's ${tool} command as packed (scripts/pack-native.mjs): runs the prebuilt helper for this
# machine as its front. npm's install step replaces this file with a link to that helper.
a=none
read -r a 2>/dev/null </proc/sys/kernel/arch || a=$(uname -m)
case $a in x86_64|aarch64) ;; *) a=none ;; esac
for r in "\${0%/*}/../.." "\${0%/*}/../${name}" "\${0%/*}/../lib/node_modules/${name}" ""; do
  [ -n "$r" ] && [ "$r/native/build/${tool}" -ef "$0" ] && break
done
if [ -z "$r" ]; then r=$(readlink -f -- "$0") && r=\${r%/native/build/*}; fi
h=$r/native/prebuilt/$a/sysjail-helper
[ -f "$h" ] || h=$r/native/build/sysjail-helper
[ -f "$h" ] && exec "$h" --front ${tool} "$@"
echo "${tool}: no prebuilt helper for this machine ($a) and none built; build one: npm rebuild ${name} (needs a C compiler)" >&2
exit 70
`;
mkdirSync(BUILD_DIR, { recursive: true });
for (const tool of tools()) {
  const f = join(BUILD_DIR, tool);
  const tmp = `${f}.${process.pid}.tmp`;
  writeFileSync(tmp, standIn(tool), { mode: 0o755 });
  chmodSync(tmp, 0o755);
  renameSync(tmp, f);
}
