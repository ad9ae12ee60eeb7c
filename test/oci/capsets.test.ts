// sysjail-oci: process.capabilities.inheritable and ambient, within the kept (bounding) set:
// the masks (unit) and the sets a container's process really has (root, a real jail).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeTempDir, REPO, removeTree, requireRoot, type JailRoot } from "../helpers/index.js";
import { inheritAmbient } from "../../src/oci/capsets.js";
import { Cap, capMask } from "../../src/plan/caps.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");
const bit = (n: number) => 1n << BigInt(n);

describe("sysjail-oci: inheritable and ambient capabilities", () => {
  it("keeps them within the kept set, ambient within inheritable (unit)", () => {
    const keep = capMask(["KILL", "CHOWN"]);
    const m = inheritAmbient({ inheritable: ["CAP_KILL", "CAP_SYS_ADMIN", "CAP_NOPE"], ambient: ["CAP_KILL", "CAP_CHOWN"] }, keep);
    assert.equal(m.inheritable, bit(Cap.KILL), "not kept, unknown: left out");
    assert.equal(m.ambient, bit(Cap.KILL), "CHOWN is kept but not inheritable: not ambient");
    assert.deepEqual(inheritAmbient(undefined, keep), { inheritable: 0n, ambient: 0n });
  });

  let jr: JailRoot;
  let state: string;
  let work: string;
  before(() => {
    requireRoot("sysjail-oci's capability tests");
    jr = makeJailRoot(buildProbe());
    state = makeTempDir("sysjail-oci-caps-state-", 0o700);
    work = makeTempDir("sysjail-oci-caps-work-");
  });
  after(() => {
    jr?.remove();
    if (state) removeTree(state);
    if (work) removeTree(work);
  });

  const status = (name: string, user: { uid: number; gid: number }) => {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path },
      process: {
        args: ["/probe", "cat", "/proc/self/status"], cwd: "/", user,
        capabilities: { bounding: ["CAP_KILL", "CAP_NET_BIND_SERVICE"], inheritable: ["CAP_KILL", "CAP_CHOWN", "CAP_MKNOD"], ambient: ["CAP_KILL", "CAP_NET_BIND_SERVICE"] },
      },
      linux: { namespaces: [{ type: "pid" }, { type: "mount" }, { type: "network" }] },
    }));
    const r = spawnSync(OCI, ["--root", state, "run", "--bundle", dir, `capsets-${process.pid}-${name}`], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const get = (k: string) => BigInt(`0x${r.stdout.match(new RegExp(`^${k}:\\s+([0-9a-f]+)$`, "m"))?.[1] ?? "x"}`);
    return { inh: get("CapInh"), amb: get("CapAmb"), bnd: get("CapBnd") };
  };

  it("the container's root has them: inheritable KILL (CHOWN, MKNOD not in the bounding set), ambient KILL", () => {
    const s = status("root", { uid: 0, gid: 0 });
    assert.equal(s.inh, bit(Cap.KILL));
    assert.equal(s.amb, bit(Cap.KILL), "NET_BIND_SERVICE is not inheritable: not ambient");
    assert.equal(s.bnd & bit(Cap.MKNOD), 0n);
  });

  it("a process of another uid keeps its ambient set across exec (as with runc), and nothing else", () => {
    const s = status("user", { uid: 1000, gid: 1000 });
    assert.equal(s.inh, bit(Cap.KILL));
    assert.equal(s.amb, bit(Cap.KILL), "ambient within inheritable and the kept set");
  });
});
