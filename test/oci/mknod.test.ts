// sysjail-oci: CAP_MKNOD, given only when config.json asks for it, gives the container's root no
// device node (the kernel checks it in the initial user namespace only); plain jails never hold it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeTempDir, REPO, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { Cap, capMask, FORBIDDEN_CAPS, ociForbiddenMask } from "../../src/plan/caps.js";
import { processCaps } from "../../src/oci/translate.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");
const bit = (n: number) => 1n << BigInt(n);
const MKNOD_CAPS = ["CAP_MKNOD", "CAP_CHOWN", "CAP_KILL"];

describe("sysjail-oci: CAP_MKNOD", () => {
  it("is kept only when config.json asks for it; the rest of the forbidden set stays out (unit)", () => {
    const warns: string[] = [];
    const keep = processCaps({ args: ["x"], cwd: "/", capabilities: { bounding: ["CAP_MKNOD", "CAP_SYS_MODULE", "CAP_KILL"] } }, (m) => warns.push(m));
    assert.equal(keep, bit(Cap.MKNOD) | bit(Cap.KILL));
    assert.deepEqual(warns, ["capability CAP_SYS_MODULE is never given to a jail: left out"]);
    assert.equal(ociForbiddenMask(keep), capMask(FORBIDDEN_CAPS) & ~bit(Cap.MKNOD));
    assert.equal(ociForbiddenMask(bit(Cap.KILL)), capMask(FORBIDDEN_CAPS), "not asked for: still forbidden");
  });

  it("the kernel's rule: root of a fresh user namespace with every capability gets EPERM for a device node", (t) => {
    requireRoot("the user-namespace mknod check");
    const dir = makeTempDir("sysjail-oci-mknod-userns-");
    t.after(() => removeTree(dir));
    // no seccomp here: only the capability check of vfs_mknod stands between root and the node
    const r = spawnSync("unshare", ["-Urm", "sh", "-c",
      `grep CapEff /proc/self/status; mount -t tmpfs none ${dir} || exit 9
       mknod ${dir}/c c 1 3 2>&1; echo c=$?; mknod ${dir}/b b 7 0 2>&1; echo b=$?; mknod ${dir}/p p; echo p=$?`], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const eff = BigInt(`0x${r.stdout.match(/CapEff:\s+([0-9a-f]+)/)?.[1] ?? "0"}`);
    assert.ok(eff & bit(Cap.MKNOD), "the namespace's root holds CAP_MKNOD");
    assert.match(r.stdout, /c=1/);
    assert.match(r.stdout, /b=1/);
    assert.match(r.stdout, /Operation not permitted/);
    assert.match(r.stdout, /p=0/, "the tmpfs is writable: the EPERM is the device rule");
  });

  let jr: JailRoot;
  let state: string;
  let work: string;
  before(() => {
    requireRoot("sysjail-oci's CAP_MKNOD tests");
    jr = makeJailRoot(buildProbe());
    mkdirSync(join(jr.path, "w"));
    chmodSync(join(jr.path, "w"), 0o777); // writable by the container's root: may_create passes
    state = makeTempDir("sysjail-oci-mknod-state-", 0o700);
    work = makeTempDir("sysjail-oci-mknod-work-");
  });
  after(() => {
    jr?.remove();
    if (state) removeTree(state);
    if (work) removeTree(work);
  });

  let n = 0;
  const run = (args: string[], caps: string[] = MKNOD_CAPS) => {
    const dir = join(work, `b${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path },
      mounts: [{ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "mode=1777"] }],
      process: {
        args: ["/probe", ...args], cwd: "/", user: { uid: 0, gid: 0 },
        capabilities: { bounding: caps, effective: caps, permitted: caps },
      },
      linux: { namespaces: [{ type: "pid" }, { type: "mount" }, { type: "network" }] },
    }));
    const r = spawnSync(OCI, ["--root", state, "run", "--bundle", dir, `mknod-${process.pid}-${n}`], { encoding: "utf8", timeout: 60_000 });
    return r;
  };

  it("the container's root holds it in its bounding and effective sets when asked", () => {
    const st = run(["cat", "/proc/self/status"]);
    assert.equal(st.status, 0, st.stderr);
    const get = (k: string) => BigInt(`0x${st.stdout.match(new RegExp(`^${k}:\\s+([0-9a-f]+)$`, "m"))?.[1] ?? "0"}`);
    assert.ok(get("CapBnd") & bit(Cap.MKNOD), st.stdout);
    assert.ok(get("CapEff") & bit(Cap.MKNOD));
    assert.equal(get("CapBnd") & bit(Cap.SYS_MODULE), 0n);
  });

  it("still gets EPERM for a char and a block device on its tmpfs and on its root; a fifo is made", () => {
    for (const [cmd, path] of [["mknod", "/tmp/chr"], ["mknod-blk", "/tmp/blk"], ["mknod", "/w/chr"], ["mknod-blk", "/w/blk"]] as const) {
      const r = run([cmd, path]);
      assert.equal(r.stdout.trim(), "err EPERM", `${cmd} ${path}: ${r.stdout}${r.stderr}`);
    }
    const fifo = run(["mkfifo", "/w/fifo"]);
    assert.equal(fifo.stdout.trim(), "ok 0", `the directory is writable: ${fifo.stdout}${fifo.stderr}`);
  });

  it("is not held when config.json does not ask for it", () => {
    const st = run(["cat", "/proc/self/status"], ["CAP_CHOWN", "CAP_KILL"]);
    assert.equal(st.status, 0, st.stderr);
    const bnd = BigInt(`0x${st.stdout.match(/^CapBnd:\s+([0-9a-f]+)$/m)?.[1] ?? "x"}`);
    assert.equal(bnd & bit(Cap.MKNOD), 0n);
  });
});
