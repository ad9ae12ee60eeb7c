// sysjail-oci's policy files of containers' seccomp profiles (--root/seccomp): one file per
// profile, found again by every later create, also when the profile's FNV name is taken by a
// file that does not hold it (an older build's format, another profile with the same hash); as root
// and as 65534 (a rootless caller's --root).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chownSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeTempDir, NOBODY_GID, NOBODY_UID, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { OCI_BIN, OCI_NS } from "../helpers/ocibundle.js";

/** A profile that refuses getcwd with EPERM (the probe's "cwd" shows it). */
const SECCOMP = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["getcwd"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }] };
/** What an older build wrote at a profile's name: a policy without the "# sysjail-oci profile" line. */
const OLDER = "deny getcwd EPERM\n";

for (const who of ["root", "65534"] as const) describe(`sysjail-oci: the policy file of a container's seccomp profile (as ${who})`, () => {
  let jr: JailRoot;
  let work: string;
  let xdg: string;
  const roots: string[] = [];
  const ids: [string, string][] = [];
  // 65534: a rootless caller, its --root its own (as $XDG_RUNTIME_DIR/sysjail-oci would be)
  const prefix = who === "root" ? [] : ["setpriv", `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_GID}`, "--clear-groups"];
  const ociCmd = (root: string, args: string[]) => [...prefix, "env", `XDG_RUNTIME_DIR=${xdg}`, OCI_BIN, "--root", root, ...args];
  const mine = (p: string) => { if (who !== "root") chownSync(p, NOBODY_UID, NOBODY_GID); return p; };

  before(() => {
    requireRoot("sysjail-oci's policy file tests");
    jr = makeJailRoot(buildProbe());
    work = makeTempDir("sysjail-ocisec-work-");
    xdg = mine(makeTempDir("sysjail-ocisec-xdg-", 0o700));
    const dir = join(work, "bundle");
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "ocisec",
      process: { args: ["/probe", "cwd"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
      linux: { namespaces: who === "root" ? OCI_NS : [...OCI_NS, { type: "user" }], seccomp: SECCOMP },
    }));
  });
  after(() => {
    for (const [root, id] of ids) { const [cmd, ...args] = ociCmd(root, ["delete", "--force", id]); spawnSync(cmd!, args, { stdio: "ignore", timeout: 60_000 }); }
    for (const r of roots) removeTree(r);
    jr?.remove();
    if (work) removeTree(work);
    if (xdg) removeTree(xdg);
  });

  /** A fresh --root (0700, removed after). */
  const newRoot = () => { const r = mine(makeTempDir("sysjail-ocisec-root-", 0o700)); roots.push(r); return r; };
  /** ROOT/seccomp with an older build's file at each of NAMES. */
  const taken = (root: string, names: string[]) => {
    mkdirSync(join(root, "seccomp"), { mode: 0o700 });
    mine(join(root, "seccomp"));
    for (const n of names) { writeFileSync(join(root, "seccomp", n), OLDER, { mode: 0o600 }); mine(join(root, "seccomp", n)); }
  };
  /** run of the bundle's container under ROOT (create, start, wait, delete): the probe's output. */
  const runOnce = (root: string, n: number) => {
    const id = `ocisecname-${process.pid}-${who}-${n}`;
    ids.push([root, id]);
    const [cmd, ...args] = ociCmd(root, ["run", "--bundle", join(work, "bundle"), id]);
    const r = spawnSync(cmd!, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    return r;
  };
  const policies = (root: string) => readdirSync(join(root, "seccomp")).filter((f) => f.endsWith(".policy")).sort();
  const programs = (root: string) => readdirSync(join(root, "seccomp")).filter((f) => f.endsWith(".bpf")).sort();
  /** Nothing of a container is left under ROOT, nor a temporary file beside the policy files. */
  const clean = (root: string) => {
    assert.deepEqual(readdirSync(root), ["seccomp"], "no container directory left");
    assert.deepEqual(readdirSync(join(root, "seccomp")).filter((f) => !f.endsWith(".policy") && !f.endsWith(".bpf")), [], "no temporary file left");
  };
  let plainName = "";

  it("a profile has one policy file and one program, found again by the next create", () => {
    const root = newRoot();
    const a = runOnce(root, 1);
    assert.equal(a.stdout, "err EPERM\n", a.stderr);
    const first = policies(root);
    assert.equal(first.length, 1, first.join(" "));
    plainName = first[0]!;
    assert.match(readFileSync(join(root, "seccomp", plainName), "utf8"), /^# sysjail-oci profile \{/);
    const b = runOnce(root, 2);
    assert.equal(b.stdout, "err EPERM\n", b.stderr);
    assert.deepEqual(policies(root), first, "the same file");
    assert.equal(programs(root).length, 1, programs(root).join(" "));
    clean(root);
  });

  it("a name taken by an older format's file: one new file (a SHA-256 name), reused by every later create; the older file is left as it was", () => {
    assert.ok(plainName, "the plain case ran");
    const root = newRoot();
    taken(root, [plainName]);
    const a = runOnce(root, 3);
    assert.equal(a.stdout, "err EPERM\n", a.stderr);
    const first = policies(root);
    assert.equal(first.length, 2, first.join(" "));
    const made = first.filter((f) => f !== plainName);
    assert.match(made[0]!, /^[0-9a-f]{32}\.s\.policy$/);
    const b = runOnce(root, 4);
    assert.equal(b.stdout, "err EPERM\n", b.stderr);
    assert.deepEqual(policies(root), first, "the second create reuses the first's file");
    const bpf = programs(root);
    assert.equal(bpf.length, 1, bpf.join(" "));
    assert.ok(bpf[0]!.startsWith(`${made[0]}.`), "the program compiled for the new file");
    assert.equal(readFileSync(join(root, "seccomp", plainName), "utf8"), OLDER, "never replaced");
    clean(root);
  });

  it("the SHA-256 name taken as well: a name of each create's own, the filter still the profile's", () => {
    assert.ok(plainName, "the plain case ran");
    // the SHA-256 name, as the collision case makes it (in a root of its own)
    const seed = newRoot();
    taken(seed, [plainName]);
    runOnce(seed, 5);
    const strong = policies(seed).find((f) => f.endsWith(".s.policy"))!;
    assert.ok(strong, policies(seed).join(" "));
    const root = newRoot();
    taken(root, [plainName, strong]);
    const a = runOnce(root, 6);
    assert.equal(a.stdout, "err EPERM\n", a.stderr);
    const b = runOnce(root, 7);
    assert.equal(b.stdout, "err EPERM\n", b.stderr);
    const own = policies(root).filter((f) => f !== plainName && f !== strong);
    assert.equal(own.length, 2, own.join(" "));
    for (const f of own) assert.match(f, /^[0-9a-f]{32}\.s\.\d+\.\d+\.policy$/);
    clean(root);
  });
});
