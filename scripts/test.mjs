#!/usr/bin/env node
// Runs the suite: builds (tsc + helper) when needed, then node's test runner over build/test.
// Integration tests run real jails; they need root for the root cases and run the rootless
// cases through setpriv as uid 65534 themselves.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const step = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
step("npx", ["tsc", "-p", "tsconfig.json"]);
step(process.execPath, [join(root, "scripts", "build-native.mjs")]);
const files = process.argv.slice(2);
const args = ["--test", "--test-concurrency=2", ...(files.length ? files : ["build/test/"])];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
