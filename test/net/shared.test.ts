// Shared-stack jails with -4/-6, in real jails: what the kernel lets through. Traffic stays on
// 127.0.0.0/8 and ::1, or inside a network namespace the test makes (the IPv6 cases).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { exited, hostProbe, jail, jailServer, port, reachable, REPO, requireNet, setup, teardown, type NetEnv } from "./jails.js";
import { waitUntil } from "../helpers/wait.js";

const J4 = ["-4", "127.0.0.2"];

/** The registry entries in the test's state directory. */
function entries(env: NetEnv): string[] {
  try {
    return readdirSync(join(env.state, "jails")).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
}

describe("shared stack (-4/-6, cgroup eBPF)", { concurrency: false }, () => {
  let env: NetEnv;
  before(() => { requireNet(); env = setup(); });
  after(async () => {
    const left = await teardown(env);
    assert.deepEqual(left, [], "jail cgroups left behind");
  });

  it("binds the wildcard (TCP and UDP) and 127.0.0.1 to the jail address", () => {
    assert.equal(jail(env, J4, ["bind", "0.0.0.0", "0"]).out, "ok 127.0.0.2");
    assert.equal(jail(env, J4, ["bind", "0.0.0.0", "0", "udp"]).out, "ok 127.0.0.2");
    assert.equal(jail(env, J4, ["bind", "127.0.0.1", "0"]).out, "ok 127.0.0.2");
  });

  it("refuses another host address with EADDRNOTAVAIL, keeps the listed ones", () => {
    assert.equal(jail(env, J4, ["bind", "127.0.0.3", "0"]).out, "err EADDRNOTAVAIL");
    assert.equal(jail(env, [...J4, "-4", "127.0.0.5"], ["bind", "127.0.0.5", "0"]).out, "ok 127.0.0.5");
    assert.equal(jail(env, [...J4, "-4", "127.0.0.5"], ["bind", "127.0.0.6", "0", "udp"]).out, "err EADDRNOTAVAIL");
  });

  it("listen() without bind answers at the jail address only", async () => {
    const srv = await jailServer(env, J4, ["listen-unbound", "4", "5"]);
    const m = /^listening 127\.0\.0\.2 (\d+)$/.exec(srv.first);
    assert.ok(m, `getsockname shows the jail address: ${srv.first}`);
    const p = Number(m[1]);
    assert.equal(await reachable("127.0.0.7", p, 800), false, "reachable at another host address");
    assert.equal(await reachable("127.0.0.2", p), true, "not reachable at the jail address");
    srv.child.kill("SIGTERM");
    await exited(srv.child);
  });

  it("outgoing TCP and UDP leave from the jail address", async () => {
    const p = port();
    const tcp = await hostProbe(env, ["serve", "127.0.0.9", String(p), "5"]);
    const udp = await hostProbe(env, ["udp-recv", "127.0.0.9", String(p + 1), "5"]);
    assert.equal(jail(env, J4, ["connect", "127.0.0.9", String(p)]).out, "ok 127.0.0.2");
    assert.equal(jail(env, J4, ["udp-send", "127.0.0.9", String(p + 1), "hi"]).out, "ok 127.0.0.2");
    await waitUntil(() => tcp.lines.length > 1 && udp.lines.length > 1, "the host's servers to report the jail's connection and datagram");
    assert.deepEqual(tcp.lines.slice(1), ["peer 127.0.0.2"]);
    assert.deepEqual(udp.lines.slice(1), ["from 127.0.0.2"]);
    tcp.child.kill(); udp.child.kill();
  });

  it("127.0.0.1 in the jail is the jail's own address, never the host's loopback", async () => {
    const p = port();
    const host = await hostProbe(env, ["echo-serve", "127.0.0.1", String(p), "6"]);
    assert.equal(jail(env, J4, ["loopback", String(p)]).out, "ok jail");
    assert.equal(jail(env, J4, ["echo", "127.0.0.1", String(p), "x"]).out, "err ECONNREFUSED");
    assert.deepEqual(host.lines.slice(1), [], "the host's loopback service was reached");
    host.child.kill();
  });

  it("without -4 the jail reaches nothing outside; with -4 only, no IPv6 either", async () => {
    const p = port();
    const host = await hostProbe(env, ["serve", "127.0.0.9", String(p), "5"]);
    assert.match(jail(env, [], ["connect", "127.0.0.9", String(p)]).out, /^err /);
    assert.equal(jail(env, J4, ["socket", "10", "1", "0"]).out, "err EAFNOSUPPORT");
    assert.equal(jail(env, ["-6", "::1"], ["socket", "2", "1", "0"]).out, "err EAFNOSUPPORT");
    assert.deepEqual(host.lines.slice(1), []);
    host.child.kill();
  });

  it("IPv4-mapped IPv6 gets no other source", async () => {
    const p = port();
    const host = await hostProbe(env, ["serve", "127.0.0.9", String(p), "5"]);
    assert.equal(jail(env, [...J4, "-6", "::1"], ["connect6mapped", "127.0.0.9", String(p)]).out, "ok ::ffff:127.0.0.2");
    assert.equal(jail(env, ["-6", "::1"], ["connect6mapped", "127.0.0.9", String(p)]).out, "err ENETUNREACH");
    assert.equal(jail(env, [...J4, "-6", "::1"], ["bind", "::ffff:127.0.0.3", "0"]).out, "err EADDRNOTAVAIL");
    await waitUntil(() => host.lines.length > 1, "the host's server to report the jail's connection");
    assert.deepEqual(host.lines.slice(1), ["peer 127.0.0.2"]);
    host.child.kill();
  });

  it("raw, packet and ping sockets, spoofed and unbound-then-connected datagrams do not get around it", () => {
    const p = String(port());
    for (const [fam, type, proto] of [["2", "3", "1"], ["17", "3", "0"], ["2", "2", "1"], ["2", "1", "132"]]) {
      assert.match(jail(env, J4, ["socket", fam!, type!, proto!]).out, /^err E(PERM|ACCES|PROTONOSUPPORT|AFNOSUPPORT)$/, `socket ${fam} ${type} ${proto}`);
    }
    assert.equal(jail(env, J4, ["udp-spoof", "127.0.0.9", p, "127.0.0.3"]).out, "err EADDRNOTAVAIL");
    assert.equal(jail(env, J4, ["udp-send-connect", "127.0.0.9", p]).out, "err EADDRNOTAVAIL");
  });

  it("a process in the jail cannot detach the programs", () => {
    assert.match(jail(env, J4, ["bpf-detach"]).out, /^err E(PERM|NOSYS|ACCES)$/);
    assert.equal(jail(env, J4, ["bind", "127.0.0.3", "0"]).out, "err EADDRNOTAVAIL");
  });

  it("a daemon bound to 0.0.0.0 (the full-jail case) answers at its address only", async () => {
    const p = port();
    const d = await jailServer(env, J4, ["echo-serve", "0.0.0.0", String(p), "6"]);
    assert.equal(d.first, `listening 127.0.0.2 ${p}`);
    const via = await hostProbe(env, ["echo", "127.0.0.2", String(p), "hello"]);
    assert.equal(via.first, "ok hello");
    assert.equal(await reachable("127.0.0.7", p), false);
    assert.equal(await reachable("127.0.0.1", p), false);
    d.child.kill("SIGTERM");
    await exited(d.child);
  });

  it("applies FreeBSD's rule to addresses two jails claim", async () => {
    const p = port();
    const a = await jailServer(env, ["-4", "127.0.0.2", "-4", "127.0.0.3"], ["serve", "0.0.0.0", String(p), "5"]);
    await waitUntil(() => entries(env).length === 1, "the first jail's registry entry");
    const r = jail(env, ["-4", "127.0.0.3"], ["bind", "0.0.0.0", "0"]);
    assert.match(r.out, /127\.0\.0\.3 is in use by jail/);
    assert.equal(r.code, 64);
    a.child.kill("SIGTERM");
    await exited(a.child);
  });

  it("jail -m: a running jail's addresses change in place (the address map)", async () => {
    const p = port();
    const d = await jailServer(env, J4, ["serve", "0.0.0.0", String(p), "8"]);
    assert.equal(d.first, `listening 127.0.0.2 ${p}`);
    const jid = (await waitUntil(() => entries(env)[0], "the jail's registry entry")).replace(".json", "");
    const fixture = join(REPO, "test", "net", "fixtures", "update-addrs.mjs");
    const r = spawnSync(process.execPath, [fixture, REPO, env.state, jid, "127.0.0.3"], { encoding: "utf8", timeout: 20000 });
    assert.match(r.stdout, /"ev":"net".*"set":2,"deleted":1/, `${r.stdout}${r.stderr}`);
    // the socket bound to 127.0.0.2 can no longer receive: that address is not the jail's any more
    assert.equal(await reachable("127.0.0.2", p, 800), false);
    assert.equal(jail(env, J4, ["bind", "127.0.0.3", "0"]).out, "err EADDRNOTAVAIL", "another jail is unaffected");
    d.child.kill("SIGTERM");
    await exited(d.child);
  });

  it("jail -m ip4.addr= changes a running jail's addresses, seen by its processes at once", async () => {
    const b = spawnSync(process.execPath, [join(REPO, "bin", "sysjail.js"), "-b", "-i", "-j", env.state, ...J4, env.root, "nj", "/p", "serve", "127.0.0.2", "0", "20"], { encoding: "utf8", timeout: 20000 });
    const jid = b.stdout.trim().split("\n").pop() ?? "";
    assert.match(jid, /^\d+$/, `sysjail -b -i printed ${b.stdout}${b.stderr}`);
    const envs = { ...process.env, SYSJAIL_STATE_DIR: env.state };
    const tool = (t: string, args: string[]) => spawnSync(process.execPath, [join(REPO, "bin", `${t}.js`), ...args], { encoding: "utf8", timeout: 20000, env: envs });
    try {
      assert.equal(tool("jexec", [jid, "/p", "bind", "127.0.0.4", "0"]).stdout.trim(), "err EADDRNOTAVAIL");
      const m = tool("jail", ["-m", jid, "ip4.addr=127.0.0.4"]);
      assert.equal(m.status, 0, `jail -m: ${m.stdout}${m.stderr}`);
      assert.equal(tool("jexec", [jid, "/p", "bind", "127.0.0.4", "0"]).stdout.trim(), "ok 127.0.0.4");
      assert.equal(tool("jexec", [jid, "/p", "bind", "0.0.0.0", "0"]).stdout.trim(), "ok 127.0.0.4");
      assert.equal(tool("jls", ["-j", jid, "ip4.addr"]).stdout.trim(), "127.0.0.4");
    } finally {
      tool("jail", ["-r", jid]);
    }
  });

  it("a process entered with jexec is under the same address programs", async () => {
    const b = spawnSync(process.execPath, [join(REPO, "bin", "sysjail.js"), "-b", "-i", "-j", env.state, ...J4, env.root, "nj", "/p", "serve", "127.0.0.2", "0", "20"], { encoding: "utf8", timeout: 20000 });
    const jid = b.stdout.trim().split("\n").pop() ?? "";
    assert.match(jid, /^\d+$/, `sysjail -b -i printed ${b.stdout}${b.stderr}`);
    const jexec = (args: string[]) => spawnSync(process.execPath, [join(REPO, "bin", "jexec.js"), jid, "/p", ...args], {
      encoding: "utf8", timeout: 20000, env: { ...process.env, SYSJAIL_STATE_DIR: env.state },
    });
    try {
      assert.equal(`${jexec(["bind", "127.0.0.3", "0"]).stdout}`.trim(), "err EADDRNOTAVAIL");
      assert.equal(`${jexec(["bind", "0.0.0.0", "0"]).stdout}`.trim(), "ok 127.0.0.2");
    } finally {
      spawnSync(process.execPath, [join(REPO, "bin", "jail.js"), "-r", jid], { env: { ...process.env, SYSJAIL_STATE_DIR: env.state }, timeout: 20000 });
    }
  });

  it("IPv6 on a stack of its own making (fd00:: in a test namespace)", () => {
    const script = [
      "ip link set lo up",
      "ip addr add fd00::2/128 dev lo nodad", "ip addr add fd00::3/128 dev lo nodad",
      `exec "$@"`,
    ].join("; ");
    const wrap = ["unshare", "-n", "sh", "-c", script, "sh"];
    assert.equal(jail(env, ["-6", "fd00::2"], ["bind", "::", "0"], wrap).out, "ok fd00::2");
    assert.equal(jail(env, ["-6", "fd00::2"], ["bind", "fd00::3", "0"], wrap).out, "err EADDRNOTAVAIL");
    assert.equal(jail(env, ["-6", "fd00::2"], ["bind", "::1", "0", "udp"], wrap).out, "ok fd00::2");
    assert.equal(jail(env, ["-6", "fd00::2"], ["connect", "fd00::3", "9"], wrap).out, "err ECONNREFUSED");
  });
});
