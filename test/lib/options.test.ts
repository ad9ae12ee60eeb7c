// sysjail(3) options: every option is checked, with a SysjailError (code EUSAGE, exit 64) whose one
// line names the option and carries no tool prefix; a relative path is refused; a mount needs
// only source and target (the defaults filled in), and such a jail runs, as root and as 65534.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { get, Jail, list, run, SysjailError } from "../../src/index.js";
import { specFromOptions } from "../../src/lib/options.js";
import { makeNobody, requireRoot, runAsNobody, type Nobody } from "../helpers/nobody.js";
import { makeTempDir, removeTree } from "../helpers/tmp.js";
import { assertNothingLeft, buildWork, libState, makeWorkRoot, REPO, rejection, type WorkRoot } from "./helpers.js";

const base = { path: "/", hostname: "h", command: ["/bin/true"] };

/** The SysjailError specFromOptions throws for O. */
function refusal(o: unknown, kind: "run" | "create" = "run"): SysjailError {
  try {
    specFromOptions(o, kind);
  } catch (e) {
    assert.ok(e instanceof SysjailError, `not a SysjailError: ${String(e)}`);
    return e;
  }
  assert.fail(`accepted: ${JSON.stringify(o)}`);
}

describe("library options, checked", () => {
  const cases: [string, unknown, RegExp][] = [
    ["options not an object", "x", /^options must be an object, not "x"$/],
    ["unknown option", { ...base, memory: 1 }, /^unknown option 'memory' \(allowed: path, /],
    ["relative path", { ...base, path: "jailroot" }, /^option path must be an absolute path, not "jailroot"$/],
    ["path not a string", { ...base, path: 3 }, /^option path must be the jail's root directory \(an absolute path\), not 3$/],
    ["hostname not a string", { ...base, hostname: null }, /^option hostname must be a string, not null$/],
    ["name not a string", { ...base, name: 7 }, /^option name must be a string, not 7$/],
    ["command a string", { ...base, command: "/bin/true" }, /^option command must be an array of strings, not "\/bin\/true"$/],
    ["command empty", { ...base, command: [] }, /^option command must not be empty/],
    ["env value not a string", { ...base, env: { A: 1 } }, /^option env\.A must be a string, not 1$/],
    ["cwd relative", { ...base, cwd: "tmp" }, /^option cwd must be an absolute path, not "tmp"$/],
    ["user of the wrong shape", { ...base, user: { name: "x", from: "elsewhere" } }, /^option user must be a user name or \{ name, from: "host" \| "jail" \}, not an object$/],
    ["a boolean that is not", { ...base, allowIpc: "yes" }, /^option allowIpc must be true or false, not "yes"$/],
    ["ip4 not a list", { ...base, ip4: "127.0.0.2" }, /^option ip4 must be an array of strings/],
    ["mounts not a list", { ...base, mounts: { source: "/usr" } }, /^option mounts must be an array of \{ source, target, type\?, readonly\?, options\? \}, not an object$/],
    ["mount without target", { ...base, mounts: [{ source: "/usr" }] }, /^option mounts\[0\]\.target must be a path in the jail \(an absolute path\), not undefined|a undefined/],
    ["mount relative source", { ...base, mounts: [{ source: "usr", target: "/usr" }] }, /^option mounts\[0\]\.source must be an absolute path, not "usr"$/],
    ["mount unknown type", { ...base, mounts: [{ source: "/usr", target: "/usr", type: "nfs" }] }, /^option mounts\[0\]\.type must be "bind", "tmpfs" or "proc", not "nfs"$/],
    ["mount options a string", { ...base, mounts: [{ source: "tmpfs", target: "/t", type: "tmpfs", options: "size=1M" }] }, /^option mounts\[0\]\.options must be an array of strings, not "size=1M"$/],
    ["mount unknown key", { ...base, mounts: [{ source: "/usr", target: "/usr", ro: true }] }, /^option mounts\[0\]: unknown key 'ro' \(allowed: source, target, type, readonly, options\)$/],
    ["meta value not a string", { ...base, meta: { k: {} } }, /^option meta\.k must be a string, not an object$/],
    ["stateDir relative", { ...base, stateDir: "state" }, /^option stateDir must be an absolute path, not "state"$/],
    ["stdin a number", { ...base, stdin: 5 }, /^option stdin must be a string or a Uint8Array, not 5$/],
    ["maxOutputBytes negative", { ...base, maxOutputBytes: -1 }, /^option maxOutputBytes must be a whole number of bytes, 0 or more, not -1$/],
    ["signal not an AbortSignal", { ...base, signal: {} }, /^option signal must be an AbortSignal, not an object$/],
    ["listener of an unknown event", { ...base, on: { exited: () => undefined } }, /^option on: unknown event 'exited' \(allowed: exit, oom, limit, halt\)$/],
    ["listener not a function", { ...base, on: { exit: 1 } }, /^option on\.exit must be a function, not 1$/],
    ["misspelt limit", { ...base, limits: { memroy: "1G" } }, /^unknown limit "memroy" \(allowed: memory, /],
  ];
  for (const [what, o, msg] of cases) {
    it(`${what}: EUSAGE, exit 64, one line naming it, no prefix`, () => {
      const e = refusal(o);
      assert.equal(e.code, "EUSAGE", e.message);
      assert.equal(e.phase, "usage");
      assert.equal(e.exitCode, 64);
      assert.match(e.message, msg);
      assert.doesNotMatch(e.message, /^sysjail:|\n/);
    });
  }

  it("fills a mount's defaults: a writable bind with no options", () => {
    const spec = specFromOptions({ ...base, mounts: [{ source: "/usr", target: "/usr" }, { source: "tmpfs", target: "/t", type: "tmpfs" }] }, "run");
    assert.deepEqual(spec.mounts, [
      { source: "/usr", target: "/usr", type: "bind", readonly: false, options: [] },
      { source: "tmpfs", target: "/t", type: "tmpfs", readonly: false, options: [] },
    ]);
  });

  it("takes null as no limit", () => {
    assert.deepEqual(specFromOptions({ ...base, limits: { memory: null, pids: 8 } }, "run").limits, { pids: 8 });
    assert.deepEqual(specFromOptions({ ...base, limits: null }, "run").limits, {});
  });

  it("a message written in the tools' style loses its prefix in the library", () => {
    assert.equal(new SysjailError("sysjail: x failed", { code: "EIO", phase: "runtime" }).message, "x failed");
    assert.equal(new SysjailError("jail: kept", { code: "EIO", phase: "runtime" }).message, "jail: kept");
  });

  it("spawn(), exec(), get(), list() and Jail.get() check their arguments too", async () => {
    const handle = Object.create(Jail.prototype) as Jail; // the checks come before the jail is looked at
    const usage = (re: RegExp) => (e: unknown) => e instanceof SysjailError && e.code === "EUSAGE" && e.exitCode === 64 && re.test(e.message);
    assert.throws(() => handle.spawn("", []), usage(/^spawn\(\): the command must be a non-empty string, not ""$/));
    assert.throws(() => handle.spawn("/bin/true", "x" as unknown as string[]), usage(/^option spawn\(\) arguments must be an array of strings, not "x"$/));
    assert.throws(() => handle.spawn("/bin/true", [], { cwd: "tmp" }), usage(/^option cwd must be an absolute path, not "tmp"$/));
    assert.throws(() => handle.spawn("/bin/true", [], { stdin: "x" } as never), usage(/^spawn\(\): unknown option 'stdin' \(allowed: env, cwd, user\)$/));
    await assert.rejects(handle.exec(["/bin/true"], { env: { A: 1 } } as never), usage(/^option env\.A must be a string, not 1$/));
    await assert.rejects(handle.exec(["/bin/true"], { stdin: 5 } as never), usage(/^option stdin must be a string or a Uint8Array, not 5$/));
    await assert.rejects(get(0), usage(/^a jail is named by its jid \(a whole number above 0\) or its name, not 0$/));
    await assert.rejects(list({ stateDir: "state" }), usage(/^option stateDir must be an absolute path, not "state"$/));
    await assert.rejects(Jail.get("x", { stateDir: "/tmp", colour: 1 } as never), usage(/^unknown option 'colour' \(allowed: stateDir\)$/));
  });

  it("Jail.on() refuses an event it never emits", async () => {
    // a jail handle is not needed to check the name: the check comes first
    const on = Jail.prototype.on as (this: unknown, e: string, l: unknown) => unknown;
    assert.throws(() => on.call(Object.create(Jail.prototype), "exited", () => undefined), (e: unknown) =>
      e instanceof SysjailError && e.code === "EUSAGE" && /^jail\.on\(\): unknown event "exited" \(allowed: exit, halt, oom, limit\)$/.test(e.message));
  });
});

describe("library options, in real jails", () => {
  let root: WorkRoot;
  let share = "";
  let nobody: Nobody;
  before(() => {
    requireRoot("the library tests");
    root = makeWorkRoot(buildWork());
    mkdirSync(join(root.path, "mnt"));
    share = makeTempDir("sysjail-libshare-");
    writeFileSync(join(share, "note"), "from the host\n");
    nobody = makeNobody();
  });
  after(() => {
    root?.remove();
    if (share) removeTree(share);
    nobody?.remove();
  });

  it("a mount given with source and target only is a bind that works", async (t) => {
    const dir = libState(t);
    const r = await run({ path: root.path, hostname: "m", command: ["/work", "read", "/mnt/note"], mounts: [{ source: share, target: "/mnt" }], stateDir: dir });
    assert.equal(r.report.status, "ok", r.stderr);
    assert.equal(r.stdout, "from the host\n");
    assertNothingLeft(dir, undefined, "after the mount run");
  });

  it("a relative path is refused before anything is made", async (t) => {
    const dir = libState(t);
    const e = await rejection(run({ path: "some/relative/root", hostname: "r", command: ["/work"], stateDir: dir }));
    assert.equal(e.code, "EUSAGE");
    assert.match(e.message, /^option path must be an absolute path/);
    assertNothingLeft(dir, undefined, "after the refusal");
  });

  it("as 65534 too: a mount without options runs, a relative path is refused with the same line", () => {
    const script = `
      import { run } from ${JSON.stringify(join(REPO, "build", "src", "index.js"))};
      const r = await run({ path: ${JSON.stringify(root.path)}, hostname: "n", command: ["/work", "read", "/mnt/note"], mounts: [{ source: ${JSON.stringify(share)}, target: "/mnt" }] });
      console.log(r.report.status, JSON.stringify(r.stdout));
      try { await run({ path: "rel", hostname: "n", command: ["/work"] }); } catch (e) { console.log(e.code, e.message); }`;
    const r = runAsNobody(nobody, process.execPath, ["--input-type=module", "-e", script]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok "from the host\\n"\nEUSAGE option path must be an absolute path, not "rel"\n');
  });
});
