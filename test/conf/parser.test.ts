// Tests: jail.conf parser: blocks, wildcards, global statements, .include and syntax errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { listJails, parseJailConf, wildJailMatch, isWildJailName, type JailConf } from "../../src/conf/index.js";
import { memfs, throwsConf } from "./helpers.js";

/** Blocks as "name: stmt stmt" summaries. */
function outline(conf: JailConf): string[] {
  return conf.blocks.map((b) => {
    const sts = b.statements.map((s) => `${s.isVar ? "$" : ""}${s.name}${s.op === "none" ? "" : s.op}${s.values.map((v) => v.raw).join(",")}`);
    return `${b.implicit ? "(*)" : b.name}: ${sts.join(" ")}`;
  });
}

test("jail blocks, global statements and wildcard blocks in file order", () => {
  const conf = parseJailConf(
    `exec.clean; path = "/j/$name";\nweb { host.hostname = w; ip4.addr = 1.1.1.1, 1.1.1.2; }\n* { persist; }\n;;\nmount.devfs;\n5 { path = /five; }\nfoo.* { x = y; }`,
    "j.conf",
  );
  assert.deepEqual(outline(conf), [
    `(*): exec.clean path="/j/$name"`,
    "web: host.hostname=w ip4.addr=1.1.1.1,1.1.1.2",
    "*: persist mount.devfs",
    "5: path=/five",
    "foo.*: x=y",
  ]);
  assert.deepEqual(listJails(conf), ["web", "5"]);
  assert.equal(conf.blocks[2]!.implicit, false);
});

test("statements without '=' and empty blocks", () => {
  const conf = parseJailConf(`a { persist true; exec.start "sh /etc/rc"; }\nb {}\n"quoted name" { }`, "j.conf");
  assert.deepEqual(outline(conf), ["a: persisttrue exec.start\"sh /etc/rc\"", "b: ", "quoted name: "]);
});

test("a byte-order mark at the start of a file is skipped", () => {
  assert.deepEqual(listJails(parseJailConf("\uFEFFweb { persist; }", "j.conf")), ["web"]);
});

test("variables are statements with isVar", () => {
  const conf = parseJailConf(`$parentdir = "/var/jail";\n\${other} = x;`, "j.conf");
  const st = conf.blocks[0]!.statements;
  assert.equal(st[0]!.isVar, true);
  assert.equal(st[0]!.name, "parentdir");
  assert.equal(st[1]!.name, "other");
});

test("wildcard names and matching", () => {
  assert.equal(isWildJailName("*"), true);
  assert.equal(isWildJailName("foo.*"), true);
  assert.equal(isWildJailName("foo*"), false);
  assert.equal(wildJailMatch("web", "*"), true);
  assert.equal(wildJailMatch("foo.bar", "*"), true);
  assert.equal(wildJailMatch("foo.bar", "foo.*"), true);
  assert.equal(wildJailMatch("foo.bar.baz", "foo.*"), true);
  assert.equal(wildJailMatch("foo", "foo.*"), false);
  assert.equal(wildJailMatch("bar.x", "foo.*"), false);
  assert.equal(wildJailMatch("a.x.c", "a.*.c"), true);
});

test(".include literal files and globs, relative to the including file", () => {
  const fs = memfs({
    "/etc/sysjail/jail.conf.d/b.conf": "b { persist; }",
    "/etc/sysjail/jail.conf.d/a.conf": "a { persist; }\n.include \"../more.conf\";",
    "/etc/sysjail/more.conf": "exec.clean;",
    "/etc/sysjail/jail.conf.d/skip.txt": "bad {",
  });
  const conf = parseJailConf(
    `x { persist; }\n.include "jail.conf.d/*.conf";\n.include "/etc/sysjail/none[.]conf";\ny { persist; }`,
    "/etc/sysjail/jail.conf",
    fs,
  );
  assert.deepEqual(listJails(conf), ["x", "a", "b", "y"]);
  assert.deepEqual(conf.files, [
    "/etc/sysjail/jail.conf",
    "/etc/sysjail/jail.conf.d/a.conf",
    "/etc/sysjail/more.conf",
    "/etc/sysjail/jail.conf.d/b.conf",
  ]);
  assert.deepEqual(outline(conf)[2], "(*): exec.clean");
  assert.equal(conf.blocks[2]!.pos.file, "/etc/sysjail/more.conf");
});

test(".include errors", () => {
  const fs = memfs({ "/c/self.conf": '.include "self.conf";', "/c/bad.conf": "x {\n  y = ;\n}" });
  throwsConf(() => parseJailConf(`.include "/c/missing.conf";`, "/c/j.conf", fs), `/c/j.conf:1:10: cannot read included file '/c/missing.conf': ENOENT near '/c/missing.conf'`);
  throwsConf(() => parseJailConf(`.include "self.conf";`, "/c/self.conf", fs), `/c/self.conf:1:10: include loop: '/c/self.conf' includes itself near 'self.conf'`);
  throwsConf(() => parseJailConf(`.include "bad.conf";`, "/c/j.conf", fs), `/c/bad.conf:2:7: missing value after '=' near ';'`);
  throwsConf(() => parseJailConf(`.include "$x.conf";`, "/c/j.conf", fs), `/c/j.conf:1:10: an .include file name cannot contain variables near '"$x.conf"'`);
  throwsConf(() => parseJailConf(`.include "a.conf"`, "/c/j.conf", fs), `/c/j.conf:1:18: expected ';' after the .include file name near 'EOF'`);
  throwsConf(() => parseJailConf(`w {\n .include "a.conf";\n}`, "/c/j.conf", fs), `/c/j.conf:2:2: .include is only allowed outside jail blocks near '.include'`);
  const deep: Record<string, string> = {};
  for (let i = 0; i < 40; i++) deep[`/d/${i}.conf`] = `.include "${i + 1}.conf";`;
  throwsConf(() => parseJailConf(`.include "0.conf";`, "/d/main.conf", memfs(deep)), /: includes nested too deeply near '\d+\.conf'$/);
});

test("syntax errors give file:line:column and the offending token", () => {
  const p = (t: string) => () => parseJailConf(t, "bad.conf");
  throwsConf(p('ok1 {\n  path = "/";\n  host.hostname = ;\n}\n'), "bad.conf:3:19: missing value after '=' near ';'");
  throwsConf(p("web {\n  persist;\n"), "bad.conf:3:1: missing '}' to close jail 'web' near 'EOF'");
  throwsConf(p("web { path = /a /b; }"), "bad.conf:1:17: expected ';' or ',' after the value of 'path' near '/b'");
  throwsConf(p("web { path = /a }"), "bad.conf:1:17: expected ';' or ',' after the value of 'path' near '}'");
  throwsConf(p("path = /a"), "bad.conf:1:10: missing ';' after the value of 'path' near 'EOF'");
  throwsConf(p("persist"), "bad.conf:1:8: missing ';' after parameter 'persist' near 'EOF'");
  throwsConf(p("web { ip4.addr = 1.1.1.1, ; }"), "bad.conf:1:27: missing value after ',' near ';'");
  throwsConf(p("}"), "bad.conf:1:1: unexpected '}' near '}'");
  throwsConf(p("= 5;"), "bad.conf:1:1: unexpected '=' near '='");
  throwsConf(p("web { a { } }"), "bad.conf:1:9: nested jail blocks are not supported near 'a'");
  throwsConf(p("w$x { }"), "bad.conf:1:1: a jail name cannot contain variables near 'w$x'");
  throwsConf(p("w { a$b = 1; }"), "bad.conf:1:5: a parameter name cannot contain variables near 'a$b'");
  throwsConf(p("w { \"\" = 1; }"), `bad.conf:1:5: empty parameter name near '""'`);
  throwsConf(p("$v;"), "bad.conf:1:3: variable '$v' needs a value near ';'");
  throwsConf(p("w { persist; }\nw { persist; }"), "bad.conf:2:1: jail 'w' is already defined at bad.conf:1:1 near 'w'");
  throwsConf(p("w { persist = ; }"), "bad.conf:1:15: missing value after '=' near ';'");
  throwsConf(p("w { persist = { }"), "bad.conf:1:15: missing value after '=' near '{'");
});
