// jls output formats, byte for byte, from synthetic registry entries (no jail is started).
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatText, jsonDocument, jsonInstance, paramList, quoteValue, type JlsFormat } from "../../src/manage/jlsformat.js";
import { humanBytes, humanDuration, processTable } from "../../src/manage/sjlsformat.js";
import { jailUid } from "../../src/manage/sjlsinfo.js";
import { parseJls } from "../../src/cli/jls.js";
import type { JailEntry } from "../../src/registry/types.js";
import { baseSpec } from "../../src/spec/validate.js";

function entry(jid: number, over: Partial<JailEntry> = {}, meta: Record<string, string> = {}): JailEntry {
  const spec = baseSpec(over.path ?? `/jails/j${jid}`, over.hostname ?? `host${jid}.example`);
  spec.meta = meta;
  return {
    jid, name: String(jid), path: spec.path, hostname: spec.hostname, ip4: [], ip6: [], initPid: 100 + jid, initStart: 1,
    monitorPid: 99, owner: 0, command: ["/bin/sleep", "60"], startedAt: "2024-01-01T00:00:00.000Z", persist: false,
    idmap: { uidMap: "0 1879048192 65536\n", gidMap: "0 1879048192 65536\n", rootless: false }, cgroups: {}, spec,
    ...over,
  };
}

const fmt = (args: string[]): JlsFormat => parseJls(args).format;
const fail = (n: string): never => { throw new Error(`unknown ${n}`); };
function text(args: string[], jails: JailEntry[]): string {
  const f = fmt(args);
  return formatText(jails, f, f.params.length || f.header || f.nameval ? paramList(f, jails, fail) : []);
}

test("the default table is FreeBSD's, byte for byte", () => {
  const out = text([], [entry(1, { ip4: ["10.1.2.3", "10.1.2.4"] }), entry(23, { hostname: "x".repeat(40), path: `/${"p".repeat(90)}` })]);
  assert.equal(out,
    "   JID  IP Address      Hostname                      Path\n" +
    "     1  10.1.2.3        host1.example                 /jails/j1\n" +
    `    23                  ${"x".repeat(29)} /${"p".repeat(73)}\n`);
});

test("-N puts names in the first column", () => {
  const out = text(["-N"], [entry(7, { name: "web" })]);
  assert.equal(out,
    " JID             IP Address      Hostname                      Path\n" +
    " web                             host7.example                 /jails/j7\n");
});

test("-v: JID/Hostname/Path, Name/State, then every address on its own line", () => {
  const out = text(["-v"], [entry(3, { name: "db", ip4: ["10.0.0.3"], ip6: ["fd00::3"] })]);
  assert.equal(out,
    "   JID  Hostname                      Path\n" +
    "        Name                          State\n" +
    "        IP Address(es)\n" +
    "     3  host3.example                 /jails/j3\n" +
    "        db                            ACTIVE\n" +
    "        10.0.0.3\n" +
    "        fd00::3\n");
});

test("parameters: values space-separated, empty as -, -n name=value with booleans as name/noname", () => {
  const e = entry(5, { name: "web", persist: true });
  assert.equal(text(["jid", "path", "host.hostname", "ip4.addr"], [e]), "5 /jails/j5 host5.example -\n");
  assert.equal(text(["-n", "jid", "persist", "allow.raw_sockets", "ip4.addr"], [e]), "jid=5 persist allow.noraw_sockets ip4.addr=\n");
  assert.equal(text(["-h", "jid", "name"], [e]), "jid name\n5 web\n");
});

test("-q quotes values with blanks, quotes or nothing in them", () => {
  const e = entry(2, {}, { note: "two words" });
  assert.equal(text(["-q", "meta.note", "ip4.addr", "name"], [e]), '"two words" "" 2\n');
  assert.equal(quoteValue("it's", true), `"it's"`);
  assert.equal(quoteValue('say "hi"', true), `'say "hi"'`);
  assert.equal(quoteValue("plain", true), "plain");
});

test("meta prints its key=value lines; meta.KEY one value; all lists meta keys", () => {
  const e = entry(4, { name: "web" }, { tag: "blue" });
  assert.equal(text(["meta"], [e]), "tag=blue\n");
  assert.equal(text(["meta.tag"], [e]), "blue\n");
  const all = text(["-n"], [e]);
  assert.match(all, /^devfs_ruleset=4 nodying /);
  assert.match(all, / meta\.tag=blue( |\n)/);
  assert.match(all, / host\.hostname=host4\.example /);
});

test("-s prints only what jail -c takes: no read-only parameters, no children of a non-new jailsys", () => {
  const out = text(["-s"], [entry(6, { name: "w" })]);
  assert.doesNotMatch(out, /dying|children\.cur|parent=|osrelease/);
  assert.doesNotMatch(out, /ip4\.addr/); // ip4=disable
  assert.match(out, /host\.hostname=host6\.example/);
  assert.match(out, /meta="" /);
  const withIp = text(["-s"], [entry(6, { ip4: ["10.0.0.6"], spec: { ...baseSpec("/j", "h"), ip4: ["10.0.0.6"] } })]);
  assert.match(withIp, /ip4=new .*ip4\.addr=10\.0\.0\.6/);
});

test("a later -v overrides -n and the other way round (FreeBSD's precedence)", () => {
  assert.equal(fmt(["-n", "-v"]).verbose, true);
  assert.equal(fmt(["-n", "-v"]).nameval, false);
  assert.equal(fmt(["-v", "-n"]).verbose, false);
  assert.equal(fmt(["-s"]).quoted, true);
});

test("libxo JSON: version 2, jail-information.jail with FreeBSD's keys", () => {
  const e = entry(9, { ip4: ["10.9.9.9"] });
  const doc = jsonDocument([jsonInstance(e, fmt([]), [])]);
  assert.equal(doc, '{"__version": "2", "jail-information": {"jail": [{"jid":9,"ipv4":"10.9.9.9","hostname":"host9.example","path":"/jails/j9"}]}}\n');
  const f = fmt(["-n", "jid", "persist", "ip4.addr"]);
  const inst = jsonInstance(e, f, paramList(f, [e], fail));
  assert.deepEqual(inst, { jid: "9", persist: false, "ip4.addr": ["10.9.9.9"] });
  const v = jsonInstance(e, fmt(["-v"]), []);
  assert.deepEqual(v, { jid: 9, hostname: "host9.example", path: "/jails/j9", name: "9", state: "ACTIVE", ipv4_addrs: ["10.9.9.9"], ipv6_addrs: [] });
  assert.equal(parseJls(["--libxo", "json"]).json, true);
  assert.equal(parseJls(["--libxo=json,pretty"]).pretty, true);
});

test("unknown parameters are refused by name", () => {
  const f = fmt(["nosuchparam"]);
  assert.throws(() => paramList(f, [entry(1)], fail), /unknown nosuchparam/);
});

test("sjls helpers: uid mapping, sizes, durations, the process table", () => {
  assert.equal(jailUid("0 1879048192 65536\n", 1879048192 + 33), 33);
  assert.equal(jailUid("0 1000 1\n", 1000), 0);
  assert.equal(jailUid("0 1000 1\n", 0), 65534);
  assert.equal(humanBytes(512), "512");
  assert.equal(humanBytes(1536), "1.5K");
  assert.equal(humanBytes(12 * 1024 * 1024), "12M");
  assert.equal(humanDuration(59), "0:59");
  assert.equal(humanDuration(3661), "1:01:01");
  assert.equal(humanDuration(90000), "1d+01:00");
  const t = processTable([{ hostPid: 4242, jailPid: 1, ppid: 1, hostUid: 0, jailUid: 0, state: "S", start: 0, rssBytes: 2048, cpuSeconds: 0.5, argv: ["init"] }]);
  assert.equal(t[0], " HOST PID  JAIL PID    UID S     RSS      CPU COMMAND");
  assert.equal(t[1], "     4242         1      0 S    2.0K    0.50s init");
});
