// restrict(): a Node process confines itself, every thread (libuv's pool included), as root and
// as 65534. Each case runs in a child Node process: the restriction cannot be undone.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeNobody, makeTempDir, removeTree, REPO, type Nobody } from "../helpers/index.js";

let nobody: Nobody;
let dir: string;
before(() => {
  nobody = makeNobody();
  dir = makeTempDir("sysjail-restrict-");
  mkdirSync(join(dir, "w"), { mode: 0o777 });
  chmodSync(join(dir, "w"), 0o777);
  mkdirSync(join(dir, "out"), { mode: 0o755 });
  writeFileSync(join(dir, "out", "secret"), "secret\n", { mode: 0o644 });
});
after(() => {
  nobody?.remove();
  if (dir) removeTree(dir);
});

const LIB = join(REPO, "build", "src", "index.js");

/** Runs a module body (with `restrict`, `say`, node:fs as `fs`) in a child Node, as root or 65534. */
function node(name: string, body: string, as?: Nobody): { out: string[]; code: number | null; stderr: string } {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, `import { restrict } from ${JSON.stringify(LIB)};\nimport fs from "node:fs";\nimport cp from "node:child_process";\nimport net from "node:net";\nconst say = (s) => process.stdout.write(s + "\\n");\n${body}\n`, { mode: 0o644 });
  const argv = as ? [...as.prefix, process.execPath, file] : [process.execPath, file];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 60_000 });
  return { out: r.stdout.split("\n").filter(Boolean), code: r.status, stderr: r.stderr };
}

describe("restrict()", { concurrency: 2 }, () => {
  it("confines every thread: unveil hides files from sync and pool reads, pledge refuses exec and inet, as root and as 65534", () => {
    for (const as of [undefined, nobody]) {
      const who = as ? "65534" : "root";
      const w = join(dir, "w"), secret = join(dir, "out", "secret");
      const r = node(`all-${who}`, `
await fs.promises.readFile(${JSON.stringify(secret)}); say("before-ok");
const e = await restrict({ unveil: { ${JSON.stringify(w)}: "rwc" }, pledge: "stdio rpath wpath cpath" });
say("enforced " + JSON.stringify(e));
try { fs.readFileSync(${JSON.stringify(secret)}); say("sync-read-allowed"); } catch (x) { say("sync-read-denied " + x.code); }
try { await fs.promises.readFile(${JSON.stringify(secret)}); say("pool-read-allowed"); } catch (x) { say("pool-read-denied " + x.code); }
try { fs.writeFileSync(${JSON.stringify(join(w, `from-${who}`))}, "x"); say("write-ok"); } catch (x) { say("write-failed " + x.code); }
const s = cp.spawnSync("/bin/true"); say(s.error || s.status !== 0 ? "exec-denied" : "exec-allowed");
await new Promise((res) => { const c = net.connect(9, "127.0.0.1"); c.on("error", (x) => { say("inet-denied " + x.code); res(); }); c.on("connect", () => { say("inet-allowed"); c.destroy(); res(); }); });
`, as);
      const msg = `${who}: ${JSON.stringify(r)}`;
      assert.equal(r.code, 0, msg);
      assert.ok(r.out.includes("before-ok"), msg);
      assert.ok(r.out.includes("sync-read-denied EACCES"), msg);
      assert.ok(r.out.includes("pool-read-denied EACCES"), msg);
      assert.ok(r.out.includes("write-ok"), msg);
      assert.ok(r.out.includes("exec-denied"), msg);
      assert.ok(r.out.includes("inet-denied EPERM"), msg);
      const e = JSON.parse(r.out.find((l) => l.startsWith("enforced "))!.slice(9)) as { pledge: string[]; threads: number; noNewPrivs: boolean; landlockAbi: number };
      assert.deepEqual(e.pledge, ["stdio", "rpath", "wpath", "cpath", "prot_exec", "error"], msg);
      assert.ok(e.threads >= 4 && e.noNewPrivs && e.landlockAbi >= 1, msg);
      assert.equal(readFileSync(join(w, `from-${who}`), "utf8"), "x");
    }
  });

  it("refuses bad options with a usage error (no prefix) and restricts nothing then", () => {
    const r = node("bad", `
for (const o of [{ pledge: "stdio nope" }, { unveil: { "rel/path": "r" } }, { unveil: { "/tmp": "rz" } }, { unveil: ["/tmp"] }, { other: 1 }, { unveil: { "/no-such-dir-sysjail": "r" } }]) {
  try { await restrict(o); say("accepted"); } catch (x) { say(x.name + " " + x.code + " " + (x.message.startsWith("sysjail:") ? "prefixed" : "plain")); }
}
cp.spawnSync("/bin/true").status === 0 ? say("still-free") : say("restricted");
`);
    assert.equal(r.code, 0, JSON.stringify(r));
    assert.deepEqual(r.out, [
      "SysjailError EUSAGE plain", "SysjailError EUSAGE plain", "SysjailError EUSAGE plain", "SysjailError EUSAGE plain", "SysjailError EUSAGE plain",
      "SysjailError ENOENT plain", "still-free",
    ], JSON.stringify(r));
  });
});
