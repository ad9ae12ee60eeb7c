// Issue 3, lines 1 and 2: the jail's root (pivot_root, the old root detached, path `/`), no host
// descriptor but 0, 1, 2, hostile roots, and the jail's own /proc, /sys and /dev.
// Every case runs the probe in a real jail on the real kernel, as root (the unprivileged runs of
// the same properties are in rootless.test.ts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  assertOk, assertStateEmpty, defer, hostMountsMentioning, jailRootSuite, makeJailRoot, makeTempDir, parseMountinfo,
  probeLine, removeTree, show, stateDir, sysjail, waitUntil, type CliResult, type JailRoot,
} from "../helpers/index.js";

const { env, root } = jailRootSuite();

/** Device nodes and links a jail's /dev may hold (issue 3, line 2). */
const DEV_ALLOWED = ["null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm", "fd", "stdin", "stdout", "stderr", "mqueue"];
const DEV_REQUIRED = DEV_ALLOWED.filter((d) => d !== "mqueue");
const DEV_NUMBERS: Record<string, string> = { null: "1:3", zero: "1:5", full: "1:7", random: "1:8", urandom: "1:9", tty: "5:0" };

function lines(r: CliResult): string[] {
  return r.stdout.split("\n").filter(Boolean);
}

/** Names printed by the probe's `ls` line. */
function lsNames(line: string | undefined): string[] {
  assert.ok(line !== undefined && line.startsWith("ls"), `expected an ls line, got ${line}`);
  return line.split(" ").slice(1).filter(Boolean).sort();
}

/** A recursive picture of a directory: every entry's type, mode, size, mtime and content. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      out.push(`${p} ${st.mode.toString(8)} ${st.uid} ${st.size} ${st.mtimeMs}${st.isFile() ? ` ${readFileSync(p, "hex")}` : ""}`);
      if (st.isDirectory()) walk(p);
    }
  };
  const st = lstatSync(dir);
  out.push(`${dir} ${st.mode.toString(8)} ${st.mtimeMs}`);
  walk(dir);
  return out.join("\n");
}

describe("root: pivot_root into the jail path, the old root detached", { concurrency: 3 }, () => {
  it("the jail's / is the jail path: its files are there, the host's are not", async (t) => {
    const j = stateDir(t);
    assert.ok(existsSync("/bin/sh") && existsSync("/etc/passwd"), "control: the host has /bin/sh and /etc/passwd");
    const r = await sysjail(["-j", j, root.path, "rootcheck", "/probe", "read", "/etc/marker"]);
    assert.equal(probeLine(r), `ok ${root.marker}`, show(r));
    const r2 = await sysjail(["-j", j, root.path, "rootcheck", "/probe", "stat", "/bin/sh", "/etc/passwd", "/probe"]);
    const [sh, pw, pr] = lines(r2);
    assert.equal(sh, "err ENOENT", show(r2));
    assert.equal(pw, "err ENOENT", show(r2));
    assert.match(pr ?? "", /^ok 100755 /, show(r2));
    await assertStateEmpty(j);
  });

  it("mountinfo inside shows one root mount (the jail path) and only the jail's own mounts", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, root.path, "mounts", "/probe", "cat", "/proc/self/mountinfo"]);
    assert.equal(r.code, 0, show(r));
    const mounts = parseMountinfo(r.stdout);
    assert.ok(mounts.length > 0, show(r));
    const slash = mounts.filter((m) => m.mountPoint === "/");
    // pivot_root(".", ".") and a lazy unmount: were the old root still attached, it would be
    // stacked on "/" (a second entry) or visible at some other mount point.
    assert.equal(slash.length, 1, `exactly one mount at /: ${slash.map((m) => m.line).join(" | ")}`);
    assert.ok(root.path.endsWith(slash[0]!.root) && slash[0]!.root.length > 1, `the / mount is the jail path: ${slash[0]!.line}`);
    const foreign = mounts.filter((m) => m.mountPoint !== "/" && !/^\/(proc|dev|sys)(\/|$)/.test(m.mountPoint));
    assert.deepEqual(foreign.map((m) => m.line), [], "mounts outside /proc, /dev, /sys");
    // the host's submounts of /sys (cgroup hierarchies, ...) must not be there
    const hostSys = mounts.filter((m) => m.mountPoint.startsWith("/sys/"));
    assert.deepEqual(hostSys.map((m) => m.line), [], "host mounts below /sys");
    // no mount point names a host directory: the jail path itself never appears as one
    assert.ok(!mounts.some((m) => m.mountPoint.includes(root.base)), "a mount point names the host path of the root");
  });

  it("a chroot escape by jailed root finds nothing of the host", async (t) => {
    const j = stateDir(t);
    assert.ok(existsSync("/bin/sh") && existsSync(root.path), "control: both paths exist on the host");
    for (const target of ["/bin/sh", root.path]) {
      const r = await sysjail(["-j", j, root.path, "escape", "/probe", "chroot-escape", target]);
      assert.doesNotMatch(r.stdout, /chroot-denied/, `jail root should hold CAP_SYS_CHROOT for the attempt to mean anything: ${show(r)}`);
      assert.equal(probeLine(r), "err ENOENT", `escaped to the host's ${target}: ${show(r)}`);
    }
    await assertStateEmpty(j);
  });

  it("path `/` runs the host's tree, with the jail's own /proc and /dev", async (t) => {
    const j = stateDir(t);
    const marker = join(root.base, "host-marker");
    writeFileSync(marker, "seen-through-slash\n");
    const r = await sysjail(["-j", j, "/", "slash", env.probe, "read", marker]);
    assert.equal(probeLine(r), "ok seen-through-slash", show(r));
    const p = await sysjail(["-j", j, "/", "slash", env.probe, "ls", "/proc", "/dev", "/dev/pts"]);
    assert.equal(p.code, 0, show(p));
    const [procLine, devLine, ptsLine] = lines(p);
    const pids = lsNames(procLine).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
    assert.deepEqual(pids, [1, 2], `the jail's /proc lists only its init and the probe: ${procLine}`);
    const dev = lsNames(devLine);
    assert.deepEqual(dev.filter((d) => !DEV_ALLOWED.includes(d)), [], `unexpected entries in /dev: ${devLine}`);
    assert.deepEqual(DEV_REQUIRED.filter((d) => !dev.includes(d)), [], `missing entries in /dev: ${devLine}`);
    assert.deepEqual(lsNames(ptsLine), ["ptmx"], `a private devpts: ${ptsLine}`);
    await assertStateEmpty(j);
  });
});

describe("no host descriptor reaches the jail but 0, 1 and 2", { concurrency: 2 }, () => {
  for (const where of ["jail root", "path /"]) {
    it(`extra descriptors given to sysjail stay outside (${where})`, async (t) => {
      const j = stateDir(t);
      const scratch = makeTempDir("sysjail-fd-");
      defer(t, () => removeTree(scratch));
      const wfile = join(scratch, "writable");
      writeFileSync(wfile, "host-data\n");
      const rfd = openSync("/etc/passwd", "r");
      const wfd = openSync(wfile, "r+");
      const dfd = openSync(scratch, "r");
      defer(t, () => { for (const fd of [rfd, wfd, dfd]) closeSync(fd); });
      const args = where === "path /" ? ["/", "fds", env.probe, "fds"] : [root.path, "fds", "/probe", "fds"];
      // fds 3, 4, 5 (a read-only host file, a writable host file, a directory), a pipe at 6,
      // and the writable file again at 9
      const r = await sysjail(["-j", j, ...args], { extraFds: [rfd, wfd, dfd, "pipe", null, null, wfd] });
      assert.equal(probeLine(r), "fds 0 1 2", show(r));
      assert.equal(readFileSync(wfile, "utf8"), "host-data\n");
      await assertStateEmpty(j);
    });
  }
});

describe("a hostile jail path cannot make sysjail mount or write outside the jail", { concurrency: 2 }, () => {
  /** Runs a jail on a root whose NAME is a symlink to a victim directory on the host, then checks
   * the victim is untouched, no host mount mentions it, and nothing was left behind. */
  async function hostileCase(t: import("node:test").TestContext, build: (r: JailRoot, victim: string) => void, cmd: string[]) {
    const j = stateDir(t);
    const r = makeJailRoot(env.probe);
    defer(t, () => r.remove());
    const victim = makeTempDir("sysjail-victim-", 0o755, "/var/tmp");
    defer(t, () => removeTree(victim));
    writeFileSync(join(victim, "marker"), "victim\n");
    mkdirSync(join(victim, "sub"));
    build(r, victim);
    const before = snapshot(victim);
    const res = await sysjail(["-j", j, r.path, "hostile", ...cmd]);
    // refusing the root is fine (one line, a sysexits status); so is running with the jail's own
    // mounts in place. Following the link is not.
    if (res.code !== 0) {
      assert.ok(res.code !== null && res.code >= 64 && res.code <= 78, `a refusal has a sysexits status: ${show(res)}`);
      assert.equal(res.stderr.trim().split("\n").length, 1, `one line: ${show(res)}`);
      assert.doesNotMatch(res.stderr, /^\s+at |node:internal/m, show(res));
    }
    assert.equal(snapshot(victim), before, `the host directory ${victim} changed: ${show(res)}`);
    assert.deepEqual(hostMountsMentioning(victim), [], "a host mount mentions the victim");
    assert.deepEqual(hostMountsMentioning(r.base), [], "a host mount mentions the jail root");
    await assertStateEmpty(j);
    await waitUntil(() => res.token && !existsSync(`/proc/${res.pid}`), "the sysjail process to be gone");
    return res;
  }

  for (const name of ["dev", "proc", "sys"]) {
    it(`root/${name} is an absolute symlink to a host directory`, async (t) => {
      await hostileCase(t, (r, victim) => {
        removeTree(r.at(name));
        symlinkSync(victim, r.at(name));
      }, ["/probe", "ls", `/${name}`]);
    });
  }

  it("root/dev is a relative symlink climbing out of the root", async (t) => {
    await hostileCase(t, (r, victim) => {
      removeTree(r.at("dev"));
      symlinkSync(`../../../../../../../../..${victim}`, r.at("dev"));
    }, ["/probe", "ls", "/dev"]);
  });

  it("symlinks inside root/dev (pts, shm, null, mqueue) point at the host", async (t) => {
    const res = await hostileCase(t, (r, victim) => {
      symlinkSync(victim, r.at("dev/pts"));
      symlinkSync(join(victim, "sub"), r.at("dev/shm"));
      symlinkSync(join(victim, "newfile"), r.at("dev/null"));
      symlinkSync(victim, r.at("dev/mqueue"));
    }, ["/probe", "stat", "/dev/null"]);
    // the jail's /dev is its own tmpfs: the links are under it, out of sight
    if (res.code === 0) assert.match(probeLine(res), /^ok 20666 \d+ \d+ 1:3$/, show(res));
  });

  it("links inside the root that point at / and above it lead nowhere outside", async (t) => {
    const victim = makeTempDir("sysjail-victim-", 0o755, "/var/tmp");
    defer(t, () => removeTree(victim));
    writeFileSync(join(victim, "marker"), "victim\n");
    const r = makeJailRoot(env.probe);
    defer(t, () => r.remove());
    symlinkSync("/", r.at("up"));
    symlinkSync("../../../../../../../..", r.at("up2"));
    const j = stateDir(t);
    const before = snapshot(victim);
    const res = await sysjail(["-j", j, r.path, "links", "/probe", "stat", `/up${victim}/marker`, `/up2${victim}/marker`]);
    assert.deepEqual(lines(res), ["err ENOENT", "err ENOENT"], show(res));
    const w = await sysjail(["-j", j, r.path, "links", "/probe", "write", `/up2${victim}/planted`, "x"]);
    assert.equal(probeLine(w), "err ENOENT", show(w));
    assert.equal(snapshot(victim), before);
    await assertStateEmpty(j);
  });
});

describe("/proc is the jail's own", { concurrency: 3 }, () => {
  it("lists only the jail's processes: init (1) and the command (2)", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, root.path, "procs", "/probe", "ls", "/proc"]);
    assert.equal(r.code, 0, show(r));
    const pids = lsNames(lines(r)[0]).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
    assert.deepEqual(pids, [1, 2], show(r));
    const p = await sysjail(["-j", j, root.path, "procs", "/probe", "pid"]);
    assert.equal(probeLine(p), "ok 2 1", show(p));
    // the test runner's own pid is not there (it is far above 2 in the host's numbering)
    assert.ok(process.pid > 2);
    const me = await sysjail(["-j", j, root.path, "procs", "/probe", "stat", `/proc/${process.pid}`]);
    assert.equal(probeLine(me), "err ENOENT", show(me));
  });

  it("/proc/sys and /proc/sysrq-trigger are read-only (EROFS on a rewrite)", async (t) => {
    const j = stateDir(t);
    // kernel.msgmax belongs to the jail's own IPC namespace, whose root may write it without any
    // capability (control below: it can in a bare user+IPC namespace). Only a read-only mount
    // makes the rewrite fail, and then with EROFS.
    const control = spawnSync("unshare", ["-Uri", "sh", "-c", 'v=$(cat /proc/sys/kernel/msgmax) && echo "$v" > /proc/sys/kernel/msgmax && echo wrote'], { encoding: "utf8" });
    assert.equal(control.stdout.trim(), "wrote", `control: root of a fresh user+IPC namespace rewrites kernel.msgmax: ${control.stderr}`);
    for (const f of ["/proc/sys/kernel/msgmax", "/proc/sys/fs/mqueue/msg_max"]) {
      const r = await sysjail(["-j", j, root.path, "rosys", "/probe", "rewrite", f]);
      assert.equal(probeLine(r), "err EROFS", `${f}: ${show(r)}`);
    }
    // host-wide knobs: refused (jail root does not own them; the mount is read-only too)
    for (const f of ["/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern", "/proc/sys/vm/overcommit_memory"]) {
      assert.ok(existsSync(f), `control: the host has ${f}`);
      const o = await sysjail(["-j", j, root.path, "rosys", "/probe", "rewrite", f]);
      assert.match(probeLine(o), /^err E(ROFS|ACCES|PERM)$/, `${f}: ${show(o)}`);
    }
    // sysrq-trigger: read-only where the kernel has it; a kernel without it has none in the jail either
    const hostHas = existsSync("/proc/sysrq-trigger");
    const s = await sysjail(["-j", j, root.path, "rosys", "/probe", "openw", "/proc/sysrq-trigger"]);
    assert.match(probeLine(s), hostHas ? /^err E(ROFS|ACCES)$/ : /^err ENOENT$/, `host has sysrq-trigger: ${hostHas}; ${show(s)}`);
    const m = await sysjail(["-j", j, root.path, "rosys", "/probe", "cat", "/proc/self/mountinfo"]);
    for (const mp of ["/proc/sys", ...(hostHas ? ["/proc/sysrq-trigger"] : [])]) {
      const mnt = parseMountinfo(m.stdout).filter((x) => x.mountPoint === mp);
      assert.equal(mnt.length, 1, `one mount at ${mp}: ${show(m)}`);
      assert.match(mnt[0]!.options, /(^|,)ro(,|$)/, mnt[0]!.line);
    }
    await assertStateEmpty(j);
  });

  it("kernel memory and host-wide entries (/proc/kcore, kmsg, keys, timer_list, kpage*, ...) are masked", async (t) => {
    const j = stateDir(t);
    const files = ["/proc/kcore", "/proc/kmsg", "/proc/keys", "/proc/key-users", "/proc/timer_list", "/proc/sched_debug", "/proc/kpagecount", "/proc/kpageflags", "/proc/kpagecgroup", "/proc/latency_stats"];
    const dirs = ["/proc/acpi", "/proc/scsi", "/proc/asound", "/proc/firmware"];
    const hostFiles = files.filter((f) => existsSync(f));
    const hostDirs = dirs.filter((d) => existsSync(d) && statSync(d).isDirectory());
    assert.ok(hostFiles.length >= 3, `control: the host has some of ${files.join(" ")}`);
    // stat only: never read /proc/kmsg or /proc/kcore, in case the mask is missing
    const r = await sysjail(["-j", j, root.path, "masked", "/probe", "stat", ...hostFiles]);
    const out = lines(r);
    assert.equal(out.length, hostFiles.length, show(r));
    hostFiles.forEach((f, i) => {
      // masked: hidden behind /dev/null (a character device 1:3) or absent; a procfs file is a regular file
      assert.match(out[i]!, /^(ok 20\d{3} \d+ \d+ 1:3|err ENOENT)$/, `${f} is not masked in the jail: ${out[i]}`);
    });
    // reading the harmless ones gives nothing
    const safe = hostFiles.filter((f) => ["/proc/keys", "/proc/key-users", "/proc/timer_list"].includes(f));
    for (const f of safe) {
      const s = await sysjail(["-j", j, root.path, "masked", "/probe", "size", f]);
      assert.match(probeLine(s), /^(ok 0|err ENOENT)$/, `${f}: ${show(s)}`);
    }
    if (hostDirs.length) {
      const d = await sysjail(["-j", j, root.path, "masked", "/probe", "ls", ...hostDirs]);
      for (const l of lines(d)) assert.match(l, /^(ls|err ENOENT)$/, `a masked directory is empty: ${show(d)}`);
    }
    await assertStateEmpty(j);
  });
});

describe("/sys is absent or read-only", { concurrency: 2 }, () => {
  it("in a jail root with a sys directory: read-only sysfs, or nothing", async (t) => {
    const j = stateDir(t);
    const m = await sysjail(["-j", j, root.path, "sys", "/probe", "cat", "/proc/self/mountinfo"]);
    assert.equal(m.code, 0, show(m));
    const sys = parseMountinfo(m.stdout).filter((x) => x.mountPoint === "/sys");
    if (sys.length === 0) {
      const l = await sysjail(["-j", j, root.path, "sys", "/probe", "ls", "/sys"]);
      assert.equal(probeLine(l), "ls", `without a sysfs, /sys is the root's empty directory: ${show(l)}`);
      return;
    }
    assert.match(sys.at(-1)!.options, /(^|,)ro(,|$)/, sys.at(-1)!.line);
    const c = await sysjail(["-j", j, root.path, "sys", "/probe", "write", "/sys/planted", "x"]);
    assert.equal(probeLine(c), "err EROFS", show(c));
  });

  it("with path `/`: the host's /sys and its cgroup mounts are covered by a read-only sysfs", async (t) => {
    const j = stateDir(t);
    const w = await sysjail(["-j", j, "/", "sys", env.probe, "write", "/sys/planted", "x"]);
    assert.equal(probeLine(w), "err EROFS", show(w));
    const hostCg = readdirSync("/sys/fs/cgroup");
    assert.ok(hostCg.length > 0, "control: the host has cgroup mounts under /sys/fs/cgroup");
    const l = await sysjail(["-j", j, "/", "sys", env.probe, "ls", "/sys/fs/cgroup"]);
    assert.equal(probeLine(l), "ls", `the host's cgroup hierarchies are visible: ${show(l)}`);
    await assertStateEmpty(j);
  });
});

describe("/dev holds only the safe nodes", { concurrency: 3 }, () => {
  it("lists null, zero, full, random, urandom, tty, pts, ptmx, shm, fd, stdin/stdout/stderr (and mqueue), nothing else", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, root.path, "dev", "/probe", "ls", "/dev", "/dev/pts"]);
    assert.equal(r.code, 0, show(r));
    const [devLine, ptsLine] = lines(r);
    const dev = lsNames(devLine);
    assert.deepEqual(dev.filter((d) => !DEV_ALLOWED.includes(d)), [], `unexpected entries in /dev: ${devLine}`);
    assert.deepEqual(DEV_REQUIRED.filter((d) => !dev.includes(d)), [], `missing entries in /dev: ${devLine}`);
    assert.deepEqual(lsNames(ptsLine), ["ptmx"], `the jail's devpts is a new instance: ${ptsLine}`);
  });

  it("the device nodes are the real ones (char major:minor) and no disk or memory device exists", async (t) => {
    const j = stateDir(t);
    const names = Object.keys(DEV_NUMBERS);
    const r = await sysjail(["-j", j, root.path, "dev", "/probe", "stat", ...names.map((n) => `/dev/${n}`)]);
    const out = lines(r);
    names.forEach((n, i) => assert.match(out[i] ?? "", new RegExp(`^ok 20\\d{3} \\d+ \\d+ ${DEV_NUMBERS[n]}$`), `/dev/${n}: ${show(r)}`));
    const bad = ["/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/loop0", "/dev/console"];
    const b = await sysjail(["-j", j, root.path, "dev", "/probe", "stat", ...bad]);
    assert.deepEqual(lines(b), bad.map(() => "err ENOENT"), show(b));
  });

  it("jailed root cannot make device nodes (mknod: EPERM)", async (t) => {
    const j = stateDir(t);
    for (const p of ["/dev/planted-null", "/tmp/planted-null"]) {
      const r = await sysjail(["-j", j, root.path, "mknod", "/probe", "mknod", p]);
      assert.equal(probeLine(r), "err EPERM", `${p}: ${show(r)}`);
    }
    assert.ok(!existsSync(root.at("tmp/planted-null")));
  });

  it("a device node the host left in the jail's root cannot be opened (the root is nodev)", async (t) => {
    const j = stateDir(t);
    const node = root.at("planted-null");
    const mk = spawnSync("mknod", ["-m", "666", node, "c", "1", "3"]);
    assert.equal(mk.status, 0, `mknod on the host: ${mk.stderr}`);
    defer(t, () => removeTree(node));
    // the same node opens through the jail's own /dev: only the planted one is refused
    assert.match(probeLine(await sysjail(["-j", j, root.path, "nd", "/probe", "openw", "/dev/null"])), /^ok /);
    const r = await sysjail(["-j", j, root.path, "nd", "/probe", "openw", "/planted-null"]);
    assert.equal(probeLine(r), "err EACCES", show(r));
  });

  it("/dev/null works and /dev/full is full", async (t) => {
    const j = stateDir(t);
    const r = await sysjail(["-j", j, root.path, "dev", "/probe", "write", "/dev/null", "discarded"]);
    assert.equal(probeLine(r), "ok 9", show(r));
    const f = await sysjail(["-j", j, root.path, "dev", "/probe", "write", "/dev/full", "x"]);
    assert.equal(probeLine(f), "err ENOSPC", show(f));
    assertOk(await sysjail(["-j", j, root.path, "dev", "/probe", "size", "/dev/zero"]));
  });
});
