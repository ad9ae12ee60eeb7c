// sysjail-reaper run directly (native/reaper/reaper.c), without an engine: as root and as 65534,
// it moves onto its one writable page and unmaps the kernel's stack and vDSO (issue 21), keeps
// its argv readable in /proc/PID/cmdline, and still removes the state files it was handed once
// the process its pidfd names ends; an argv too long for that page runs on the kernel's stack
// with the same duties.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, NOBODY_GID, NOBODY_UID, makeTempDir, reaperRegions, removeTree, requireRoot, waitUntil } from "../helpers/index.js";

const REAPER = join(REPO, "native", "build", "sysjail-reaper");

/* Starts a child of its own (it ends when its stdin closes), opens its pidfd, forks and execs the
 * reaper with that pidfd as fd 5 and ARGS; prints the reaper's pid, then on a line from stdin
 * ends its child and prints the reaper's exit status. */
const HARNESS = `
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
fd = os.pidfd_open(child.pid)
pid = os.fork()
if pid == 0:
    os.dup2(fd, 5)
    os.execve(sys.argv[1], ["sysjail-reaper", "5"] + sys.argv[2:], {})
print(pid, flush=True)
sys.stdin.readline()
child.stdin.close()
child.wait()
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
`;

/** One run of the harness: the reaper's pid once known, then its exit status once told to end. */
function harness(prefix: string[], args: string[]): { h: ChildProcess; pid: Promise<number>; end: () => Promise<number> } {
  const [cmd, ...rest] = [...prefix, "/usr/bin/python3", "-c", HARNESS, REAPER, ...args];
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
      return waitUntil(() => (lines.length >= 2 ? Number(lines[1]) : undefined) ?? false, "the reaper's exit status");
    },
  };
}

describe("sysjail-reaper run directly: its memory and its duties", () => {
  requireRoot("the reaper's tests");
  const started: ChildProcess[] = [];
  const dirs: string[] = [];
  after(() => {
    // our own harnesses: killing one closes its child's stdin, which ends the child, then the reaper
    for (const h of started) if (h.exitCode === null) h.kill("SIGKILL");
    for (const d of dirs) removeTree(d);
  });

  for (const who of ["root", "65534"] as const) {
    const prefix = who === "root" ? [] : ["setpriv", `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_GID}`, "--clear-groups"];
    const stateDir = () => {
      const d = makeTempDir("sysjail-reaper-exec-");
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

    it(`as ${who}: only its code page and one writable page, its argv in cmdline; removes its files`, async () => {
      const d = stateDir();
      const f = stateFile(d, "state");
      const args = ["-d", d, "-f", f];
      const r = harness(prefix, args);
      started.push(r.h);
      const pid = await r.pid;
      const { regions, maps } = await reaperRegions(pid);
      assert.equal(regions.length, 2, maps);
      assert.match(regions[0]!, /^\S+ r-xp .*sysjail-reaper$/, maps);
      assert.match(regions[1]!, /^\S+ rw-p /, maps);
      assert.equal(readFileSync(`/proc/${pid}/cmdline`, "utf8"), ["sysjail-reaper", "5", ...args, ""].join("\0"));
      assert.equal(existsSync(f), true, "the file stays while the process runs");
      assert.equal(await r.end(), 0);
      assert.equal(existsSync(f), false, "the reaper removed its state file");
    });

    it(`as ${who}: an argv too long for its page: on the kernel's stack, the same duties`, async () => {
      const d = stateDir();
      const files = Array.from({ length: 40 }, (_, i) => stateFile(d, `${"s".repeat(120)}${i}`));
      const args = ["-d", d, ...files.flatMap((f) => ["-f", f])];
      assert.ok(args.join(" ").length > 4096, "longer than the reaper's page");
      const r = harness(prefix, args);
      started.push(r.h);
      const pid = await r.pid;
      // it got as far as its wait (blocked: state S), still with the kernel's stack and vDSO
      await waitUntil(() => / S /.test(readFileSync(`/proc/${pid}/stat`, "utf8").split(")")[1] ?? "") && readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("sysjail-reaper"), "the reaper's wait");
      assert.match(readFileSync(`/proc/${pid}/maps`, "utf8"), /\[vdso\]/);
      assert.equal(readFileSync(`/proc/${pid}/cmdline`, "utf8"), ["sysjail-reaper", "5", ...args, ""].join("\0"));
      assert.equal(await r.end(), 0);
      for (const f of files) assert.equal(existsSync(f), false, `the reaper removed ${f}`);
    });
  }
});
