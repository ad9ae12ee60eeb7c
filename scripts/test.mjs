#!/usr/bin/env node
// Runs the suite: builds (tsc + helper) when needed, then node's test runner over build/test.
// Integration tests run real jails; they need root for the root cases and run the rootless
// cases through setpriv as uid 65534 themselves.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const step = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
step("npx", ["tsc", "-p", "tsconfig.json"]);
step(process.execPath, [join(root, "scripts", "bundle.mjs")]);
step(process.execPath, [join(root, "scripts", "build-native.mjs")]);
// only *.test.js files: node would also run every other .js file under a directory named test
const find = (dir) => readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
  d.isDirectory() ? find(join(dir, d.name)) : d.name.endsWith(".test.js") ? [join(dir, d.name)] : []);
const wanted = process.argv.slice(2);
const files = find(join("build", "test")).filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w))).sort();
if (files.length === 0) {
  console.error("test: no test files matched");
  process.exit(1);
}
// TAP on stdout as before, and the failed tests' names and errors into a file printed at the end
const fdir = mkdtempSync(join(tmpdir(), "sysjail-test-failures-"));
const ffile = join(fdir, "failures.txt");
const args = ["--test", "--test-concurrency=2",
  "--test-reporter=tap", "--test-reporter-destination=stdout",
  `--test-reporter=${join(root, "scripts", "test-failures.mjs")}`, `--test-reporter-destination=${ffile}`, ...files];
// root's jails lease host id ranges (src/ids): the tests' leases go to a directory of their own,
// not the host's /var/lib/sysjail/ids
const ids = process.env.SYSJAIL_IDS_DIR ? undefined : mkdtempSync(join(tmpdir(), "sysjail-test-ids-"));
const env = ids ? { ...process.env, SYSJAIL_IDS_DIR: ids } : process.env;
const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env });
if (ids) rmSync(ids, { recursive: true, force: true });
let failed = "";
try { failed = readFileSync(ffile, "utf8"); } catch { /* no reporter output */ }
rmSync(fdir, { recursive: true, force: true });
if (failed) process.stdout.write(`\n# the failed tests:\n${failed}`);
process.exit(r.status ?? 1);
