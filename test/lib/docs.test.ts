// docs/LIBRARY.md: every ```js and ```cjs example runs as it is. Each is written to a file inside
// the package (build/test/lib/doc-examples/, so that `import "sysjail"` resolves to this
// checkout by the package's own name) and run with node, with a private registry.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { list } from "../../src/index.js";
import { requireRoot } from "../helpers/nobody.js";
import { libState, REPO, stateLeft } from "./helpers.js";

const DOC = join(REPO, "docs", "LIBRARY.md");
const OUT = join(dirname(fileURLToPath(import.meta.url)), "doc-examples");

/** The fenced blocks of a markdown text whose info string is one of `langs`. */
export function codeBlocks(text: string, langs: string[]): { lang: string; code: string; line: number }[] {
  const out: { lang: string; code: string; line: number }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(\w+)\s*$/.exec(lines[i]!);
    if (!m) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    if (langs.includes(m[1]!)) out.push({ lang: m[1]!, code: `${body.join("\n")}\n`, line: start + 1 });
  }
  return out;
}

function runNode(file: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [file], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

before(() => {
  requireRoot("the library docs tests");
  mkdirSync(OUT, { recursive: true });
});
after(() => rmSync(OUT, { recursive: true, force: true }));

describe("docs/LIBRARY.md", () => {
  const blocks = codeBlocks(readFileSync(DOC, "utf8"), ["js", "cjs"]);

  it("has runnable examples, ESM and CommonJS", () => {
    assert.ok(blocks.filter((b) => b.lang === "js").length >= 6, "ESM examples");
    assert.ok(blocks.some((b) => b.lang === "cjs"), "a CommonJS example");
    for (const b of blocks) assert.match(b.code, /from "sysjail"|import\("sysjail"\)/, `line ${b.line}: imports the package by its name`);
  });

  it("every example runs, prints what the page says, and leaves no jail behind", async (t) => {
    const dir = libState(t);
    const env = { ...process.env, SYSJAIL_STATE_DIR: dir };
    let all = "";
    for (const [i, b] of blocks.entries()) {
      const file = join(OUT, `example-${i}.${b.lang === "cjs" ? "cjs" : "mjs"}`);
      writeFileSync(file, b.code);
      const r = await runNode(file, env);
      assert.equal(r.code, 0, `the example at docs/LIBRARY.md:${b.line} failed:\n${r.stderr}${r.stdout}`);
      assert.equal(r.stderr, "", `the example at docs/LIBRARY.md:${b.line} wrote to stderr`);
      all += r.stdout;
    }
    // a few of the outputs the page shows
    for (const s of [
      "hello from demo", "pid 2", '"SHOUT THIS\\n"', '"hi from /etc\\n"', "runtime-error 3 exited with status 3", "1000 ok",
      "oom memory limit 64 MiB reached 67108864", "timeout wall-clock limit 300 ms reached", "ABORT_ERR runtime",
      "box1\n", "box2\n", "HELLO\n", "signaled the jail was removed 1", "ENOENT usage - 2 /nonexistent",
      "ENOENT exec exec 2 /no/such/program", "EUSAGE usage - - -", "cjs ok", "limit: wall-clock limit 200 ms reached", "exit: timeout",
    ]) {
      assert.ok(all.includes(s), `the examples' output lacks ${JSON.stringify(s)}:\n${all}`);
    }
    assert.deepEqual(await list({ stateDir: dir }), []);
    assert.deepEqual(stateLeft(dir), []);
  });
});
