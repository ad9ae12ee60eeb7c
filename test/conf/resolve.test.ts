// Tests: Per-jail evaluation: statement order, wildcards, variables, booleans, types, meta/env, command-line overrides.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hasJail, parseJailConf, parseParamArgs, resolveJail, resolveParams } from "../../src/conf/index.js";
import { throwsConf } from "./helpers.js";

const conf = (text: string) => parseJailConf(text, "j.conf");
const params = (text: string, name: string, cli: string[] = []) => resolveJail(conf(text), name, parseParamArgs(cli)).params;

test("earlier wildcards give defaults, the jail overrides, later wildcards force", () => {
  const text = `
    path = /early; host.hostname = early;
    web { path = /own; host.hostname = own; securelevel = 1; }
    * { host.hostname = forced; }
    other { persist; }
  `;
  assert.deepEqual(params(text, "web"), { name: "web", path: "/own", "host.hostname": "forced", securelevel: "1" });
  assert.deepEqual(params(text, "other"), { name: "other", path: "/early", "host.hostname": "forced", persist: true });
});

test("statements outside blocks after a jail also force values (they form a later * block)", () => {
  assert.deepEqual(params("web { path = /a; }\npath = /b;", "web"), { name: "web", path: "/b" });
});

test("partial wildcards apply to matching hierarchical names only", () => {
  const text = "foo.* { persist; }\nfoo.bar { path = /x; }\nbaz { path = /y; }";
  assert.deepEqual(params(text, "foo.bar"), { name: "foo.bar", path: "/x", persist: true });
  assert.deepEqual(params(text, "baz"), { name: "baz", path: "/y" });
});

test("variables expand per jail, from parameters and $variables, final values win", () => {
  const text = `
    $parentdir = "/var/jail";
    path = "$parentdir/$name";
    host.hostname = "\${name}.example.com";
    mount.fstab = "/etc/fstab.\${host.hostname}";
    a { }
    b { $parentdir = /srv; }
    c { host.hostname = other; exec.start = 'echo $name'; }
  `;
  assert.deepEqual(params(text, "a"), { path: "/var/jail/a", "host.hostname": "a.example.com", "mount.fstab": ["/etc/fstab.a.example.com"], name: "a" });
  assert.equal(params(text, "b").path, "/srv/b");
  assert.deepEqual(params(text, "c")["mount.fstab"], ["/etc/fstab.other"]);
  assert.deepEqual(params(text, "c")["exec.start"], ["echo $name"]);
});

test("a list variable substitutes as a whole value, not inside a string", () => {
  const text = "$ips = 10.0.0.1, 10.0.0.2;\na { ip4.addr = $ips, 10.0.0.3; }\nb { exec.start = \"ping $ips\"; }";
  assert.deepEqual(params(text, "a")["ip4.addr"], ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
  throwsConf(() => params(text, "b"), "j.conf:3:24: 'ips' has several values and cannot be substituted inside a string near '$ips'");
});

test("+= appends to lists; = replaces", () => {
  const text = "ip4.addr = 10.1.1.1;\nw { ip4.addr += 10.1.1.2; ip4.addr += 10.1.1.3; mount = a; mount = b; }";
  assert.deepEqual(params(text, "w")["ip4.addr"], ["10.1.1.1", "10.1.1.2", "10.1.1.3"]);
  assert.deepEqual(params(text, "w").mount, ["b"]);
});

test("booleans: valueless, no-prefix, true/false, numbers", () => {
  const text = `
    a { persist; mount.devfs; allow.raw_sockets; }
    b { nopersist; mount.nodevfs; allow.noraw_sockets; }
    c { persist = false; mount.devfs = TRUE; allow.raw_sockets = 0; exec.clean = 1; }
    d { persist; nopersist; allow.nochflags = false; }
  `;
  assert.deepEqual(params(text, "a"), { name: "a", persist: true, "mount.devfs": true, "allow.raw_sockets": true });
  assert.deepEqual(params(text, "b"), { name: "b", persist: false, "mount.devfs": false, "allow.raw_sockets": false });
  assert.deepEqual(params(text, "c"), { name: "c", persist: false, "mount.devfs": true, "allow.raw_sockets": false, "exec.clean": true });
  assert.deepEqual(params(text, "d"), { name: "d", persist: false, "allow.chflags": true });
  assert.deepEqual(params("v { vnet = new; } w { vnet; } x { vnet = inherit; }", "v").vnet, true);
  assert.deepEqual(params("w { vnet; }", "w").vnet, true);
  assert.deepEqual(params("x { vnet = inherit; }", "x").vnet, false);
});

test("jid-named blocks and lookup by jid", () => {
  const text = "5 { path = /five; }\nweb { jid = 7; path = /web; }\n* { host.hostname = \"h$jid\"; }";
  assert.deepEqual(params(text, "5"), { jid: "5", path: "/five", "host.hostname": "h5" });
  const r = resolveJail(conf(text), "7");
  assert.equal(r.name, "web");
  assert.equal(r.params["host.hostname"], "h7");
  assert.equal(hasJail(conf(text), "7"), true);
  assert.equal(hasJail(conf(text), "web"), true);
  assert.equal(hasJail(conf(text), "nope"), false);
  throwsConf(() => resolveJail(conf(text), "nope"), "j.conf: jail 'nope' is not defined");
  throwsConf(() => resolveJail(conf(text), "*"), "j.conf: jail '*' is not defined");
});

test("the jail's name parameter cannot be redefined; a jid block may set a name", () => {
  throwsConf(() => params("web { name = other; }", "web"), "j.conf:1:7: cannot redefine parameter 'name' (set by the jail's name) near 'name'");
  throwsConf(() => params("* { name = x; }\nweb {}", "web"), "j.conf:1:5: cannot redefine parameter 'name' (set by the jail's name) near 'name'");
  assert.deepEqual(params("9 { name = nine; }", "9"), { jid: "9", name: "nine" });
  assert.deepEqual(params("web { persist; }", "web", ["name=web"]), { name: "web", persist: true });
});

test("variable errors: undefined, loops, valueless, clashing with parameters", () => {
  throwsConf(() => params('w { path = "/j/$nosuch"; }', "w"), "j.conf:1:16: variable 'nosuch' is not defined near '$nosuch'");
  throwsConf(() => params("w { $a = $b; $b = \"x${a}\"; }", "w"), "j.conf:1:21: variable loop: 'a' depends on itself near '${a}'");
  throwsConf(() => params("w { path = $path; }", "w"), "j.conf:1:12: variable loop: 'path' depends on itself near '$path'");
  throwsConf(() => params("w { persist; path = $persist; }", "w"), "j.conf:1:21: variable 'persist' has no value near '$persist'");
  throwsConf(() => params("w { $name = x; }", "w"), "j.conf:1:5: variable '$name' cannot have the same name as a parameter near '$name'");
  throwsConf(() => params("w { $x = 1; x = 2; }", "w"), "j.conf:1:13: variable '$x' cannot have the same name as a parameter near 'x'");
});

test("unknown, read-only and badly typed parameters are errors at their statement", () => {
  throwsConf(() => params("w {\n  bogus.param = 1;\n}", "w"), "j.conf:2:3: unknown parameter 'bogus.param' near 'bogus.param'");
  throwsConf(() => params("w { dying; }", "w"), "j.conf:1:5: parameter 'dying' is read-only near 'dying'");
  throwsConf(() => params("w { persist = maybe; }", "w"), "j.conf:1:15: persist: 'maybe' is not a boolean (true, false or a number) near 'maybe'");
  throwsConf(() => params("w { stop.timeout = soon; }", "w"), "j.conf:1:20: stop.timeout: 'soon' is not an integer near 'soon'");
  throwsConf(() => params("w { enforce_statfs = 3; }", "w"), "j.conf:1:22: enforce_statfs: 3 is out of range (0 to 2) near '3'");
  throwsConf(() => params("w { exec.timeout = -1; }", "w"), "j.conf:1:20: exec.timeout: -1 is out of range (at least 0) near '-1'");
  throwsConf(() => params("w { exec.timeout; }", "w"), "j.conf:1:5: parameter 'exec.timeout' needs a number near 'exec.timeout'");
  throwsConf(() => params("w { ip4 = sometimes; }", "w"), "j.conf:1:11: ip4: 'sometimes' is not one of new, inherit, disable near 'sometimes'");
  throwsConf(() => params("w { path; }", "w"), "j.conf:1:5: parameter 'path' needs a value near 'path'");
  throwsConf(() => params('w { "meta.a=b" = 1; }', "w"), `j.conf:1:5: invalid meta key 'a=b' near '"meta.a=b"'`);
});

test("unknown parameters in other jails do not stop this one", () => {
  assert.deepEqual(params("a { bogus; }\nb { persist; }", "b"), { name: "b", persist: true });
});

test("accepted-and-ignored parameters give one warning each", () => {
  const r = resolveJail(conf("w {\n securelevel = 3;\n cpuset.id = 2;\n allow.mount;\n allow.nomlock;\n host.domainname = x; }"), "w");
  assert.deepEqual(r.warnings, [
    "j.conf:2:2: warning: parameter 'securelevel' is accepted and ignored on Linux",
    "j.conf:3:2: warning: parameter 'cpuset.id' is accepted and ignored on Linux",
    "j.conf:4:2: warning: parameter 'allow.mount' is accepted and ignored on Linux",
    "j.conf:6:2: warning: parameter 'host.domainname' is accepted and ignored on Linux",
  ]);
  assert.equal(r.params.securelevel, "3");
});

test("meta and env: whole-store values and per-key statements, FreeBSD key order", () => {
  const text = `w {
    meta = "tag=blue";
    meta.color = red;
    meta.tag = green;
    env = "A=1", "B=2";
    env.C;
  }`;
  const p = params(text, "w");
  assert.equal(p.meta, "tag=green\ncolor=red");
  assert.equal(p.env, "C=\nA=1\nB=2");
  assert.equal(Object.keys(p).join(" "), "name meta env");
  assert.equal(params("w { meta; }", "w").meta, "");
});

test("command-line parameters come last: replace conf values, append among themselves", () => {
  const text = "w { path = /w; ip4.addr = 10.0.0.1; host.hostname = \"$name.example\"; meta = \"a=1\"; }";
  const p = params(text, "w", ["host.hostname=changed.example", "ip4.addr=10.0.0.2", "ip4.addr=10.0.0.3", "meta.b=2", "path=/lit/$name"]);
  assert.equal(p["host.hostname"], "changed.example");
  assert.deepEqual(p["ip4.addr"], ["10.0.0.2", "10.0.0.3"]);
  assert.equal(p.meta, "b=2\na=1");
  assert.equal(p.path, "/lit/$name");
  assert.deepEqual(params(text, "w", ["ip4.addr+=10.0.0.9"])["ip4.addr"], ["10.0.0.1", "10.0.0.9"]);
  throwsConf(() => params(text, "w", ["name=x"]), "command line argument 1: cannot redefine parameter 'name' (set by the jail's name) near 'name=x'");
});

test("jails given only on the command line", () => {
  const r = resolveParams(parseParamArgs(["name=cli", "path=/r", "host.hostname=cli.example", "persist", "ip4.addr=10.0.0.1,10.0.0.2"]));
  assert.equal(r.name, "cli");
  assert.deepEqual(r.params, { name: "cli", path: "/r", "host.hostname": "cli.example", persist: true, "ip4.addr": ["10.0.0.1", "10.0.0.2"] });
  assert.equal(resolveParams(parseParamArgs(["jid=4", "persist"])).name, "4");
  assert.deepEqual(resolveJail(undefined, undefined, parseParamArgs(["persist"])).params, { persist: true });
  throwsConf(
    () => resolveParams(parseParamArgs(["name=u1", "path=/r", "bogus.param=1", "persist"])),
    "command line argument 3: unknown parameter 'bogus.param' near 'bogus.param=1'",
  );
});

test("sources and valueSources point at statements and values", () => {
  const r = resolveJail(conf("mount = \"a b nullfs ro\";\nw {\n  mount += \"c d tmpfs rw\";\n}"), "w");
  assert.deepEqual(r.sources.mount, { file: "j.conf", line: 3, col: 3 });
  assert.deepEqual(r.valueSources.mount, [{ file: "j.conf", line: 1, col: 10 }, { file: "j.conf", line: 3, col: 13 }]);
});
