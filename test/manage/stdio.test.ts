// No descriptor of jexec's caller enters a jail: a new pty of the jail's own devpts on a terminal,
// pipes otherwise, both relayed by the helper; no process of the jail can take an entered
// process's descriptors; background jails get /dev/null.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeRoot, nobodyRuntimeDir, requireBuilt, ROOT, run, runAsync, Scope, sjlsEntry, start, waitFor, type RunOptions } from "./helpers.js";

const PTYRUN = join(ROOT, "test", "manage", "fixtures", "ptyrun.py");

interface PtyResult { code: number; output: string; rawSeen: boolean; restored: boolean; lflagBefore: number; lflagAfter: number }

/** Runs jexec ARGS on a fresh pseudo-terminal (test/manage/fixtures/ptyrun.py), as root or 65534. */
function jexecOnPty(o: RunOptions, args: string[], extra: { rows?: number; cols?: number; steps?: [string, string, unknown][] } = {}, tool = "jexec"): PtyResult {
  const bin = join(ROOT, "native", "build", tool);
  const argv = o.nobody === undefined
    ? ["env", `SYSJAIL_STATE_DIR=${o.state}`, bin, ...args]
    : ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", `XDG_RUNTIME_DIR=${o.nobody}`, "HOME=/", `SYSJAIL_STATE_DIR=${o.state}`, bin, ...args];
  return onPty(argv, extra);
}

/** Runs ARGV on a fresh pseudo-terminal as its controlling terminal. */
function onPty(argv: string[], extra: object = {}): PtyResult {
  const r = spawnSync("python3", [PTYRUN, JSON.stringify({ argv, ...extra })], { encoding: "utf8", timeout: 60000, cwd: ROOT });
  assert.equal(r.status, 0, `ptyrun failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PtyResult;
}

for (const who of ["root", "nobody"] as const) {
  describe(`jexec's stdio (${who})`, () => {
    let scope: Scope;
    let root: string;
    let xdg: string | undefined;
    before(() => {
      requireBuilt();
      if (who === "nobody") {
        xdg = nobodyRuntimeDir();
      }
      scope = new Scope(xdg);
      root = makeRoot(who === "nobody" ? 65534 : undefined);
    });
    after(() => {
      scope?.cleanup();
      for (const d of [xdg, root]) if (d) rmSync(d, { recursive: true, force: true });
    });

    test("a jail process cannot take an entered process's descriptors (pty and pipes)", async () => {
      for (const mode of ["pty", "pipe"] as const) {
        const name = `grab-${mode}-${who}`;
        // the jail's own process looks for the entered command and tries pidfd_getfd and /proc/PID/fd
        const jail = runAsync("sysjail", ["-n", name, root, name, "/mprobe", "grab", "mprobe sleep 3", "20"], { ...scope.o, timeoutMs: 40000 });
        assert.ok(await waitFor(() => run("jls", ["-j", name], scope.o).code === 0, 20000), `jail ${name} did not start`);
        if (mode === "pty") {
          const r = jexecOnPty(scope.o, [name, "/mprobe", "sleep", "3"]);
          assert.equal(r.code, 0, r.output);
        } else {
          const r = run("jexec", [name, "/mprobe", "sleep", "3"], scope.o);
          assert.equal(r.code, 0, r.stderr);
        }
        const out = await jail;
        assert.match(out.stdout, /^refused/, `${mode}: ${out.stdout} ${out.stderr}`);
      }
    });

    test("on a terminal: a pty of the jail as controlling terminal; raw mode, window size, input, exit status", () => {
      const jid = start(scope.o, root, `tty-${who}`, ["/mprobe", "sleep", "120"]);
      const id = String(jid);
      const s = jexecOnPty(scope.o, [id, "/mprobe", "stdio"], { rows: 33, cols: 111 });
      assert.equal(s.code, 0, s.output);
      assert.equal(s.output.trim(), "tty:/dev/pts/0 tty:/dev/pts/0 tty:/dev/pts/0 ctty:yes");
      assert.ok(s.restored, `terminal modes not restored: ${s.lflagBefore} -> ${s.lflagAfter}`);
      const w = jexecOnPty(scope.o, [id, "/mprobe", "winch"], { rows: 33, cols: 111, steps: [["ready", "resize", [44, 155]]] });
      assert.deepEqual(w.output.trim().split(/\r?\n/), ["ready", "winsize 44 155"]);
      assert.ok(w.rawSeen, "the caller's terminal was not in raw mode while the command ran");
      assert.ok(w.restored);
      assert.equal(jexecOnPty(scope.o, [id, "/mprobe", "winsize"], { rows: 33, cols: 111 }).output.trim(), "winsize 33 111");
      const l = jexecOnPty(scope.o, [id, "/mprobe", "readline"], { steps: [["", "type", "hello\r"]] });
      assert.match(l.output, /line hello 5/);
      assert.equal(jexecOnPty(scope.o, [id, "/mprobe", "exit", "7"]).code, 7);
      // TIOCSTI is refused by the jail's policy, on the jail's own terminal too
      assert.equal(jexecOnPty(scope.o, [id, "/mprobe", "tiocsti"]).output.trim(), "EPERM");
    });

    test("on a terminal, a jail without a devpts of its own (jail.conf without mount.devfs) gets pipes", () => {
      const c = run("jail", ["-c", `name=nodev-${who}`, `path=${root}`, "persist", "mount.procfs"], scope.o);
      assert.equal(c.code, 0, c.stderr);
      const s = jexecOnPty(scope.o, [`nodev-${who}`, "/mprobe", "stdio"]);
      assert.equal(s.code, 0, s.output);
      assert.match(s.output, /^pipe pipe pipe ctty:(?!yes)/);
      assert.ok(s.restored);
      assert.equal(run("jail", ["-r", `nodev-${who}`], scope.o).code, 0);
    });

    test("jail -c's command on a terminal gets a pty of the jail too; exec.start gets pipes", () => {
      const r = jexecOnPty(scope.o, ["-c", `name=cmd-${who}`, `path=${root}`, "mount.devfs", "mount.procfs", "exec.start=/mprobe stdio", "command=/mprobe", "stdio"], {}, "jail");
      assert.equal(r.code, 0, r.output);
      const lines = r.output.trim().split(/\r?\n/);
      assert.match(lines.find((l) => l.startsWith("pipe")) ?? "", /^pipe pipe pipe ctty:(?!yes)/, r.output);
      assert.ok(lines.includes("tty:/dev/pts/0 tty:/dev/pts/0 tty:/dev/pts/0 ctty:yes"), r.output);
      assert.ok(r.restored);
    });

    test("what an exec.start daemon writes later goes to the console log (or nowhere) and does not kill it", async () => {
      const log = join(xdg ?? scope.state, `console-${who}.log`);
      writeFileSync(log, "");
      if (who === "nobody") chownSync(log, 65534, 65534);
      for (const [name, withLog] of [[`later-log-${who}`, true], [`later-nolog-${who}`, false]] as const) {
        const marker = join(root, "tmp", `${name}.done`);
        rmSync(marker, { force: true });
        const c = run("jail", ["-c", `name=${name}`, `path=${root}`, "persist", ...(withLog ? [`exec.consolelog=${log}`] : []),
          `exec.start=/mprobe later 1 written-${name} /tmp/${name}.done`], scope.o);
        assert.equal(c.code, 0, c.stderr);
        assert.doesNotMatch(c.stdout, /written-/, "nothing reaches jail(8)'s own output after the command");
        assert.ok(await waitFor(() => existsSync(marker), 10000), `${name}: the daemon did not survive its late writes`);
        if (withLog) assert.ok(await waitFor(() => readFileSync(log, "utf8").includes(`written-${name} again`), 5000), readFileSync(log, "utf8"));
        assert.equal(run("jail", ["-r", name], scope.o).code, 0);
      }
    });

    test("on a terminal: ^C reaches the command through the pty; SIGTERM and SIGHUP to jexec end it; the terminal is restored", () => {
      const jid = String(start(scope.o, root, `sig-${who}`, ["/mprobe", "sleep", "120"]));
      const c = jexecOnPty(scope.o, [jid, "/mprobe", "ready-sleep", "30"], { steps: [["ready", "type", "\u0003"]] });
      assert.equal(c.code, 130, c.output);
      assert.ok(c.restored);
      for (const sig of ["SIGTERM", "SIGHUP"]) {
        const t = jexecOnPty(scope.o, [jid, "/mprobe", "ready-sleep", "30"], { steps: [["ready", "signal", sig]] });
        assert.ok(t.code === 137 || t.code === 143 || t.code === 129, `${sig}: ${t.code} ${t.output}`);
        assert.ok(t.restored, `${sig}: terminal modes not restored`);
      }
      // nothing of the entered commands is left in the jail: the jail's sleep and its init only
      assert.equal(sjlsEntry(scope.o, Number(jid))!.processes, 2);
    });

    test("not on a terminal: pipes, EOF passed on, output and status", () => {
      const jid = String(start(scope.o, root, `pipe-${who}`, ["/mprobe", "sleep", "120"]));
      const s = run("jexec", [jid, "/mprobe", "stdio"], scope.o);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, /^pipe pipe pipe ctty:(?!yes)/);
      const e = run("jexec", [jid, "/mprobe", "stdin-eof"], { ...scope.o, input: "x".repeat(100000) });
      assert.equal(e.stdout, "read 100000 eof\n");
      const big = run("jexec", [jid, "/mprobe", "pids"], scope.o);
      assert.equal(big.code, 0);
      const x = run("jexec", [jid, "/mprobe", "exit", "9"], scope.o);
      assert.equal(x.code, 9);
      const err = run("jexec", [jid, "/mprobe", "no-such-subcommand"], scope.o);
      assert.equal(err.code, 2);
      assert.match(err.stderr, /mprobe: unknown command 'no-such-subcommand'/);
    });

    test("a foreground jail whose policy file allows ioctl still cannot type into the caller's terminal (TIOCSTI)", () => {
      const pol = join(xdg ?? scope.state, "allow-ioctl.policy");
      writeFileSync(pol, "ioctl allow\n");
      chmodSync(pol, 0o644);
      // control: on the host, the probe does type into its terminal
      assert.equal(onPty([join(root, "mprobe"), "tiocsti"]).output.trim(), "ok");
      const r = jexecOnPty(scope.o, ["--policy", pol, root, `sti-${who}`, "/mprobe", "tiocsti"], {}, "sysjail");
      assert.equal(r.output.trim(), "EPERM", r.output);
      const d = jexecOnPty(scope.o, [root, `sti-${who}`, "/mprobe", "tiocsti"], {}, "sysjail");
      assert.equal(d.output.trim(), "EPERM", "the default policy");
    });

    test("a background jail's command has /dev/null, never the caller's descriptors", () => {
      const jid = start(scope.o, root, `bg-${who}`, ["/mprobe", "sleep", "120"]);
      const procs = JSON.parse(run("sjls", ["-p", String(jid), "--json"], scope.o).stdout) as { hostPid: number; jailPid: number }[];
      const cmd = procs.find((p) => p.jailPid !== 1)!;
      for (const fd of [0, 1, 2]) assert.equal(readlinkSync(`/proc/${cmd.hostPid}/fd/${fd}`), "/dev/null");
    });
  });
}
