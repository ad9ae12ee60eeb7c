// FreeBSD's own jail.conf(5) examples and usr.sbin/jail tests, as far as they are parsing and evaluation.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  applyStoreArgs,
  listJails,
  paramsToSpec,
  parseJailConf,
  parseParamArgs,
  resolveJail,
  resolveParams,
  storeGet,
  storeSetAll,
} from "../../src/conf/index.js";
import { memfs } from "./helpers.js";

test("jail.conf(5) EXAMPLES: static defaults, dynamic wildcard path, a typical jail, an overriding jail", () => {
  const text = `# Typical static defaults:
# Use the rc scripts to start and stop jails.  Mount jail's /dev.
exec.start = "/bin/sh /etc/rc";
exec.stop = "/bin/sh /etc/rc.shutdown jail";
exec.clean;
mount.devfs;

# Dynamic wildcard parameter:
# Base the path off the jail name.
path = "/var/jail/$name";

# A typical jail.
foo {
	host.hostname = "foo.com";
	ip4.addr = 10.1.1.1, 10.1.1.2, 10.1.1.3;
}

# This jail overrides the defaults defined above.
bar {
	exec.start = '';
	exec.stop = '';
	path = /;
	mount.nodevfs;
	persist;	// Required because there are no processes
}
`;
  const conf = parseJailConf(text, "/etc/sysjail/jail.conf");
  assert.deepEqual(listJails(conf), ["foo", "bar"]);
  const foo = resolveJail(conf, "foo").params;
  assert.deepEqual(foo, {
    name: "foo",
    "exec.start": ["/bin/sh /etc/rc"],
    "exec.stop": ["/bin/sh /etc/rc.shutdown jail"],
    "exec.clean": true,
    "mount.devfs": true,
    path: "/var/jail/foo",
    "host.hostname": "foo.com",
    "ip4.addr": ["10.1.1.1", "10.1.1.2", "10.1.1.3"],
  });
  const bar = resolveJail(conf, "bar");
  assert.deepEqual(bar.params, {
    name: "bar",
    "exec.start": [""],
    "exec.stop": [""],
    "exec.clean": true,
    "mount.devfs": false,
    path: "/",
    persist: true,
  });
  const { spec, lifecycle } = paramsToSpec(bar);
  assert.deepEqual(lifecycle.exec.start, []);
  assert.deepEqual(lifecycle.exec.stop, []);
  assert.equal(spec.mountDev, false);
  assert.equal(spec.persist, true);
  assert.equal(spec.path, "/");
});

test("jail.conf(5): boolean and list spellings that are equivalent", () => {
  const a = resolveJail(parseJailConf('j { allow.mount = "false"; }', "x"), "j").params;
  const b = resolveJail(parseJailConf("j { allow.nomount; }", "x"), "j").params;
  assert.deepEqual(a, b);
  const l1 = resolveJail(parseJailConf("j { ip4.addr = 10.1.1.1, 10.1.1.2, 10.1.1.3; }", "x"), "j").params;
  const l2 = resolveJail(parseJailConf("j { ip4.addr = 10.1.1.1; ip4.addr += 10.1.1.2; ip4.addr += 10.1.1.3; }", "x"), "j").params;
  assert.deepEqual(l1, l2);
});

test("jail.conf(5) Variables: path from name or hostname, and $variables", () => {
  const r1 = resolveJail(parseJailConf('j { host.hostname = h.example; path = "/var/jail/${host.hostname}"; }', "x"), "j");
  assert.equal(r1.params.path, "/var/jail/h.example");
  const r2 = resolveJail(parseJailConf('$parentdir = "/var/jail";\npath = "$parentdir/$name";\nj {}', "x"), "j");
  assert.deepEqual(r2.params, { name: "j", path: "/var/jail/j" });
});

test("jail.conf(5) Includes: the standard locations, missing ones matched away by globs", () => {
  const fs = memfs({
    "/etc/jail.conf.d/www.conf": "www { path = /w; }",
    "/usr/local/etc/jail.conf": "db { path = /d; }",
    "/usr/local/etc/jail.conf.d/a.conf": "a { path = /a; }",
  });
  const conf = parseJailConf(
    `.include "/etc/jail.conf.d/*.conf";
.include "/etc/jail.*.conf";
.include "/usr/local/etc/jail[.]conf";
.include "/usr/local/etc/jail.conf.d/*.conf";
.include "/usr/local/etc/jail.*.conf";`,
    "/etc/jail.conf",
    fs,
  );
  assert.deepEqual(listJails(conf), ["www", "db", "a"]);
});

test("usr.sbin/jail/tests/commands.jail.conf: global hooks and persist for an empty block", () => {
  const conf = parseJailConf('\nexec.prestop = "echo STOP";\nexec.prestart = "echo START";\npersist;\n\nbasejail {}\n', "commands.jail.conf");
  const { spec, lifecycle } = paramsToSpec(resolveJail(conf, "basejail"));
  assert.deepEqual(lifecycle.exec.prestart, ["echo START"]);
  assert.deepEqual(lifecycle.exec.prestop, ["echo STOP"]);
  assert.equal(spec.persist, true);
  assert.equal(spec.name, "basejail");
});

test("jail_basic_test: command-line jails", () => {
  const basic = resolveParams(parseParamArgs(["name=basejail", "persist", "ip4.addr=192.0.1.1"]));
  assert.deepEqual(basic.params, { name: "basejail", persist: true, "ip4.addr": ["192.0.1.1"] });
  const nested = paramsToSpec(resolveParams(parseParamArgs(["name=basejail", "persist", "ip4.addr=192.0.1.1", "children.max=1"])));
  assert.equal(nested.lifecycle.childrenMax, 1);
  // hierarchical jails: children.max lets the jail make child jails (docs/JAILS.md, Security)
  assert.deepEqual(nested.warnings, []);
  assert.equal(nested.spec.policy?.allowNesting, true);
  assert.deepEqual(nested.spec.ip4, ["192.0.1.1"]);
  assert.equal(nested.lifecycle.ip4Mode, "new");
});

test("jail_meta_test: meta and env set at creation, reset to empty", () => {
  const c = resolveParams(parseParamArgs(["name=j", "persist", "meta=a b c", "env=C B A"])).params;
  assert.equal(c.meta, "a b c");
  assert.equal(c.env, "C B A");
  const m = resolveParams(parseParamArgs(["name=j", "meta=t1=A t2=B", "env=CAB2"])).params;
  assert.equal(m.meta, "t1=A t2=B");
  assert.deepEqual(resolveParams(parseParamArgs(["name=j", "persist", "meta", "env"])).params, { name: "j", persist: true, meta: "", env: "" });
  assert.equal(applyStoreArgs("123", "meta", parseParamArgs(["meta="])), "");
});

test("jail_meta_test keyvalue: the same sequence of jail -m changes gives the same stores", () => {
  for (const store of ["meta", "env"] as const) {
    let cur = "";
    const m = (...args: string[]) => {
      cur = applyStoreArgs(cur, store, parseParamArgs(args.map((a) => a.replace(/^meta/, store))));
      return cur;
    };
    const get = (k: string) => storeGet(storeSetAll([cur]), k);
    assert.equal(m("meta=a=1"), "a=1");
    assert.equal(get("a"), "1");
    assert.equal(m("meta=a=2\nb=3"), "a=2\nb=3");
    assert.equal(get("a"), "2");
    assert.equal(get("b"), "3");
    assert.equal(get("c"), undefined);
    assert.equal(m("meta="), "");
    assert.equal(m("meta.a=1"), "a=1");
    assert.equal(m("meta.c=3", "meta.b=2"), "b=2\nc=3\na=1");
    assert.equal(m("meta.a=A", "meta.c=C"), "c=C\na=A\nb=2");
    assert.equal(m("meta.b", "meta.a="), "a=\nb=\nc=C");
    assert.equal(get("a"), "");
    assert.equal(m("meta.a=1", "meta=ttt", "meta.b=2"), "b=2\nttt");
    assert.equal(get("a"), undefined);
    assert.equal(m("meta.b=="), "b==\nttt");
    assert.equal(get("b"), "=");
  }
  // The same within one jail -c: parameters apply in order.
  assert.equal(resolveParams(parseParamArgs(["meta.a=1", "meta=ttt", "meta.b=2"])).params.meta, "b=2\nttt");
});
