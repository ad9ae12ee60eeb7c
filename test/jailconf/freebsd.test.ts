// FreeBSD's own jail(8) tests (usr.sbin/jail/tests/jail_basic_test.sh: basic, commands,
// jid_name_set, param_consistency) as black-box cases against `node bin/jail.js`, plus the meta
// key/value semantics and jls -s round-tripping through jail -c.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { makeRoot, okRun, requireBuilt, scope, show, type Scope } from "./helpers.js";

before(requireBuilt);

const ok = (s: Scope, ...args: string[]): string => okRun(s, "jail", args);
const jls = (s: Scope, ...args: string[]): string => okRun(s, "jls", args);

test("basic: create, list, remove by name and by jid; -cm creates, -rc restarts", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const params = ["name=basejail", `path=${root}`, "persist", "ip4.addr=192.0.2.1"];
  assert.match(ok(s, "-c", ...params), /^basejail: created$/m);
  assert.match(jls(s), /^\s+\d+\s+192\.0\.2\.1\s+\S+\s+\//m);
  assert.match(jls(s, "-v"), /basejail\s+ACTIVE/);
  assert.match(jls(s, "-n"), /name=basejail/);
  assert.match(ok(s, "-r", "basejail"), /^basejail: removed$/m);
  assert.equal(s.run("jls", ["-j", "basejail"]).code, 1);

  ok(s, "-c", ...params);
  const jid = jls(s, "-j", "basejail", "jid").trim();
  assert.match(jid, /^\d+$/);
  assert.match(ok(s, "-r", jid), new RegExp(`^${jid}: removed$`, "m"));
  assert.equal(s.run("jls", ["-j", "basejail"]).code, 1);

  assert.match(ok(s, "-cm", ...params), /basejail: created/);
  const first = jls(s, "-j", "basejail", "jid").trim();
  const restart = ok(s, "-rc", ...params);
  assert.match(restart, /basejail: removed\nbasejail: created/);
  assert.equal(jls(s, "-j", "basejail", "name").trim(), "basejail");
  assert.match(first, /^\d+$/);
  assert.match(ok(s, "-cm", ...params), /basejail: updated/, "-cm on a running jail modifies it");
  ok(s, "-r", "basejail");
});

test("commands: exec.prestart and exec.poststart see JID, JNAME, JPATH; exec.prestop by name and by jid", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  const conf = s.file("jail.conf", [
    'exec.prestop = "echo STOP";',
    'exec.prestart = "echo START";',
    "exec.poststart = 'echo JID=$JID; echo JNAME=$JNAME; echo JPATH=$JPATH';",
    "persist;",
    "basejail {}",
    `path = "${root}";`,
  ].join("\n"));
  const out = ok(s, "-f", conf, "-qc", "basejail");
  assert.match(out, /^START$/m);
  assert.match(out, /^JID=\d+$/m);
  assert.match(out, /^JNAME=basejail$/m);
  assert.match(out, new RegExp(`^JPATH=${root}$`, "m"));
  assert.doesNotMatch(out, /created/, "-q prints no notes");
  assert.equal(ok(s, "-f", conf, "-qr", "basejail"), "STOP\n");
  ok(s, "-f", conf, "-qc", "basejail");
  const jid = jls(s, "-j", "basejail", "jid").trim();
  assert.equal(ok(s, "-f", conf, "-qr", jid), "STOP\n");
});

test("jid_name_set: a numbered block with a name, ${name} in a numbered block, jid in a named block", (t) => {
  const s = scope(t);
  const jid = String(5300 + Math.floor(Math.random() * 600));
  const conf = (text: string) => s.file("jail.conf", text);
  let c = conf(`${jid} { name = basejail; persist; }\n`);
  assert.match(ok(s, "-f", c, "-c", jid), new RegExp(`${jid}: created`));
  assert.match(jls(s, "-j", jid, "name"), /basejail/);
  assert.match(ok(s, "-f", c, "-r", jid), new RegExp(`${jid}: removed`));

  c = conf(`${jid} { host.hostname = "\${name}"; persist; }\n`);
  assert.match(ok(s, "-f", c, "-c", jid), new RegExp(`${jid}: created`));
  assert.match(jls(s, "-j", jid, "host.hostname"), new RegExp(jid));
  assert.match(ok(s, "-f", c, "-r", jid), new RegExp(`${jid}: removed`));

  c = conf(`basejail { jid = ${jid}; persist; }\n`);
  assert.match(ok(s, "-f", c, "-c", "basejail"), /basejail: created/);
  assert.match(jls(s, "-j", "basejail", "jid"), new RegExp(jid));
  assert.match(ok(s, "-f", c, "-r", "basejail"), /basejail: removed/);
});

test("param_consistency: a command-line jail with exec.poststart and a command; hooks of jails known by name or jid", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  // no persist: the jail ends with its command and is gone when jail(8) returns
  ok(s, "-c", `path=${root}`, "exec.poststart=true", "command=/probe", "exit", "0");
  assert.equal(jls(s), "   JID  IP Address      Hostname                      Path\n");
  assert.deepEqual(s.leftovers(), []);

  let c = s.file("jail.conf", `basejail {path = "${root}"; exec.prestop = 'echo STOP'; persist; }\n`);
  ok(s, "-f", c, "-c", "basejail");
  assert.match(ok(s, "-f", c, "-r", "basejail"), /STOP/);

  const jid = String(6000 + Math.floor(Math.random() * 600));
  c = s.file("jail.conf", `${jid} {path = "${root}"; exec.prestop = 'echo STOP'; persist; }\n`);
  ok(s, "-f", c, "-c", jid);
  assert.match(ok(s, "-f", c, "-r", jid), /STOP/);

  c = s.file("jail.conf", `${jid} {name = basejail; path = "${root}"; exec.prestop = 'echo STOP'; persist; }\n`);
  ok(s, "-f", c, "-c", jid);
  assert.match(ok(s, "-f", c, "-r", jid), /STOP/);

  c = s.file("jail.conf", `basejail {path = "${root}"; exec.poststop = 'echo JID=$JID'; persist; }\n`);
  ok(s, "-f", c, "-c", "basejail");
  const running = jls(s, "-j", "basejail", "jid").trim();
  assert.match(ok(s, "-f", c, "-r", "basejail"), new RegExp(`JID=${running}`));
});

test("meta: meta.KEY sets one key, a whole meta replaces the store, jls prints key=value lines", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  ok(s, "-c", "name=m", `path=${root}`, "persist", "meta=tag=blue", "env.LANG=C", "env.TZ=UTC");
  assert.equal(jls(s, "-j", "m", "meta"), "tag=blue\n");
  assert.equal(jls(s, "-j", "m", "env"), "TZ=UTC\nLANG=C\n", "env is a second store, newest key first");
  assert.equal(jls(s, "-j", "m", "env.LANG"), "C\n");
  assert.equal(jls(s, "-j", "m", "meta.tag"), "blue\n");
  ok(s, "-m", "m", "meta.owner=ops");
  assert.equal(jls(s, "-j", "m", "meta.owner"), "ops\n");
  assert.equal(jls(s, "-j", "m", "meta.tag"), "blue\n");
  ok(s, "-m", "m", "meta=only=1");
  assert.equal(jls(s, "-j", "m", "meta"), "only=1\n");
  assert.doesNotMatch(jls(s, "-j", "m", "meta.tag"), /blue/);
  ok(s, "-r", "m");
});

test("jls -s round-trips through jail -c", (t) => {
  const s = scope(t);
  const root = makeRoot(s.base);
  ok(s, "-c", "name=rt", `path=${root}`, "persist", "meta.tag=blue", "meta.note=two words", "host.hostname=rt.example", "allow.raw_sockets");
  const before = jls(s, "-s", "-j", "rt");
  assert.match(before, /meta\.tag=blue/);
  ok(s, "-r", "rt");
  // the shell reads jls -s's quoting back, as `eval jail -c $(jls -s -j rt)` would
  const args = shellWords(before.trim());
  const r = s.jail("-c", ...args);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stderr, "", "no warnings for what jls -s prints");
  assert.equal(jls(s, "-s", "-j", "rt"), before);
  ok(s, "-r", "rt");
});

/** Splits a line as sh would: blanks separate words, "..." and '...' quote. */
function shellWords(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"' || c === "'") {
      const end = line.indexOf(c, i + 1);
      let body = line.slice(i + 1, end);
      if (c === '"') body = body.replace(/\\(["\\$`])/g, "$1");
      cur += body;
      inWord = true;
      i = end;
    } else if (c === " " || c === "\t") {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
