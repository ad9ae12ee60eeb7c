// The enter plan (jexec, jail -m) and the parsing of jail's management forms: pure, no jail started.
import assert from "node:assert/strict";
import { test } from "node:test";
import { detectCgroups } from "../../src/cgroup/detect.js";
import type { HostFacts } from "../../src/host/facts.js";
import { jailForm } from "../../src/jailconf/form.js";
import { enterEnv, enterNsFlags, entryIdMapping, entryRlimits, JAIL_ROOT, planEnter, planSetNames } from "../../src/manage/enter.js";
import { checkModifications, parseParamArgs } from "../../src/manage/modify.js";
import { STOP_SEQUENCE } from "../../src/manage/remove.js";
import { hooksOf } from "../../src/manage/hooks.js";
import { parseJexec } from "../../src/cli/jexec.js";
import { idMapping } from "../../src/plan/ids.js";
import { commandOps, NS } from "../../src/plan/planner.js";
import type { JailEntry } from "../../src/registry/types.js";
import { baseSpec } from "../../src/spec/validate.js";

const rootFacts: HostFacts = { uid: 0, gid: 0, arch: "x64", subidBase: 0x70000000, subidCount: 65536 };

function entry(over: Partial<JailEntry> = {}): JailEntry {
  const spec = baseSpec("/jails/a", "a.example");
  spec.command = ["/bin/sleep", "60"];
  return {
    jid: 3, name: "a", path: spec.path, hostname: spec.hostname, ip4: [], ip6: [], initPid: 4321, initStart: 777,
    monitorPid: 4320, owner: 0, command: spec.command, startedAt: "2024-01-01T00:00:00.000Z", persist: false,
    idmap: { uidMap: "0 1879048192 65536\n", gidMap: "0 1879048192 65536\n", rootless: false }, cgroups: {}, spec,
    ...over,
  };
}

const filter = { program: new Uint8Array(16), flags: 0 };

test("the enter plan: enter (pid, start, all the jail's namespaces), attach, then the command phase", () => {
  const e = entry();
  const ids = entryIdMapping(e, rootFacts);
  const attach = [{ op: "cgroupAttach" as const, args: ["/sys/fs/cgroup/memory/sysjail/3/cgroup.procs"] }];
  const plan = planEnter(e, { argv: ["/bin/ps"], env: { A: "1" }, cwd: "/", stdio: "pipe" }, { ids, filter, attach });
  assert.equal(plan.mode, "enter");
  const names = plan.ops.map((o) => o.op);
  assert.deepEqual(names.slice(0, 3), ["enter", "cgroupAttach", "stdio"]);
  assert.deepEqual(plan.ops[2]!.args, ["pipe", ""]);
  const flags = Number(plan.ops[0]!.args[2]);
  for (const f of [NS.CLONE_NEWUSER, NS.CLONE_NEWNS, NS.CLONE_NEWPID, NS.CLONE_NEWUTS, NS.CLONE_NEWIPC, NS.CLONE_NEWCGROUP, NS.CLONE_NEWNET]) {
    assert.ok(flags & f, `flag ${f.toString(16)}`);
  }
  assert.deepEqual(plan.ops[0]!.args.slice(0, 2), ["4321", "777"]);
  // exactly the command phase a new jail's command gets (caps, nnp, seccomp, ids), for jail root
  const same = commandOps({ ...e.spec, env: { A: "1" }, cwd: "/", command: ["/bin/ps"] }, { user: JAIL_ROOT, filter }, ids, ["/bin/ps"]);
  assert.deepEqual(plan.ops.slice(3), same, "an admin's process in a jail of its own netns: no Landlock domain");
  for (const n of ["caps", "nnp", "seccomp", "uid", "gid", "exec"]) assert.ok(names.includes(n as never), n);
  assert.ok(names.indexOf("nnp") < names.indexOf("seccomp") && names.indexOf("seccomp") < names.indexOf("exec"));
});

test("a jail on the shared network stack is entered without a network namespace change", () => {
  const e = entry();
  e.spec.ip4 = ["10.0.0.1"];
  assert.equal(enterNsFlags(e) & NS.CLONE_NEWNET, 0);
  // an admin's process there gets the abstract-socket scope only; a jail process the jail's domain
  const admin = planEnter(e, { argv: ["/bin/sh"], env: {}, cwd: "/", stdio: "pty" }, { ids: entryIdMapping(e, rootFacts), attach: [] });
  assert.deepEqual(admin.ops.filter((o) => o.op === "landlockScope").map((o) => o.args), [["1", "required"]]);
  const own = planEnter(e, { argv: ["/bin/sh"], env: {}, cwd: "/", stdio: "pipe", jailProcess: true }, { ids: entryIdMapping(e, rootFacts), attach: [] });
  assert.deepEqual(own.ops.filter((o) => o.op === "landlockScope").map((o) => o.args), [["1", "required"]]);
  e.spec.vnet = true;
  assert.ok(enterNsFlags(e) & NS.CLONE_NEWNET);
});

test("an entered process of a jail with an unveil gets it on a domain of its own (admin or jail process); no Landlock refuses it unless best effort", () => {
  const e = entry();
  e.spec.unveil = [{ path: "/usr", perms: "rx" }];
  const ll = { abi: 6, sure: true };
  for (const jailProcess of [false, true]) {
    const p = planEnter(e, { argv: ["/bin/sh"], env: {}, cwd: "/", stdio: "pipe", jailProcess }, { ids: entryIdMapping(e, rootFacts), attach: [], landlock: ll });
    const ops = p.ops.filter((o) => o.op === "landlockScope");
    assert.equal(ops.length, 1);
    assert.equal(ops[0]!.args[1], "required");
    assert.deepEqual(ops[0]!.args.slice(3), ["/usr", ops[0]!.args[4]]);
    assert.ok(Number(ops[0]!.args[2]) > 0, "handles file accesses");
  }
  assert.throws(() => planEnter(e, { argv: ["/bin/sh"], env: {}, cwd: "/", stdio: "pipe" }, { ids: entryIdMapping(e, rootFacts), attach: [], landlock: { abi: 0, sure: true } }), /unveil needs Landlock/);
  e.spec.unveilBestEffort = true;
  const none = planEnter(e, { argv: ["/bin/sh"], env: {}, cwd: "/", stdio: "pipe" }, { ids: entryIdMapping(e, rootFacts), attach: [], landlock: { abi: 0, sure: true } });
  assert.equal(none.ops.filter((o) => o.op === "landlockScope").length, 0);
});

test("the namespaces joined are the ones the entry recorded at start (a rootless -4 jail has its own netns)", () => {
  const e = entry({ owner: 1000 });
  e.spec.ip4 = ["127.0.0.61"];
  // an old entry without the record: the spec as its owner got it (rootless addresses: own netns)
  assert.ok(enterNsFlags(e) & NS.CLONE_NEWNET);
  const all = NS.CLONE_NEWUSER | NS.CLONE_NEWNS | NS.CLONE_NEWPID | NS.CLONE_NEWUTS | NS.CLONE_NEWIPC | NS.CLONE_NEWCGROUP;
  assert.equal(enterNsFlags({ ...e, namespaces: all | NS.CLONE_NEWNET }), all | NS.CLONE_NEWNET);
  assert.equal(enterNsFlags({ ...e, owner: 0, namespaces: all }), all);
  // a recorded set that is not a jail's is refused, never joined in part
  assert.throws(() => enterNsFlags({ ...e, namespaces: NS.CLONE_NEWUTS }), /invalid namespace set/);
  assert.throws(() => enterNsFlags({ ...e, namespaces: all | 0x80 }), /invalid namespace set/);
});

test("a rootless jail's map is taken from its entry, even when root enters it", () => {
  const e = entry({ owner: 1000, idmap: { uidMap: "0 1000 1\n", gidMap: "0 1000 1\n", rootless: true } });
  const ids = entryIdMapping(e, rootFacts);
  assert.equal(ids.rootless, true);
  assert.equal(ids.count, 1);
  const plan = planEnter(e, { argv: ["/bin/sh"], env: {}, cwd: "/", stdio: "pipe" }, { ids, attach: [] });
  assert.ok(!plan.ops.some((o) => o.op === "groups"), "a rootless jail cannot set groups");
  assert.throws(() => planEnter(e, { argv: ["/bin/sh"], user: { ...JAIL_ROOT, name: "bob", uid: 1000, gid: 1000 }, env: {}, cwd: "/", stdio: "pipe" }, { ids, attach: [] }), /outside the jail's id map/);
  assert.deepEqual(entryIdMapping(entry({ idmap: { uidMap: "", gidMap: "", rootless: false } }), rootFacts), idMapping(rootFacts));
});

test("jail -m host.hostname: the user and UTS namespaces only, then hostname", () => {
  const plan = planSetNames(entry(), { hostname: "new.example" });
  assert.deepEqual(plan.ops.map((o) => o.op), ["enter", "hostname"]);
  assert.equal(Number(plan.ops[0]!.args[2]), NS.CLONE_NEWUSER | NS.CLONE_NEWUTS);
  assert.deepEqual(plan.ops[1]!.args, ["new.example"]);
  const other = planSetNames(entry(), { domainname: "d" }, { pid: 55, start: 66 });
  assert.deepEqual(other.ops[0]!.args.slice(0, 2), ["55", "66"]);
});

test("jexec's environment: the caller's, or -l's clean one, plus -e", () => {
  const user = { ...JAIL_ROOT, home: "/root", shell: "/bin/ksh" };
  assert.deepEqual(enterEnv({ A: "1", TERM: "vt100" }, false, user, { B: "2" }), { A: "1", TERM: "vt100", B: "2" });
  const clean = enterEnv({ A: "1", TERM: "vt100" }, true, user, { B: "2" });
  assert.equal(clean.A, undefined);
  assert.equal(clean.HOME, "/root");
  assert.equal(clean.SHELL, "/bin/ksh");
  assert.equal(clean.TERM, "vt100");
  assert.equal(clean.B, "2");
});

test("rlimit stand-ins are repeated for limits the jail's cgroups did not take", () => {
  const e = entry();
  e.spec.limits = { memory: 64 << 20, pids: 10 };
  const rl = entryRlimits(e);
  assert.equal(rl.length, 2);
  e.cgroups = { memory: "/nonexistent/memory/x" };
  assert.equal(entryRlimits(e).length, 1);
  // a hybrid host's unified leaf (a cgroup2 directory, no controller) or a shared-stack jail's
  // "net" directory is no v2 cgroup of the jail's limits: the pids stand-in stays
  const v2 = detectCgroups().v2?.path ?? "/sys/fs/cgroup";
  e.cgroups = { memory: "/nonexistent/memory/x", unified: v2, net: v2 };
  assert.equal(entryRlimits(e).length, 1);
});

test("jexec options", () => {
  const a = parseJexec(["-l", "-d", "/tmp", "-e", "A=1", "-U", "bob", "web", "ls", "-l"]);
  assert.notEqual(a, "help");
  if (a === "help") return;
  assert.deepEqual(a, { jail: "web", command: ["ls", "-l"], clean: true, cwd: "/tmp", env: { A: "1" }, user: { name: "bob", from: "jail" } });
  assert.throws(() => parseJexec(["-u", "a", "-U", "b", "web"]), /-u and -U/);
  assert.throws(() => parseJexec([]), /missing jail/);
  assert.throws(() => parseJexec(["-e", "novalue", "web"]), /name=value/);
});

test("jail routes -R and -m to src/manage, and keeps the legacy form", () => {
  assert.equal(jailForm(["-R", "*"]).form, "manage");
  assert.equal(jailForm(["-m", "web", "host.hostname=x"]).form, "manage");
  assert.equal(jailForm(["-u", "rm", "/", "h", "-", "/bin/sh"]).form, "legacy");
  assert.equal(jailForm(["-i", "/", "h", "-", "/bin/rm", "-r"]).form, "legacy");
});

test("jail -m refuses what cannot change while the jail runs, by name", () => {
  for (const p of ["path=/x", "name=b", "jid=4", "vnet=new", "children.max=2", "allow.raw_sockets"]) {
    assert.throws(() => checkModifications("a", parseParamArgs([p])), (e: Error & { exitCode?: number }) => {
      assert.match(e.message, /cannot be changed after creation/);
      assert.equal(e.exitCode, 64);
      return true;
    }, p);
  }
  assert.throws(() => checkModifications("a", parseParamArgs(["bogus=1"])), /unknown parameter: bogus/);
  assert.throws(() => checkModifications("a", parseParamArgs(["host.hostname=bad name"])), /invalid hostname/);
  checkModifications("a", parseParamArgs(["host.hostname=ok.example", "meta.tag=blue", "meta=", "env.X=1", "host.domainname=corp"]));
  // as on FreeBSD: persist and nopersist change (nopersist removes a jail without processes)
  checkModifications("a", parseParamArgs(["persist", "nopersist", "persist=false", "meta.tag"]));
  assert.throws(() => checkModifications("a", parseParamArgs(["persist=maybe"])), /not a boolean/);
});

test("the stop sequence is FreeBSD's, with hooks from the entry's lifecycle", () => {
  assert.deepEqual(STOP_SEQUENCE.map((s) => s.name), ["exec.prestop", "exec.stop", "stop.timeout", "remove", "exec.poststop", "exec.release"]);
  assert.deepEqual(STOP_SEQUENCE.map((s) => s.where), ["host", "jail", "kernel", "kernel", "host", "host"]);
  const e = entry({ lifecycle: { exec: { prestop: ["echo a", ""], stop: ["/etc/rc.shutdown"] }, stopTimeout: 3 } });
  assert.deepEqual(hooksOf(e, "prestop"), ["echo a"]);
  assert.deepEqual(hooksOf(e, "stop"), ["/etc/rc.shutdown"]);
  assert.deepEqual(hooksOf(entry(), "poststop"), []);
});
