// Tests: devfs.rules parsing, ruleset evaluation and the built-in Linux rulesets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BUILTIN_DEVFS_RULES, devfsNodes, evalDevfsRuleset, linuxDevType, parseDevfsRules } from "../../src/conf/index.js";
import { throwsConf } from "./helpers.js";

const HOST = [
  "null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "pts/0", "pts/ptmx", "fd", "stdin", "stdout", "stderr",
  "console", "tty0", "ttyS0", "mem", "kmem", "port", "kmsg", "sda", "sda1", "nvme0n1p2", "loop0", "dm-0", "mapper/root",
  "fuse", "net", "net/tun", "dri", "dri/card0", "crypto", "shm", "mqueue", "cpu_dma_latency", "autofs", "vhost-net", "kvm",
];

test("built-in ruleset 4 exposes exactly the Linux jail basics", () => {
  assert.deepEqual(devfsNodes(HOST, 4).map((n) => n.name), [
    "null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "pts/0", "pts/ptmx", "fd", "stdin", "stdout", "stderr",
  ]);
});

test("ruleset 5 adds /dev/net/tun for vnet jails; ruleset 1 hides everything", () => {
  const five = devfsNodes(HOST, 5).map((n) => n.name);
  assert.ok(five.includes("net/tun") && five.includes("null") && !five.includes("fuse"));
  assert.deepEqual(devfsNodes(HOST, 1), []);
});

test("ruleset 0 has no rules, but mem, kmem and port stay hidden", () => {
  const zero = devfsNodes(HOST, 0).map((n) => n.name);
  assert.ok(zero.includes("sda") && zero.includes("kmsg"));
  assert.ok(!zero.includes("mem") && !zero.includes("kmem") && !zero.includes("port"));
});

test("an administrator unhides fuse and a GPU node for one jail, with owner and mode", () => {
  const rules = `
# local rules
[devfsrules_jail_fuse=10]
add include $devfsrules_jail
add path fuse unhide
add path 'dri/card*' unhide group video mode 0660   # GPU
[gpu_only=11]
add hide
path dri/card0 unhide
`;
  const v = evalDevfsRuleset(10, rules, { group: (g) => (g === "video" ? 44 : undefined) });
  assert.deepEqual(v("fuse"), { visible: true });
  assert.deepEqual(v("dri/card0"), { visible: true, mode: 0o660, gid: 44 });
  assert.deepEqual(v("/dev/null"), { visible: true });
  assert.deepEqual(v("sda"), { visible: false });
  assert.deepEqual(v("dri"), { visible: false });
  assert.deepEqual(devfsNodes(["null", "dri/card0"], 11, rules).map((n) => n.name), ["dri/card0"]);
});

test("rules apply in order: later rules win, attributes accumulate", () => {
  const rules = `[r=20]
add path 'pty*' unhide user root group root mode 0620
add 50 hide
add 10 path 'tty*' unhide
add path ttyS0 hide
`;
  const sets = parseDevfsRules(rules, "r.rules").sets;
  assert.deepEqual(sets[0]!.rules.map((r) => r.num), [10, 50, 100, 200]);
  const v = evalDevfsRuleset(20, rules);
  assert.deepEqual(v("ptyp0"), { visible: true, mode: 0o620, uid: 0, gid: 0 });
  assert.deepEqual(v("tty1"), { visible: false });
  assert.deepEqual(v("ttyS0"), { visible: false });
});

test("mem and kmem need an unhide rule that names them, not a wildcard", () => {
  const rules = "[wild=30]\nadd path '*' unhide\nadd path '?mem' unhide\n[named=31]\nadd hide\nadd path kmem unhide\nadd path mem unhide\n[hidden_again=32]\nadd path mem unhide\nadd hide\nadd path '*' unhide\n";
  assert.deepEqual(evalDevfsRuleset(30, rules)("kmem"), { visible: false });
  assert.deepEqual(evalDevfsRuleset(30, rules)("sda"), { visible: true });
  assert.deepEqual(evalDevfsRuleset(31, rules)("kmem"), { visible: true });
  assert.deepEqual(evalDevfsRuleset(31, rules)("mem"), { visible: true });
  assert.deepEqual(evalDevfsRuleset(32, rules)("mem"), { visible: false });
});

test("type conditions use the Linux device classes", () => {
  const rules = "[t=40]\nadd type disk hide\nadd type tty mode 0600\n";
  const v = evalDevfsRuleset(40, rules);
  assert.deepEqual(v("sda1"), { visible: false });
  assert.deepEqual(v("tty5"), { visible: true, mode: 0o600 });
  assert.deepEqual(v("null"), { visible: true });
  assert.equal(linuxDevType("nvme0n1p2"), "disk");
  assert.equal(linuxDevType("mapper/root"), "disk");
  assert.equal(linuxDevType("pts/3"), "tty");
  assert.equal(linuxDevType("nst0"), "tape");
  assert.equal(linuxDevType("kmem"), "mem");
  assert.equal(linuxDevType("urandom"), undefined);
});

test("a local file replaces a built-in ruleset of the same number", () => {
  const rules = "[devfsrules_jail=4]\nadd include $devfsrules_hide_all\nadd path null unhide\n";
  assert.deepEqual(devfsNodes(HOST, 4, rules).map((n) => n.name), ["null"]);
});

test("the seed's devfs rule lines (without 'add') parse too", () => {
  const rules = "[seed=4]\nhide\npath null unhide\npath 'pts/*' unhide\npath ptyp* unhide user root group root\n";
  const v = evalDevfsRuleset(4, rules);
  assert.equal(v("null").visible, true);
  assert.deepEqual(v("ptyp3"), { visible: true, uid: 0, gid: 0 });
  assert.equal(v("zero").visible, false);
});

test("the built-in text is itself valid devfs.rules", () => {
  assert.deepEqual(parseDevfsRules(BUILTIN_DEVFS_RULES, "b").sets.map((s) => `${s.name}=${s.number}`), [
    "devfsrules_hide_all=1", "devfsrules_unhide_basic=2", "devfsrules_unhide_login=3", "devfsrules_jail=4", "devfsrules_jail_vnet=5",
  ]);
});

test("devfs.rules errors give file:line:column and the token", () => {
  const p = (t: string) => () => parseDevfsRules(t, "devfs.rules");
  throwsConf(p("add hide"), "devfs.rules:1:1: rule outside of a [name=number] section near 'add'");
  throwsConf(p("[bad name=3]"), "devfs.rules:1:1: bad ruleset header, expected [name=number] near '[bad name=3]'");
  throwsConf(p("[zero=0]"), "devfs.rules:1:1: ruleset 0 is always empty and cannot be defined near '[zero=0]'");
  throwsConf(p("[a=3]\n[b=3]"), "devfs.rules:2:1: ruleset a=3 is already defined near '[b=3]'");
  throwsConf(p("[a=3]\nadd path x frob"), "devfs.rules:2:12: unknown devfs rule keyword 'frob' near 'frob'");
  throwsConf(p("[a=3]\nadd path"), "devfs.rules:2:9: 'path' needs an argument near 'path'");
  throwsConf(p("[a=3]\nadd path x"), "devfs.rules:2:5: a rule needs an action (hide, unhide, user, group, mode or include) near 'add path x'");
  throwsConf(p("[a=3]\nadd hide path x"), "devfs.rules:2:10: conditions must come before actions near 'path'");
  throwsConf(p("[a=3]\nadd path x mode rw"), "devfs.rules:2:17: mode must be an octal number near 'rw'");
  throwsConf(p("[a=3]\nadd type block hide"), "devfs.rules:2:10: type must be disk, mem, tape or tty near 'block'");
  throwsConf(p("[a=3]\nadd include other"), "devfs.rules:2:13: include needs $rulesetname or a ruleset number near 'other'");
  throwsConf(p("[a=3]\nadd 5 hide\nadd 5 unhide"), "devfs.rules:3:5: rule number 5 is already used near '5'");
  throwsConf(p("[a=3]\nadd path 'x unhide"), "devfs.rules:2:10: unterminated quote near ''x unhide'");
  throwsConf(() => evalDevfsRuleset(3, "[a=3]\nadd include $nosuch\n"), "/etc/sysjail/devfs.rules:2:13: devfs ruleset 'nosuch' is not defined near '$nosuch'");
  throwsConf(() => evalDevfsRuleset(3, "[a=3]\nadd include $b\n[b=6]\nadd include 3\n"), "/etc/sysjail/devfs.rules:4:13: devfs include loop back to ruleset 'a' near '3'");
  throwsConf(() => evalDevfsRuleset(3, "[a=3]\nadd path x group nosuch unhide\n"), "/etc/sysjail/devfs.rules:2:18: unknown group 'nosuch' near 'nosuch'");
  throwsConf(() => evalDevfsRuleset(99), "devfs ruleset 99 is not defined");
});
