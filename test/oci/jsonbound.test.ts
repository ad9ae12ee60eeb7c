// The engine's JSON documents are bounded (src/oci/config.ts checkJsonBound): sysjail-oci's Node
// keeps the hash seed of Node's snapshot (native/src/front.c passes --no-rehash-snapshot to it and
// to no other tool's Node), so a document of keys that collide under that public seed must not
// reach JSON.parse in a size that makes it slow. As root and as 65534 (a rootless caller).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkJsonBound, MAX_JSON_STRINGS } from "../../src/oci/config.js";
import { SysjailError } from "../../src/errors.js";
import { buildProbe, makeJailRoot, makeTempDir, NOBODY_GID, NOBODY_UID, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { runCli } from "../helpers/cli.js";
import { OCI_BIN, OCI_NS } from "../helpers/ocibundle.js";
import { spawnSync } from "node:child_process";

/** A config.json for ROOT whose annotations hold N strings in all (keys and values, with the rest). */
function configWith(root: string, annotations: number): string {
  const a: Record<string, string> = {};
  for (let i = 0; i < annotations; i++) a[`k${i}`] = "v";
  return JSON.stringify({
    ociVersion: "1.2.0", root: { path: root }, hostname: "jsonbound", annotations: a,
    process: { args: ["/probe", "pid"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
    linux: { namespaces: OCI_NS },
  });
}
const strings = (text: string) => (text.split('"').length - 1) / 2;

describe("checkJsonBound: the strings of one engine JSON document", () => {
  it("takes MAX_JSON_STRINGS strings and refuses one more, naming the document", () => {
    const at = JSON.stringify(Array.from({ length: MAX_JSON_STRINGS }, () => "x"));
    assert.equal(strings(at), MAX_JSON_STRINGS);
    checkJsonBound(at, "at.json");
    const over = JSON.stringify(Array.from({ length: MAX_JSON_STRINGS + 1 }, () => "x"));
    assert.throws(() => checkJsonBound(over, "over.json"), (e: unknown) => e instanceof SysjailError && e.message === `over.json: more than ${MAX_JSON_STRINGS} strings (the most sysjail-oci reads from one JSON document)` && e.exitCode === 1);
  });

  it("counts escaped quotes too (an upper bound, never fewer than the strings)", () => {
    // half the bound's strings, each with three escaped quotes: five quotes a string
    const text = JSON.stringify(Array.from({ length: MAX_JSON_STRINGS / 2 }, () => '"""'));
    assert.throws(() => checkJsonBound(text, "q.json"), SysjailError);
  });
});

for (const who of ["root", "65534"] as const) describe(`sysjail-oci: a config.json over the bound (as ${who})`, () => {
  let jr: JailRoot | undefined;
  let work: string | undefined;
  const prefix = who === "root" ? [] : ["setpriv", `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_GID}`, "--clear-groups"];
  const mine = (p: string) => { if (who !== "root") chownSync(p, NOBODY_UID, NOBODY_GID); return p; };
  const oci = (args: string[]) => {
    const r = spawnSync(prefix[0] ?? OCI_BIN, [...prefix.slice(1), ...(prefix.length ? [OCI_BIN] : []), "--root", join(work!, "state"), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    return { status: r.status, stderr: r.stderr, stdout: r.stdout };
  };

  before(() => {
    requireRoot("the JSON bound tests");
    jr = makeJailRoot(buildProbe());
    work = mine(makeTempDir("sysjail-jsonbound-", 0o755));
  });
  after(() => {
    oci(["delete", "--force", "jb-ok"]);
    jr?.remove();
    if (work) removeTree(work);
  });

  it("refuses it in one line with runc's status 1 and leaves nothing; one under it is created", () => {
    const over = join(work!, "over");
    mkdirSync(over);
    mine(over);
    const text = configWith(jr!.path, MAX_JSON_STRINGS);
    assert.ok(strings(text) > MAX_JSON_STRINGS);
    writeFileSync(join(over, "config.json"), text);
    // the failed create gives no pipe to a container: none is made
    const r = oci(["create", "--bundle", over, "jb-over"]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `sysjail-oci: ${join(over, "config.json")}: more than ${MAX_JSON_STRINGS} strings (the most sysjail-oci reads from one JSON document)\n`);
    const state = join(work!, "state");
    assert.deepEqual(existsSync(state) ? readdirSync(state).filter((n) => n === "jb-over") : [], []);
    // under the bound: created (its output to a file: the container keeps create's stdio)
    const ok = join(work!, "ok");
    mkdirSync(ok);
    mine(ok);
    writeFileSync(join(ok, "config.json"), configWith(jr!.path, 100));
    const c = spawnSync(prefix[0] ?? OCI_BIN, [...prefix.slice(1), ...(prefix.length ? [OCI_BIN] : []), "--root", state, "create", "--bundle", ok, "jb-ok"], { stdio: "ignore", timeout: 60_000 });
    assert.equal(c.status, 0);
    assert.equal(oci(["delete", "--force", "jb-ok"]).status, 0);
  });
});

describe("the front's Node flags: sysjail-oci's Node keeps the snapshot's hash seed, other tools' Node draws one", () => {
  it("sysjail-oci: --no-rehash-snapshot and no --random-seed; sysjail: a --random-seed and no --no-rehash-snapshot", async () => {
    requireRoot("the front's Node flags test");
    const dir = makeTempDir("sysjail-jsonbound-node-");
    try {
      // a `node` first on PATH shows the options the front gave Node, then runs the real one
      writeFileSync(join(dir, "node"), `#!/bin/sh\necho "node-args: $*" >&2\nexec ${process.execPath} "$@"\n`, { mode: 0o755 });
      const env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}` };
      const o = spawnSync(OCI_BIN, ["--root", join(dir, "state"), "create", "--bundle", join(dir, "no-such-bundle"), "jb-none"], { encoding: "utf8", env, timeout: 60_000 });
      assert.equal(o.status, 1, o.stderr);
      assert.match(o.stderr, /^node-args: --no-rehash-snapshot --preserve-symlinks-main \S+\/bin\/run-tool\.js sysjail-oci --root /m);
      assert.doesNotMatch(o.stderr, /--random-seed/);
      const s = await runCli(["-v"], { env: { PATH: env.PATH } });
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stderr, /^node-args: --random-seed=-?\d+ --preserve-symlinks-main \S+\/bin\/run-tool\.js sysjail -v$/m);
      assert.doesNotMatch(s.stderr, /--no-rehash-snapshot/);
    } finally {
      removeTree(dir);
    }
  });
});
