// sysjail-oci's annotation sysjail.ids=host (src/oci/hostids.ts): a container on the host's ids
// one to one in a user namespace of its own, so it owns its image as runc's root does, while its
// capabilities stay in that namespace; refused without its own pid, ipc and network namespaces.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, openSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProbe, makeJailRoot, makeNobody, makeTempDir, REPO, requireRoot, runAsNobody, type JailRoot } from "../helpers/index.js";
import { OCI_BIN as OCI, OCI_NS as NS, ociTeardown } from "../helpers/ocibundle.js";
import { Registry } from "../../src/registry/store.js";
import { stateDir } from "../../src/registry/paths.js";
import { HelperRun, type HelperEvent } from "../../src/helper/launch.js";
import { prepare } from "../../src/jail/prepare.js";
import { PlanFlag, type Plan } from "../../src/plan/types.js";
import { baseSpec, validateSpec } from "../../src/spec/validate.js";
import { HOST_IDS_MAP, hostIdMapping, hostIdsAsked, hostNamespacesJoined } from "../../src/oci/hostids.js";
import type { OciConfig } from "../../src/oci/config.js";

const HOST = { "sysjail.ids": "host" };
const existsReadable = (p: string) => { try { return statSync(p).ino > 0; } catch { return false; } };

describe("sysjail-oci: sysjail.ids=host (unit)", () => {
  const cfg = (annotations: Record<string, unknown> | undefined, linux: Record<string, unknown> = { namespaces: NS }) => ({ ociVersion: "1.2.0", annotations, linux } as unknown as OciConfig);
  const never = () => { throw new Error("asked only for host ids"); };
  it("pool, or no annotation: not asked, nothing else looked at", () => {
    assert.equal(hostIdsAsked(cfg(undefined), never), false);
    assert.equal(hostIdsAsked(cfg({ "sysjail.ids": "pool" }), never), false);
  });
  it("any other value, or host with config.json's user namespace or maps: one error naming what is allowed", () => {
    assert.throws(() => hostIdsAsked(cfg({ "sysjail.ids": "root\n" }), never), /sysjail\.ids="root\\n": allowed are "pool" .* and "host"/);
    assert.throws(() => hostIdsAsked(cfg(HOST, { namespaces: [...NS, { type: "user" }] }), never), /with a user namespace or id maps in config\.json/);
    assert.throws(() => hostIdsAsked(cfg(HOST, { namespaces: NS, gidMappings: [] }), never), /with a user namespace or id maps in config\.json/);
  });
  it("host: refused with a namespace not the container's own, named", (t) => {
    if (process.getuid?.() !== 0) return t.skip("needs root of the host's user namespace");
    assert.throws(() => hostIdsAsked(cfg(HOST), () => ["pid", "network"]), /not the host's or the runtime's pid, network$/);
    assert.equal(hostIdsAsked(cfg(HOST), () => []), true);
  });
  it("a join naming the host's (pid 1's) pid, ipc or network namespace is the host's", () => {
    // compared against this process's own namespaces as the reference (pid 1's /proc/1/ns is
    // closed to root on some hosts, this one included), the same comparison the default makes
    const me = "/proc/self/ns";
    assert.deepEqual(hostNamespacesJoined([[0x20000000, `${me}/pid`], [0x08000000, `${me}/ipc`], [0x40000000, `${me}/net`]], me), ["pid", "ipc", "network"]);
    assert.deepEqual(hostNamespacesJoined([[0x04000000, `${me}/uts`], [0x40000000, `${me}/ipc`]], me), [], "another type, or another type's file");
    if (existsReadable("/proc/1/ns/net")) assert.deepEqual(hostNamespacesJoined([[0x40000000, "/proc/1/ns/net"]]), ["network"]);
  });
  it("a join whose path cannot be read is left to the monitor's join", () => {
    assert.deepEqual(hostNamespacesJoined([[0x40000000, "/nonexistent/ns/net"]]), []);
  });
});

describe("sysjail-oci: sysjail.ids=host (root)", () => {
  let jr: JailRoot;
  let work: string;
  let state: string;
  let vol: string;
  let n = 0;
  const ids: string[] = [];
  const oci = (args: string[]) => spawnSync(OCI, ["--root", state, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  /** a bundle running the probe with ARGS over the jail root, with ANNOTATIONS, MOUNTS and LINUX */
  const bundle = (args: string[], o: { annotations?: Record<string, string>; mounts?: unknown[]; linux?: Record<string, unknown> } = {}) => {
    const dir = join(work, `b${++n}`);
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: jr.path }, hostname: "hostids", annotations: o.annotations ?? HOST,
      process: { args: ["/probe", ...args], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 }, capabilities: { bounding: ["CAP_SYS_ADMIN", "CAP_MKNOD", "CAP_SYS_MODULE", "CAP_SYS_TIME", "CAP_NET_ADMIN", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_CHOWN"] } },
      mounts: [{ destination: "/proc", type: "proc", source: "proc" }, { destination: "/sys", type: "sysfs", source: "sysfs" }, ...(o.mounts ?? [])],
      linux: { namespaces: NS, ...o.linux },
    }));
    return dir;
  };
  const id = () => { const i = `ocihostids-${process.pid}-${n}`; ids.push(i); return i; };
  /** `sysjail-oci run` of the probe with ARGS */
  const run = (args: string[], o: Parameters<typeof bundle>[1] = {}) => {
    const dir = bundle(args, o);
    const r = spawnSync(OCI, ["--root", state, "run", "--bundle", dir, id()], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    return { status: r.status, out: r.stdout.trim(), err: r.stderr };
  };
  /** a refused run: one line naming WHAT, exit 1, nothing left in the state dir nor the registry */
  const refused = (what: RegExp, o: Parameters<typeof bundle>[1]) => {
    const r = run(["ids"], o);
    assert.equal(r.status, 1, r.err);
    assert.equal(r.out, "", "the container never ran");
    const lines = r.err.trim().split("\n");
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0]!, what);
    assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace");
    assert.deepEqual(readdirSync(state).filter((f) => f.startsWith("ocihostids-")), [], "no container state left");
    assert.equal(new Registry(stateDir()).find(ids[ids.length - 1]!), undefined, "no registry entry left");
  };

  before(() => {
    requireRoot("sysjail.ids=host tests");
    jr = makeJailRoot(buildProbe(), { files: { "etc/rootfile": "host root's\n" } });
    work = makeTempDir("sysjail-oci-hostids-");
    state = makeTempDir("sysjail-oci-hostids-state-", 0o700);
    vol = join(work, "vol");
    mkdirSync(vol, { mode: 0o755 });
  });
  after(() => ociTeardown(oci, ids, jr, work, state));

  it("the uid and gid maps are the host's one to one; the registry shows them and no pool lease", () => {
    const r = run(["read", "/proc/self/uid_map"]);
    assert.equal(r.status, 0, r.err);
    assert.deepEqual(r.out.split(/\s+/), ["ok", "0", "0", "4294967295"], r.err);
    assert.deepEqual(run(["read", "/proc/self/gid_map"]).out.split(/\s+/), ["ok", "0", "0", "4294967295"]);
    const c = id();
    // the detached monitor keeps its descriptors: stderr to a file, never a pipe
    const log = join(work, `${c}.err`);
    const fd = openSync(log, "w");
    const cr = spawnSync(OCI, ["--root", state, "create", "--bundle", bundle(["waitfile", "/never"]), c], { stdio: ["ignore", fd, fd], timeout: 60_000 });
    closeSync(fd);
    assert.equal(cr.status, 0, readFileSync(log, "utf8"));
    const e = new Registry(stateDir()).find(c);
    assert.ok(e, "the container is a jail in the registry");
    assert.deepEqual([e.idmap.uidMap, e.idmap.gidMap, e.idmap.rootless], ["0 0 4294967295\n", "0 0 4294967295\n", false]);
    assert.equal(e.ids, undefined, "no block of sysjail's id pool is leased");
    // jls -v names the host's ids, sjls shows the maps; exec enters the same user namespace
    const jl = spawnSync(join(REPO, "native", "build", "jls"), ["-v", "-j", c], { encoding: "utf8", timeout: 30_000 });
    assert.match(jl.stdout, /Host ids 0-4294967294 \(host, one to one\)/, jl.stdout + jl.stderr);
    const sj = spawnSync(join(REPO, "native", "build", "sjls"), ["-v", "-j", c], { encoding: "utf8", timeout: 30_000 });
    assert.match(sj.stdout, /user ns\s+uid 0 0 4294967295, gid 0 0 4294967295/, sj.stdout + sj.stderr);
    assert.equal(oci(["start", c]).status, 0);
    const ex = oci(["exec", c, "/probe", "read", "/proc/self/uid_map"]);
    assert.deepEqual(ex.stdout.trim().split(/\s+/), ["ok", "0", "0", "4294967295"], ex.stderr);
    assert.equal(oci(["exec", c, "/probe", "write", "/etc/hostids-exec", "x"]).stdout.trim(), "ok 1");
    assert.equal(lstatSync(jr.at("etc/hostids-exec")).uid, 0);
    assert.equal(oci(["delete", "--force", c]).status, 0);
  });

  it("container root owns the image: rewrites a root-owned file, makes files that are uid 0 on the host", () => {
    assert.equal(run(["rewrite", "/etc/rootfile"]).out, "ok 12");
    const w = run(["write", "/etc/hostids-new", "x"]);
    assert.equal(w.out, "ok 1", w.err);
    assert.doesNotMatch(w.err, /idmap/, "nothing to idmap, nothing warned of");
    const st = lstatSync(jr.at("etc/hostids-new"));
    assert.deepEqual([st.uid, st.gid], [0, 0]);
    const m = [{ destination: "/vol", source: vol, options: ["rbind"] }];
    assert.equal(run(["write", "/vol/f", "y"], { mounts: m }).out, "ok 1");
    const sv = lstatSync(join(vol, "f"));
    assert.deepEqual([sv.uid, sv.gid], [0, 0]);
    assert.equal(run(["stat", "/proc/sys"]).out.split(" ").slice(2, 4).join(":"), "0:0", "host root's entries show as its root's");
  });

  it("an overlay root (podman's, containerd's, which the kernel cannot idmap): container root writes its image", () => {
    const lower = join(work, "lower"), upper = join(work, "upper"), wk = join(work, "ovwork"), merged = join(work, "merged");
    for (const d of [lower, upper, wk, merged]) mkdirSync(d, { mode: 0o755 });
    const dir = bundle(["write", "/etc/overlay-new", "x"]);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    cfg.root.path = merged;
    writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
    // in a mount namespace of the test's own: the overlay never reaches the host's table
    const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c",
      `cp -a "$1"/. "$2"/ && mount -t overlay sjov -o "lowerdir=$2,upperdir=$3,workdir=$4" "$5" && shift 5 && exec "$@"`,
      "sh", jr.path, lower, upper, wk, merged, OCI, "--root", state, "run", "--bundle", dir, id()], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    assert.equal(r.stdout.trim(), "ok 1", r.stderr);
    assert.doesNotMatch(r.stderr, /idmap/);
    const st = lstatSync(join(upper, "etc", "overlay-new"));
    assert.deepEqual([st.uid, st.gid], [0, 0], "uid 0 on disk, as under runc");
  });

  it("its capabilities stay in its user namespace: no host sysctl, sysrq, sysfs, block device, clock, module, host name", () => {
    // host root's global sysctls: DAC would let host uid 0 write them, the read-only /proc/sys does not
    assert.match(run(["rewrite", "/proc/sys/kernel/core_pattern"]).out, /^err (EROFS|EACCES|EPERM)/);
    assert.match(run(["rewrite", "/proc/sys/vm/overcommit_memory"]).out, /^err (EROFS|EACCES|EPERM)/);
    // opened for writing, nothing written: a write would act on the host
    assert.match(run(["openw", "/proc/sysrq-trigger"]).out, /^err (EROFS|EACCES|EPERM|ENOENT)/);
    if (existsSync("/sys/power/state")) assert.match(run(["openw", "/sys/power/state"]).out, /^err (EROFS|EACCES|EPERM)/);
    assert.match(run(["mknod-blk", "/tmp/blk"]).out, /^err (EPERM|EACCES)/);
    // nor can it undo the read-only /proc/sys and sysfs (its own mount namespace, but no mount calls)
    for (const p of ["/proc/sys", "/sys", "/proc/sysrq-trigger"]) {
      assert.match(run(["umount", p]).out, /^err EPERM/, `umount ${p}`);
      assert.match(run(["remount-rw", p]).out, /^err EPERM/, `remount ${p}`);
    }
    assert.match(run(["sethostname-same"]).out, /^err EPERM/);
    // its pid namespace names no host process: signal 0 to pid 1 is its own init, nothing else exists
    assert.match(run(["kill", "2", "0"]).out, /^err ESRCH/);
  });

  it("the pool default is unchanged: container root is a pool id", () => {
    const r = run(["read", "/proc/self/uid_map"], { annotations: { "sysjail.ids": "pool" } });
    const map = r.out.split(/\s+/);
    assert.ok(Number(map[2]) > 0, r.out);
  });

  it("refusals: a bad value, config.json's maps or user namespace, the runtime's pid/ipc/network", () => {
    refused(/sysjail\.ids="root": allowed are "pool" .* and "host"/, { annotations: { "sysjail.ids": "root" } });
    const one = [{ containerID: 0, hostID: 200000, size: 10 }];
    refused(/sysjail\.ids=host with a user namespace or id maps/, { linux: { namespaces: NS, uidMappings: one, gidMappings: one } });
    refused(/sysjail\.ids=host with a user namespace or id maps/, { linux: { namespaces: [...NS, { type: "user" }] } });
    for (const t of ["pid", "ipc", "network"]) {
      refused(new RegExp(`needs the container's own pid, ipc and network namespaces .* not the host's or the runtime's ${t}$`), { linux: { namespaces: NS.filter((x) => x.type !== t) } });
      const own = `/proc/self/ns/${t === "network" ? "net" : t}`;
      refused(new RegExp(`not the host's or the runtime's ${t}$`), { linux: { namespaces: NS.map((x) => (x.type === t ? { type: t, path: own } : x)) } });
    }
  });

  it("refusal: the host's network namespace (pid 1's) joined by path by a runtime in a namespace of its own", () => {
    const dir = bundle(["ids"], { linux: { namespaces: NS.map((x) => (x.type === "network" ? { type: "network", path: "/proc/1/ns/net" } : x)) } });
    // pid 1 of a pid namespace of the test's own is a shell in the test's network namespace (the
    // "host's" here); the runtime runs in a network namespace of its own below it
    const r = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "sh", "-c", 'unshare --net "$@"; exit $?', "sh", OCI, "--root", state, "run", "--bundle", dir, id()], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr.trim(), /^[^\n]*not the host's or the runtime's network$/);
    assert.deepEqual(readdirSync(state).filter((f) => f.startsWith("ocihostids-")), []);
  });

  it("refusal: a caller that is not root of the host's user namespace (uid 65534)", () => {
    const nb = makeNobody();
    try {
      const st = join(nb.xdg, "oci");
      const dir = bundle(["ids"]);
      const c = id();
      const r = runAsNobody(nb, OCI, ["--root", st, "run", "--bundle", dir, c]);
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /sysjail\.ids=host: only root of the host's user namespace/);
      assert.equal(r.stdout, "");
      assert.deepEqual(existsSync(st) ? readdirSync(st).filter((f) => f.startsWith("ocihostids-")) : [], []);
    } finally {
      nb.remove();
    }
  });
});

describe("sysjail-oci: sysjail.ids=host, the helper's own re-check (hostids_map_ok)", () => {
  /** Every event until the helper closes its channel. */
  const events = async (h: HelperRun): Promise<HelperEvent[]> => {
    const out: HelperEvent[] = [];
    for (let e = await h.next(); e; e = await h.next()) out.push(e);
    return out;
  };
  /** a dry-run plan of a jail of the host's root whose maps are the host's one to one, changed by CHANGE */
  const refusedPlan = async (change: (p: Plan) => Plan) => {
    const s = validateSpec(Object.assign(baseSpec("/", "hostids"), { command: ["/bin/true"], env: { PATH: "/usr/bin:/bin" } }));
    const plan = (await prepare(s, { dryRun: true, hostIds: hostIdMapping() })).plan;
    assert.ok(plan.ops.some((o) => o.op === "uidMap" && o.args[0] === HOST_IDS_MAP), "the plan writes the host map");
    const h = new HelperRun(change(plan), "ignore", false);
    const evs = await events(h);
    const err = evs.find((e) => e.ev === "error");
    assert.ok(err && err.ev === "error" && err.step === "uid-map" && err.errno === 1, JSON.stringify(evs));
    assert.ok(!evs.some((e) => e.ev === "started" || e.ev === "ready"), JSON.stringify(evs));
  };

  before(() => requireRoot("sysjail.ids=host tests"));

  it("refuses the host map in a plan without the OCI flag (a sysjail jail)", async () => {
    await refusedPlan((p) => ({ ...p, flags: p.flags & ~PlanFlag.oci }));
  });
  it("refuses it in an OCI plan that shares the runtime's network namespace", async () => {
    await refusedPlan((p) => ({ ...p, flags: p.flags | PlanFlag.oci, ops: p.ops.map((o) => (o.op === "clone" ? { ...o, args: [String(Number(o.args[0]) & ~0x40000000)] } : o)) }));
  });
  it("refuses a map that is not the whole space one to one, also in an OCI plan", async () => {
    await refusedPlan((p) => ({ ...p, flags: p.flags | PlanFlag.oci, ops: p.ops.map((o) => (o.op === "uidMap" ? { ...o, args: ["0 0 65536\n"] } : o)) }));
  });
});
