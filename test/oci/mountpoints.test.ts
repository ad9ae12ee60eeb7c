// sysjail-oci: mount points config.json needs and the image lacks are made by create inside the
// container's root (the helper's mkdir-in-root), and the mounts appear in config.json's order.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeTempDir, REPO, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { mountTargets } from "../../src/oci/mountpoints.js";
import { mountOps } from "../../src/oci/translate.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");
const HELPER = join(REPO, "native", "build", "sysjail-helper");
const NS = ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type }));

describe("sysjail-oci: mount points (unit)", () => {
  it("names the targets of binds (files as files) and tmpfs mounts, not the jail's own filesystems", () => {
    const ops = mountOps([
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/mnt/t", type: "tmpfs", source: "tmpfs", options: ["size=1k", "shared"] },
      { destination: "/mnt/d", source: "/etc", options: ["rbind", "rslave"] },
      { destination: "/opt/f", source: "/etc/hostname", type: "bind" },
    ], () => undefined);
    assert.deepEqual(mountTargets(ops), ["d:/mnt/t", "d:/mnt/d", "f:/opt/f"]);
    assert.match(String(ops[0]!.args[3]), /(^|,)source=tmpfs$/, "the tmpfs carries config.json's source name");
    assert.match(String(ops[0]!.args[2]), /S/, "shared");
    assert.match(String(ops[1]!.args[2]), /^(?=.*L)(?=.*A)/, "rslave: slave, for the whole tree");
    const warnings: string[] = [];
    const [t, b] = mountOps([
      { destination: "/t", type: "tmpfs", source: "tmpfs", options: ["noatime", "nodiratime"] },
      { destination: "/b", source: "/etc", options: ["bind", "strictatime"] },
    ], (m) => warnings.push(m));
    assert.match(String(t!.args[2]), /^(?=.*N)(?=.*D)/, "a tmpfs takes its access-time options");
    assert.doesNotMatch(String(b!.args[2]), /[TND]/);
    assert.deepEqual(warnings, ["mount /b: strictatime cannot be applied to a bind mount here (it keeps its source's access times): ignored"]);
  });
});

describe("sysjail-oci: mount points (root)", () => {
  let jr: JailRoot;
  let work: string;
  let state: string;
  const ids: string[] = [];
  const oci = (args: string[]) => spawnSync(OCI, ["--root", state, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });

  before(() => {
    requireRoot("mount point tests");
    jr = makeJailRoot(buildProbe());
    work = makeTempDir("sysjail-oci-mp-");
    state = makeTempDir("sysjail-oci-mp-state-", 0o700);
  });
  after(() => {
    for (const i of ids) oci(["delete", "--force", i]);
    jr?.remove();
    removeTree(work);
    removeTree(state);
  });

  it("create makes missing mount points in a root-owned tree; the mounts follow config.json's order", () => {
    const src = join(work, "src");
    mkdirSync(src);
    writeFileSync(join(work, "file"), "host-file\n");
    const c = `rtmisc-mp-${process.pid}`;
    ids.push(c);
    const config = {
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "mp",
      process: { args: ["/probe", "mounts"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
      mounts: [
        { destination: "/proc", type: "proc", source: "proc" },
        { destination: "/mnt/t", type: "tmpfs", source: "tmpfs", options: ["nosuid", "size=1k", "shared"] },
        { destination: "/mnt/d", source: src, options: ["bind", "private"] },
        { destination: "/opt/deep/f", source: join(work, "file"), options: ["rbind", "rslave"] },
        { destination: "/mnt/u", type: "tmpfs", source: "tmpfs", options: ["strictatime", "unbindable"] },
      ],
      linux: { namespaces: NS },
    };
    const bundle = join(work, "bundle");
    mkdirSync(bundle);
    writeFileSync(join(bundle, "config.json"), JSON.stringify(config));
    const r = oci(["run", "--bundle", bundle, c]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /skipped/, r.stderr);
    const points = r.stdout.trim().split(" ").slice(1);
    const at = ["/proc", "/mnt/t", "/mnt/d", "/opt/deep/f", "/mnt/u"].map((p) => points.indexOf(p));
    assert.ok(at.every((i) => i > 0), r.stdout);
    assert.deepEqual([...at].sort((a, b) => a - b), at, `config.json's order: ${r.stdout}`);
    // made as runc makes them: host root's (the tree's owner), 0755, the file empty
    for (const d of ["mnt", "mnt/t", "mnt/d", "opt", "opt/deep"]) {
      const st = lstatSync(jr.at(d));
      assert.ok(st.isDirectory() && st.uid === 0 && (st.mode & 0o7777) === 0o755, d);
    }
    const f = lstatSync(jr.at("opt/deep/f"));
    assert.ok(f.isFile() && f.size === 0 && f.uid === 0);
    // each mount's propagation as config.json asks (among the container's own mounts)
    const prop = (point: string) => {
      config.process.args = ["/probe", "propagation", point];
      writeFileSync(join(bundle, "config.json"), JSON.stringify(config));
      const p = oci(["run", "--bundle", bundle, c]);
      assert.equal(p.status, 0, p.stderr);
      return p.stdout.trim();
    };
    assert.match(prop("/mnt/t"), /^ok shared:\d+$/);
    assert.equal(prop("/mnt/u"), "ok unbindable");
    assert.equal(prop("/mnt/d"), "ok -");
  });

  it("mkdir-in-root stays in the root, gives what it makes to the parent's owner, changes nothing existing", () => {
    const root = join(work, "tree");
    const outside = join(work, "outside");
    mkdirSync(join(root, "own"), { recursive: true });
    mkdirSync(outside);
    chownSync(join(root, "own"), 12345, 12346);
    symlinkSync(outside, join(root, "esc"));
    symlinkSync("../../../..", join(root, "up"));
    const r = spawnSync(HELPER, ["mkdir-in-root", root, "d:/esc/x", "d:/up/y", "f:/own/a/b", "d:/own", "d:/../z"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.split("\n").slice(0, 5).map((l) => l.split(" ")[0]), ["err", "ok", "ok", "ok", "err"]);
    assert.equal(existsSync(join(outside, "x")), false, "a symlink does not lead out of the root");
    assert.equal(existsSync(join(work, "y")), false, "nor does ..");
    assert.ok(existsSync(join(root, "y")), "'..' above the root is the root");
    const a = lstatSync(join(root, "own", "a")), b = lstatSync(join(root, "own", "a", "b"));
    assert.deepEqual([a.uid, a.gid, b.uid, b.gid], [12345, 12346, 12345, 12346]);
    assert.ok(b.isFile());
    const bad = spawnSync(HELPER, ["mkdir-in-root", root, "x:/a"], { encoding: "utf8" });
    assert.equal(bad.status, 64);
    assert.match(bad.stderr, /^usage: sysjail-helper mkdir-in-root DIR d:PATH\|f:PATH\.\.\.\n$/);
  });
});
