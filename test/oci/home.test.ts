// sysjail-oci: a process whose environment has no HOME gets its user's home from the image's
// /etc/passwd, as runc gives it, read confined to the container's root (a hostile image's link or
// FIFO gives "/" and a warning, never the host's file, never a hang).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeTempDir, REPO, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");
const NS = ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type }));

describe("sysjail-oci: HOME from the image's passwd (root)", () => {
  let jr: JailRoot;
  let state: string;
  let work: string;
  before(() => {
    requireRoot("sysjail-oci's HOME tests");
    jr = makeJailRoot(buildProbe(), { passwd: "root:x:0:0:root:/root-home:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n" });
    state = makeTempDir("sysjail-oci-home-state-", 0o700);
    work = makeTempDir("sysjail-oci-home-work-");
  });
  after(() => {
    jr?.remove();
    if (state) removeTree(state);
    if (work) removeTree(work);
  });

  const home = (name: string, uid: number, env: string[]) => {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path },
      process: { args: ["/probe", "env"], env, cwd: "/", user: { uid, gid: uid } },
      linux: { namespaces: NS },
    }));
    const r = spawnSync(OCI, ["--root", state, "run", "--bundle", dir, `home-${process.pid}-${name}`], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return { home: /^env HOME=(.*)$/m.exec(r.stdout)?.[1], stderr: r.stderr };
  };

  it("root's and a user's home from the image; a HOME given is kept; an unknown uid gets /", () => {
    assert.equal(home("root", 0, ["PATH=/bin"]).home, "/root-home");
    assert.equal(home("user", 1000, ["PATH=/bin"]).home, "/home/user");
    assert.equal(home("given", 0, ["PATH=/bin", "HOME=/given"]).home, "/given");
    assert.equal(home("unknown", 4242, ["PATH=/bin"]).home, "/");
  });

  it("a confined read's answer is kept in --root by the passwd file's identity; a changed file is read again", () => {
    const pw = join(jr.path, "etc", "passwd");
    const original = readFileSync(pw, "utf8");
    try {
      assert.equal(home("memo1", 0, ["PATH=/bin"]).home, "/root-home");
      const kept = readdirSync(join(state, "home")).filter((n) => n.startsWith("0."));
      assert.equal(kept.length, 1, "one answer for uid 0 of this image");
      // the answer kept is the one used while the file is the same (planted here to tell them apart)
      const memo = join(state, "home", kept[0]!);
      const [id] = readFileSync(memo, "utf8").split("\n");
      writeFileSync(memo, `${id}\n/from-memo`);
      assert.equal(home("memo2", 0, ["PATH=/bin"]).home, "/from-memo");
      // any change of the file (its change time) and it is read again
      writeFileSync(pw, "root:x:0:0:root:/root-new:/bin/sh\n");
      assert.equal(home("memo3", 0, ["PATH=/bin"]).home, "/root-new");
    } finally {
      writeFileSync(pw, original);
    }
  });

  it("exec: a process without HOME gets its user's home from the running container's passwd", () => {
    const c = `home-${process.pid}-exec`;
    const dir = join(work, "exec");
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path },
      process: { args: ["/probe", "waitfile", "/never"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
      linux: { namespaces: NS },
    }));
    const fd = openSync("/dev/null", "w");
    try {
      const oci = (args: string[]) => spawnSync(OCI, ["--root", state, ...args], { encoding: "utf8", stdio: ["ignore", fd, fd], timeout: 60_000 });
      assert.equal(oci(["create", "--bundle", dir, c]).status, 0);
      assert.equal(oci(["start", c]).status, 0);
      const e = spawnSync(OCI, ["--root", state, "exec", c, "/probe", "env"], { encoding: "utf8", timeout: 60_000 });
      assert.equal(e.status, 0, e.stderr);
      assert.match(e.stdout, /^env HOME=\/root-home$/m);
    } finally {
      spawnSync(OCI, ["--root", state, "delete", "--force", c], { stdio: "ignore", timeout: 60_000 });
      closeSync(fd);
    }
  });

  it("an image's /etc/passwd that is a link to the host's, or a FIFO: HOME=/ and a warning naming it", () => {
    const pw = join(jr.path, "etc", "passwd");
    rmSync(pw);
    symlinkSync("/etc/passwd", pw);
    const l = home("link", 0, ["PATH=/bin"]);
    assert.equal(l.home, "/", "the host's /etc/passwd is never read for the container");
    assert.match(l.stderr, /HOME left at "\/": .*\/etc\/passwd.*symbolic link/);
    rmSync(pw);
    assert.equal(spawnSync("mkfifo", [pw]).status, 0);
    const f = home("fifo", 0, ["PATH=/bin"]);
    assert.equal(f.home, "/");
    assert.match(f.stderr, /HOME left at "\/": .*FIFO/);
    rmSync(pw);
    writeFileSync(pw, "root:x:0:0:root:/root-home:/bin/sh\n");
  });
});
