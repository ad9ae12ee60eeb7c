// Addresses, the address map and its updates, conflicts, modes, and the plan ops of each mode.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalAddr, ip6Bytes, ip6Text, parseJailAddr } from "../../src/net/addr.js";
import { checkConflicts } from "../../src/net/conflict.js";
import { ADDR_MAP, mapChanges, mapEntries } from "../../src/net/map.js";
import { netMode } from "../../src/net/mode.js";
import { netOps } from "../../src/net/plan.js";
import { addressUpdateOps } from "../../src/net/update.js";
import { parseJailAddrs } from "../../src/net/addr.js";
import { baseSpec } from "../../src/spec/validate.js";
import { planJail, ownNetns, commandOps } from "../../src/plan/planner.js";
import { LANDLOCK_SCOPE } from "../../src/plan/landlock.js";
import { abiOfRelease } from "../../src/host/landlock.js";
import { SysjailError } from "../../src/errors.js";
import { findNetTool } from "../../src/net/context.js";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JailEntry } from "../../src/registry/types.js";
import type { JailSpec } from "../../src/spec/types.js";
import type { NetContext } from "../../src/net/context.js";
import { dumpNet } from "../../src/net/dump.js";

const spec = (ip4: string[], ip6: string[] = [], vnet = false): JailSpec => ({ ...baseSpec("/tmp", "t"), ip4, ip6, vnet, command: ["/x"] });

describe("addresses", () => {
  it("parses strictly and prints canonically", () => {
    assert.equal(canonicalAddr("127.0.0.2", 4, false), "127.0.0.2");
    assert.equal(canonicalAddr("FD00:0:0::0002", 6, false), "fd00::2");
    assert.equal(canonicalAddr("10.1.0.5/24", 4, true), "10.1.0.5/24");
    assert.equal(ip6Text(ip6Bytes("2001:db8:0:0:1:0:0:1")!), "2001:db8::1:0:0:1");
    assert.equal(ip6Text(ip6Bytes("::ffff:1.2.3.4")!), "::ffff:1.2.3.4");
    for (const bad of ["127.0.0.01", "1.2.3", "256.1.1.1", "1.2.3.4.5", " 1.2.3.4"]) assert.throws(() => parseJailAddr(bad, 4, false), /not an IPv4/, bad);
    for (const bad of ["1:2:3:4:5:6:7:8:9", "::1::", "fd00::g", "1.2.3.4"]) assert.throws(() => parseJailAddr(bad, 6, false), /not an IPv6/, bad);
  });
  it("refuses what a jail cannot own", () => {
    for (const a of ["0.0.0.0", "0.1.2.3", "224.0.0.1", "255.255.255.255"]) assert.throws(() => parseJailAddr(a, 4, false), { message: /^-4 / }, a);
    for (const a of ["::", "ff02::1", "::ffff:1.2.3.4", "fe80::1"]) assert.throws(() => parseJailAddr(a, 6, false), { message: /^-6 / }, a);
    assert.throws(() => parseJailAddr("10.0.0.1/24", 4, false), /only meaningful with --vnet/);
  });
});

describe("the address map", () => {
  const { v4, v6 } = parseJailAddrs(["127.0.0.2", "127.0.0.5"], ["fd00::2"], false);
  it("holds each address and the fallbacks", () => {
    const e = mapEntries(v4, v6).map((x) => `${ip6Text(x.key)}=${ip6Text(x.value)}`);
    assert.deepEqual(e, ["::ffff:127.0.0.2=::ffff:127.0.0.2", "::ffff:127.0.0.5=::ffff:127.0.0.5", "fd00::2=fd00::2",
      "::ffff:0.0.0.0=::ffff:127.0.0.2", "::=fd00::2"]);
    assert.ok(e.length <= ADDR_MAP.maxEntries);
  });
  it("changes in an order that never leaves a fallback outside the members", () => {
    const to = parseJailAddrs(["127.0.0.7"], [], false);
    const { sets, deletes } = mapChanges(mapEntries(v4, v6), mapEntries(to.v4, to.v6));
    assert.deepEqual(sets.map((e) => ip6Text(e.key)), ["::ffff:127.0.0.7", "::ffff:0.0.0.0"]);
    assert.deepEqual(deletes.map(ip6Text), ["::", "::ffff:127.0.0.2", "::ffff:127.0.0.5", "fd00::2"]);
  });
});

const entry = (jid: number, ip4: string[], s: JailSpec, owner = 0): JailEntry => ({
  jid, name: String(jid), path: "/", hostname: "h", ip4, ip6: [], initPid: 1, initStart: 1, monitorPid: 1, owner,
  command: [], startedAt: "", persist: false, idmap: { uidMap: "", gidMap: "", rootless: false }, cgroups: {}, spec: s,
});

describe("conflicts (FreeBSD's rule)", () => {
  it("lets two single-address shared jails share; not with more addresses, not with vnet", () => {
    const other = entry(1, ["127.0.0.2"], spec(["127.0.0.2"]));
    assert.doesNotThrow(() => checkConflicts(spec(["127.0.0.2"]), "shared", [other]));
    assert.throws(() => checkConflicts(spec(["127.0.0.2", "127.0.0.3"]), "shared", [other]), /EADDRINUSE|in use/);
    assert.throws(() => checkConflicts(spec(["127.0.0.2"], [], true), "vnet", [other]), /vnet/);
    const rootless = entry(2, ["127.0.0.4"], spec(["127.0.0.4"]), 1000);
    assert.doesNotThrow(() => checkConflicts(spec(["127.0.0.4", "127.0.0.5"]), "shared", [rootless]));
  });
});

describe("modes and ops", () => {
  it("chooses the mode from the spec and the caller", () => {
    assert.equal(netMode(spec([])), "none");
    assert.equal(netMode(spec(["127.0.0.2"])), "shared");
    assert.equal(netMode(spec(["127.0.0.2"]), 1000), "private");
    assert.equal(netMode(spec([], [], true)), "vnet");
    assert.equal(ownNetns(spec(["127.0.0.2"])), false);
    assert.equal(ownNetns(spec(["127.0.0.2"]), 1000), true);
  });
  it("shared: cgroup, map, eleven programs attached with no flags, then the init joins", () => {
    const ops = netOps(spec(["127.0.0.2"]), { mode: "shared", cgroupDir: "/cg/sysjail/3" }).host;
    assert.deepEqual(ops.map((o) => o.op), ["cgroupMkdir", "bpfMap", ...Array(11).fill("bpfProg"), "cgroupAttach"]);
    for (const o of ops.filter((x) => x.op === "bpfProg")) {
      assert.equal(o.args[3], "/cg/sysjail/3");
      assert.equal(o.args[4], "0");
    }
    const again = netOps(spec(["127.0.0.2"]), { mode: "shared", cgroupDir: "/cg/sysjail/3" },
      { cgroupOps: [{ op: "cgroupMkdir", args: ["/cg/sysjail/3"] }, { op: "cgroupAttach", args: ["/cg/sysjail/3/cgroup.procs"] }] }).host;
    assert.equal(again.filter((o) => o.op === "cgroupMkdir" || o.op === "cgroupAttach").length, 0);
  });
  it("vnet: a veth pair, gateways and routes on the host end, addresses and default routes inside", () => {
    const n = netOps(spec(["10.99.0.2/24"], ["fd00::2"], true), { mode: "vnet", hostIf: "sj7h", moveIfs: ["vt1"] });
    assert.deepEqual(n.host.map((o) => [o.op, ...o.args]), [
      ["vnetLink", "veth", "sj7h", "eth0"], ["hostAddr", "sj7h", "169.254.0.1/32"], ["hostAddr", "sj7h", "fe80::1/64"],
      ["hostRoute", "10.99.0.2/32", "sj7h"], ["hostRoute", "fd00::2/128", "sj7h"], ["vnetLink", "move", "vt1", "vt1"],
    ]);
    assert.deepEqual(n.init.map((o) => [o.op, ...o.args]), [
      ["jailAddr", "eth0", "10.99.0.2/24"], ["jailAddr", "eth0", "fd00::2/128"],
      ["jailRoute", "0.0.0.0/0", "169.254.0.1", "eth0"], ["jailRoute", "::/0", "fe80::1", "eth0"],
    ]);
  });
  it("private (rootless): addresses on loopback, and the tool when there is one", () => {
    const n = netOps(spec(["10.1.0.5"]), { mode: "private", tool: { name: "slirp4netns", path: "/usr/bin/slirp4netns" } });
    assert.deepEqual(n.init.map((o) => o.args), [["lo", "10.1.0.5/32"]]);
    assert.equal(n.host[0]!.op, "netHelper");
    // the jail's namespaces as the monitor holds them: never /proc/PID of the non-dumpable init
    assert.deepEqual(n.host[0]!.args.slice(-4), ["--userns-path", "{userns}", "{netns}", "tap0"]);
    assert.ok(!n.host[0]!.args.includes("{pid}"));
    assert.ok(n.host[0]!.args.includes("--disable-host-loopback"));
    const p = netOps(spec(["10.1.0.5"]), { mode: "private", tool: { name: "pasta", path: "/usr/bin/pasta" } });
    const pa = p.host[0]!.args.map(String);
    assert.deepEqual(pa.slice(0, 2), ["/usr/bin/pasta", "pasta"]);
    for (const [flag, value] of [["--netns", "{netns}"], ["--userns", "{userns}"], ["--pid", "{ready-path}"]]) assert.equal(pa[pa.indexOf(flag!) + 1], value, flag);
    for (const f of ["--no-map-gw", "--foreground", "--config-net"]) assert.ok(pa.includes(f), f);
    assert.ok(!pa.includes("{pid}"));
    assert.deepEqual(netOps(spec(["10.1.0.5"]), { mode: "private", toolProblem: "pasta: /dev/net/tun ..." }).host, []);
  });
  it("picks pasta when the host has a default route, else slirp4netns", () => {
    const dir = mkdtempSync(join(tmpdir(), "sysjail-nettool-"));
    try {
      const both = join(dir, "both"), slirp = join(dir, "slirp"), pasta = join(dir, "pasta");
      for (const [d, names] of [[both, ["pasta", "slirp4netns"]], [slirp, ["slirp4netns"]], [pasta, ["pasta"]]] as const) {
        mkdirSync(d);
        for (const n of names) writeFileSync(join(d, n), "#!/bin/sh\n", { mode: 0o755 });
      }
      assert.equal(findNetTool(both, () => true)?.name, "pasta");
      assert.equal(findNetTool(both, () => false)?.name, "slirp4netns");
      assert.equal(findNetTool(slirp, () => true)?.name, "slirp4netns");
      assert.equal(findNetTool(pasta, () => false)?.name, "pasta");
      assert.equal(findNetTool(join(dir, "none"), () => true), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("the planner places host ops after the cgroups and jail ops after loopback", () => {
    const facts = { uid: 0, gid: 0, arch: "x64", subidBase: 0x70000000, subidCount: 65536 };
    const ctx = { facts, jid: 3, stateFiles: [], rootOwner: 0, layout: { proc: false, dev: false, sys: false, tmp: false }, debug: false, detach: false, staging: "/tmp", landlock: { abi: 6, sure: true } };
    const withNet = (sp: JailSpec, net: NetContext) => ({ ...ctx, net, netOps: netOps(sp, net) });
    const sharedSpec = spec(["127.0.0.2"]);
    const shared = planJail(sharedSpec, withNet(sharedSpec, { mode: "shared", cgroupDir: "/cg/3" }));
    const names = shared.ops.map((o) => o.op);
    assert.ok(names.indexOf("bpfMap") < names.indexOf("uidMap"));
    assert.ok(!names.includes("loUp"));
    assert.equal(Number(shared.ops[0]!.args[0]) & 0x40000000, 0, "no new network namespace");
    const vnetSpec = spec(["10.99.0.2"], [], true);
    const vnet = planJail(vnetSpec, withNet(vnetSpec, { mode: "vnet", hostIf: "sj3h" }));
    const v = vnet.ops.map((o) => o.op);
    assert.ok(v.indexOf("loUp") < v.indexOf("jailAddr"));
    assert.throws(() => planJail(spec(["127.0.0.2"]), ctx), /needs ctx.net/);
    assert.throws(() => planJail(sharedSpec, { ...ctx, net: { mode: "shared", cgroupDir: "/cg/3" } }), /ctx.netOps/);
  });
  it("gives every jail's command Landlock scopes, after no-new-privs and before seccomp; a shared-stack jail needs them", () => {
    const facts = { uid: 0, gid: 0, arch: "x64", subidBase: 0x70000000, subidCount: 65536 };
    const base = { facts, jid: 3, stateFiles: [], rootOwner: 0, layout: { proc: false, dev: false, sys: false, tmp: false }, debug: false, detach: false, staging: "/tmp",
      filter: { program: new Uint8Array(8), flags: 0 } };
    const sharedSpec = spec(["127.0.0.2"]);
    const net: NetContext = { mode: "shared", cgroupDir: "/cg/3" };
    const shared = (landlock?: { abi: number; sure: boolean }) => planJail(sharedSpec, { ...base, net, netOps: netOps(sharedSpec, net), landlock });
    const ll = (p: ReturnType<typeof planJail>) => p.ops.filter((o) => o.op === "landlockScope").map((o) => o.args);
    const plan = shared({ abi: 6, sure: false });
    assert.deepEqual(ll(plan), [[String(LANDLOCK_SCOPE.abstractUnixSocket | LANDLOCK_SCOPE.signal), "required"]]);
    const names = plan.ops.map((o) => o.op);
    assert.ok(names.indexOf("nnp") < names.indexOf("landlockScope") && names.indexOf("landlockScope") < names.indexOf("seccomp"), names.join(" "));
    for (const abi of [0, 5]) {
      assert.throws(() => shared({ abi, sure: true }), (e: unknown) => e instanceof SysjailError && e.exitCode === 71 && /abstract unix socket scope \(Linux 6\.12\+/.test(e.message) && !e.message.includes("\n"));
    }
    assert.throws(() => shared(undefined), /abstract unix socket scope/);
    const own = spec([]);
    const ownPlan = (landlock?: { abi: number; sure: boolean }) => planJail(own, { ...base, landlock });
    assert.deepEqual(ll(ownPlan({ abi: 7, sure: true })), [["3", "required"]]);
    assert.deepEqual(ll(ownPlan({ abi: 6, sure: false })), [["3", "optional"]]);
    assert.deepEqual(ll(ownPlan({ abi: 5, sure: true })), []);
    assert.deepEqual(ll(ownPlan(undefined)), []);
    // entered processes get what their caller chooses (jexec: none, or the abstract scope alone)
    const ids = { rootless: false, count: 65536 } as unknown as Parameters<typeof commandOps>[2];
    assert.deepEqual(commandOps(own, { scopes: { scoped: LANDLOCK_SCOPE.abstractUnixSocket, required: true } }, ids).filter((o) => o.op === "landlockScope").map((o) => o.args), [["1", "required"]]);
    assert.deepEqual(commandOps(own, {}, ids).filter((o) => o.op === "landlockScope"), []);
  });
  it("reads the Landlock ABI of a kernel release", () => {
    assert.equal(abiOfRelease("6.18.44-fc-v1272"), 7);
    assert.equal(abiOfRelease("6.12.0"), 6);
    assert.equal(abiOfRelease("6.11.9"), 5);
    assert.equal(abiOfRelease("6.1.0-28-amd64"), 2);
    assert.equal(abiOfRelease("6.2.0"), 3);
    assert.equal(abiOfRelease("5.10.0"), 0);
    assert.equal(abiOfRelease("garbage"), 0);
  });
});

describe("jail -m and --policy-dump", () => {
  it("builds one update op for a shared-stack jail, and refuses others", () => {
    const e = entry(4, ["127.0.0.2"], spec(["127.0.0.2"]));
    const [o] = addressUpdateOps(e, ["127.0.0.3"], [], "/cg/4");
    assert.equal(o!.op, "bpfUpdate");
    assert.deepEqual(o!.args.slice(0, 2), ["/cg/4", ADDR_MAP.name]);
    assert.equal((o!.args[2] as Uint8Array).byteLength, 64);
    assert.equal((o!.args[3] as Uint8Array).byteLength, 16);
    assert.throws(() => addressUpdateOps(entry(5, [], spec([])), ["127.0.0.3"], []), /shared stack/);
  });
  it("lists the map and every program", () => {
    const text = dumpNet(spec(["127.0.0.2"]));
    assert.match(text, /::ffff:0\.0\.0\.0\s+-> ::ffff:127\.0\.0\.2/);
    for (const n of ["sj_sock", "sj_bind4", "sj_conn6", "sj_egress", "sj_ingress"]) assert.match(text, new RegExp(`# ${n}:`));
  });
});
