// Privileged ports (issue 18): root of a shared-stack jail binds ports below 1024 on its own
// addresses (the bind hook returns 3 for the jail root's host uid), other jail users get EACCES
// as on a host, other addresses stay EADDRNOTAVAIL; a vnet jail's root binds them in its own
// namespace. Only 127.0.0.0/8 and a namespace the test makes are used.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { jail, REPO, requireNet, setup, teardown, type NetEnv } from "./jails.js";
import { disassemble } from "../../src/ebpf/disasm.js";
import { jailPrograms } from "../../src/net/programs.js";

const J4 = ["-4", "127.0.0.62"];

describe("privileged ports in a shared-stack jail", { concurrency: false }, () => {
  let env: NetEnv;
  before(() => { requireNet(); env = setup(); });
  after(async () => {
    assert.deepEqual(await teardown(env), [], "jail cgroups left behind");
  });

  it("jail root binds 22 on its address and 80 on the wildcard (TCP and UDP)", () => {
    assert.equal(jail(env, J4, ["bind", "127.0.0.62", "22"]).out, "ok 127.0.0.62");
    assert.equal(jail(env, J4, ["bind", "0.0.0.0", "80"]).out, "ok 127.0.0.62");
    assert.equal(jail(env, J4, ["bind", "127.0.0.62", "53", "udp"]).out, "ok 127.0.0.62");
  });

  it("another jail user gets EACCES below 1024, and binds above it", () => {
    assert.equal(jail(env, [...J4, "-u", "nobody"], ["bind", "127.0.0.62", "22"]).out, "err EACCES");
    assert.equal(jail(env, [...J4, "-u", "nobody"], ["bind", "0.0.0.0", "1023"]).out, "err EACCES");
    assert.equal(jail(env, [...J4, "-u", "nobody"], ["bind", "127.0.0.62", "0"]).out, "ok 127.0.0.62");
  });

  it("root's privileged bind of another address stays EADDRNOTAVAIL", () => {
    assert.equal(jail(env, J4, ["bind", "127.0.0.63", "22"]).out, "err EADDRNOTAVAIL");
  });

  it("a host control: the same bind outside any jail, as uid 65534, is EACCES", () => {
    const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", env.probe, "bind", "127.0.0.62", "22"], { encoding: "utf8" });
    assert.equal(`${r.stdout}${r.stderr}`.trim(), "err EACCES");
  });
});

describe("privileged ports in a vnet jail", { concurrency: false }, () => {
  let env: NetEnv;
  before(() => { requireNet("unshare -n"); env = setup(); });
  after(async () => {
    assert.deepEqual(await teardown(env), [], "jail cgroups left behind");
  });

  it("jail root binds 22 on its own interface's address", () => {
    const r = spawnSync("unshare", ["-n", "bash", "-c", "ip link set lo up\n$SJ --vnet -4 10.99.0.2 $R vp /p bind 10.99.0.2 22"], {
      encoding: "utf8", timeout: 60000,
      env: { ...process.env, SJ: `${process.execPath} ${join(REPO, "bin", "sysjail.js")} -j ${env.state}`, R: env.root },
    });
    assert.equal(`${r.stdout}${r.stderr}`.trim(), "ok 10.99.0.2");
  });
});

describe("the bind programs (listing)", () => {
  it("return 3 only after the port and the jail root's uid are checked; without a root uid never", () => {
    const withRoot = jailPrograms({ ping: false, rootUid: 0x70000000 }).filter((p) => p.name.startsWith("sj_bind"));
    for (const p of withRoot) {
      const text = disassemble(p.bytes, { ctx: p.ctx });
      assert.match(text, /get_current_uid_gid/, p.name);
      assert.match(text, /0x70000000|1879048192/, p.name);
    }
    for (const p of jailPrograms({ ping: false }).filter((x) => x.name.startsWith("sj_bind"))) {
      assert.doesNotMatch(disassemble(p.bytes, { ctx: p.ctx }), /get_current_uid_gid/, p.name);
    }
  });
});
