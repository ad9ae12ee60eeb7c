#!/usr/bin/env node
// Bundles each command-line tool into one ESM file (build/bin/NAME.mjs): one module to load keeps
// a tool's start-up within a few milliseconds of Node's own.
import { build } from "esbuild";
import { renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tools = ["sysjail", "jail", "jls", "sjls", "jexec"];
// build aside, then swap in: a tool started meanwhile never finds a half-written bundle
const final = join(root, "build", "bin");
const staging = join(root, "build", `bin.${process.pid}.tmp`);
const old = join(root, "build", `bin.${process.pid}.old`);
rmSync(staging, { recursive: true, force: true });
await build({
  entryPoints: Object.fromEntries(tools.map((t) => [t, join(root, "src", "cli", "entry", `${t}.ts`)])),
  outdir: staging,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
  // the helper is located relative to the bundle: build/bin -> native/build
  define: { "process.env.SYSJAIL_BUNDLED": '"1"' },
});
try {
  renameSync(final, old);
} catch {
  /* first build */
}
renameSync(staging, final);
rmSync(old, { recursive: true, force: true });
