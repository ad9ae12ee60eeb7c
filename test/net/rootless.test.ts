// Rootless callers' -4/-6: a private network namespace holding the addresses; with slirp4netns
// (when installed and /dev/net/tun is usable), outbound connectivity through it. Runs as 65534.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { accessSync, chmodSync, chownSync, constants, cpSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { findNetTool } from "../../src/net/context.js";
import { hostProbe, port, REPO, setup, skipReason, sleep, teardown, type NetEnv } from "./jails.js";

const skip = skipReason() ?? (spawnSync("setpriv", ["--version"]).status !== 0 ? "needs setpriv" : undefined);
const tunUsable = (() => {
  try {
    return (statSync("/dev/net/tun").mode & 0o006) === 0o006;
  } catch {
    return false;
  }
})();

describe("rootless -4", { skip, concurrency: false }, () => {
  let env: NetEnv;
  let root: string, xdg: string;
  before(() => {
    env = setup();
    root = join(env.dir, "root65534");
    cpSync(env.root, root, { recursive: true });
    xdg = join(env.dir, "xdg");
    mkdirSync(xdg);
    for (const p of [root, xdg, join(root, "p"), ...["proc", "dev", "tmp", "etc", "sys"].map((d) => join(root, d))]) chownSync(p, 65534, 65534);
    chmodSync(xdg, 0o700);
  });
  after(async () => { await teardown(env); });

  const sj = (opts: string[], cmd: string[], wrap: string[] = []) => {
    const argv = [...wrap, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", `HOME=${xdg}`, `XDG_RUNTIME_DIR=${xdg}`,
      process.execPath, join(REPO, "bin", "sysjail.js"), ...opts, root, "rl", "/p", ...cmd];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 20000, cwd: xdg });
    return `${r.stdout}${r.stderr}`;
  };

  it("gets its addresses in a namespace of its own, and says what is missing", async () => {
    const p = port();
    const host = await hostProbe(env, ["serve", "127.0.0.9", String(p), "4"]);
    const a = sj(["-4", "10.1.0.5"], ["bind", "10.1.0.5", "0"]);
    assert.match(a, /^ok 10\.1\.0\.5$/m);
    const b = sj(["-4", "10.1.0.5"], ["connect", "127.0.0.9", String(p)]);
    assert.match(b, /^err /m, "a rootless jail reached the host's loopback");
    if (!findNetTool()) assert.match(b, /install pasta \(passt\) or slirp4netns/);
    await sleep(100);
    assert.deepEqual(host.lines.slice(1), []);
    host.child.kill();
  });

  it("goes out through slirp4netns when it is there", { skip: findNetTool()?.name !== "slirp4netns" || !tunUsable ? "needs slirp4netns and a /dev/net/tun the user may open" : false }, () => {
    accessSync("/dev/net/tun", constants.R_OK);
    const p = port();
    const script = `ip link set lo up; ip addr add 10.77.0.1/32 dev lo; ${env.probe} serve 10.77.0.1 ${p} 4 & sleep 0.3; "$@"; wait`;
    const out = sj(["-4", "10.1.0.5"], ["connect", "10.77.0.1", String(p)], ["unshare", "-n", "bash", "-c", script, "bash"]);
    assert.match(out, /^ok 10\.0\.2\.100$/m, out);
    assert.match(out, /peer 10\.77\.0\.1/);
  });
});
