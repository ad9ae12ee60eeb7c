// startLauncher(): a Node process that restricted itself still runs jails, through a launcher it
// forked before; the jail is the launcher's template, never the request's. As root and as 65534;
// each case runs in a child Node process (the restriction cannot be undone).
import assert from "node:assert/strict";
import { fork, spawnSync } from "node:child_process";
import { chownSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { coreSuite, makeJailRoot, makeNobody, makeOwnedDir, makeTempDir, removeTree, REPO, waitUntil, type JailRoot, type Nobody } from "../helpers/index.js";

const env = coreSuite();
let root: JailRoot;
let nobody: Nobody;
let dir: string;
before(() => {
  root = makeJailRoot(env.probe);
  nobody = makeNobody();
  dir = makeTempDir("sysjail-launcher-", 0o755);
});
after(() => {
  root?.remove();
  nobody?.remove();
  if (dir) removeTree(dir);
});

const LIB = join(REPO, "build", "src", "index.js");

/** Runs the test script FILE with Node (as AS when given): its output lines, and a message for
 * assertions; the script must exit 0. */
function runScript(file: string, as: Nobody | undefined, who: string): { out: string[]; msg: string } {
  const argv = as ? [...as.prefix, process.execPath, file] : [process.execPath, file];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 60_000 });
  const out = r.stdout.split("\n").filter(Boolean);
  const msg = `${who}: ${JSON.stringify({ code: r.status, out, stderr: r.stderr })}`;
  assert.equal(r.status, 0, msg);
  return { out, msg };
}

describe("startLauncher()", () => {
  it("a restricted Node runs jails through the launcher (and not without it); requests cannot change the jail", () => {
    for (const as of [undefined, nobody]) {
      const who = as ? "65534" : "root";
      const state = as ? makeOwnedDir(65534, 65534, "sysjail-launcher-state-") : makeTempDir("sysjail-launcher-state-");
      try {
        const file = join(dir, `l-${who}.mjs`);
        writeFileSync(file, `import { run, restrict, startLauncher } from ${JSON.stringify(LIB)};
const say = (s) => process.stdout.write(s + "\\n");
const t = { path: ${JSON.stringify(root.path)}, hostname: "launched", stateDir: ${JSON.stringify(state)} };
const launcher = await startLauncher(t);
await restrict({ unveil: { "/tmp": "r" }, pledge: "stdio rpath" });
const r = await run({ command: ["/probe", "hostname"], stdin: "x", via: launcher });
say("via " + r.report.status + " " + r.stdout.trim());
try { await run({ ...t, command: ["/probe", "hostname"] }); say("direct-ran"); } catch (e) { say("direct-refused"); }
try { await run({ command: ["/probe", "hostname"], hostname: "other", via: launcher }); say("widened"); } catch (e) { say("refused " + e.message); }
launcher.close();
`, { mode: 0o644 });
        const { out, msg } = runScript(file, as, who);
        assert.ok(out.includes("via ok ok launched"), msg);
        assert.ok(out.includes("direct-refused"), msg);
        assert.ok(out.some((l) => /^refused run\(\): with via, option hostname is the launcher's/.test(l)), msg);
        for (const d of ["jails", "names"]) assert.deepEqual(readdirSync(join(state, d)), [], `${d}: ${msg}`);
      } finally {
        removeTree(state);
      }
    }
  });

  it("work: a fresh directory per run, filled, bound or made the root, read back without symlinks or FIFOs, removed; as root and as 65534", () => {
    for (const as of [undefined, nobody]) {
      const who = as ? "65534" : "root";
      const state = as ? makeOwnedDir(65534, 65534, "sysjail-launcher-state-") : makeTempDir("sysjail-launcher-state-");
      // not under /tmp: the jail on / gets a private /tmp
      const wp = makeTempDir("sysjail-launcher-work-", 0o755, "/var/tmp");
      if (as) chownSync(wp, 65534, 65534);
      try {
        const file = join(dir, `w-${who}.mjs`);
        writeFileSync(file, `import { run, restrict, startLauncher } from ${JSON.stringify(LIB)};
import { readFileSync } from "node:fs";
const say = (s) => process.stdout.write(s + "\\n");
const probe = readFileSync(${JSON.stringify(env.probe)});
const bound = await startLauncher({ path: "/", hostname: "bound", cwd: "/tmp/w", limits: { tmpSize: "8M" }, stateDir: ${JSON.stringify(state)},
  work: { in: ${JSON.stringify(wp)}, mount: "/tmp/w", mode: 0o777, maxFileBytes: 64 } });
const rooted = await startLauncher({ hostname: "rooted", stateDir: ${JSON.stringify(state)}, work: { in: ${JSON.stringify(wp)} } });
await restrict({ unveil: {}, pledge: "stdio" });
const sh = "cat in.txt in.txt > out.txt; ln -s /etc/passwd link; mkfifo fifo; head -c 100 /dev/zero > big; mkdir sub; pwd; ls -a";
const a = await run({ via: bound, command: ["/bin/sh", "-c", sh], files: { "in.txt": "abc\\n", "exe": { data: "x", mode: 0o4755 & 0o777 } }, collect: ["out.txt", "link", "fifo", "big", "sub", "missing", "exe"] });
say("bound " + a.report.status + " " + a.stdout.trim().replace(/\\s+/g, " "));
say("files " + JSON.stringify(Object.fromEntries(Object.entries(a.files ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString() : "not-a-buffer"]))));
const b = await run({ via: rooted, command: ["/probe", "hostname"], files: { probe: { data: probe, mode: 0o755 } } });
say("rooted " + b.report.status + " " + b.stdout.trim());
for (const bad of [{ files: { "../x": "x" } }, { files: { ".hidden": "x" } }, { files: { "a/b": "x" } }, { collect: ["/etc/passwd"] }, { files: { x: { data: "x", mode: 0o4755 } } }, { files: { x: 5 } }]) {
  try { await run({ via: bound, command: ["/bin/true"], ...bad }); say("accepted"); } catch (e) { say("refused " + e.exitCode); }
}
await Promise.all([bound.close(), rooted.close()]);
say("closed");
`, { mode: 0o644 });
        const { out, msg } = runScript(file, as, who);
        assert.ok(out.includes("bound ok /tmp/w . .. big exe fifo in.txt link out.txt sub"), msg);
        // the symlink, the FIFO, the directory, a missing file and one over maxFileBytes are left out
        assert.ok(out.includes(`files ${JSON.stringify({ "out.txt": "abc\nabc\n", exe: "x" })}`), msg);
        assert.ok(out.includes("rooted ok ok rooted"), msg);
        assert.equal(out.filter((l) => l === "refused 64").length, 6, msg);
        assert.ok(out.includes("closed"), msg);
        assert.deepEqual(readdirSync(wp), [], `the launchers removed their directories: ${msg}`);
        for (const d of ["jails", "names"]) assert.deepEqual(readdirSync(join(state, d)), [], `${d}: ${msg}`);
      } finally {
        removeTree(state);
        removeTree(wp);
      }
    }
  });

  it("the launcher checks each request again itself: a caller that skips startLauncher()'s checks gets refusals, never a path outside its base", async () => {
    // the launcher's own process, spoken to directly (as a taken-over caller could)
    const wp = makeTempDir("sysjail-launcher-raw-", 0o755, "/var/tmp");
    const child = fork(join(REPO, "build", "src", "lib", "launcher-child.js"), [], { stdio: ["ignore", "ignore", "inherit", "ipc"], serialization: "advanced" });
    try {
      const replies: { id?: number; ready?: boolean; error?: { message: string; exitCode?: number } }[] = [];
      child.on("message", (m: (typeof replies)[number]) => replies.push(m));
      const reply = (pred: (m: (typeof replies)[number]) => boolean) => waitUntil(() => replies.find(pred), "a reply from the launcher");
      child.send({ template: { path: "/", hostname: "raw", work: { in: wp, mount: "/tmp/w", mode: 0o755, maxFileBytes: 16 } } });
      await reply((m) => m.ready === true);
      const bad = [
        { files: [{ name: "../escape", data: new Uint8Array([1]), mode: 0o644 }] },
        { files: [{ name: "/etc/x", data: new Uint8Array([1]), mode: 0o644 }] },
        { files: [{ name: "x", data: new Uint8Array([1]), mode: 0o4755 }] },
        { files: [{ name: "x", data: 5, mode: 0o644 }] },
        { files: "x" },
        { collect: ["../../etc/shadow"] },
        { collect: "prog" },
      ];
      bad.forEach((b, i) => child.send({ id: i + 1, command: ["/bin/true"], ...b }));
      for (let i = 1; i <= bad.length; i++) {
        const r = await reply((m) => m.id === i);
        assert.equal(r.error?.exitCode, 64, `${JSON.stringify(bad[i - 1])}: ${JSON.stringify(r)}`);
      }
      // nothing was made: the base holds no run directory, and nothing escaped it
      const [b] = readdirSync(wp);
      assert.ok(b?.startsWith("sysjail-work-"), String(b));
      assert.deepEqual(readdirSync(join(wp, b!)), []);
      assert.ok(!existsSync(join(wp, "escape")));
    } finally {
      const gone = new Promise((r) => child.once("exit", r));
      if (child.connected) child.disconnect();
      await gone;
      assert.deepEqual(readdirSync(wp), [], "the launcher removed its base when it ended");
      removeTree(wp);
    }
  });

  it("a template holding a command, or a via that is no launcher, is a usage error", async () => {
    const { run, startLauncher } = await import("../../src/index.js");
    await assert.rejects(() => run({ command: ["/bin/true"], via: {} } as never), (e: Error & { exitCode?: number }) => /option via must be a launcher/.test(e.message) && e.exitCode === 64);
    await assert.rejects(() => startLauncher({ command: ["/bin/true"] } as never), (e: Error & { exitCode?: number }) => /may not hold command/.test(e.message) && e.exitCode === 64);
  });
});
