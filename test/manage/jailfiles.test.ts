// Issue 17 item 3: the host side reads a jail's /etc/passwd and /etc/group inside the jail's root
// (src/host/jailfile.ts): a symlink to a host file leaks nothing, a FIFO hangs nothing (jexec,
// jail -r), a directory, a huge file or a malformed line is refused with one clear line, as root
// and as 65534.
import assert from "node:assert/strict";
import { chmodSync, chownSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { makeRoot, nobodyRuntimeDir, requireBuilt, run, Scope, start, tempDir, type RunOptions } from "./helpers.js";

const SECRET_HOME = "/HOST-SECRET-HOME";

/** Replaces the jail's /etc/passwd (as the jail's root would) by what MAKE puts at the path. */
function plant(root: string, make: (p: string) => void, owner?: number): void {
  const p = join(root, "etc", "passwd");
  rmSync(p, { recursive: true, force: true });
  make(p);
  if (owner !== undefined) {
    try { execFileSync("chown", ["-h", `${owner}:${owner}`, p]); } catch { /* a FIFO or dir: chown follows nothing */ }
  }
}

/** One line on stderr, no stack trace, no raw control character. */
function oneLine(stderr: string): void {
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at |\x1b/, stderr);
}

for (const who of ["root", "nobody"] as const) {
  describe(`the jail's passwd and group are read inside the jail (${who})`, () => {
    let scope: Scope;
    let xdg: string | undefined;
    let root: string;
    let hostDir: string;
    let secret: string;
    let jid: number;
    let o: RunOptions;
    const owner = who === "nobody" ? 65534 : undefined;

    before(() => {
      requireBuilt();
      if (who === "nobody") {
        xdg = nobodyRuntimeDir();
      }
      scope = new Scope(xdg);
      o = scope.o;
      root = makeRoot(owner);
      if (owner !== undefined) for (const d of ["etc", "tmp"]) chownSync(join(root, d), owner, owner);
      // a host file the caller may read: what a plain open through the jail's symlink would find
      hostDir = tempDir("sysjail-mhost-");
      secret = join(hostDir, "passwd");
      writeFileSync(secret, `root:x:0:0::${SECRET_HOME}:/mprobe\n`);
      chmodSync(secret, who === "root" ? 0o600 : 0o644);
      jid = start(o, root, "files.example", ["/mprobe", "sleep", "120"]);
    });
    after(() => {
      scope?.cleanup();
      for (const d of [root, hostDir, xdg]) if (d) rmSync(d, { recursive: true, force: true });
    });

    test("control: a regular passwd gives -U its user, HOME and SHELL; -l starts in the home", () => {
      plant(root, (p) => writeFileSync(p, "root:x:0:0::/root:/bin/sh\n"), owner);
      mkdirSync(join(root, "root"), { recursive: true });
      if (owner !== undefined) chownSync(join(root, "root"), owner, owner);
      const r = run("jexec", ["-l", "-U", "root", String(jid), "/mprobe", "env", "HOME"], o);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "/root\n");
      assert.equal(run("jexec", ["-l", String(jid), "/mprobe", "cwd"], o).stdout, "/root\n");
      rmSync(join(root, "root"), { recursive: true, force: true });
    });

    test("a symlink to a host file: jexec -l gets jail root's defaults, -U refuses; nothing of the host file", () => {
      plant(root, (p) => symlinkSync(secret, p), owner);
      const l = run("jexec", ["-l", String(jid), "/mprobe", "env", "HOME"], o);
      assert.equal(l.code, 0, l.stderr);
      assert.equal(l.stdout, "/root\n");
      const u = run("jexec", ["-U", "root", String(jid), "/mprobe", "env", "HOME"], o);
      assert.equal(u.code, 67, u.stdout + u.stderr);
      assert.equal(u.stdout, "");
      assert.match(u.stderr, /the jail's \/etc\/passwd is a symbolic link/);
      oneLine(u.stderr);
      assert.doesNotMatch(l.stdout + u.stderr, /HOST-SECRET/);
      // the host's own database is still there for -u
      const h = run("jexec", ["-u", "root", String(jid), "/mprobe", "ids"], o);
      assert.equal(h.code, 0, h.stderr);
      assert.equal(h.stdout, "0 0\n");
    });

    test("a symlink at /etc leads inside the jail, not to the host's directory", () => {
      rmSync(join(root, "etc"), { recursive: true, force: true });
      symlinkSync(hostDir, join(root, "etc"));
      try {
        const l = run("jexec", ["-l", String(jid), "/mprobe", "env", "HOME"], o);
        assert.equal(l.code, 0, l.stderr);
        assert.equal(l.stdout, "/root\n");
        const u = run("jexec", ["-U", "root", String(jid), "/mprobe", "env", "HOME"], o);
        assert.equal(u.code, 67, u.stdout + u.stderr);
        assert.doesNotMatch(u.stdout + u.stderr, /HOST-SECRET/);
        oneLine(u.stderr);
      } finally {
        rmSync(join(root, "etc"), { force: true });
        mkdirSync(join(root, "etc"));
        if (owner !== undefined) chownSync(join(root, "etc"), owner, owner);
      }
    });

    test("a FIFO: jexec neither hangs nor reads it; -U refuses it", () => {
      plant(root, (p) => execFileSync("mkfifo", [p]), owner);
      const r = run("jexec", [String(jid), "/mprobe", "ids"], { ...o, timeoutMs: 30000 });
      assert.equal(r.signal, null, "jexec hung on a FIFO");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "0 0\n");
      const u = run("jexec", ["-U", "root", String(jid), "/mprobe", "ids"], { ...o, timeoutMs: 30000 });
      assert.equal(u.code, 67, u.stdout + u.stderr);
      assert.match(u.stderr, /is a FIFO/);
      oneLine(u.stderr);
    });

    test("a directory, a file over 1 MiB, malformed entries: refused with one clear line", () => {
      const cases: [(p: string) => void, RegExp][] = [
        [(p) => mkdirSync(p), /is a directory/],
        [(p) => writeFileSync(p, `root:x:0:0::/root:/bin/sh\n${"#".repeat(1 << 20)}\n`), /is larger than 1048576 bytes/],
        [(p) => writeFileSync(p, "root:x:70000:0::/root:/bin/sh\n"), /uid '70000'/],
        [(p) => writeFileSync(p, "root:x:zero:0::/root:/bin/sh\n"), /uid 'zero'/],
        [(p) => writeFileSync(p, "root:x:0:0::/r\x1b]0;title\x07:/bin/sh\n"), /home directory that is not an absolute path without control characters/],
        [(p) => writeFileSync(p, "root:x:0:0::/root\n"), /6 fields where passwd\(5\) has 7/],
        [(p) => writeFileSync(p, `root:x:0:0::/${"r".repeat(2000)}:/bin/sh\n`), /longer than 1024/],
      ];
      for (const [make, want] of cases) {
        plant(root, make, owner);
        const u = run("jexec", ["-U", "root", String(jid), "/mprobe", "ids"], o);
        assert.equal(u.code, 67, `${want}: ${u.stdout}${u.stderr}`);
        assert.equal(u.stdout, "");
        assert.match(u.stderr, want);
        oneLine(u.stderr);
        // jail root is still entered, with the built-in defaults
        const d = run("jexec", ["-l", String(jid), "/mprobe", "env", "HOME"], o);
        assert.equal(d.stdout, "/root\n", `${want}: ${d.stderr}`);
      }
      plant(root, (p) => writeFileSync(p, "root:x:0:0::/root:/bin/sh\njoe:x:0:0::/home/joe:/bin/sh\n"), owner);
      const g = join(root, "etc", "group");
      writeFileSync(g, "wheel:x:abc:joe\n");
      const u = run("jexec", ["-U", "joe", String(jid), "/mprobe", "ids"], o);
      assert.equal(u.code, 67, u.stderr);
      assert.match(u.stderr, /\/etc\/group entry 'wheel' listing 'joe' is malformed/);
      rmSync(g);
    });

    test("sysjail -U and -l read the jail's passwd inside its root too", () => {
      plant(root, (p) => symlinkSync(secret, p), owner);
      const s = run("sysjail", ["-l", "-U", "root", root, "files-u.example", "/mprobe", "env", "HOME"], o);
      assert.equal(s.code, 67, s.stdout + s.stderr);
      assert.match(s.stderr, /is a symbolic link/);
      oneLine(s.stderr);
      plant(root, (p) => execFileSync("mkfifo", [p]), owner);
      const f = run("sysjail", ["-U", "root", root, "files-u.example", "/mprobe", "ids"], { ...o, timeoutMs: 30000 });
      assert.equal(f.signal, null, "sysjail hung on a FIFO");
      assert.equal(f.code, 67, f.stdout + f.stderr);
      assert.match(f.stderr, /is a FIFO/);
    });

    test("jail -r removes a jail whose passwd is a FIFO", () => {
      plant(root, (p) => execFileSync("mkfifo", [p]), owner);
      const j2 = start(o, root, "fifo.example", ["/mprobe", "sleep", "120"]);
      const r = run("jail", ["-r", String(j2)], { ...o, timeoutMs: 30000 });
      assert.equal(r.signal, null, "jail -r hung on a FIFO");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(run("jls", ["-j", String(j2)], o).code, 1);
      rmSync(join(root, "etc", "passwd"), { force: true });
    });
  });
}
