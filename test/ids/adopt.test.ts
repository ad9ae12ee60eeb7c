// sjadopt and adoptTree: a root-owned tree shifted into a pool range and back (owners, set-id
// bits, file capabilities, symbolic links never followed, one file system), and every bad input
// refused with one line and nothing changed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assertOneLineError, coreSuite, defer, makeJailRoot, makeNobody, makeTempDir, removeTree, show } from "../helpers/index.js";
import { adoptTree } from "../../src/ids/adopt.js";
import { hostCap, pool, privateLeases, sjadopt } from "./helpers.js";

const env = coreSuite();
const leases = privateLeases();

/** Owners of every entry below DIR (lstat: links themselves), by relative path. */
function owners(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d)) {
      const st = lstatSync(join(d, n));
      out[`${rel}/${n}`] = `${st.uid}:${st.gid}:${(st.mode & 0o7777).toString(8)}`;
      if (st.isDirectory()) walk(join(d, n), `${rel}/${n}`);
    }
  };
  walk(dir, "");
  return out;
}

describe("sjadopt", { concurrency: 2 }, () => {
  it("round trip: owners u -> B+u with set-id bits kept and capabilities dropped, links not followed; -u shifts back and clears set-id bits", (t) => {
    const r = makeJailRoot(env.probe, { dirs: ["home/app", "usr/bin"], files: { "usr/bin/su": "x", "usr/bin/wall": "y" } });
    defer(t, () => r.remove());
    chownSync(r.at("home/app"), 1000, 1000);
    chmodSync(r.at("usr/bin/su"), 0o4755);
    chownSync(r.at("usr/bin/wall"), 0, 5);
    chmodSync(r.at("usr/bin/wall"), 0o2755);
    const victim = join(r.base, "victim");
    writeFileSync(victim, "host file\n");
    symlinkSync(victim, r.at("etc/link")); // must be lchown'ed, never followed
    const capped = spawnSync(env.probe, ["setcap", r.at("probe"), "2"], { encoding: "utf8" });
    assert.match(capped.stdout, /^ok/, "control: a v2 file capability on the tree's probe");
    const a = sjadopt(["--json", r.path]);
    assert.equal(a.code, 0, show(a));
    const res = JSON.parse(a.stdout) as { uid: number; gid: number; count: number; changed: number };
    const B = res.uid, G = res.gid;
    assert.ok(B >= pool().start && (B - pool().start) % pool().size === 0, a.stdout);
    const o = owners(r.path);
    assert.equal(o["/home/app"], `${B + 1000}:${G + 1000}:755`);
    assert.equal(o["/usr/bin/su"], `${B}:${G}:4755`);
    assert.equal(o["/usr/bin/wall"], `${B}:${G + 5}:2755`);
    assert.match(o["/etc/link"]!, new RegExp(`^${B}:${G}:`));
    assert.equal(lstatSync(r.path).uid, B, "the tree's root is the range base's");
    const v = statSync(victim);
    assert.equal(v.uid, 0, "the symbolic link's target was not touched");
    assert.equal(hostCap(env.probe, r.at("probe")), undefined, "no file capability survives the shift");
    // a lease keeps the range from other jails
    assert.ok(readdirSync(join(leases, "blocks")).includes(String((B - pool().start) / pool().size)));
    // again: nothing left to do
    const again = sjadopt(["--json", r.path]);
    assert.equal(again.code, 0, show(again));
    assert.equal((JSON.parse(again.stdout) as { changed: number; uid: number }).changed, 0);
    // and back
    const u = sjadopt(["-u", "--json", r.path]);
    assert.equal(u.code, 0, show(u));
    const back = owners(r.path);
    assert.equal(back["/home/app"], "1000:1000:755");
    assert.equal(back["/usr/bin/su"], "0:0:755", "set-id bits are cleared by the shift back");
    assert.equal(back["/usr/bin/wall"], "0:5:755");
    assert.equal(lstatSync(r.path).uid, 0);
    assert.ok(!readdirSync(join(leases, "blocks")).includes(String((B - pool().start) / pool().size)), "the tree's lease ended");
  });

  it("-r BASE and -n NAME choose the range; the library's adoptTree returns the base", async (t) => {
    const p = pool();
    const r1 = makeJailRoot(env.probe);
    defer(t, () => r1.remove());
    const base = p.start + 7 * p.size;
    const a = sjadopt(["-r", String(base), r1.path]);
    assert.equal(a.code, 0, show(a));
    assert.equal(lstatSync(r1.path).uid, base);
    const r2 = makeJailRoot(env.probe);
    defer(t, () => r2.remove());
    const n = sjadopt(["--json", "-n", "ids-adopt-name", r2.path]);
    assert.equal(n.code, 0, show(n));
    const r3 = makeJailRoot(env.probe);
    defer(t, () => r3.remove());
    const lib = await adoptTree(r3.path, { name: "ids-adopt-name" });
    assert.equal(lib.base, (JSON.parse(n.stdout) as { uid: number }).uid, "the same name, the same range");
    assert.equal(lstatSync(r3.at("probe")).uid, lib.base);
    // -l lists the leases with their ranges
    const l = sjadopt(["-l", "--json"]);
    assert.equal(l.code, 0, show(l));
    const rows = JSON.parse(l.stdout) as { kind: string; key: string; uid: number }[];
    assert.ok(rows.some((x) => x.kind === "name" && x.key === "ids-adopt-name" && x.uid === lib.base), l.stdout);
    assert.ok(rows.some((x) => x.kind === "tree" && x.key === r1.path && x.uid === base), l.stdout);
    assert.match(sjadopt(["-l"]).stdout, new RegExp(`^${base}-${base + p.size - 1} +tree +"${r1.path}"$`, "m"));
    assertOneLineError(sjadopt(["-l", r1.path]), 64);
  });

  it("bad input: one line, the documented status, nothing changed", (t) => {
    const r = makeJailRoot(env.probe, { dirs: ["big"] });
    defer(t, () => r.remove());
    chownSync(r.at("big"), 100000, 100000); // an id no range can hold
    const before = owners(r.path);
    assertOneLineError(sjadopt([r.path]), 65, /100000:100000; only ids 0-65535 can be shifted .*nothing was changed/);
    assert.deepEqual(owners(r.path), before, "a refused tree is left as it was");
    assert.equal(lstatSync(r.path).uid, 0);
    assertOneLineError(sjadopt([]), 64, /exactly one directory/);
    assertOneLineError(sjadopt([r.path, r.path]), 64);
    assertOneLineError(sjadopt(["-x", r.path]), 64);
    assertOneLineError(sjadopt(["-r", "12345", r.path]), 64, /not a range base of the pool/);
    assertOneLineError(sjadopt(["-r", "lots", r.path]), 64);
    assertOneLineError(sjadopt(["-r", String(pool().start), "-n", "x", r.path]), 64, /not both/);
    assertOneLineError(sjadopt(["-u", "-n", "x", r.path]), 64);
    assertOneLineError(sjadopt(["-n", "bad/name", r.path]), 64);
    assertOneLineError(sjadopt(["/nonexistent-sysjail-tree"]), 66, /no such directory/);
    assertOneLineError(sjadopt([r.at("probe")]), 66, /not a directory/);
    assertOneLineError(sjadopt(["/"]), 64, /cannot be adopted/);
    assertOneLineError(sjadopt(["-u", r.path]), 65, /not an adopted tree/);
    const mine = makeTempDir("sysjail-ids-user-");
    defer(t, () => removeTree(mine));
    chownSync(mine, 1000, 1000);
    assertOneLineError(sjadopt([mine]), 65, /owned by uid 1000/);
    const ctl = join(r.base, "ctl\u001b[2J");
    mkdirSync(ctl);
    chownSync(ctl, 100000, 0);
    const esc = sjadopt([ctl]);
    assertOneLineError(esc, 65);
    assert.doesNotMatch(esc.stderr, /\u001b/, "a control character printed raw");
    const nobody = makeNobody();
    defer(t, () => nobody.remove());
    assertOneLineError(sjadopt([r.path], nobody), 77, /only root/);
    assert.deepEqual(owners(r.path), before);
    const holders = existsSync(join(leases, "blocks")) ? readdirSync(join(leases, "blocks")).map((b) => readFileSync(join(leases, "blocks", b), "utf8")) : [];
    assert.ok(!holders.some((h) => h.includes(r.path)), `a refused tree keeps no lease: ${holders.join(" ")}`);
  });
});
