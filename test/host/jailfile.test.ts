// readJailFiles (src/host/jailfile.ts, the helper's read-in-root): every path stays inside the
// jail's root, nothing but a small regular file is read, and a process root is pinned.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isJailDir, readJailFile, readJailFiles } from "../../src/host/jailfile.js";
import { processStart } from "../../src/registry/store.js";

describe("readJailFiles", () => {
  let dir: string;
  let root: string;
  let outside: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sysjail-jailfile-"));
    root = join(dir, "root");
    outside = join(dir, "outside");
    mkdirSync(join(root, "etc"), { recursive: true });
    mkdirSync(join(root, "inner"));
    writeFileSync(outside, "HOST\n");
    writeFileSync(join(root, "etc", "passwd"), "root:x:0:0::/root:/bin/sh\n");
    writeFileSync(join(root, "outside"), "JAIL\n");
    symlinkSync(outside, join(root, "etc", "abs-link"));
    symlinkSync("../../../../outside", join(root, "etc", "rel-link"));
    symlinkSync("/", join(root, "up"));
    symlinkSync("/proc/self/root", join(root, "magic"));
    execFileSync("mkfifo", [join(root, "etc", "fifo")]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a regular file is read whole; several in one run", () => {
    const [a, b] = readJailFiles({ dir: root }, ["/etc/passwd", "outside"], 1024);
    assert.deepEqual(a, { ok: true, data: Buffer.from("root:x:0:0::/root:/bin/sh\n") });
    assert.equal(b?.ok && b.data.toString(), "JAIL\n");
  });

  test("'..' and absolute symlinks in the middle resolve inside the root", () => {
    for (const p of ["../../../../outside", "/up/outside", "up/../../outside", "inner/../../outside"]) {
      const f = readJailFile({ dir: root }, p, 1024);
      assert.equal(f.ok && f.data.toString(), "JAIL\n", p);
    }
  });

  test("a symlink at the end is never followed; magic links lead nowhere", () => {
    for (const p of ["etc/abs-link", "etc/rel-link"]) assert.deepEqual(readJailFile({ dir: root }, p, 1024), { ok: false, code: "ELOOP", reason: "is a symbolic link" });
    const m = readJailFile({ dir: root }, "magic/etc/passwd", 1024);
    assert.equal(m.ok, false, "the jail's /proc/self/root is no way out");
  });

  test("a FIFO, a directory, a socket, a missing file, a file over the cap", async () => {
    const sock = join(root, "sock");
    const srv = createServer().listen(sock);
    await new Promise((r) => srv.once("listening", r));
    try {
      const [fifo, d, s, none, big] = readJailFiles({ dir: root }, ["etc/fifo", "etc", "sock", "etc/none", "etc/passwd"], 10);
      assert.deepEqual(fifo, { ok: false, code: "ENOTREG", reason: "is a FIFO" });
      assert.deepEqual(d, { ok: false, code: "EISDIR", reason: "is a directory" });
      assert.deepEqual(s, { ok: false, code: "ENOTREG", reason: "is a socket" });
      assert.deepEqual(none, { ok: false, code: "ENOENT", reason: "ENOENT" });
      assert.deepEqual(big, { ok: false, code: "ETOOBIG", reason: "is larger than 10 bytes" });
    } finally {
      srv.close();
    }
    assert.equal(isJailDir({ dir: root }, "/inner"), true);
    assert.equal(isJailDir({ dir: root }, "/up"), false);
    assert.equal(isJailDir({ dir: root }, "/etc/passwd"), false);
  });

  test("a process root: read through /proc/PID/root, refused for another start time", async () => {
    const child = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      await new Promise((r) => child.once("spawn", r));
      const pid = child.pid!;
      const start = processStart(pid)!;
      const f = readJailFile({ pid, start }, join(root, "etc", "passwd"), 1024);
      assert.equal(f.ok && f.data.toString(), "root:x:0:0::/root:/bin/sh\n");
      assert.deepEqual(readJailFile({ pid, start: start + 1 }, "/etc/passwd", 1024), { ok: false, code: "ESRCH", reason: "the jail's process is gone" });
    } finally {
      child.kill("SIGKILL");
    }
  });
});
