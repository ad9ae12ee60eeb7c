// sysjail-oci under rootless podman: an unprivileged user (a temporary account with subordinate
// ids) runs containers with `podman --runtime sysjail-oci`; the container is a jail inside the
// user's own namespace and gains nothing the user could not do with it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { REPO, buildProbe, makeJailRoot, makeRootlessUser, type JailRoot, type RootlessUser } from "../helpers/index.js";
import { idRunsFromZero } from "../../src/ids/choose.js";
import { defaultOciRoot, rootlessStateDir } from "../../src/oci/defaultroot.js";
import { withDeviceBinds } from "../../src/oci/translate.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");

describe("sysjail-oci's state and id map in a user namespace (pure)", () => {
  it("the default --root and registry follow runc's rule (XDG_RUNTIME_DIR for a non-root caller or root of another user namespace)", () => {
    const x = { XDG_RUNTIME_DIR: "/run/user/5" };
    assert.equal(defaultOciRoot(x, 0, () => true), "/run/sysjail-oci", "host root");
    assert.equal(defaultOciRoot(x, 5, () => true), "/run/user/5/sysjail-oci", "a user");
    assert.equal(defaultOciRoot(x, 0, () => false), "/run/user/5/sysjail-oci", "root of rootless podman's namespace");
    assert.equal(defaultOciRoot({ ...x, USER: "root" }, 0, () => false), "/run/sysjail-oci", "USER=root in a namespace: as runc");
    assert.equal(defaultOciRoot({}, 0, () => false), "/run/sysjail-oci", "no XDG_RUNTIME_DIR");
    assert.equal(defaultOciRoot({ XDG_RUNTIME_DIR: "rel" }, 5, () => true), "/run/sysjail-oci", "a relative one is ignored");
    assert.equal(rootlessStateDir(x, 0, () => false), "/run/user/5/sysjail-userns");
    assert.equal(rootlessStateDir({ ...x, SYSJAIL_STATE_DIR: "/s" }, 0, () => false), undefined, "an explicit one wins");
    assert.equal(rootlessStateDir(x, 5, () => true), undefined, "a user's default is already there");
    assert.equal(rootlessStateDir(x, 0, () => true), undefined, "host root");
  });
  it("a namespace's own ids from 0 are split along its own map's lines (the kernel takes a child line only inside one parent line)", () => {
    assert.deepEqual(idRunsFromZero("0 999 1\n1 1342177280 65536\n"), [[0, 1], [1, 65535]]);
    assert.deepEqual(idRunsFromZero("         0        999          1\n         1 1342177280      65536\n", 70000), [[0, 1], [1, 65536]]);
    assert.deepEqual(idRunsFromZero("0 1879048192 65536\n"), [[0, 65536]]);
    assert.deepEqual(idRunsFromZero("0 1000 1\n"), [[0, 1]], "a user's own namespace: only itself");
    assert.deepEqual(idRunsFromZero("0 1000 1\n2 5000 10\n"), [[0, 1]], "a gap ends the run");
    assert.deepEqual(idRunsFromZero("5 5000 10\n"), [], "nothing from 0");
    assert.deepEqual(idRunsFromZero("0 0 4294967295\n"), [[0, 65536]]);
    assert.deepEqual(idRunsFromZero("garbage\n0 x 1\n"), []);
  });
  it("rootless podman's --device binds (the host's node onto the same path) become device binds; other binds under /dev do not", () => {
    const bind = (source: unknown, destination: string, options: unknown = ["rbind"]) => ({ type: "bind", source, destination, options });
    const cfg = (mounts: unknown[]) => ({ ociVersion: "1.2.0", mounts } as never);
    assert.deepEqual(withDeviceBinds(undefined, cfg([bind("/dev/net/tun", "/dev/net/tun")])), ["null", "zero", "full", "random", "urandom", "tty", "net/tun"]);
    assert.deepEqual(withDeviceBinds(["null", "zero", "full", "random", "urandom", "tty", "net/tun"], cfg([bind("/dev/net/tun", "/dev/net/tun")])), ["null", "zero", "full", "random", "urandom", "tty", "net/tun"], "listed once");
    assert.equal(withDeviceBinds(undefined, cfg([bind("/dev/null", "/dev/null")])), undefined, "the devfs has it already");
    assert.equal(withDeviceBinds(undefined, cfg([bind("/dev/net/tun", "/dev/tun")])), undefined, "another path: no device");
    assert.equal(withDeviceBinds(undefined, cfg([bind("/dev/shm", "/dev/shm")])), undefined, "a directory: no device");
    assert.equal(withDeviceBinds(undefined, cfg([bind("/dev/../dev/net/tun", "/dev/../dev/net/tun")])), undefined);
    assert.equal(withDeviceBinds(undefined, cfg([{ source: "/dev/net/tun", destination: "/dev/net/tun", options: "rbind" }])), undefined, "options not a list, no type: not a bind");
    assert.equal(withDeviceBinds(undefined, cfg([{ type: "tmpfs", source: "/dev/net/tun", destination: "/dev/net/tun" }])), undefined, "not a bind");
  });
});

/** The outside ids of an id map's lines. */
function outsideRanges(map: string): [number, number][] {
  return map.trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number)).map(([, o, n]) => [o!, n!] as [number, number]);
}

describe("sysjail-oci under rootless podman (an unprivileged user with subordinate ids)", () => {
  let u: RootlessUser | undefined;
  let jr: JailRoot | undefined;
  const tag = `localhost/sysjail-rootless:${process.pid}`;
  const podman = (args: string[]) => u!.run("podman", args);
  const run = (args: string[]) => podman(["--runtime", OCI, "run", "--network=none", ...args]);
  before(() => {
    u = makeRootlessUser("sjrl");
    jr = makeJailRoot(buildProbe());
    const tar = spawnSync("tar", ["-C", jr.path, "-c", "."], { maxBuffer: 64 << 20 });
    const imp = u.run("podman", ["import", "-", tag], tar.stdout);
    assert.equal(imp.status, 0, imp.stderr);
  });
  after(() => {
    const errs: string[] = [];
    try { u?.remove(); } catch (e) { errs.push((e as Error).message); }
    try { jr?.remove(); } catch (e) { errs.push((e as Error).message); }
    if (errs.length) throw new Error(errs.join("; "));
  });

  it("sysjail-oci is no setuid, setgid or file-capability program, and a setuid copy refuses to run", () => {
    const bin = realpathSync(OCI);
    const st = statSync(bin);
    assert.equal(st.mode & 0o6000, 0, "no setuid or setgid bit");
    const caps = spawnSync("getcap", [bin], { encoding: "utf8" });
    assert.equal(caps.status, 0, caps.stderr);
    assert.equal(caps.stdout.trim(), "", "no file capabilities");
    // a setuid-root copy run by the user: the helper refuses before anything (AT_SECURE)
    const dir = join(u!.home, "..", "suid");
    spawnSync("mkdir", ["-m", "0755", dir]);
    const copy = join(dir, "sysjail-oci");
    assert.equal(spawnSync("cp", [bin, copy]).status, 0);
    assert.equal(spawnSync("chmod", ["4755", copy]).status, 0);
    const r = u!.run(copy, ["state", "x"]);
    spawnSync("rm", ["-rf", dir]);
    assert.equal(r.status, 77, r.stderr);
    assert.match(r.stderr, /refusing to run setuid/);
  });

  it("run --rm: exit statuses, the container's root is the user (own ids only: the user and its subordinate ids, never the pool or host root), no host cgroup, nothing left", () => {
    const ok = run(["--rm", tag, "/probe", "ids"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "ok 0 0 0 0 0 0\n");
    const seven = run(["--rm", tag, "/probe", "exit", "7"]);
    assert.equal(seven.status, 7, seven.stderr);
    // inside: a namespace of its own nested in podman's, mapping podman's ids onto themselves
    const map = run(["--rm", tag, "/probe", "cat", "/proc/self/uid_map"]);
    assert.equal(map.status, 0, map.stderr);
    assert.deepEqual(map.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" ")), ["0 0 1", "1 1 65535"]);
    // the image's root is the user's (podman's namespace root): the container's root writes it
    const w = run(["--rm", tag, "/probe", "write", "/written", "x"]);
    assert.equal(w.status, 0, w.stderr);
    // --device: rootless podman binds the host's node (it can make none): the container gets it in its devfs
    const dev = run(["--rm", "--device", "/dev/net/tun", tag, "/probe", "stat", "/dev/net/tun"]);
    assert.equal(dev.status, 0, dev.stderr);
    assert.match(dev.stdout, /^ok 20\d+ \d+ \d+ 10:200$/m, "the host's character device node");
    const tun = run(["--rm", "--device", "/dev/net/tun", tag, "/probe", "read", "/dev/net/tun"]);
    assert.equal(tun.status, 0, tun.stderr);
    assert.equal(tun.stderr, "", "no warning");
    // nothing of it in the host's state directories; the user's own are empty again
    assert.deepEqual(readdirSync(join(u!.xdg, "sysjail-userns", "jails")), [], "no registry entry left");
    assert.deepEqual(readdirSync(join(u!.xdg, "sysjail-oci")).filter((n) => n !== "seccomp"), [], "no container directory left");
  });

  it("podman's own network namespace (slirp4netns, in podman's user namespace, passed by path): its default ping_group_range and a --sysctl are set there by the monitor", () => {
    // slirp4netns: the namespace podman makes and its tap live inside podman's user namespace;
    // nothing is added to the host's network
    const read = (p: string) => podman(["--runtime", OCI, "run", "--rm", "--network", "slirp4netns", "--sysctl", "net.ipv4.ip_unprivileged_port_start=444", tag, "/probe", "read", p]);
    const ping = read("/proc/sys/net/ipv4/ping_group_range");
    assert.equal(ping.status, 0, ping.stderr);
    assert.equal(ping.stdout, "ok 0\t0\n", "podman's default: the container's gid 0");
    const port = read("/proc/sys/net/ipv4/ip_unprivileged_port_start");
    assert.equal(port.status, 0, port.stderr);
    assert.equal(port.stdout, "ok 444\n", "the --sysctl, in podman's network namespace");
    assert.deepEqual(readdirSync(join(u!.xdg, "sysjail-oci")).filter((n) => n !== "seccomp"), [], "no container directory left");
  });

  it("run -d, exec (status), stop, kill, rm: the container's pid 1 runs as the user on the host, in the caller's cgroups, with a map onto the user's own ids", () => {
    const c = `sjrl-${process.pid}-d`;
    const d = run(["-d", "--name", c, tag, "/probe", "waitfile", "/never"]);
    assert.equal(d.status, 0, d.stderr);
    const id = d.stdout.trim();
    const pid = Number(podman(["inspect", "-f", "{{.State.Pid}}", c]).stdout.trim());
    assert.ok(pid > 1);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    assert.match(status, new RegExp(`^Uid:\\s+${u!.uid}\\s+${u!.uid}\\s+${u!.uid}\\s+${u!.uid}$`, "m"), "host uid: the user");
    assert.match(status, /^NSpid:\s+\d+\s+1$/m, "pid 1 of its own pid namespace");
    for (const f of ["uid_map", "gid_map"]) {
      const own = f === "uid_map" ? u!.uid : u!.gid;
      assert.deepEqual(outsideRanges(readFileSync(`/proc/${pid}/${f}`, "utf8")), [[own, 1], [u!.subBase, 65535]], `${f}: the user and its subordinate ids only`);
    }
    // its user namespace is not podman's (a child of it): podman's root has no capability over the host's objects, the container's none over podman's
    const podmanNs = spawnSync("readlink", [`/proc/${Number(readFileSync(join(u!.xdg, "libpod", "tmp", "pause.pid"), "utf8"))}/ns/user`], { encoding: "utf8" }).stdout.trim();
    assert.notEqual(spawnSync("readlink", [`/proc/${pid}/ns/user`], { encoding: "utf8" }).stdout.trim(), podmanNs, "a user namespace of its own");
    assert.equal(readFileSync(`/proc/${pid}/cgroup`, "utf8"), readFileSync("/proc/self/cgroup", "utf8"), "no cgroup of its own on a v1 host: the caller's");
    // its state lives in the user's runtime directory, its registry entry in the user's registry
    assert.ok(existsSync(join(u!.xdg, "sysjail-oci", id, "procs")), "state under $XDG_RUNTIME_DIR/sysjail-oci");
    assert.ok(!existsSync(join("/run/sysjail-oci", id)), "nothing in the host's state directory");
    assert.equal(readdirSync(join(u!.xdg, "sysjail-userns", "jails")).filter((n) => n.endsWith(".json")).length, 1, "one registry entry");
    // root's jls reads every user's /run/user/UID/sysjail: a rootless podman container's entry is
    // not there (it records owner 0, the id in podman's namespace), so nothing is called corrupt
    const jls = spawnSync(join(REPO, "native", "build", "jls"), [], { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    assert.equal(jls.status, 0, jls.stderr);
    assert.equal(jls.stderr, "", "root's jls: no corrupt entry of the user");
    // inside podman's namespace the user's own jls lists it (SYSJAIL_STATE_DIR: that registry)
    const own = u!.run("podman", ["unshare", "env", `SYSJAIL_STATE_DIR=${join(u!.xdg, "sysjail-userns")}`, join(REPO, "native", "build", "jls"), "-N"]);
    assert.equal(own.status, 0, own.stderr);
    assert.match(own.stdout, new RegExp(id), "listed by name, the container id");
    const jx = u!.run("podman", ["unshare", "env", `SYSJAIL_STATE_DIR=${join(u!.xdg, "sysjail-userns")}`, join(REPO, "native", "build", "jexec"), id, "/probe", "ids"]);
    assert.equal(jx.status, 0, jx.stderr);
    assert.equal(jx.stdout, "ok 0 0 0 0 0 0\n", "jexec enters it");
    const e1 = podman(["exec", c, "/probe", "ids"]);
    assert.equal(e1.status, 0, e1.stderr);
    assert.equal(e1.stdout, "ok 0 0 0 0 0 0\n");
    const e3 = podman(["exec", c, "/probe", "exit", "3"]);
    assert.equal(e3.status, 3, e3.stderr);
    const ps = podman(["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert.match(ps.stdout, new RegExp(`^${c} Up`, "m"));
    // pid 1 ignores TERM (no handler): stop ends it with KILL after the timeout, as with runc
    const stop = podman(["stop", "-t", "1", c]);
    assert.equal(stop.status, 0, stop.stderr);
    assert.equal(podman(["inspect", "-f", "{{.State.ExitCode}}", c]).stdout.trim(), "137");
    assert.ok(!existsSync(`/proc/${pid}`) || /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8")), "pid 1 ended");
    const rm = podman(["rm", c]);
    assert.equal(rm.status, 0, rm.stderr);
    // a second one killed (podman kill: KILL), then removed
    const k = `sjrl-${process.pid}-k`;
    assert.equal(run(["-d", "--name", k, tag, "/probe", "waitfile", "/never"]).status, 0);
    assert.equal(podman(["kill", k]).status, 0);
    assert.equal(podman(["wait", k]).stdout.trim(), "137");
    assert.equal(podman(["rm", k]).status, 0);
    assert.equal(podman(["ps", "-a", "-q"]).stdout.trim(), "", "no container left");
    assert.deepEqual(readdirSync(join(u!.xdg, "sysjail-userns", "jails")), [], "no registry entry left");
    assert.deepEqual(readdirSync(join(u!.xdg, "sysjail-oci")).filter((n) => n !== "seccomp"), [], "no container directory left");
  });

  it("a user's own sysjail-oci (no engine, no --root): state under $XDG_RUNTIME_DIR/sysjail-oci for Node and the native commands alike; the container maps the user alone", () => {
    const b = join(u!.home, "own-bundle");
    const cfg = {
      ociVersion: "1.2.0", root: { path: jr!.path, readonly: true }, hostname: "rl",
      process: { args: ["/probe", "cat", "/proc/self/uid_map"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
      linux: { namespaces: ["pid", "ipc", "uts", "mount", "user", "network"].map((type) => ({ type })) },
    };
    const mk = u!.run("sh", ["-c", 'mkdir -p "$1" && cat > "$1/config.json"', "sh", b], JSON.stringify(cfg));
    assert.equal(mk.status, 0, mk.stderr);
    const r = u!.run(OCI, ["run", "--bundle", b, `sjrl-${process.pid}-own`]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" ")), [`0 ${u!.uid} 1`], "the user alone");
    const cid = `sjrl-${process.pid}-own2`;
    const c = u!.run(OCI, ["create", "--bundle", b, cid]);
    assert.equal(c.status, 0, c.stderr);
    assert.ok(existsSync(join(u!.xdg, "sysjail-oci", cid, "procs")), "Node's default root");
    const st = u!.run(OCI, ["state", cid]); // native (oci.c)
    assert.equal(st.status, 0, st.stderr);
    assert.equal(JSON.parse(st.stdout).status, "created");
    const del = u!.run(OCI, ["delete", "--force", cid]); // native
    assert.equal(del.status, 0, del.stderr);
    assert.ok(!existsSync(join(u!.xdg, "sysjail-oci", cid)), "removed from the same root");
  });

  it("a command the image lacks: create fails as runc's (podman run and run -d: 127 and our line), nothing left; a user's own create fails in one line", () => {
    for (const [k, d] of [["lk", []], ["lkd", ["-d"]]] as const) {
      const n = `sjrl-${process.pid}-${k}`;
      const r = run([...d, "--name", n, tag, "/nonexist"]);
      assert.equal(r.status, 127, r.stderr);
      assert.match(r.stderr, /exec "\/nonexist": no such file or directory/);
      assert.doesNotMatch(r.stderr, /no such exit code|Waiting for container/, "no lost exit");
      assert.equal(podman(["rm", "-f", "-t", "0", n]).status, 0);
    }
    const b = join(u!.home, "lookup-bundle");
    const cfg = {
      ociVersion: "1.2.0", root: { path: jr!.path, readonly: true }, hostname: "rl",
      process: { args: ["nonexist-cmd"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
      linux: { namespaces: ["pid", "ipc", "uts", "mount", "user", "network"].map((type) => ({ type })) },
    };
    const mk = u!.run("sh", ["-c", 'mkdir -p "$1" && cat > "$1/config.json"', "sh", b], JSON.stringify(cfg));
    assert.equal(mk.status, 0, mk.stderr);
    const cid = `sjrl-${process.pid}-lkown`;
    const c = u!.run(OCI, ["create", "--bundle", b, cid]);
    assert.equal(c.status, 1, c.stderr);
    assert.equal(c.stderr, 'sysjail-oci: exec "nonexist-cmd": no such file or directory\n');
    assert.ok(!existsSync(join(u!.xdg, "sysjail-oci", cid)), "nothing left in the user's root");
    const reg = join(u!.xdg, "sysjail", "jails");
    assert.deepEqual(existsSync(reg) ? readdirSync(reg) : [], [], "no registry entry left");
    assert.deepEqual(readdirSync(join(u!.xdg, "sysjail-userns", "jails")), [], "none in podman's namespace either");
  });

  it("--userns=keep-id: podman's maps (onto its namespace's 0, the user) are applied as given; maps onto ids the namespace lacks fail at create with one line and leave nothing", () => {
    const k = run(["--rm", "--userns=keep-id", tag, "/probe", "ids"]);
    assert.equal(k.status, 0, k.stderr);
    assert.equal(k.stdout, `ok ${u!.uid} ${u!.uid} ${u!.uid} ${u!.gid} ${u!.gid} ${u!.gid}\n`, "the user's own id inside");
    // straight from the user's namespace (podman unshare), a bundle mapping ids it does not have
    const b = join(u!.home, "bundle");
    const cfg = {
      ociVersion: "1.2.0", root: { path: jr!.path, readonly: true }, hostname: "rl",
      process: { args: ["/probe", "ids"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
      linux: {
        namespaces: ["pid", "ipc", "uts", "mount", "user", "network"].map((type) => ({ type })),
        uidMappings: [{ containerID: 0, hostID: 70000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 70000, size: 10 }],
      },
    };
    const mk = u!.run("sh", ["-c", 'mkdir -p "$1" && cat > "$1/config.json"', "sh", b], JSON.stringify(cfg));
    assert.equal(mk.status, 0, mk.stderr);
    const cid = `sjrl-${process.pid}-map`;
    const r = u!.run("podman", ["unshare", OCI, "create", "--bundle", b, cid]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /uid-map .*EPERM/);
    assert.ok(!existsSync(join(u!.xdg, "sysjail-oci", cid)), "nothing left in the (default) root");
    assert.deepEqual(readdirSync(join(u!.xdg, "sysjail-userns", "jails")), [], "no registry entry left");
    const st = u!.run("podman", ["unshare", OCI, "state", cid]);
    assert.equal(st.status, 1);
    assert.match(st.stderr, /does not exist/);
  });
});
