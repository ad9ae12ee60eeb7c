// sysjail-reaper run directly (native/reaper/reaper.c), without an engine: as root and as 65534,
// it moves onto its one writable page, unmaps the kernel's stack and vDSO, then arms (issue 21):
// its state at fixed descriptors, that page dropped while it waits (only its code page resident),
// its cmdline empty. It still removes what it was handed once the process its pidfd names ends,
// kills that process first on SIGTERM, follows what was renamed meanwhile and skips what was
// removed; an argv too long for its page, or a path missing at its start, runs it as before
// (its page resident, its argv in cmdline) with the same duties.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, NOBODY_GID, NOBODY_UID, makeTempDir, reaperRegions, removeTree, requireRoot, waitUntil } from "../helpers/index.js";

const REAPER = join(REPO, "native", "build", "sysjail-reaper");

/* Starts a child of its own (it ends when its stdin closes), opens its pidfd, forks and execs
 * argv[1] with the N (argv[2]) words after it as its argv's head, then that pidfd as fd 5 and the
 * rest; prints the reaper's pid, then on a line from stdin ends its child and prints the
 * reaper's exit status and the child's (negative: its signal). */
const HARNESS = `
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
fd = os.pidfd_open(child.pid)
pid = os.fork()
if pid == 0:
    os.dup2(fd, 5)
    n = int(sys.argv[2])
    os.execve(sys.argv[1], sys.argv[3:3 + n] + ["5"] + sys.argv[3 + n:], {})
print(pid, flush=True)
sys.stdin.readline()
child.stdin.close()
rc = child.wait()
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), rc, flush=True)
`;

/** One run of the harness (RUN: the program and its argv before the pidfd): the reaper's pid
 * once known, then its exit status and its child's once told to end. */
function harness(prefix: string[], args: string[], run = [REAPER, "sysjail-reaper"]): { h: ChildProcess; pid: Promise<number>; end: () => Promise<{ status: number; child: number }> } {
  const [cmd, ...rest] = [...prefix, "/usr/bin/python3", "-c", HARNESS, run[0]!, String(run.length - 1), ...run.slice(1), ...args];
  const h = spawn(cmd!, rest, { stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  let buf = "";
  h.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split("\n");
    buf = parts.pop()!;
    lines.push(...parts);
  });
  return {
    h,
    pid: waitUntil(() => (lines.length >= 1 ? Number(lines[0]) : false), "the reaper's pid"),
    end: async () => {
      h.stdin!.write("\n");
      const [status, child] = await waitUntil(() => (lines.length >= 2 ? lines[1]!.split(" ").map(Number) : false), "the reaper's exit status");
      return { status: status!, child: child! };
    },
  };
}

/** Rss of the mappings of PID (smaps): its code page's and its writable page's, in kB. */
/** For WHO (root or 65534): the command prefix that runs the reaper as WHO, and state
 * directories and files (made under a temp dir named TAG, recorded in DIRS) that WHO owns. */
function asUser(who: "root" | "65534", tag: string, dirs: string[]) {
  const prefix = who === "root" ? [] : ["setpriv", `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_GID}`, "--clear-groups"];
  const stateDir = () => {
    const d = makeTempDir(tag);
    dirs.push(d);
    if (who !== "root") chownSync(d, NOBODY_UID, NOBODY_GID);
    return d;
  };
  const stateFile = (d: string, name: string) => {
    const f = join(d, name);
    writeFileSync(f, "x");
    if (who !== "root") chownSync(f, NOBODY_UID, NOBODY_GID);
    return f;
  };
  return { prefix, stateDir, stateFile };
}

function resident(pid: number): { code: number; page: number; smaps: string } {
  const smaps = readFileSync(`/proc/${pid}/smaps`, "utf8");
  const rss = (re: RegExp) => Number(new RegExp(`${re.source}[^]*?\\nRss:\\s+(\\d+) kB`, "m").exec(smaps)?.[1] ?? NaN);
  return { code: rss(/^\S+ r-xp .*sysjail-reaper$/), page: rss(/^\S+ rw-p /), smaps };
}

/** Once PID has armed: its writable page dropped while it waits; the smaps text. */
async function armed(pid: number): Promise<string> {
  await reaperRegions(pid);
  return waitUntil(() => { const r = resident(pid); return r.page === 0 ? r.smaps : false; }, "the reaper dropping its page");
}

/** What /proc/PID/fd/N names, or undefined. */
function fdPath(pid: number, n: number): string | undefined {
  try { return readlinkSync(`/proc/${pid}/fd/${n}`); } catch { return undefined; }
}

/** The first cgroup hierarchy of TYPE ("cgroup2", "cgroup": v1) under /sys/fs/cgroup, if any. */
function hierarchy(type: string): string | undefined {
  for (const l of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
    const [, mp, t] = l.split(" ");
    if (t === type && mp?.startsWith("/sys/fs/cgroup")) return mp;
  }
  return undefined;
}

describe("sysjail-reaper run directly: its memory and its duties", () => {
  requireRoot("the reaper's tests");
  const started: ChildProcess[] = [];
  const dirs: string[] = [];
  const cgroups: string[] = [];
  after(() => {
    // our own harnesses: killing one closes its child's stdin, which ends the child, then the reaper
    for (const h of started) if (h.exitCode === null) h.kill("SIGKILL");
    for (const d of dirs) removeTree(d);
    for (const d of cgroups) try { rmdirSync(d); } catch { /* removed by the reaper */ }
  });

  for (const who of ["root", "65534"] as const) {
    const { prefix, stateDir, stateFile } = asUser(who, "sysjail-reaper-exec-", dirs);
    const start = async (args: string[]) => {
      const r = harness(prefix, args);
      started.push(r.h);
      return { ...r, pid: await r.pid };
    };

    it(`as ${who}: armed, only its code page resident, cmdline empty, its paths at its descriptors; removes its files`, async () => {
      const d = stateDir();
      const f = stateFile(d, "state"), g = stateFile(d, "resv");
      const r = await start(["-d", d, "-f", f, "-f", g]);
      const smaps = await armed(r.pid);
      const { regions, maps } = await reaperRegions(r.pid);
      assert.equal(regions.length, 2, maps);
      assert.match(regions[0]!, /^\S+ r-xp .*sysjail-reaper$/, maps);
      assert.match(regions[1]!, /^\S+ rw-p /, maps);
      assert.equal(resident(r.pid).code, 4, smaps);
      const pss = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${r.pid}/smaps_rollup`, "utf8"))?.[1]);
      assert.ok(pss <= 4, `its PSS ${pss} kB, at most its code page`);
      assert.equal(readFileSync(`/proc/${r.pid}/cmdline`, "utf8"), "", "nothing to read from a dropped page");
      assert.equal(fdPath(r.pid, 3), "anon_inode:[pidfd]");
      assert.equal(fdPath(r.pid, 4), "anon_inode:[signalfd]");
      assert.equal(fdPath(r.pid, 5), "anon_inode:[eventpoll]");
      assert.equal(fdPath(r.pid, 32), d);
      assert.deepEqual([fdPath(r.pid, 40), fdPath(r.pid, 41), fdPath(r.pid, 42)], [f, g, undefined]);
      assert.equal(existsSync(f), true, "the file stays while the process runs");
      assert.equal(resident(r.pid).page, 0, "reading its /proc files faulted nothing in");
      assert.deepEqual(await r.end(), { status: 0, child: 0 });
      assert.equal(existsSync(f) || existsSync(g), false, "the reaper removed its state files");
    });

    it(`as ${who}: SIGTERM to it kills its process first, then it removes its files`, async () => {
      const d = stateDir();
      const f = stateFile(d, "state");
      const r = await start(["-d", d, "-f", f]);
      await armed(r.pid);
      process.kill(r.pid, "SIGTERM");
      // its own exit (a zombie until the harness reaps it), after its process's end
      await waitUntil(() => /^Z/.test(readFileSync(`/proc/${r.pid}/stat`, "utf8").split(") ")[1] ?? ""), "the reaper's exit");
      assert.equal(existsSync(f), false, "the reaper removed its state file");
      assert.deepEqual(await r.end(), { status: 0, child: -9 }, "its process was killed (SIGKILL)");
    });

    it(`as ${who}: a state file replaced by rename, one renamed and one removed meanwhile: the names there now go`, async () => {
      const d = stateDir();
      const entry = stateFile(d, "entry"), moved = stateFile(d, "moved"), gone = stateFile(d, "gone"), keep = stateFile(d, "keep");
      const r = await start(["-d", d, "-f", entry, "-f", moved, "-f", gone]);
      await armed(r.pid);
      renameSync(stateFile(d, "entry.tmp"), entry); // the registry rewrites an entry so
      renameSync(moved, join(d, "moved2"));
      rmSync(gone);
      assert.equal(fdPath(r.pid, 40), `${entry} (deleted)`);
      assert.deepEqual(await r.end(), { status: 0, child: 0 });
      assert.equal(existsSync(entry), false, "the entry written meanwhile is removed (by its name)");
      assert.equal(existsSync(join(d, "moved2")), false, "a renamed file is removed under its new name");
      assert.equal(existsSync(keep), true, "a file not handed stays");
    });

    it(`as ${who}: a state file moved out of its state dir meanwhile is refused (status 1) and left`, async () => {
      const d = stateDir(), other = stateDir();
      const f = stateFile(d, "state");
      const r = await start(["-d", d, "-f", f]);
      await armed(r.pid);
      renameSync(f, join(other, "state"));
      assert.deepEqual(await r.end(), { status: 1, child: 0 });
      assert.equal(existsSync(join(other, "state")), true);
    });

    it(`as ${who}: a path missing at its start: not armed, it runs as before, the same duties`, async () => {
      const d = stateDir();
      const f = join(d, "later");
      const args = ["-d", d, "-f", f];
      const r = await start(args);
      await reaperRegions(r.pid);
      await waitUntil(() => / S /.test(readFileSync(`/proc/${r.pid}/stat`, "utf8").split(")")[1] ?? ""), "the reaper's wait");
      assert.equal(readFileSync(`/proc/${r.pid}/cmdline`, "utf8"), ["sysjail-reaper", "5", ...args, ""].join("\0"));
      assert.equal(resident(r.pid).page, 4, "its page (argv, stack) stays resident");
      assert.equal(fdPath(r.pid, 5), undefined, "no epoll instance kept");
      stateFile(d, "later");
      assert.deepEqual(await r.end(), { status: 0, child: 0 });
      assert.equal(existsSync(f), false, "the reaper removed the file by its path");
    });

    it(`as ${who}: an argv too long for its page: armed from the kernel's stack, then off it`, async () => {
      const d = stateDir();
      const files = Array.from({ length: 20 }, (_, i) => stateFile(d, `${"s".repeat(130)}${i}`));
      const args = ["-d", d, ...files.flatMap((f) => ["-f", f])];
      assert.ok(args.join(" ").length > 2600, "longer than the room for argv in its page");
      const r = await start(args);
      await armed(r.pid);
      assert.equal(fdPath(r.pid, 59), files[19]);
      assert.deepEqual(await r.end(), { status: 0, child: 0 });
      for (const f of files) assert.equal(existsSync(f), false, `the reaper removed ${f}`);
    });

    it(`as ${who}: an argv too long for its page: more paths than its descriptors hold: on the kernel's stack, the same duties`, async () => {
      const d = stateDir();
      const files = Array.from({ length: 40 }, (_, i) => stateFile(d, `${"s".repeat(120)}${i}`));
      const args = ["-d", d, ...files.flatMap((f) => ["-f", f])];
      assert.ok(args.join(" ").length > 4096, "longer than the reaper's page");
      const { pid, end } = await start(args);
      // it got as far as its wait (blocked: state S), still with the kernel's stack and vDSO
      await waitUntil(() => / S /.test(readFileSync(`/proc/${pid}/stat`, "utf8").split(")")[1] ?? "") && readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("sysjail-reaper"), "the reaper's wait");
      assert.match(readFileSync(`/proc/${pid}/maps`, "utf8"), /\[vdso\]/);
      assert.equal(readFileSync(`/proc/${pid}/cmdline`, "utf8"), ["sysjail-reaper", "5", ...args, ""].join("\0"));
      assert.deepEqual(await end(), { status: 0, child: 0 });
      for (const f of files) assert.equal(existsSync(f), false, `the reaper removed ${f}`);
    });
  }

  it("as root: a cgroup dir removed meanwhile is skipped, not the new one of its name; one renamed (cgroup v1 only) goes under its new name", async () => {
    const v2 = hierarchy("cgroup2"), v1 = hierarchy("cgroup");
    assert.ok(v2, "a cgroup v2 hierarchy under /sys/fs/cgroup");
    const base = join(v2, `sysjail-reaper-exec-${process.pid}`), b = join(base, "b");
    // cgroup v2 renames nothing (EPERM); a v1 hierarchy (a hybrid host) renames within a parent
    const base1 = v1 ? join(v1, `sysjail-reaper-exec-${process.pid}`) : join(base, "x"), a = join(base1, "a");
    cgroups.push(join(base1, "a2"), a, base1, b, base);
    for (const c of [base, b, base1, a]) mkdirSync(c);
    const r = harness([], ["-c", a, "-c", b, "-c", base1, "-c", base]);
    started.push(r.h);
    const pid = await r.pid;
    await armed(pid);
    assert.deepEqual([8, 9, 10, 11].map((n) => fdPath(pid, n)), [a, b, base1, base]);
    if (v1) renameSync(a, join(base1, "a2"));
    else assert.throws(() => renameSync(a, join(base1, "a2")), /EPERM/);
    rmdirSync(b);
    mkdirSync(b);
    assert.equal(fdPath(pid, 9), `${b} (deleted)`);
    assert.deepEqual(await r.end(), { status: 0, child: 0 });
    assert.equal(existsSync(join(base1, "a2")) || existsSync(a) || existsSync(base1), false, "the (renamed) cgroup and its parent are removed");
    assert.equal(existsSync(b), true, "the new cgroup that took a removed one's name stays");
    assert.equal(existsSync(base), true, "its parent, not empty, stays");
  });
});

/** The kernel function PID's main thread sleeps in (/proc/PID/wchan), "" if none. */
function wchan(pid: number): string {
  try { return readFileSync(`/proc/${pid}/wchan`, "utf8"); } catch { return ""; }
}

// The aarch64 reaper, cross-built, run under user-mode emulation (Debian's qemu-user-static 7.2,
// qemu-aarch64-static called directly, no binfmt): a test of its aarch64 system-call stubs, its
// assembly (_start, reaper_switch, reaper_idle) and its logic on an x86_64 host, NOT of the
// kernel's memory handling: the process is qemu (its cmdline, maps and smaps are qemu's, so the
// memory checks above have no meaning here). What qemu does with what the reaper uses (seen with
// `qemu-aarch64-static -strace` and strace on the host): the inherited pidfd and every
// descriptor pass through unchanged; signalfd4 (SIGTERM blocked by the guest is blocked on the
// host too, so the host's signalfd sees it), epoll_create1/epoll_ctl/epoll_pwait (events
// converted), ppoll, pidfd_send_signal, readlinkat of /proc/self/fd/N, openat O_PATH, dup3,
// close_range, unlinkat go to the host kernel; madvise(MADV_DONTNEED) of the reaper's page
// reaches the host too. PR_SET_MM is refused by qemu itself (EINVAL, never reaching the kernel):
// the shipped build then runs its documented fallback (unarmed, its page kept, ppoll). The test
// build -DSYSJAIL_REAPER_QEMU_USER (never shipped) takes set_mm as done and skips unmap_above
// (qemu maps the guest at base 0 and hands a guest munmap to the host: the range above the image
// would unmap qemu itself, a SIGSEGV), so the armed path runs: its descriptors, MADV_DONTNEED +
// the register-only epoll_pwait, each wake-up on a fresh stack. Which wait it sleeps in is read
// from /proc/PID/wchan: do_epoll_wait (armed) or the poll of the fallback.
describe("the aarch64 reaper (cross-built) under qemu-aarch64-static: its stubs, assembly and duties", () => {
  requireRoot("the reaper's tests");
  const QEMU = "/usr/bin/qemu-aarch64-static";
  const started: ChildProcess[] = [];
  const dirs: string[] = [];
  const cgroups: string[] = [];
  let bin = "";
  before(() => {
    assert.ok(existsSync(QEMU), "qemu-aarch64-static (apt-get install qemu-user-static; .ci/run installs it)");
    bin = makeTempDir("sysjail-reaper-qemu-");
    dirs.push(bin);
    const flags = spawnSync(process.execPath, ["--input-type=module", "-e", `import("${join(REPO, "scripts", "native-common.mjs")}").then((m) => console.log(JSON.stringify(m.REAPER_FLAGS)))`], { encoding: "utf8" });
    for (const [name, extra] of [["shipped", []], ["armed", ["-DSYSJAIL_REAPER_QEMU_USER"]]] as const) {
      const cc = spawnSync("aarch64-linux-gnu-gcc", [...JSON.parse(flags.stdout), ...extra, "-o", join(bin, name), join(REPO, "native", "reaper", "reaper.c")], { encoding: "utf8" });
      assert.equal(cc.status, 0, `the aarch64 cross compiler (gcc-aarch64-linux-gnu) builds the reaper: ${cc.error?.message ?? cc.stderr}`);
    }
  });
  after(() => {
    for (const h of started) if (h.exitCode === null) h.kill("SIGKILL");
    for (const d of dirs) removeTree(d);
    for (const d of cgroups) try { rmdirSync(d); } catch { /* removed by the reaper */ }
  });

  for (const build of ["shipped", "armed"] as const) {
    const armedBuild = build === "armed";
    const how = armedBuild ? "the test build, armed" : "the shipped build, unarmed (PR_SET_MM refused by qemu)";
    for (const who of ["root", "65534"] as const) {
      const { prefix, stateDir, stateFile } = asUser(who, "sysjail-reaper-qemu-", dirs);
      const start = async (args: string[]) => {
        const r = harness(prefix, args, [QEMU, "qemu-aarch64-static", join(bin, build)]);
        started.push(r.h);
        return { ...r, pid: await r.pid };
      };
      /** PID waits: armed (its descriptors, in epoll_pwait) or, ARMED false, in the fallback's ppoll. */
      const waiting = (pid: number, armed: boolean) => waitUntil(() => fdPath(pid, 4) === "anon_inode:[signalfd]" && (armed
        ? wchan(pid) === "do_epoll_wait" && fdPath(pid, 5) === "anon_inode:[eventpoll]"
        : /poll/.test(wchan(pid)) && fdPath(pid, 5) === undefined), armed ? "the armed reaper's epoll_pwait" : "the unarmed reaper's ppoll");

      it(`${how}, as ${who}: the process ends: every ${who === "root" ? "cgroup dir and " : ""}state file handed is removed, status 0`, async () => {
        const d = stateDir();
        const f = stateFile(d, "state"), g = stateFile(d, "resv");
        const cg: string[] = [];
        if (who === "root") {
          const v2 = hierarchy("cgroup2");
          assert.ok(v2, "a cgroup v2 hierarchy under /sys/fs/cgroup");
          const base = join(v2, `sysjail-reaper-qemu-${process.pid}-${build}`), b = join(base, "b");
          cgroups.push(b, base);
          for (const c of [base, b]) mkdirSync(c);
          cg.push("-c", b, "-c", base);
        }
        const r = await start([...cg, "-d", d, "-f", f, "-f", g]);
        await waiting(r.pid, armedBuild);
        assert.equal(fdPath(r.pid, 3), "anon_inode:[pidfd]", "the pidfd, passed through qemu, moved to 3");
        if (armedBuild) {
          assert.deepEqual([32, 40, 41].map((n) => fdPath(r.pid, n)), [d, f, g], "its state at its fixed descriptors");
          if (who === "root") assert.deepEqual([8, 9].map((n) => fdPath(r.pid, n)), [cg[1], cg[3]]);
        } else {
          assert.deepEqual([8, 32, 40].map((n) => fdPath(r.pid, n)), [undefined, undefined, undefined], "not armed: no descriptors of its paths");
        }
        assert.equal(existsSync(f), true, "the file stays while the process runs");
        assert.deepEqual(await r.end(), { status: 0, child: 0 });
        assert.equal(existsSync(f) || existsSync(g), false, "the reaper removed its state files");
        for (let i = 1; i < cg.length; i += 2) assert.equal(existsSync(cg[i]!), false, `the reaper removed ${cg[i]}`);
      });

      it(`${how}, as ${who}: SIGTERM to it kills its process first, then it removes its files`, async () => {
        const d = stateDir();
        const f = stateFile(d, "state");
        const r = await start(["-d", d, "-f", f]);
        await waiting(r.pid, armedBuild);
        process.kill(r.pid, "SIGTERM");
        await waitUntil(() => /^Z/.test(readFileSync(`/proc/${r.pid}/stat`, "utf8").split(") ")[1] ?? ""), "the reaper's exit");
        assert.equal(existsSync(f), false, "the reaper removed its state file");
        assert.deepEqual(await r.end(), { status: 0, child: -9 }, "its process was killed (SIGKILL)");
      });

      it(`${how}, as ${who}: paths outside the allowed places are refused (status 1, left; not armed), the others removed`, async () => {
        const d = stateDir(), other = stateDir();
        const notcg = join(other, "cg");
        mkdirSync(notcg);
        const f = stateFile(d, "state"), x = stateFile(other, "x");
        const r = await start(["-c", notcg, "-d", d, "-f", f, "-f", x, "-f", `${d}/../${other.split("/").pop()}/x`]);
        await waiting(r.pid, false);
        assert.deepEqual(await r.end(), { status: 1, child: 0 });
        assert.equal(existsSync(f), false, "the file below the handed dir is removed");
        assert.equal(existsSync(x), true, "a file outside the handed dirs, also by a '..' path, is refused");
        assert.equal(existsSync(notcg), true, "a directory outside /sys/fs/cgroup is refused");
      });

      if (armedBuild) {
        it(`${how}, as ${who}: a state file moved out of its state dir meanwhile is refused (status 1) and left`, async () => {
          const d = stateDir(), other = stateDir();
          const f = stateFile(d, "state");
          const r = await start(["-d", d, "-f", f]);
          await waiting(r.pid, true);
          renameSync(f, join(other, "state"));
          assert.deepEqual(await r.end(), { status: 1, child: 0 });
          assert.equal(existsSync(join(other, "state")), true);
        });

        it(`${how}, as ${who}: an argv too long for its page: armed from the kernel's stack, then on its page`, async () => {
          const d = stateDir();
          const files = Array.from({ length: 20 }, (_, i) => stateFile(d, `${"s".repeat(130)}${i}`));
          const r = await start(["-d", d, ...files.flatMap((f) => ["-f", f])]);
          await waiting(r.pid, true);
          assert.equal(fdPath(r.pid, 59), files[19]);
          assert.deepEqual(await r.end(), { status: 0, child: 0 });
          for (const f of files) assert.equal(existsSync(f), false, `the reaper removed ${f}`);
        });
      }
    }
  }
});
