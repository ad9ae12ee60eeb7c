#!/usr/bin/env node
// npm's install step: points the commands (native/build/TOOL) at the prebuilt static helper for
// this machine (native/prebuilt/ARCH/sysjail-helper, its checksum checked against
// native/prebuilt/SHA256SUMS), or builds the helper from source (build-native.mjs) when none fits,
// its checksum is wrong, or one is asked for: SYSJAIL_BUILD_FROM_SOURCE=1 or
// `npm install --build-from-source` (npm_config_build_from_source). A checkout always builds.
// With install scripts off nothing runs here and the packed sh stand-ins find the prebuilt
// helper themselves.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { ARCHES, BUILD_DIR, PREBUILT_DIR, ROOT, linkTools } from "./native-common.mjs";

const truthy = (v) => v !== undefined && v !== "" && v !== "0" && v !== "false";
const asked = truthy(process.env.SYSJAIL_BUILD_FROM_SOURCE) || truthy(process.env.npm_config_build_from_source);

/** The prebuilt helper for this process's arch, if the package has one whose checksum holds, and
 * so does the idle OCI monitor's successor beside it (sysjail-reaper: the helper execs it). */
function prebuilt() {
  const arch = ARCHES[process.arch];
  if (!arch) return undefined;
  const rel = `${arch}/sysjail-helper`;
  if (!existsSync(join(PREBUILT_DIR, rel))) return undefined;
  let sums;
  try { sums = readFileSync(join(PREBUILT_DIR, "SHA256SUMS"), "utf8"); } catch { return undefined; }
  for (const r of [rel, `${arch}/sysjail-reaper`]) {
    const file = join(PREBUILT_DIR, r);
    if (r !== rel && !existsSync(file)) continue; // no reaper: the monitor stays whole
    const want = sums.split("\n").map((l) => /^([0-9a-f]{64}) {2}(\S+)$/.exec(l)).find((m) => m?.[2] === r)?.[1];
    const have = createHash("sha256").update(readFileSync(file)).digest("hex");
    if (want !== have) {
      console.error(`sysjail: native/prebuilt/${r} does not match its checksum in native/prebuilt/SHA256SUMS; building from source`);
      return undefined;
    }
  }
  return `../prebuilt/${rel}`;
}

// a checkout (it has the TypeScript sources' tsconfig.json, which the package does not ship)
// always builds: native/prebuilt there is whatever the last npm pack left
const checkout = existsSync(join(ROOT, "tsconfig.json"));
const found = asked || checkout ? undefined : prebuilt();
if (found) {
  linkTools(found);
  // the prebuilt front runs the `node` on PATH, else this one (PATH under sudo often has none)
  const node = join(BUILD_DIR, "node");
  const tmp = `${node}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  symlinkSync(process.execPath, tmp);
  renameSync(tmp, node);
  // restrict()'s addon has no prebuilt form: built here when a C compiler is at hand
  spawnSync(process.execPath, [join(ROOT, "scripts", "build-native.mjs"), "--addon-only"], { stdio: "ignore" });
} else {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "build-native.mjs")], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}
