// vis(): what reaches a terminal from a jail or a user's registry (unit; no jail is started).
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeBytes, vis } from "../../src/manage/vis.js";
import { formatText, layoutOf, paramList, type JlsFormat } from "../../src/manage/jlsformat.js";
import { longForm, processTable, tableRow } from "../../src/manage/sjlsformat.js";
import type { JailInfo } from "../../src/manage/sjlsinfo.js";
import type { JailEntry } from "../../src/registry/types.js";
import { baseSpec } from "../../src/spec/validate.js";

const ESC = "\x1b]0;SJB-TITLE\x07\x1b[2J";

test("plain text, ASCII or not, is printed as it is", () => {
  for (const s of ["", "web-1", "/jails/a b/c", "host.example", "k=v 'q' \"d\"", "naïve 日本語 ☃"]) assert.equal(vis(s), s);
});

test("control characters, DEL, C1 and backslash become \\ooo and \\\\", () => {
  assert.equal(vis(ESC), "\\033]0;SJB-TITLE\\007\\033[2J");
  assert.equal(vis("a\nb\tc\rd\0e"), "a\\012b\\011c\\015d\\000e");
  assert.equal(vis("\x7f"), "\\177");
  assert.equal(vis("\u009b"), "\\302\\233"); // C1 CSI, as its UTF-8 bytes
  assert.equal(vis("a\\b"), "a\\\\b");
});

test("bidi overrides, line separators, private use and lone surrogates are escaped", () => {
  assert.equal(vis("\u202e"), "\\342\\200\\256");
  assert.equal(vis("\u2028"), "\\342\\200\\250");
  assert.equal(vis("\ue000"), "\\356\\200\\200");
  assert.equal(vis("\ud800"), "\\355\\240\\200");
});

test("raw bytes: invalid UTF-8 as \\ooo, valid text kept", () => {
  assert.equal(vis(Buffer.from([0x61, 0xff, 0x62, 0xc3, 0xa9, 0xe2, 0x82])), "a\\377bé\\342\\202");
  assert.equal(vis(Buffer.from("x\x1by")), "x\\033y");
  assert.equal(vis(Buffer.from([0xc0, 0x80])), "\\300\\200"); // overlong NUL
});

function entry(over: Partial<JailEntry>, meta: Record<string, string> = {}): JailEntry {
  const spec = baseSpec(over.path ?? "/j", over.hostname ?? "h.example");
  spec.meta = meta;
  return {
    jid: 7, name: "7", path: spec.path, hostname: spec.hostname, ip4: [], ip6: [], initPid: 100, initStart: 1, monitorPid: 99,
    owner: 0, command: ["/bin/sleep"], startedAt: "2024-01-01T00:00:00.000Z", persist: false,
    idmap: { uidMap: "0 1 1\n", gidMap: "0 1 1\n", rootless: true }, cgroups: {}, spec, ...over,
  };
}

const F = (o: Partial<JlsFormat>): JlsFormat => ({ verbose: false, names: false, header: false, nameval: false, quoted: false, skip: false, params: [], ...o });

test("jls layouts escape every field; the meta store keeps one line per key", () => {
  const e = entry({ path: `/j${ESC}`, name: `n${ESC}`, hostname: `h${ESC}` }, { k: `v${ESC}\nforged=1` });
  for (const f of [F({}), F({ names: true }), F({ verbose: true }), F({ nameval: true, params: ["name", "path", "host.hostname", "meta"] }), F({ quoted: true, params: ["path"] })]) {
    const defs = layoutOf(f) === "params" ? paramList(f, [e], (n) => { throw new Error(n); }) : [];
    const out = formatText([e], f, defs);
    if (f.params.includes("meta")) assert.equal(out.split("\n").filter((l) => l.includes("forged")).length, 1);
    assert.doesNotMatch(out, /\x1b|\x07/, JSON.stringify(f));
  }
});

test("sjls layouts escape names, hostnames, paths, commands and process titles", () => {
  const info = {
    jid: 3, name: `n${ESC}`, hostname: `h${ESC}`, path: `/p${ESC}`, ip4: [], ip6: [], initPid: 5, monitorPid: 4, owner: 0,
    ownerName: `o${ESC}`, startedAt: "2024-01-01T00:00:00.000Z", uptimeSeconds: 1, command: [`c${ESC}`], persist: false,
    processes: 1, memoryBytes: 0, cpuSeconds: 0, usageSource: "processes", idmap: { uidMap: "", gidMap: "", rootless: true },
    policy: { ...baseSpec("/", "h").policy, noNewPrivs: true, capabilities: [], ownNetwork: true }, limits: {}, cgroups: {},
    meta: { [`k${ESC}`]: `v${ESC}` }, stateDir: `/s${ESC}`, corrupt: [`name: ${ESC}`],
  } as JailInfo;
  const text = [tableRow(info), ...longForm(info), ...processTable([{ hostPid: 9, jailPid: 1, hostUid: 0, jailUid: 0, state: "S", rssBytes: 0, cpuSeconds: 0, argv: [ESC, "x"] } as never])].join("\n");
  assert.doesNotMatch(text, /\x1b|\x07/);
  assert.match(text, /\\033\]0;SJB-TITLE\\007/);
});

test("bytes that are not UTF-8 survive decoding and print as their own \\ooo", () => {
  const s = decodeBytes(Buffer.from([0x61, 0xff, 0x1b, 0xc3, 0xa9, 0xed, 0xa0, 0x80]));
  assert.equal(s, "a\udcff\x1bé\udced\udca0\udc80");
  assert.equal(vis(s), "a\\377\\033é\\355\\240\\200");
  assert.equal(JSON.stringify(s), '"a\\udcff\\u001bé\\udced\\udca0\\udc80"');
  assert.equal(decodeBytes(Buffer.from("plain /bin/sh")), "plain /bin/sh");
});
