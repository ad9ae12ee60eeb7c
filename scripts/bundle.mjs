#!/usr/bin/env node
// Bundles each command-line tool into one ESM file (build/bin/NAME.mjs): one module to load keeps
// a tool's start-up within a few milliseconds of Node's own.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tools = ["sysjail", "jail", "jls", "sjls", "jexec"];
rmSync(join(root, "build", "bin"), { recursive: true, force: true });
await build({
  entryPoints: Object.fromEntries(tools.map((t) => [t, join(root, "src", "cli", "entry", `${t}.ts`)])),
  outdir: join(root, "build", "bin"),
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
