// Rootless callers' -4/-6: a private network namespace holding the addresses; outbound traffic
// through pasta and through slirp4netns (both must be installed: .ci/run installs them, and a
// missing one fails here, never skips), handed the namespaces the monitor holds; a helper that
// dies makes one error line. Runs as 65534. Outbound traffic goes only to 10.77.0.1, on the
// loopback of a network namespace each test makes (unshare -m -n); in the same private mount
// namespace /dev/net/tun is a node of mode 0666, as udev makes it (the host's is left alone).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { findNetTool } from "../../src/net/context.js";
import { hostProbe, port, REPO, requireNet, setup, sleep, teardown, type NetEnv } from "./jails.js";


/** Where a program is on the test runner's PATH (undefined: not installed). */
function which(name: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Processes whose environment holds MARK (the tools inherit the monitor's environment). */
function marked(mark: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, "latin1").includes(mark)) out.push(Number(d));
    } catch {
      /* gone, or a kernel thread */
    }
  }
  return out;
}

describe("rootless -4", { concurrency: false }, () => {
  let env: NetEnv;
  let root: string, xdg: string;
  before(() => {
    requireNet("setpriv");
    env = setup();
    root = join(env.dir, "root65534");
    cpSync(env.root, root, { recursive: true });
    xdg = join(env.dir, "xdg");
    mkdirSync(xdg);
    for (const p of [root, xdg, join(root, "p"), ...["proc", "dev", "tmp", "etc", "sys"].map((d) => join(root, d))]) chownSync(p, 65534, 65534);
    chmodSync(xdg, 0o700);
  });
  after(async () => { await teardown(env); });

  /** sysjail as 65534: `node bin/sysjail.js`, or with `front` the installed command (the native
   * front, whose init made ahead the monitor adopts). */
  const sj = (opts: string[], cmd: string[], wrap: string[] = [], extraEnv: string[] = [], front = false) => {
    const tool = front ? [join(REPO, "native", "build", "sysjail")] : [process.execPath, join(REPO, "bin", "sysjail.js")];
    const argv = [...wrap, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", `HOME=${xdg}`, `XDG_RUNTIME_DIR=${xdg}`, ...extraEnv,
      ...tool, ...opts, root, "rl", "/p", ...cmd];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 40000, cwd: xdg });
    return { out: `${r.stdout}${r.stderr}`, stdout: r.stdout, stderr: r.stderr, code: r.status };
  };

  /** A directory holding only the named tools (links, or scripts with the given text). */
  const toolDir = (tools: Record<string, string>) => {
    const d = join(env.dir, `tools-${randomBytes(4).toString("hex")}`);
    mkdirSync(d, { mode: 0o755 });
    for (const [name, what] of Object.entries(tools)) {
      if (what.startsWith("#!")) writeFileSync(join(d, name), what, { mode: 0o755 });
      else symlinkSync(what, join(d, name));
    }
    return d;
  };

  /** Runs ARGV (a sysjail run) in a fresh network and mount namespace: 10.77.0.1 on lo with the
   * probe serving TCP there, /dev/net/tun usable by all, and with `route` a default route over a
   * veth pair of that namespace (pasta copies the jail's address and routes from it). */
  const inNetns = (route: boolean, p: number) => {
    const tun = join(env.dir, `tun-${randomBytes(4).toString("hex")}`);
    const script = [
      "set -e",
      "mount --make-rprivate /",
      `mknod -m 666 ${tun} c 10 200`,
      `mount --bind ${tun} /dev/net/tun`,
      "ip link set lo up",
      "ip addr add 10.77.0.1/32 dev lo",
      ...(route ? ["ip link add sjt0 type veth peer name sjt1", "ip addr add 10.78.0.1/24 dev sjt0", "ip link set sjt1 up", "ip link set sjt0 up", "ip route add default via 10.78.0.2"] : []),
      "set +e",
      `${env.probe} serve 10.77.0.1 ${p} 30 > ${tun}.out 2>&1 & srv=$!`,
      `until grep -q '^listening' ${tun}.out 2>/dev/null || ! kill -0 $srv 2>/dev/null; do sleep 0.05; done`,
      '"$@"; st=$?',
      // a connection the jail made is accepted and printed by now or soon (bounded: a jail that made none)
      `for i in $(seq 100); do grep -q '^peer' ${tun}.out && break; sleep 0.05; done`,
      "kill $srv; wait $srv 2>/dev/null",
      `cat ${tun}.out`,
      "exit $st",
    ].join("\n");
    return ["unshare", "-m", "-n", "bash", "-c", script, "bash"];
  };

  it("gets its addresses in a namespace of its own, and says what is missing", async () => {
    const p = port();
    const host = await hostProbe(env, ["serve", "127.0.0.9", String(p), "4"]);
    const a = sj(["-4", "10.1.0.5"], ["bind", "10.1.0.5", "0"]);
    assert.match(a.out, /^ok 10\.1\.0\.5$/m);
    const b = sj(["-4", "10.1.0.5"], ["connect", "127.0.0.9", String(p)]);
    assert.match(b.out, /^err /m, "a rootless jail reached the host's loopback");
    if (!findNetTool()) assert.match(b.out, /install pasta \(passt\) or slirp4netns/);
    await sleep(100);
    assert.deepEqual(host.lines.slice(1), []);
    host.child.kill();
  });

  for (const [tool, front] of [["slirp4netns", false], ["pasta", false], ["slirp4netns", true], ["pasta", true]] as const) {
    it(`goes out through ${tool}${front ? " (the native front)" : ""}, handed the namespaces the monitor holds; the tool ends with the jail`, async () => {
      const path = which(tool);
      assert.ok(path, `${tool} is not installed (apt-get install ${tool === "pasta" ? "passt" : tool}; .ci/run does)`);
      const dir = toolDir({ [tool]: path });
      const p = port();
      const mark = `SJT_NET_MARK=${randomBytes(6).toString("hex")}`;
      const r = sj(["-4", "10.1.0.5"], ["connect", "10.77.0.1", String(p)], inNetns(tool === "pasta", p), [`PATH=${dir}`, mark], front);
      assert.equal(r.code, 0, r.out);
      // slirp4netns's NAT address, or the address pasta copied from the namespace's interface
      assert.match(r.stdout, tool === "slirp4netns" ? /^ok 10\.0\.2\.100$/m : /^ok 10\.78\.0\.1$/m, r.out);
      assert.match(r.stdout, /^peer 10\.77\.0\.1$/m, r.out);
      // the monitor stops and reaps the tool as it cleans up, just after sysjail has returned
      for (let i = 0; i < 200 && marked(mark).length; i++) await sleep(50);
      assert.deepEqual(marked(mark).map((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").trim()), [], `${tool} outlived its jail`);
    });
  }

  it("says so in one line when the tool dies while the jail runs", async () => {
    const p = port();
    const fake = toolDir({ slirp4netns: "#!/bin/sh\n# ready (its --ready-fd is 3), then gone\nprintf 1 >&3\necho 'sjt: bye' >&2\nexit 5\n" });
    const argv = [...inNetns(false, p), "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", `HOME=${xdg}`, `XDG_RUNTIME_DIR=${xdg}`, `PATH=${fake}`,
      process.execPath, join(REPO, "bin", "sysjail.js"), "-4", "10.1.0.5", root, "rl", "/p", "serve", "10.1.0.5", "0", "60"];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr!.on("data", (d: Buffer) => { out += d.toString(); });
    const ended = new Promise((r) => child.once("close", r));
    try {
      for (let i = 0; i < 400 && !/no outbound traffic any more/.test(out) && child.exitCode === null; i++) await sleep(50);
      assert.match(out, /^sysjail: slirp4netns exited with status 5: the jail has no outbound traffic any more \(it said: sjt: bye\)$/m, out);
      assert.match(out, /^listening 10\.1\.0\.5 \d+$/m, `the jail goes on: ${out}`);
    } finally {
      try { process.kill(-child.pid!, "SIGTERM"); } catch { /* gone */ }
      await ended;
    }
  });

  it("refuses to start, in one line, when the tool dies before it is ready", () => {
    const p = port();
    const fake = toolDir({ slirp4netns: "#!/bin/sh\necho 'warming up' >&2\necho 'sjt: no tap for you' >&2\nexit 3\n" });
    const r = sj(["-4", "10.1.0.5"], ["connect", "10.77.0.1", String(p)], inNetns(false, p), [`PATH=${fake}`]);
    assert.equal(r.code, 71, r.out);
    const lines = r.stderr.trim().split("\n").filter((l) => !/outbound traffic goes through/.test(l));
    assert.deepEqual(lines, ["sysjail: outbound traffic for the jail failed: slirp4netns exited with status 3 before it was ready: sjt: no tap for you"], r.out);
    assert.doesNotMatch(r.stdout, /^ok/m, "the command ran");
    assert.doesNotMatch(r.stdout, /^peer/m);
    // a real one: pasta with no interface to copy (no default route in the namespace)
    const pasta = which("pasta");
    assert.ok(pasta, "pasta is not installed (apt-get install passt; .ci/run does)");
    const r2 = sj(["-4", "10.1.0.5"], ["connect", "10.77.0.1", String(p)], inNetns(false, p), [`PATH=${toolDir({ pasta })}`]);
    assert.equal(r2.code, 71, r2.out);
    const l2 = r2.stderr.trim().split("\n").filter((l) => !/outbound traffic goes through/.test(l));
    assert.equal(l2.length, 1, r2.out);
    assert.match(l2[0]!, /^sysjail: outbound traffic for the jail failed: pasta exited with status \d+ before it was ready: .*[A-Za-z]/, r2.out);
    assert.doesNotMatch(r2.out, /\bat \S+ \(|node:internal/, "a stack trace");
    assert.deepEqual(readdirSync(xdg).filter((n) => n !== "sysjail").length, 0);
    const state = join(xdg, "sysjail");
    const left = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? left(join(d, e.name)).map((n) => `${e.name}/${n}`) : [e.name]));
    assert.deepEqual(left(state).filter((f) => !f.startsWith("cache/") && f !== "lastjid"), [], "a failed start left registry files");
  });
});
