// The idle monitor's hand-over (native/src/handover.c -> native/reaper/reaper.c): once a
// container's command runs, its monitor becomes sysjail-reaper under the same pid and start
// time; the container still works under a real engine (podman), and whatever ends it (the
// engine, or host root's SIGTERM to the reaper) leaves nothing behind.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { REPO, podmanFixture, reaperRegions, waitUntil } from "../helpers/index.js";

const OCI = join(REPO, "native", "build", "sysjail-oci");
const REAPER = join(REPO, "native", "build", "sysjail-reaper");
const JLS = join(REPO, "native", "build", "jls");
const ROOT = "/run/sysjail-oci";

/** pid and start time of a process, or undefined once it is gone */
function startOf(pid: number): string | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2).split(" ")[19];
  } catch { return undefined; }
}

/** What the armed reaper will remove, as its descriptors name it (native/reaper/reaper.c: the
 * cgroup dirs at 8-31, the state files at 40-63; its cmdline is empty once its page is dropped). */
function reaperHolds(pid: number): { cgroups: string[]; files: string[] } {
  const at = (from: number, to: number) => {
    const out: string[] = [];
    for (let n = from; n < to; n++) {
      try { out.push(readlinkSync(`/proc/${pid}/fd/${n}`)); } catch { break; }
    }
    return out;
  };
  return { cgroups: at(8, 32), files: at(40, 64) };
}

/** Rss (kB) of PID's writable page (its one rw-p mapping), from smaps. */
function pageRss(pid: number): number {
  return Number(/^\S+ rw-p [^]*?\nRss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps`, "utf8"))?.[1] ?? NaN);
}

describe("sysjail-oci: an idle container's monitor hands over to sysjail-reaper (root, podman)", () => {
  const { tag, podman, run, name, setup, teardown } = podmanFixture("reapertest");

  /** Starts an idle container; returns its id, its monitor's pid and start (from --root/ID/procs,
   * written before the hand-over) once the monitor has become the reaper. */
  async function idle(label: string): Promise<{ n: string; id: string; mon: number; monStart: string; init: number }> {
    const n = name(label);
    const r = run(["-d", "--name", n, "--network=none", tag, "/probe", "waitfile", "/never"]);
    assert.equal(r.status, 0, r.stderr);
    const id = podman(["inspect", "-f", "{{.Id}}", n]).stdout.trim();
    const [mon, monStart, init] = readFileSync(join(ROOT, id, "procs"), "utf8").trim().split(" ");
    const pid = Number(mon);
    await waitUntil(() => { try { return readlinkSync(`/proc/${pid}/exe`) === REAPER; } catch { return false; } }, "the monitor's hand-over to sysjail-reaper");
    return { n, id, mon: pid, monStart: monStart!, init: Number(init) };
  }

  /** Nothing of the container is left: its cgroups, registry files and --root directory. */
  function assertGone(id: string, left: { cgroups: string[]; files: string[] }) {
    for (const d of left.cgroups) assert.equal(existsSync(d), false, `cgroup dir ${d} removed`);
    for (const f of left.files) assert.equal(existsSync(f), false, `state file ${f} removed`);
    assert.equal(existsSync(join(ROOT, id)), false, "the container's --root directory removed");
    assert.doesNotMatch(spawnSync(JLS, ["-N"], { encoding: "utf8" }).stdout, new RegExp(id), "jls no longer lists it");
  }

  before(() => {
    setup();
    assert.ok(existsSync(REAPER), "npm run build makes native/build/sysjail-reaper");
  });
  after(teardown);

  it("same pid and start time, exe the reaper, only the init's pidfd open; exec, kill, rm work and leave nothing", async () => {
    const c = await idle("life");
    assert.equal(startOf(c.mon), c.monStart, "the exec kept the monitor's pid and start time");
    // its memory (issue 21): once it has moved onto its own page, the kernel's stack, vDSO and
    // vvar are gone; once armed, that one writable page is dropped while it waits: left resident
    // is its code page (shared by every reaper)
    const { regions, maps } = await reaperRegions(c.mon);
    assert.equal(regions.length, 2, maps);
    assert.match(regions[0]!, /^\S+ r-xp .*sysjail-reaper$/, maps);
    assert.match(regions[1]!, /^\S+ rw-p /, maps);
    await waitUntil(() => pageRss(c.mon) === 0, "the reaper dropping its page");
    const pss = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${c.mon}/smaps_rollup`, "utf8"))?.[1]);
    assert.ok(pss <= 4, `the reaper's PSS ${pss} kB, at most its code page`);
    assert.equal(readFileSync(`/proc/${c.mon}/cmdline`, "utf8"), "", "its cmdline is empty once armed");
    const left = reaperHolds(c.mon);
    assert.ok(left.cgroups.length > 0 && left.files.length > 0, "the reaper holds the cgroup dirs and state files (its descriptors)");
    for (const d of left.cgroups) assert.ok(d.startsWith("/sys/fs/cgroup/") && existsSync(d), `${d} exists while the container runs`);
    for (const f of left.files) assert.ok(existsSync(f), `${f} exists while the container runs`);
    // nothing of the monitor's but the init's pidfd (and /dev/null stdio; its own signalfd,
    // epoll instance and O_PATH descriptors of what it will remove)
    const fds = spawnSync("ls", ["-l", `/proc/${c.mon}/fd`], { encoding: "utf8" }).stdout;
    assert.doesNotMatch(fds, /socket:|pipe:|net:|user:/, fds);
    assert.match(fds, /anon_inode:\[pidfd\]/);
    assert.equal(pageRss(c.mon), 0, "listing its descriptors faulted nothing in");
    assert.match(spawnSync(JLS, ["-N"], { encoding: "utf8" }).stdout, new RegExp(c.id.slice(0, 12)), "jls lists the container");
    const st = spawnSync(OCI, ["state", c.id], { encoding: "utf8" });
    assert.equal(JSON.parse(st.stdout).status, "running", st.stderr);
    const ex = podman(["exec", c.n, "/probe", "hostname"]);
    assert.equal(ex.status, 0, ex.stderr);
    assert.equal(podman(["kill", c.n]).status, 0);
    assert.equal(podman(["wait", c.n]).status, 0);
    await waitUntil(() => startOf(c.mon) !== c.monStart, "the reaper's end after the container's");
    // the reaper's own work, before any delete: the cgroups and registry files are gone
    for (const d of left.cgroups) assert.equal(existsSync(d), false, `cgroup dir ${d} removed`);
    for (const f of left.files) assert.equal(existsSync(f), false, `state file ${f} removed`);
    assert.equal(podman(["rm", c.n]).status, 0);
    assertGone(c.id, left);
  });

  it("podman stop ends the container through the reaper's wait; rm leaves nothing", async () => {
    const c = await idle("stop");
    const left = reaperHolds(c.mon);
    const s = podman(["stop", "-t", "0", c.n]);
    assert.equal(s.status, 0, s.stderr);
    await waitUntil(() => startOf(c.mon) !== c.monStart, "the reaper's end");
    assert.equal(podman(["rm", c.n]).status, 0);
    assertGone(c.id, left);
  });

  it("SIGTERM to the reaper (host root stopping the monitor) kills the container and cleans up", async () => {
    const c = await idle("term");
    const left = reaperHolds(c.mon);
    // our own container's monitor, named by pid and start time
    assert.equal(startOf(c.mon), c.monStart);
    process.kill(c.mon, "SIGTERM");
    await waitUntil(() => startOf(c.init) === undefined || /^Z/.test(readFileSync(`/proc/${c.init}/stat`, "utf8").split(") ")[1] ?? ""), "the container's init to end");
    await waitUntil(() => startOf(c.mon) !== c.monStart, "the reaper's end");
    const w = podman(["wait", c.n]);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(w.stdout.trim(), "137", "the init was killed (SIGKILL)");
    for (const d of left.cgroups) assert.equal(existsSync(d), false, `cgroup dir ${d} removed`);
    for (const f of left.files) assert.equal(existsSync(f), false, `state file ${f} removed`);
    assert.equal(podman(["rm", c.n]).status, 0);
    assertGone(c.id, left);
  });
});
