// The package's types as a Node user meets them: a strict NodeNext project with only the package
// installed (no @types/node, skipLibCheck off) compiles a correct program (good.mts) and catches
// each mistake of bad.mts; with @types/node present too, and with exactOptionalPropertyTypes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO } from "../helpers/paths.js";
import { makeTempDir, removeTree } from "../helpers/tmp.js";

const TSC = join(REPO, "node_modules", "typescript", "bin", "tsc");
const FIXTURES = join(REPO, "test", "types");

/** tsc's output for FILE in PROJECT with these compiler options on top of the strict ones. */
function tsc(project: string, file: string, extra: Record<string, unknown> = {}): string {
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
    compilerOptions: { strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", noEmit: true, skipLibCheck: false, ...extra },
    files: [file],
  }));
  const r = spawnSync(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: project, encoding: "utf8", timeout: 120_000 });
  return `${r.stdout}${r.stderr}`.trim();
}

describe("the package's types", () => {
  let project = "";
  before(() => {
    project = makeTempDir("sysjail-types-");
    writeFileSync(join(project, "package.json"), '{"name":"app","private":true,"type":"module"}\n');
    // the package as installed: its package.json and the files its types come from
    const pkg = join(project, "node_modules", "sysjail");
    mkdirSync(join(pkg, "build"), { recursive: true });
    cpSync(join(REPO, "package.json"), join(pkg, "package.json"));
    cpSync(join(REPO, "build", "src"), join(pkg, "build", "src"), { recursive: true });
    for (const f of ["good.mts", "bad.mts"]) cpSync(join(FIXTURES, f), join(project, f));
    // a misspelt limit key, without the directive that expects the error
    writeFileSync(join(project, "memroy.mts"), readFileSync(join(FIXTURES, "good.mts"), "utf8").replace('memory: "64M"', 'memroy: "64M"'));
  });
  after(() => removeTree(project));

  it("need nothing but the package: a correct program compiles with skipLibCheck off and no @types", () => {
    assert.equal(tsc(project, "good.mts", { types: [] }), "");
  });

  it("catch each mistake of bad.mts (an unneeded @ts-expect-error is an error too)", () => {
    assert.equal(tsc(project, "bad.mts", { types: [] }), "");
  });

  it("name a misspelt limit key", () => {
    assert.match(tsc(project, "memroy.mts", { types: [] }), /memroy/);
  });

  it("hold with exactOptionalPropertyTypes and with only ES2022 in lib (no DOM)", () => {
    assert.equal(tsc(project, "good.mts", { types: [], exactOptionalPropertyTypes: true }), "");
    assert.equal(tsc(project, "bad.mts", { types: [], exactOptionalPropertyTypes: true }), "");
    assert.equal(tsc(project, "good.mts", { types: [], lib: ["ES2022"] }).replace(/^.*Cannot find name 'console'.*$/gm, "").replace(/^.*'AbortController'.*$/gm, "").trim(), "");
  });

  it("merge with @types/node when the project has it", () => {
    const types = join(project, "node_modules", "@types");
    mkdirSync(types, { recursive: true });
    cpSync(join(REPO, "node_modules", "@types", "node"), join(types, "node"), { recursive: true });
    cpSync(join(REPO, "node_modules", "undici-types"), join(project, "node_modules", "undici-types"), { recursive: true });
    const withNode = join(project, "with-node.mts");
    writeFileSync(withNode, `${readFileSync(join(project, "good.mts"), "utf8")}
import { Jail as J } from "sysjail";
const jj = await J.create({ path: "/", hostname: "n" });
const proc = jj.spawn("/bin/cat");
proc.stdout.on("data", (d: Buffer) => void d.length);
proc.stdin.end("x");
`);
    assert.equal(tsc(project, "with-node.mts", { types: ["node"] }), "");
  });
});
