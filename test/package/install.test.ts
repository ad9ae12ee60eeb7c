// The package as a Node user installs it: packed with its prebuilt static helpers (x86_64 and
// aarch64, checksums listed), installed with install scripts off and no C compiler on PATH, its
// commands work (as root and as 65534, and through npx), the library finds the prebuilt helper,
// and npm's install step links the prebuilt helper or builds from source when asked.
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, chmodSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeNobody, requireRoot, runAsNobody, type Nobody } from "../helpers/nobody.js";
import { REPO } from "../helpers/paths.js";
import { makeTempDir, removeTree } from "../helpers/tmp.js";

/** What the package is made of (package.json `files`, and the scripts that make the rest). */
const PACKAGE_PARTS = ["package.json", "bin", "build/src", "build/bin", "native/src", "native/reaper", "scripts", "policy", "docs"];

const NPM = join(dirname(process.execPath), "npm");

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: "utf8", timeout: 300_000, ...opts });
}
const show = (r: SpawnSyncReturns<string>) => `exit ${r.status}: ${r.stdout}${r.stderr}`.slice(0, 2000);

/** e_machine of an ELF file, and whether it is static (no PT_INTERP program header). */
function elf(file: string): { machine: number; isStatic: boolean } {
  const b = readFileSync(file);
  assert.equal(b.toString("latin1", 0, 4), "\x7fELF", `${file} is not ELF`);
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  let interp = false;
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) interp = true;
  return { machine: b.readUInt16LE(0x12), isStatic: !interp };
}

describe("the packed package", () => {
  let work = "";
  let app = "";
  let pkgDir = "";
  let nocc = "";
  let nobody: Nobody;
  before(() => {
    requireRoot("the package tests");
    nobody = makeNobody();
    work = makeTempDir("sysjail-pkg-");
    // pack a copy, so the checkout's own native/build is never swapped under other tests
    const copy = join(work, "copy");
    for (const p of PACKAGE_PARTS) cpSync(join(REPO, p), join(copy, p), { recursive: true });
    const built = sh(process.execPath, [join(copy, "scripts", "pack-native.mjs")], { cwd: copy });
    assert.equal(built.status, 0, show(built));
    const packed = sh(NPM, ["pack", "--ignore-scripts", "--silent", "--pack-destination", work], { cwd: copy });
    assert.equal(packed.status, 0, show(packed));
    const tgz = join(work, packed.stdout.trim().split("\n").pop()!);
    // a PATH with node and npm and the basic tools, and no compiler
    nocc = join(work, "nocc");
    mkdirSync(nocc);
    for (const t of ["node", "npm", "npx"]) symlinkSync(join(dirname(process.execPath), t), join(nocc, t));
    for (const t of ["sh", "env", "uname", "readlink", "cat", "ls", "mkdir", "rm", "cp", "mv", "chmod", "ln", "tar", "gzip"]) {
      const p = sh("sh", ["-c", `command -v ${t}`]).stdout.trim();
      if (p) symlinkSync(p, join(nocc, t));
    }
    app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), '{"name":"app","private":true,"type":"module"}\n');
    const inst = sh(NPM, ["install", "--ignore-scripts", "--offline", "--no-audit", "--no-fund", tgz], { cwd: app, env: { ...process.env, PATH: nocc } });
    assert.equal(inst.status, 0, show(inst));
    pkgDir = join(app, "node_modules", "sysjail");
    chmodSync(work, 0o755);
  });
  after(() => {
    if (work) removeTree(work);
    nobody?.remove();
  });

  it("ships static helpers for x86_64 and aarch64 whose checksums are listed", () => {
    assert.deepEqual(elf(join(pkgDir, "native", "prebuilt", "x86_64", "sysjail-helper")), { machine: 62, isStatic: true });
    assert.deepEqual(elf(join(pkgDir, "native", "prebuilt", "aarch64", "sysjail-helper")), { machine: 183, isStatic: true });
    // the idle OCI monitor's successor, next to each helper (native/reaper/reaper.c)
    assert.deepEqual(elf(join(pkgDir, "native", "prebuilt", "x86_64", "sysjail-reaper")), { machine: 62, isStatic: true });
    assert.deepEqual(elf(join(pkgDir, "native", "prebuilt", "aarch64", "sysjail-reaper")), { machine: 183, isStatic: true });
    const sums = readFileSync(join(pkgDir, "native", "prebuilt", "SHA256SUMS"), "utf8").trim().split("\n");
    assert.equal(sums.length, 4, "a helper and a reaper per arch");
    for (const line of sums) {
      const [hash, rel] = line.split("  ");
      assert.equal(createHash("sha256").update(readFileSync(join(pkgDir, "native", "prebuilt", rel!))).digest("hex"), hash, rel);
    }
    // and nothing of the packing machine's own build
    assert.deepEqual(readdirSync(join(pkgDir, "native", "build")).sort(), ["jail", "jexec", "jls", "sjls", "sysjail", "sysjail-oci"]);
    assert.ok(!readdirSync(join(pkgDir, "build", "bin")).some((f) => f.endsWith(".cache")));
  });

  it("its helpers are reproducible: built again from a copy elsewhere, they have the same checksums", () => {
    const other = join(work, "elsewhere", "at", "another", "depth");
    for (const p of ["package.json", "native/src", "native/reaper", "scripts"]) cpSync(join(REPO, p), join(other, p), { recursive: true });
    const r = sh(process.execPath, [join(other, "scripts", "pack-native.mjs")], { cwd: other });
    assert.equal(r.status, 0, show(r));
    assert.equal(readFileSync(join(other, "native", "prebuilt", "SHA256SUMS"), "utf8"), readFileSync(join(pkgDir, "native", "prebuilt", "SHA256SUMS"), "utf8"));
  });

  it("installed with scripts off and no compiler, its commands run jails (root)", () => {
    const r = sh(join(app, "node_modules", ".bin", "sysjail"), ["/", "pkg", "/bin/echo", "hello-pkg"], { cwd: app });
    assert.equal(r.stdout, "hello-pkg\n", show(r));
    assert.equal(r.status, 0);
    const ls = sh(join(app, "node_modules", ".bin", "jls"), ["-h"], { cwd: app }); // -h: the parameter names
    assert.equal(ls.status, 0, show(ls));
    assert.match(ls.stdout, /\bjid\b/, show(ls));
  });

  it("... and as 65534", () => {
    const r = runAsNobody(nobody, join(app, "node_modules", ".bin", "sysjail"), ["/", "pkg", "/bin/echo", "hello-nobody"]);
    assert.equal(r.stdout, "hello-nobody\n", show(r));
  });

  it("npx sysjail works from the project that depends on it", () => {
    const r = sh(join(nocc, "npx"), ["--offline", "sysjail", "/", "npx", "/bin/echo", "hello-npx"], { cwd: app, env: { ...process.env, PATH: nocc } });
    assert.equal(r.stdout, "hello-npx\n", show(r));
  });

  it("the library finds the prebuilt helper; its errors carry no tool prefix", () => {
    const script = `import { run } from "sysjail";
      const r = await run({ path: "/", hostname: "lib", command: ["/bin/echo", "lib-ok"] });
      console.log(r.stdout.trim(), r.report.status);
      try { await run({ path: "/nonexistent", hostname: "t", command: ["/bin/true"] }); } catch (e) { console.log(e.code, e.message); }`;
    const r = sh(process.execPath, ["--input-type=module", "-e", script], { cwd: app });
    assert.equal(r.stdout, "lib-ok ok\nENOENT jail path /nonexistent: no such directory\n", show(r));
  });

  it("npm's install step links the prebuilt helper; built from source only when asked", () => {
    const step = join(pkgDir, "scripts", "install-native.mjs");
    let r = sh(process.execPath, [step], { env: { ...process.env, PATH: nocc } });
    assert.equal(r.status, 0, show(r));
    assert.equal(readlinkSync(join(pkgDir, "native", "build", "sysjail")), "../prebuilt/x86_64/sysjail-helper");
    r = sh(join(app, "node_modules", ".bin", "sysjail"), ["/", "pkg", "/bin/echo", "linked"]);
    assert.equal(r.stdout, "linked\n", show(r));
    // no node on PATH (sudo's secure_path): the Node that ran the install step
    r = sh(join(app, "node_modules", ".bin", "sysjail"), ["/", "pkg", "/bin/echo", "no-path"], { env: { ...process.env, PATH: "/nonexistent" } });
    assert.equal(r.stdout, "no-path\n", show(r));
    // asked to build, with no compiler: one line saying what to install, exit 1
    r = sh(process.execPath, [step], { env: { ...process.env, PATH: nocc, SYSJAIL_BUILD_FROM_SOURCE: "1" } });
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /^sysjail: no C compiler found \('cc'\); install one \(Debian: apt-get install gcc libc6-dev\) and run npm rebuild\n$/);
    assert.equal(readlinkSync(join(pkgDir, "native", "build", "sysjail")), "../prebuilt/x86_64/sysjail-helper", "left as it was");
    // a prebuilt reaper (the helper execs it) that does not match its checksum: not used either
    const sumsFile = join(pkgDir, "native", "prebuilt", "SHA256SUMS");
    const sums = readFileSync(sumsFile, "utf8");
    assert.match(sums, /^[0-9a-f]{64} {2}x86_64\/sysjail-reaper$/m, "the reaper's checksum is listed");
    writeFileSync(sumsFile, sums.replace(/^[0-9a-f]{64}(?= {2}x86_64\/sysjail-reaper$)/m, "0".repeat(64)));
    r = sh(process.execPath, [step], { env: { ...process.env, PATH: nocc, npm_config_build_from_source: "" } });
    assert.match(r.stderr, /x86_64\/sysjail-reaper does not match its checksum/, show(r));
    writeFileSync(sumsFile, sums);
    // a prebuilt helper that does not match its checksum is not used
    writeFileSync(join(pkgDir, "native", "prebuilt", "SHA256SUMS"), `${"0".repeat(64)}  x86_64/sysjail-helper\n`);
    r = sh(process.execPath, [step], { env: { ...process.env, npm_config_build_from_source: "" } });
    assert.equal(r.status, 0, show(r));
    assert.match(r.stderr, /does not match its checksum/);
    assert.equal(readlinkSync(join(pkgDir, "native", "build", "sysjail")), "sysjail-helper");
    r = sh(join(app, "node_modules", ".bin", "sysjail"), ["/", "pkg", "/bin/echo", "built"]);
    assert.equal(r.stdout, "built\n", show(r));
  });
});
