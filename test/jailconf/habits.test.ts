// FreeBSD habits (issue 19): the default configuration files without -f, meta and env as free
// strings, jail -m persist/nopersist, a /proc for Linux's ps without mount.procfs, hierarchical
// jails (children.max) and their limit, man pages and the boot units. Real jails, as root.
import { before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { makeRoot, okRun, requireBuilt, ROOT, scope, show, type Scope } from "./helpers.js";
import { makeNobody, runAsNobody } from "../helpers/nobody.js";

before(requireBuilt);

const ok = (s: Scope, args: string[], env: Record<string, string> = {}): string => okRun(s, "jail", args, env);
const jls = (s: Scope, ...args: string[]): string => okRun(s, "jls", args);

test("without -f: /etc/jail.conf, then /etc/jail.conf.d/*.conf in name order (a private etc)", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const etc = join(s.base, "etc");
  s.file("etc/jail.conf", `main { path = "${root}"; host.hostname = "main.example"; persist; }\n`);
  s.file("etc/jail.conf.d/a.conf", `$base = "${root}";\n`);
  s.file("etc/jail.conf.d/b.conf", `fromd { path = "$base"; persist; }\n`);
  s.file("etc/jail.conf.d/skip.txt", "not a configuration {");
  // sysjail's own file, read last, including the .d files again (as older docs advised): no jail twice
  s.file("etc/sysjail/jail.conf", `.include "${etc}/jail.conf.d/*.conf";\n`);
  const env = { SYSJAIL_CONF_ETC: etc };
  assert.match(ok(s, ["-c", "main"], env), /^main: created$/m);
  assert.match(ok(s, ["-c", "fromd"], env), /^fromd: created$/m);
  assert.equal(jls(s, "-j", "main", "host.hostname"), "main.example\n");
  assert.match(ok(s, ["-r", "main", "fromd"], env), /^fromd: removed$/m);
  // nothing there: one line naming the files, exit 64, nothing made
  const none = s.run("jail", ["-c", "x"], { SYSJAIL_CONF_ETC: join(s.base, "empty") });
  assert.equal(none.code, 64, show(none));
  assert.match(none.stderr, /^jail: .*empty\/jail\.conf, .*empty\/jail\.conf\.d\/\*\.conf, .*: no such file \(give parameters, or -f conf_file\)\n$/);
  assert.deepEqual(s.leftovers(), []);
});

test("meta and env are free strings; meta.KEY sets one line; jail -m keeps every change", (t) => {
  const s = scope(t);
  ok(s, ["-c", "name=km", "path=/", "persist", "meta=one two", "env=E=1"]);
  assert.equal(jls(s, "-j", "km", "meta"), "one two\n");
  assert.equal(jls(s, "-j", "km", "env"), "E=1\n");
  ok(s, ["-m", "km", "meta.colour=blue"]);
  assert.equal(jls(s, "-j", "km", "meta.colour"), "blue\n");
  assert.equal(jls(s, "-j", "km", "meta"), "colour=blue\none two\n");
  // meta.KEY without a value: FreeBSD's jail(8) sets the key empty
  assert.match(ok(s, ["-m", "km", "meta.colour"]), /^km: updated$/m);
  assert.equal(jls(s, "-j", "km", "meta.colour"), "\n");
  assert.equal(jls(s, "-n", "-j", "km", "meta.colour"), 'meta.colour=""\n');
  assert.equal(jls(s, "-j", "km", "meta.missing"), "\n");
  ok(s, ["-m", "km", "env.X=2"]);
  assert.equal(jls(s, "-j", "km", "env"), "X=2\nE=1\n");
  assert.equal(jls(s, "-j", "km", "meta"), "colour=\none two\n");
});

test("jail -m nopersist removes a jail without processes; persist keeps one", (t) => {
  const s = scope(t);
  ok(s, ["-c", "name=kn", "path=/", "persist"]);
  ok(s, ["-m", "kn", "persist"]);
  assert.equal(s.run("jls", ["-c", "-j", "kn"]).code, 0);
  assert.match(ok(s, ["-m", "kn", "nopersist"]), /^kn: updated$/m);
  assert.equal(s.run("jls", ["-c", "-j", "kn"]).code, 1, "an empty jail set nopersist is gone");
  const bad = s.run("jail", ["-m", "nosuch", "nopersist"]);
  assert.equal(bad.code, 1, show(bad));
  ok(s, ["-c", "name=kf", "path=/", "persist"]);
  const fixed = s.run("jail", ["-m", "kf", "path=/tmp"]);
  assert.equal(fixed.code, 64, show(fixed));
  assert.equal(fixed.stderr, "jail: kf: path cannot be changed after creation\n");
});

test("as uid 65534: the default configuration, meta strings and jail -m nopersist", (t) => {
  const s = scope(t);
  const nobody = makeNobody();
  const tool = (name: string, ...args: string[]) => runAsNobody(nobody, process.execPath, [join(ROOT, "bin", `${name}.js`), ...args]);
  t.after(() => {
    tool("jail", "-R", "*");
    nobody.remove();
  });
  const etc = join(s.base, "etc");
  s.file("etc/jail.conf.d/u.conf", `knu { path = "/"; persist; meta = "a b"; }\n`);
  const env = (args: string[]) => runAsNobody(nobody, "env", [`SYSJAIL_CONF_ETC=${etc}`, process.execPath, join(ROOT, "bin", "jail.js"), ...args]);
  const c = env(["-c", "knu"]);
  assert.equal(c.status, 0, `${c.stdout}${c.stderr}`);
  assert.match(c.stdout, /^knu: created$/m);
  assert.equal(tool("jls", "-j", "knu", "meta").stdout, "a b\n");
  assert.equal(tool("jail", "-m", "knu", "meta.k=v").status, 0);
  assert.equal(tool("jls", "-j", "knu", "meta.k").stdout, "v\n");
  const m = tool("jail", "-m", "knu", "nopersist");
  assert.equal(m.status, 0, `${m.stdout}${m.stderr}`);
  assert.equal(tool("jls", "-c", "-j", "knu").status, 1, "an empty jail set nopersist is gone");
});

test("a jail.conf jail has a /proc of its own processes without mount.procfs; mount.noprocfs has none", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  ok(s, ["-c", "name=kps", `path=${root}`, "persist"]);
  const ls = s.run("jexec", ["kps", "/bin/sh", "-c", "echo /proc/[0-9]*"]);
  assert.match(ls.stdout, /(^| )\/proc\/1( |$)/m, show(ls));
  const other = makeRoot(s.base, "r2");
  ok(s, ["-c", "name=knp", `path=${other}`, "persist", "mount.noprocfs"]);
  const none = s.run("jexec", ["knp", "/bin/sh", "-c", "echo /proc/[0-9]*"]);
  assert.equal(none.stdout, "/proc/[0-9]*\n", show(none));
});

/** Runs a tool inside jail J (the host's tree: path=/) with the registry jail(8) has there. */
function inside(s: Scope, j: string, tool: string, ...args: string[]) {
  return s.run("jexec", [j, "/usr/bin/env", "-u", "SYSJAIL_STATE_DIR", process.execPath, join(ROOT, "bin", `${tool}.js`), ...args]);
}

/** A scope whose state directory is under /run: a path=/ jail's root is attached at /tmp while it
 * is built, so a child registry under /tmp could not be bound into it. */
function runScope(t: TestContext): Scope {
  const s = scope(t);
  const state = mkdtempSync("/run/sysjail-test-nest-");
  (s as { state: string }).state = state;
  t.after(() => {
    s.run("jail", ["-R", "*"]);
    rmSync(state, { recursive: true, force: true });
    rmSync(`${state}.nest`, { recursive: true, force: true });
  });
  return s;
}

test("hierarchical jails: children.max, PARENT.CHILD on the host, the kernel's limit, children removed first", (t) => {
  const s = runScope(t);
  // a path=/ parent keeps its children's registry at /run/sysjail (made by root's sysjail anyway)
  if (!existsSync("/run/sysjail")) mkdirSync("/run/sysjail", { mode: 0o700 });
  ok(s, ["-c", "name=kp", "path=/", "persist", "children.max=1"]);
  const c = inside(s, "kp", "jail", "-c", "name=kc", "path=/", "persist");
  assert.equal(c.code, 0, show(c));
  assert.match(c.stdout, /^kc: created$/m);
  assert.equal(jls(s, "-j", "kp.kc", "name"), "kp.kc\n");
  assert.equal(jls(s, "-j", "kp", "children.max", "children.cur"), "1 1\n");
  assert.equal(inside(s, "kp", "jls", "-j", "kc", "name").stdout, "kc\n");
  const view = inside(s, "kp", "jls", "-N");
  assert.match(view.stdout, /\bkc\b/, show(view));
  assert.doesNotMatch(view.stdout, /\bkp\b/, "a parent's view does not list itself");
  assert.equal(inside(s, "kp", "jls", "-j", "kp", "name").code, 1, "nothing above the jail is visible");
  // the child runs in its own namespaces, entered from the host by its dotted name
  const childNs = s.run("jexec", ["kp.kc", "/usr/bin/readlink", "/proc/self/ns/pid"]);
  const parentNs = s.run("jexec", ["kp", "/usr/bin/readlink", "/proc/self/ns/pid"]);
  assert.match(childNs.stdout, /^pid:\[\d+\]\n$/, show(childNs));
  assert.notEqual(childNs.stdout, parentNs.stdout);
  // the kernel refuses one more child than children.max, with FreeBSD's words
  const more = inside(s, "kp", "jail", "-c", "name=kd", "path=/", "persist");
  assert.equal(more.code, 1, show(more));
  assert.match(more.stderr, /^jail: kd: prison limit exceeded$/m);
  assert.match(ok(s, ["-r", "kp"]), /^kp: removed$/m);
  assert.equal(s.run("jls", ["-c", "-j", "kp.kc"]).code, 1, "removing the parent removed its child");
  assert.deepEqual(readdirSync(`${s.state}.nest`), [], "the child registry went with the parent");
});

test("a jail without children.max makes no child: FreeBSD's error, exit 1", (t) => {
  const s = runScope(t);
  ok(s, ["-c", "name=kn", "path=/", "persist"]);
  const r = inside(s, "kn", "jail", "-c", "name=kx", "path=/", "persist");
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /^jail: kx: prison limit exceeded$/m);
  // the policy still refuses a user namespace there
  const u = s.run("jexec", ["kn", "/usr/bin/unshare", "-U", "/bin/true"]);
  assert.notEqual(u.code, 0, show(u));
});

test("man pages: listed in package.json, rendered without warnings; --help names them", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { man: string[]; files: string[] };
  const want = ["sysjail.1", "jail.8", "jls.8", "jexec.8", "jail.conf.5", "sjls.1", "mkjail.1", "sysjail.3"];
  assert.deepEqual(pkg.man.map((p) => p.replace(/^man\//, "")).sort(), [...want].sort());
  assert.ok(pkg.files.includes("man") && pkg.files.includes("systemd"));
  const man = spawnSync("man", ["--version"], { encoding: "utf8" });
  for (const p of pkg.man) {
    assert.ok(existsSync(join(ROOT, p)), p);
    if (man.status !== 0) continue; // no man(1) here: the listing above still holds
    const r = spawnSync("man", ["--warnings", "-l", join(ROOT, p)], { encoding: "utf8", env: { ...process.env, LC_ALL: "C.UTF-8", MANWIDTH: "80" } });
    assert.equal(r.stderr, "", `${p}: ${r.stderr}`);
  }
  const pages: Record<string, string> = { jail: "jail(8)", jls: "jls(8)", jexec: "jexec(8)", sjls: "sjls(1)", sysjail: "sysjail(1)", mkjail: "mkjail(1)" };
  for (const [tool, page] of Object.entries(pages)) {
    const r = spawnSync(process.execPath, [join(ROOT, "bin", `${tool}.js`), tool === "jail" ? "-h" : "--help"], { encoding: "utf8" });
    assert.ok(r.stdout.includes(page), `${tool} --help names ${page}: ${r.stdout}${r.stderr}`);
  }
});

test("a failing hook says why: its command, its exit status and the last line of its stderr", (t) => {
  const s = scope(t);
  const conf = s.file("k.conf", 'kstop {\n  path = "/";\n  persist;\n  exec.prestop = "echo host-side >&2; exit 4";\n  exec.stop = "echo cannot-stop >&2; exit 3";\n}\n');
  ok(s, ["-f", conf, "-c", "kstop"]);
  const r = s.run("jail", ["-f", conf, "-r", "kstop"]);
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /^jail: kstop: echo host-side >&2; exit 4: failed: exit status 4: host-side$/m);
  assert.equal(s.run("jail", ["-R", "kstop"]).code, 0);
  const c = s.file("s.conf", 'kst {\n  path = "/";\n  persist;\n  exec.start = "printf \'first\\\\nlast\\\\033]0;x\\\\007\' >&2; exit 5";\n}\n');
  const f = s.run("jail", ["-f", c, "-c", "kst"]);
  assert.equal(f.code, 1, show(f));
  // the jail's text is escaped: no control character reaches the terminal
  assert.match(f.stderr, /jail: kst: .*: failed: exit status 5: last\\033\]0;x\\007$/m, show(f));
});

test("boot units: the configuration's jails at boot (jail -c) and at shutdown (jail -r); one jail per template", () => {
  const all = readFileSync(join(ROOT, "systemd", "sysjail.service"), "utf8");
  assert.match(all, /^After=network-online\.target/m);
  assert.match(all, /^ExecStart=jail -c \$JAIL_LIST$/m);
  assert.match(all, /^ExecStop=.*jail -r /m);
  const one = readFileSync(join(ROOT, "systemd", "sysjail@.service"), "utf8");
  assert.match(one, /^ExecStart=jail -c %i$/m);
  assert.match(one, /^ExecStop=jail -r %i$/m);
  const verify = spawnSync("systemd-analyze", ["verify", "--man=no", join(ROOT, "systemd", "sysjail.service")], { encoding: "utf8" });
  if (verify.status !== null && verify.error === undefined) {
    // only the command's absence from this machine's PATH may be reported (the package is not installed)
    for (const l of verify.stderr.split("\n").filter(Boolean)) assert.match(l, /Command jail is not executable|not found/, l);
  }
});
