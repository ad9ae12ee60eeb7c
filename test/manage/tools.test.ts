// jls, sjls, jexec and jail -m against real jails, through the commands (node bin/TOOL.js).
import assert from "node:assert/strict";
import { openSync, closeSync, rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { makeRoot, requireBuilt, run, runAsync, Scope, sjlsEntry, start } from "./helpers.js";

describe("jls, sjls, jexec and jail -m on a running jail", () => {
  let scope: Scope;
  let root: string;
  let jid: number;
  let named: number;

  before(() => {
    requireBuilt();
    scope = new Scope();
    root = makeRoot();
    jid = start(scope.o, root, "tools.example", ["/mprobe", "sleep", "120"]);
    named = start(scope.o, root, "named.example", ["/mprobe", "sleep", "120"], ["-n", "web"]);
  });
  after(() => {
    scope?.cleanup();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test("jls: FreeBSD's header and rows, byte for byte", () => {
    const r = run("jls", [], scope.o);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.equal(lines[0], "   JID  IP Address      Hostname                      Path");
    const row = (id: number, h: string) => `${String(id).padStart(6)}  ${"".padEnd(15)} ${h.padEnd(29)} ${root}`;
    assert.ok(lines.includes(row(jid, "tools.example")), r.stdout);
    assert.ok(lines.includes(row(named, "named.example")), r.stdout);
    const n = run("jls", ["-N"], scope.o).stdout.split("\n");
    assert.equal(n[0], " JID             IP Address      Hostname                      Path");
    assert.ok(n.includes(` ${"web".padEnd(15)} ${"".padEnd(15)} ${"named.example".padEnd(29)} ${root}`), n.join("\n"));
  });

  test("jls parameters by jid and by name; -n, -q, -h; meta", () => {
    assert.equal(run("jls", ["-j", String(jid), "jid", "path", "host.hostname"], scope.o).stdout, `${jid} ${root} tools.example\n`);
    assert.equal(run("jls", ["-j", "web", "jid", "name"], scope.o).stdout, `${named} web\n`);
    assert.equal(run("jls", ["-n", "-j", "web", "host.hostname", "persist"], scope.o).stdout, "host.hostname=named.example nopersist\n");
    assert.equal(run("jls", ["-h", "-j", "web", "name", "ip4.addr"], scope.o).stdout, "name ip4.addr\nweb -\n");
    assert.equal(run("jls", ["-q", "-j", "web", "ip4.addr"], scope.o).stdout, '""\n');
    const v = run("jls", ["-v", "-j", "web"], scope.o).stdout.split("\n");
    assert.equal(v[3], `${String(named).padStart(6)}  ${"named.example".padEnd(29)} ${root}`);
    assert.equal(v[4], `        ${"web".padEnd(29)} ACTIVE`);
  });

  test("jls --json / --libxo json: FreeBSD's document", () => {
    for (const args of [["--json"], ["--libxo", "json"]]) {
      const r = run("jls", args, scope.o);
      const doc = JSON.parse(r.stdout) as { __version: string; "jail-information": { jail: Record<string, unknown>[] } };
      assert.equal(doc.__version, "2");
      const x = doc["jail-information"].jail.find((j) => j.jid === jid);
      assert.deepEqual(x, { jid, ipv4: "", hostname: "tools.example", path: root });
    }
  });

  test("a jail that does not exist: one line, exit 1; jls -c checks quietly", () => {
    const r = run("jls", ["-j", "nosuch"], scope.o);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'jls: jail "nosuch" not found\n');
    assert.equal(run("jls", ["-c", "-j", "nosuch"], scope.o).code, 1);
    const ok = run("jls", ["-c", "-j", "web"], scope.o);
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, "");
    const j = run("jexec", ["nosuch", "/mprobe", "hostname"], scope.o);
    assert.equal(j.code, 1);
    assert.equal(j.stderr, 'jexec: jail "nosuch" not found\n');
    const u = run("jls", ["-j", "web", "bogus"], scope.o);
    assert.equal(u.code, 1);
    assert.equal(u.stderr, "jls: unknown parameter: bogus\n");
  });

  test("sjls --json: registry and kernel data per jail", () => {
    const x = sjlsEntry(scope.o, jid)!;
    assert.ok(x, "jail listed");
    for (const k of ["jid", "name", "hostname", "path", "ip4", "ip6", "initPid", "owner", "startedAt", "command", "processes", "memoryBytes", "cpuSeconds", "policy", "limits"]) {
      assert.ok(k in x, k);
    }
    assert.equal(x.hostname, "tools.example");
    assert.equal(x.processes, 2); // the jail's init and its command
    assert.ok((x.memoryBytes as number) > 0);
    assert.deepEqual(x.command, ["/mprobe", "sleep", "120"]);
    assert.equal((x.policy as { noNewPrivs: boolean }).noNewPrivs, true);
    const t = run("sjls", [], scope.o).stdout;
    assert.match(t.split("\n")[0]!, /^\s+JID NAME\s+HOSTNAME\s+OWNER\s+PROCS\s+MEM\s+CPU\s+UPTIME COMMAND$/);
    assert.match(run("sjls", ["-v", "-j", "web"], scope.o).stdout, /hostname {4}named\.example[\s\S]*policy {6}no_new_privs, seccomp/);
  });

  test("sjls -p: host pid and jail pid side by side, with command lines", () => {
    const r = run("sjls", ["-p", String(jid)], scope.o);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/));
    assert.equal(rows.length, 2);
    assert.equal(rows[0]![1], "1");
    assert.equal(rows[1]![1], "2");
    assert.match(r.stdout, /\/mprobe sleep 120/);
    const x = sjlsEntry(scope.o, jid)!;
    assert.equal(Number(rows[0]![0]), x.initPid);
  });

  test("sjls --watch --count 1: one frame, sorted by CPU", () => {
    const r = run("sjls", ["--watch", "--count", "1", "-i", "0.2"], scope.o);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sjls - .* 2 jails, 4 processes/);
    assert.match(r.stdout, /%CPU/);
  });

  test("jexec: the jail's hostname, root, pid namespace and policy; no host descriptors", () => {
    assert.equal(run("jexec", [String(jid), "/mprobe", "hostname"], scope.o).stdout, "tools.example\n");
    assert.equal(run("jexec", ["web", "/mprobe", "hostname"], scope.o).stdout, "named.example\n");
    // ps-like: the jail's /proc shows its init, its command and the entered process only
    const pids = run("jexec", [String(jid), "/mprobe", "pids"], scope.o).stdout.trim().split(" ");
    assert.equal(pids.length, 3, pids.join(" "));
    assert.deepEqual(pids.slice(0, 2), ["1", "2"]);
    assert.equal(run("jexec", [String(jid), "/mprobe", "status", "NoNewPrivs"], scope.o).stdout, "1\n");
    assert.equal(run("jexec", [String(jid), "/mprobe", "status", "Seccomp"], scope.o).stdout, "2\n");
    // the jail's root: its /etc is the jail root's (empty) one, not the host's
    assert.equal(run("jexec", [String(jid), "/mprobe", "cat", "/etc/hostname"], scope.o).code, 1);
    // the map the jail was started with (its range, as recorded), never host root
    const recorded = run("sjls", ["--json"], scope.o).stdout;
    const base = (JSON.parse(recorded) as { jid: number; ids?: { uid: number } }[]).find((x) => x.jid === jid)?.ids?.uid;
    assert.ok(base !== undefined && base > 0, recorded);
    assert.equal(run("jexec", [String(jid), "/mprobe", "cat", "/proc/self/uid_map"], scope.o).stdout.trim().split(/\s+/).join(" "), `0 ${base} 65536`);
    const fd = openSync("/etc/hostname", "r");
    try {
      assert.equal(run("jexec", [String(jid), "/mprobe", "fds"], scope.o).stdout, "0 1 2\n");
    } finally {
      closeSync(fd);
    }
  });

  test("jexec: capabilities of an entered process are those of the jail's command", () => {
    const cmd = run("jexec", [String(jid), "/mprobe", "cat", "/proc/2/status"], scope.o).stdout;
    const own = run("jexec", [String(jid), "/mprobe", "cat", "/proc/self/status"], scope.o).stdout;
    for (const k of ["CapBnd", "CapEff", "CapPrm", "NoNewPrivs", "Seccomp", "Uid", "Gid"]) {
      assert.equal(own.match(new RegExp(`^${k}:.*$`, "m"))?.[0], cmd.match(new RegExp(`^${k}:.*$`, "m"))?.[0], k);
    }
  });

  test("jexec: exit status, 128+signal, -d, -e, -l, unknown users and commands", () => {
    assert.equal(run("jexec", [String(jid), "/mprobe", "exit", "7"], scope.o).code, 7);
    assert.equal(run("jexec", [String(jid), "/mprobe", "kill-self", "9"], scope.o).code, 137);
    assert.equal(run("jexec", ["-d", "/tmp", String(jid), "/mprobe", "cwd"], scope.o).stdout, "/tmp\n");
    assert.equal(run("jexec", [String(jid), "/mprobe", "cwd"], scope.o).stdout, "/\n");
    assert.equal(run("jexec", ["-e", "FOO=bar", String(jid), "/mprobe", "env", "FOO"], scope.o).stdout, "bar\n");
    const clean = run("jexec", ["-l", String(jid), "/mprobe", "env", "SYSJAIL_STATE_DIR"], scope.o);
    assert.equal(clean.stdout, "(unset)\n", clean.stderr);
    assert.equal(run("jexec", ["-l", String(jid), "/mprobe", "env", "USER"], scope.o).stdout, "root\n");
    assert.equal(run("jexec", [String(jid), "/mprobe", "ids"], scope.o).stdout, "0 0\n");
    const nf = run("jexec", [String(jid), "/nonexistent"], scope.o);
    assert.equal(nf.code, 127);
    assert.match(nf.stderr, /^jexec: \/nonexistent: command not found/);
    const nu = run("jexec", ["-U", "nosuchuser", String(jid), "/mprobe", "ids"], scope.o);
    assert.equal(nu.code, 67);
    assert.equal(nu.stderr.split("\n").length, 2);
  });

  test("jail -m host.hostname: visible inside at once, recorded, and other parameters refused", () => {
    const r = run("jail", ["-m", String(jid), "host.hostname=renamed.example"], scope.o);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(run("jexec", [String(jid), "/mprobe", "hostname"], scope.o).stdout, "renamed.example\n");
    assert.equal(run("jls", ["-j", String(jid), "host.hostname"], scope.o).stdout, "renamed.example\n");
    assert.equal(run("jail", ["-m", "name=web", "host.hostname=web2.example"], scope.o).code, 0);
    assert.equal(run("jexec", ["web", "/mprobe", "hostname"], scope.o).stdout, "web2.example\n");
    const p = run("jail", ["-m", String(jid), "path=/tmp"], scope.o);
    assert.equal(p.code, 64);
    assert.match(p.stderr, /path cannot be changed after creation/);
    assert.equal(run("jail", ["-m", "nosuch", "host.hostname=x"], scope.o).stderr, 'jail: "nosuch" not found\n');
    assert.notEqual(run("jail", ["-m", String(jid), "host.hostname=bad name"], scope.o).code, 0);
  });

  test("concurrent jail -m on one jail lose no change", async () => {
    const n = 12;
    const rs = await Promise.all(Array.from({ length: n }, (_, i) => runAsync("jail", ["-m", "web", `meta.k${i}=v${i}`], { ...scope.o, timeoutMs: 120000 })));
    for (const r of rs) assert.equal(r.code, 0, r.stderr);
    const meta = run("jls", ["-j", "web", "meta"], scope.o).stdout.trim().split("\n").sort();
    assert.deepEqual(meta, Array.from({ length: n }, (_, i) => `k${i}=v${i}`).sort());
    assert.equal(run("jls", ["-j", "web", "meta.k3"], scope.o).stdout, "v3\n");
  });
});
