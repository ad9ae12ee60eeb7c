// sysjail-oci's idmapped image (src/oci/idmapmounts.ts, native/src/idmaptree.c): a container
// without a user namespace in config.json sees its root and binds with their on-disk owners as
// its own ids, so its root writes the image as runc's does, and is still a pool id elsewhere.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chownSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildProbe, makeJailRoot, makeNobody, makeTempDir, REPO, requireRoot, runAsNobody, type JailRoot } from "../helpers/index.js";
import { OCI_BIN as OCI, OCI_NS as NS, ociTeardown } from "../helpers/ocibundle.js";
import { idmapped, idmapsImage } from "../../src/oci/idmapmounts.js";
import { op } from "../../src/plan/types.js";
import type { OciConfig } from "../../src/oci/config.js";

describe("sysjail-oci: idmapped image (unit)", () => {
  it("only for a config.json without a user namespace and without id maps, for host root", () => {
    const c = (linux: Record<string, unknown>) => ({ ociVersion: "1.2.0", linux } as unknown as OciConfig);
    assert.equal(idmapsImage(c({ namespaces: NS })), process.getuid?.() === 0);
    assert.equal(idmapsImage(c({ namespaces: [...NS, { type: "user" }] })), false, "config.json's own user namespace");
    const one = [{ containerID: 0, hostID: 100000, size: 10 }];
    assert.equal(idmapsImage(c({ namespaces: NS, uidMappings: one, gidMappings: one })), false, "config.json's own maps");
  });
  it("flags the root and binds with idmap-or-warn, keeping their other flags", () => {
    assert.deepEqual(idmapped(op("root", ["/r"])).args, ["/r", "i"]);
    assert.deepEqual(idmapped(op("root", ["/r", "r"])).args, ["/r", "ri"]);
    assert.deepEqual(idmapped(op("bind", ["/s", "/t", "cudoR"])).args, ["/s", "/t", "cudoRi"]);
    assert.deepEqual(idmapped(op("mountFs", ["tmpfs", "/t", "c", ""])).args, ["tmpfs", "/t", "c", ""]);
  });
});

describe("sysjail-oci: idmapped image (root)", () => {
  let jr: JailRoot;
  let work: string;
  let state: string;
  let vol: string;
  let n = 0;
  const ids: string[] = [];
  const oci = (args: string[], env?: NodeJS.ProcessEnv) =>
    spawnSync(OCI, ["--root", state, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000, env: env ?? process.env });
  /** `sysjail-oci run` of the probe with ARGS in a bundle over ROOT with MOUNTS and LINUX */
  const run = (args: string[], o: { root?: string; mounts?: unknown[]; linux?: Record<string, unknown>; env?: NodeJS.ProcessEnv; wrap?: (cmd: string[]) => string[] } = {}) => {
    const dir = join(work, `b${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: o.root ?? jr.path }, hostname: "idm",
      process: { args: ["/probe", ...args], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
      mounts: [{ destination: "/proc", type: "proc", source: "proc" }, ...(o.mounts ?? [])],
      linux: { namespaces: NS, ...o.linux },
    }));
    const id = `ociidmap-${process.pid}-${n}`;
    ids.push(id);
    const cmd = [OCI, "--root", state, "run", "--bundle", dir, id];
    const [file, ...rest] = o.wrap ? o.wrap(cmd) : cmd;
    const r = spawnSync(file!, rest, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000, env: o.env ?? process.env });
    return { status: r.status, out: r.stdout.trim(), err: r.stderr };
  };

  before(() => {
    requireRoot("idmapped image tests");
    jr = makeJailRoot(buildProbe(), { files: { "etc/u1000": "u\n" } });
    chownSync(jr.at("etc/u1000"), 1000, 1000);
    work = makeTempDir("sysjail-oci-idmap-");
    state = makeTempDir("sysjail-oci-idmap-state-", 0o700);
    vol = join(work, "vol");
    mkdirSync(vol, { mode: 0o755 });
  });
  after(() => ociTeardown(oci, ids, jr, work, state));

  it("container root owns the image: writes /etc, its file is uid 0 on disk, on-disk ids are its ids", () => {
    const w = run(["write", "/etc/idmap-new", "x"]);
    assert.equal(w.out, "ok 1", w.err);
    assert.doesNotMatch(w.err, /warning/);
    const st = lstatSync(jr.at("etc/idmap-new"));
    assert.deepEqual([st.uid, st.gid], [0, 0], "made as runc's root makes it");
    const s = run(["stat", "/", "/etc/u1000", "/etc/marker"]);
    assert.deepEqual(s.out.split("\n").map((l) => l.split(" ").slice(2, 4).join(":")), ["0:0", "1000:1000", "0:0"], s.out);
  });

  it("a bind from config.json is written by container root as uid 0; read-only stays read-only", () => {
    const m = [{ destination: "/vol", source: vol, options: ["rbind"] }, { destination: "/rovol", source: vol, options: ["rbind", "ro"] }];
    assert.equal(run(["write", "/vol/f", "y"], { mounts: m }).out, "ok 1");
    const st = lstatSync(join(vol, "f"));
    assert.deepEqual([st.uid, st.gid], [0, 0]);
    assert.match(run(["rewrite", "/rovol/f"], { mounts: m }).out, /^err EROFS/);
  });

  it("container root is still a pool id: its uid_map, the host's sysctls and procfs are not its own", () => {
    const map = run(["read", "/proc/self/uid_map"]).out.split(/\s+/);
    assert.equal(map[1], "0", map.join(" "));
    assert.ok(Number(map[2]) > 0, `container root is not host root: ${map.join(" ")}`);
    // a host-wide sysctl (host root's): its own value written back is refused
    assert.match(run(["rewrite", "/proc/sys/vm/overcommit_memory"]).out, /^err (EACCES|EPERM)/);
    // procfs is not idmapped: host root's entries show as the overflow id
    assert.equal(run(["stat", "/proc/sys"]).out.split(" ").slice(2, 4).join(":"), "65534:65534");
  });

  it("a caller that is not host root (uid 65534) gets no idmapped image", () => {
    const nb = makeNobody();
    try {
      const mod = pathToFileURL(join(REPO, "build", "src", "oci", "idmapmounts.js")).href;
      const r = runAsNobody(nb, process.execPath, ["--input-type=module", "-e", `import { idmapsImage } from ${JSON.stringify(mod)}; console.log(idmapsImage({ ociVersion: "1.2.0", linux: {} }))`]);
      assert.equal(r.stdout.trim(), "false", r.stderr);
    } finally {
      nb.remove();
    }
  });

  it("config.json's own user namespace: no idmapped image (the tree shows overflow ids)", () => {
    const r = run(["stat", "/"], { linux: { namespaces: [...NS, { type: "user" }] } });
    assert.equal(r.out.split(" ").slice(2, 4).join(":"), "65534:65534", r.err);
    assert.match(run(["write", "/etc/idmap-no", "x"], { linux: { namespaces: [...NS, { type: "user" }] } }).out, /^err EACCES/);
  });

  it("a root and a bind the kernel cannot idmap (ramfs, a ramfs below a bind): one warning each, mounted as before", () => {
    const rr = join(work, "ramroot"), src = join(work, "withram");
    mkdirSync(rr);
    mkdirSync(join(src, "ram"), { recursive: true });
    // in a mount namespace of the test's own: the ramfs mounts never reach the host's table
    const wrap = (cmd: string[]) => ["unshare", "-m", "--propagation", "private", "sh", "-c",
      `mount -t ramfs sjram "$1" && cp -a "$2"/. "$1"/ && mount -t ramfs sjram2 "$3/ram" && shift 3 && exec "$@"`, "sh", rr, jr.path, src, ...cmd];
    const r = run(["write", "/etc/idmap-ram", "x"], { root: rr, mounts: [{ destination: "/w", source: src, options: ["rbind"] }], wrap });
    assert.match(r.out, /^err EACCES/, "today's behaviour: root's files are not container root's");
    const lines = r.err.trim().split("\n");
    assert.equal(lines.length, 2, r.err);
    assert.match(lines[0]!, new RegExp(`warning: root\\.path ${rr} cannot be idmapped \\(EINVAL`));
    assert.match(lines[1]!, new RegExp(`warning: mount source ${src} cannot be idmapped \\(EINVAL`));
    // one line naming the remedies
    assert.match(lines[0]!, /\(remedies: id maps, podman --userns=auto, or the host's ids: --annotation sysjail\.ids=host\)$/);
  });

  it("the monitor failing to idmap (fault injected): warned of, the container runs as before", () => {
    const r = run(["stat", "/"], { env: { ...process.env, SYSJAIL_TEST_FAULT: "fail:idmap" } });
    assert.equal(r.out.split(" ").slice(2, 4).join(":"), "65534:65534", r.err);
    assert.match(r.err, /warning: root\.path .* cannot be idmapped \(ENOSPC\)/);
    assert.equal(readFileSync(jr.at("etc/marker"), "utf8"), `${jr.marker}\n`);
  });
});
