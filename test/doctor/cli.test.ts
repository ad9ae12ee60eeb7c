// `sysjail doctor` on this host, through the command as installed (the native front): a report
// for each feature, --json, the exit status for named features (a missing program made missing
// by PATH), and usage errors as one line with exit 64; as root and as 65534.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { FEATURES } from "../../src/doctor/checks.js";
import { makeNobody, requireRoot, runAsNobody, type Nobody } from "../helpers/nobody.js";
import { BIN, FRONT } from "../helpers/paths.js";

const doctor = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(FRONT.sysjail, ["doctor", ...args], { encoding: "utf8", env, timeout: 60_000 });

describe("sysjail doctor", () => {
  let nobody: Nobody;
  before(() => {
    requireRoot("the doctor tests");
    nobody = makeNobody();
  });
  after(() => nobody?.remove());

  it("reports every feature, and exits 0 when the core is there", () => {
    const r = doctor([]);
    assert.equal(r.status, 0, r.stderr);
    for (const f of Object.keys(FEATURES)) assert.match(r.stdout, new RegExp(`^${f}: (ok|MISSING) `, "m"));
    assert.match(r.stdout, /^core: ok /m);
    assert.equal(r.stderr, "");
  });

  it("--json: the same as data, features and their checks", () => {
    const r = doctor(["--json", "kernel", "landlock"]);
    const doc = JSON.parse(r.stdout) as { ok: boolean; features: { name: string; ok: boolean; checks: { name: string; ok: boolean }[] }[] };
    assert.deepEqual(doc.features.map((f) => f.name), ["landlock", "kernel"]);
    assert.equal(r.status, doc.ok ? 0 : 1);
    assert.ok(doc.features.every((f) => f.checks.length > 0));
  });

  it("exits 1 when a named feature lacks something, and names the package", () => {
    // PATH without pasta, slirp4netns, podman: node is found by the path the test runs under
    const r = spawnSync(process.execPath, [BIN.sysjail, "doctor", "net", "oci"], { encoding: "utf8", env: { ...process.env, PATH: "/nonexistent" }, timeout: 60_000 });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^net: MISSING /m);
    assert.match(r.stdout, /fix: apt-get install passt \(pasta\), or slirp4netns$/m);
    assert.match(r.stdout, /fix: apt-get install podman$/m);
  });

  it("an unknown feature or option: one line, exit 64", () => {
    for (const args of [["nosuch"], ["--nosuch"]]) {
      const r = doctor(args);
      assert.equal(r.status, 64, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^sysjail: doctor: unknown (feature 'nosuch'|option '--nosuch') \(.*\)\n$/);
    }
  });

  it("as 65534: the user's own view (its user namespaces and cgroup delegation)", () => {
    const r = runAsNobody(nobody, FRONT.sysjail, ["doctor", "--json", "userns", "cgroups"]);
    const doc = JSON.parse(r.stdout) as { features: { name: string; checks: { name: string; ok: boolean }[] }[] };
    const userns = doc.features.find((f) => f.name === "userns")!;
    assert.ok(userns.checks.some((c) => c.name === "unshare(CLONE_NEWUSER)"), r.stdout);
    const cg = doc.features.find((f) => f.name === "cgroups")!;
    assert.ok(cg.checks.some((c) => c.name === "delegation"), r.stdout);
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
  });
});
