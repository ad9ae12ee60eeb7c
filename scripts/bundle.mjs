#!/usr/bin/env node
// Bundles each command-line tool into one ESM file (build/bin/NAME.mjs): one module to load keeps
// a tool's start-up within a few milliseconds of Node's own. Code needed only sometimes (the
// seccomp compiler, on a filter-cache miss) is a separate file loaded on demand (build/bin/lazy).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tools = ["sysjail", "jail", "jls", "sjls", "jexec", "sjadopt", "mkjail", "sysjail-oci"];
/** Modules every tool loads lazily, each bundled once into build/bin/lazy/NAME.mjs. */
const lazy = { seccomp: join(root, "src", "seccomp", "index.ts") };

// build aside, then swap in: a tool started meanwhile never finds a half-written bundle
const final = join(root, "build", "bin");
const staging = join(root, "build", `bin.${process.pid}.tmp`);
const old = join(root, "build", `bin.${process.pid}.old`);
rmSync(staging, { recursive: true, force: true });

// the seccomp compiler's fingerprint (a filter-cache key part), computed once here from tsc's output
const { compilerFingerprint } = await import(join(root, "build", "src", "seccomp", "revision.js"));
const common = {
  bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning",
  define: { __SYSJAIL_COMPILER_FP__: JSON.stringify(compilerFingerprint()) },
};

/** Turns `import("…/seccomp/index.js")` into an import of the separately bundled file. */
const lazyPlugin = (fromDir, ext) => ({
  name: "sysjail-lazy",
  setup(b) {
    b.onResolve({ filter: /seccomp\/index\.js$/ }, (args) => {
      if (args.kind !== "dynamic-import") return undefined;
      return { path: `./${relative(fromDir, join(staging, "lazy", `seccomp${ext}`))}`, external: true };
    });
  },
});

/** The CommonJS flavour of src/helper/locate.ts (see there). */
const cjsLocatePlugin = {
  name: "sysjail-locate-cjs",
  setup(b) {
    b.onResolve({ filter: /\/locate\.js$/ }, (args) =>
      join(args.resolveDir, args.path) === join(root, "src", "helper", "locate.js") ? { path: join(root, "src", "helper", "locate-cjs.ts") } : undefined);
  },
};

const lazyEntries = Object.fromEntries(Object.entries(lazy).map(([k, v]) => [k, v]));
await build({ ...common, entryPoints: lazyEntries, outdir: join(staging, "lazy"), outExtension: { ".js": ".mjs" } });
await build({ ...common, entryPoints: lazyEntries, outdir: join(staging, "lazy"), outExtension: { ".js": ".cjs" }, format: "cjs", minify: true });
const toolEntries = Object.fromEntries(tools.map((t) => [t, join(root, "src", "cli", "entry", `${t}.ts`)]));
await build({
  ...common,
  entryPoints: toolEntries,
  outdir: staging,
  outExtension: { ".js": ".mjs" },
  splitting: false,
  plugins: [lazyPlugin(staging, ".mjs")],
});
// CommonJS flavours of the tools, which bin/*.js run through vm.Script with a V8 code cache
// (build/bin/NAME.cache, see bin/run-tool.js): Node 20 has no compile cache for ES modules, and
// compiling the bundle cold is most of a tool's start-up. Minified, since reading and
// deserializing scale with size; the seccomp compiler stays a separate file here too (it runs
// only when a filter is not cached yet).
await build({
  ...common,
  entryPoints: toolEntries,
  outdir: staging,
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  minify: true,
  // import() of the lazy file becomes require(): vm.Script code has no dynamic-import hook
  supported: { "dynamic-import": false },
  plugins: [lazyPlugin(staging, ".cjs"), cjsLocatePlugin],
  // code that needs its own location asks src/helper/locate.ts; import.meta would be empty here
  logOverride: { "empty-import-meta": "error" },
});
// the CommonJS bundles must be ASCII (esbuild's default charset; make sure): their build line
// below is appended to their bytes read as latin1, and bin/run-tool.js decodes them as UTF-8
for (const f of [...tools.map((t) => join(staging, `${t}.cjs`)), ...Object.keys(lazy).map((k) => join(staging, "lazy", `${k}.cjs`))]) {
  if (/[^\x00-\x7f]/.test(readFileSync(f, "latin1"))) throw new Error(`bundle: ${f} is not ASCII`);
}
// each tool's last line names its build (a hash of the rest): bin/run-tool.js keys the tool's code
// cache with it, so a rebuild never runs with an old cache, and no stat is needed to tell
for (const t of tools) {
  const f = join(staging, `${t}.cjs`);
  const text = readFileSync(f, "latin1");
  const id = createHash("sha256").update(text).digest("hex").slice(0, 16);
  writeFileSync(f, `${text.endsWith("\n") ? text : `${text}\n`}//# sysjail-build=${id}\n`, "latin1");
}
try {
  renameSync(final, old);
} catch {
  /* first build */
}
renameSync(staging, final);
rmSync(old, { recursive: true, force: true });
