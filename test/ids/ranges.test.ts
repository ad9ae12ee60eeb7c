// Issue 17 item 8: each of root's jails gets its own host id range from the pool; a named jail
// and a root-owned tree keep theirs across runs; idrange shares one on purpose; jls -v and sjls
// show it; ephemeral leases end with their jail.
import assert from "node:assert/strict";
import { chmodSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  assertOneLineError, assertStateEmpty, coreSuite, defer, makeJailRoot, makeNobody, makeTempDir, NOBODY_UID, probeLine,
  removeTree, runCli, show, startCli, stateDir, sysjail, waitUntil,
} from "../helpers/index.js";
import { Registry } from "../../src/registry/store.js";
import { mapBase, pool, privateLeases } from "./helpers.js";

const env = coreSuite();
privateLeases();

const uidMap = async (j: string, args: string[]) => {
  const r = await sysjail(["-j", j, ...args, "read", "/proc/self/uid_map"]);
  return mapBase(probeLine(r));
};

describe("host id ranges of root's jails", { concurrency: 2 }, () => {
  it("two unnamed jails of `/` get disjoint ranges: one cannot overwrite the other's file", async (t) => {
    const j = stateDir(t);
    const w = makeTempDir("sysjail-ids-shared-", 0o1777, "/var/tmp");
    defer(t, () => removeTree(w));
    chmodSync(w, 0o1777);
    const a = await sysjail(["-j", j, "/", "ids-a", env.probe, "write", join(w, "owned"), "jail A"]);
    assert.equal(probeLine(a), "ok 6", show(a));
    chmodSync(join(w, "owned"), 0o644);
    const b = await sysjail(["-j", j, "/", "ids-b", env.probe, "write", join(w, "owned"), "jail B"]);
    assert.match(probeLine(b), /^err EACCES$/, show(b));
    assert.equal(readFileSync(join(w, "owned"), "utf8"), "jail A");
    const first = await uidMap(j, ["/", "ids-c", env.probe]);
    const second = await uidMap(j, ["/", "ids-c", env.probe]);
    const p = pool();
    for (const base of [first, second]) assert.ok(base >= p.start && base < p.end && (base - p.start) % p.size === 0, String(base));
    assert.notEqual(first, second, "a range is not handed out again right after its jail ended");
    assert.notEqual(statSync(join(w, "owned")).uid, 0);
    await assertStateEmpty(j);
  });

  it("concurrent unnamed jails hold different ranges, and their ephemeral leases end with them", async (t) => {
    const j = stateDir(t);
    const runs = [0, 1].map((i) => startCli(["-j", j, "/", `ids-hold${i}`, env.probe, "hold"], { stdin: "pipe" }));
    for (const r of runs) defer(t, () => r.stop());
    await Promise.all(runs.map((r) => r.waitOutput(/^ready/m)));
    const entries = await waitUntil(() => { const l = new Registry(j).list(); return l.length === 2 ? l : undefined; }, "both entries");
    const bases = entries.map((e) => e.ids?.uid);
    assert.ok(bases.every((b) => b !== undefined), JSON.stringify(entries.map((e) => e.ids)));
    assert.notEqual(bases[0], bases[1], "two live jails share a range");
    for (const e of entries) assert.equal(e.ids?.lease, "ephemeral");
    const files = entries.map((e) => e.ids!.file!);
    for (const f of files) assert.ok(statSync(f).isFile(), `the lease ${f} exists while the jail runs`);
    for (const r of runs) r.closeStdin();
    for (const r of runs) assert.equal((await r.done).code, 0);
    await assertStateEmpty(j);
    await waitUntil(() => files.every((f) => { try { statSync(f); return false; } catch { return true; } }) || undefined, "the leases to end");
  });

  it("a named jail keeps its range across restarts; another name gets another one", async (t) => {
    const j = stateDir(t);
    const one = await uidMap(j, ["-n", "ids-keep", "/", "keep", env.probe]);
    const again = await uidMap(j, ["-n", "ids-keep", "/", "keep", env.probe]);
    const other = await uidMap(j, ["-n", "ids-other", "/", "keep", env.probe]);
    assert.equal(one, again);
    assert.notEqual(one, other);
    await assertStateEmpty(j);
  });

  it("a root-owned tree keeps its range across runs, and jexec enters with the jail's map", async (t) => {
    const j = stateDir(t);
    const r = makeJailRoot(env.probe);
    defer(t, () => r.remove());
    const one = await uidMap(j, [r.path, "tree", "/probe"]);
    const run = startCli(["-j", j, r.path, "tree", "/probe", "hold"], { stdin: "pipe" });
    defer(t, () => run.stop());
    await run.waitOutput(/^ready/m);
    const e = await waitUntil(() => new Registry(j).list()[0], "the registry entry");
    assert.equal(e.ids?.uid, one);
    assert.equal(e.ids?.lease, "tree");
    const st = { env: { SYSJAIL_STATE_DIR: j } };
    const x = await runCli([String(e.jid), "/probe", "read", "/proc/self/uid_map"], { tool: "jexec", ...st });
    assert.equal(mapBase(probeLine(x)), one, show(x));
    const v = await runCli(["-v"], { tool: "jls", ...st });
    assert.match(v.stdout, new RegExp(`^ {8}Host ids ${one}-${one + pool().size - 1}, gids .* \\(tree\\)$|^ {8}Host ids ${one}-${one + pool().size - 1} \\(tree\\)$`, "m"), show(v));
    const vj = await runCli(["-v", "--json"], { tool: "jls", ...st });
    assert.match(vj.stdout, new RegExp(`"host_ids":\\{"uid":${one},`), show(vj));
    const s = await runCli(["-v", "-j", String(e.jid)], { tool: "sjls", ...st });
    assert.match(s.stdout, new RegExp(`host ids +${one}-${one + pool().size - 1}, gids \\d+-\\d+ \\(tree\\)`), show(s));
    const sj = await runCli(["--json"], { tool: "sjls", ...st });
    const listed = (JSON.parse(sj.stdout) as { jid: number; ids?: { uid: number; lease: string } }[]).find((x) => x.jid === e.jid);
    assert.equal(listed?.ids?.uid, one, show(sj));
    assert.equal(listed?.ids?.lease, "tree");
    run.closeStdin();
    assert.equal((await run.done).code, 0);
    assert.equal(await uidMap(j, [r.path, "tree", "/probe"]), one);
    await assertStateEmpty(j);
  });

  it("--idrange shares a range on purpose: a running jail's, a leased name's, a range base", async (t) => {
    const j = stateDir(t);
    const named = await uidMap(j, ["-n", "ids-share-src", "/", "share", env.probe]);
    assert.equal(await uidMap(j, ["--idrange", "ids-share-src", "/", "share", env.probe]), named, "a leased name");
    assert.equal(await uidMap(j, ["--idrange", String(named), "/", "share", env.probe]), named, "a range base");
    const run = startCli(["-j", j, "/", "share", env.probe, "hold"], { stdin: "pipe" });
    defer(t, () => run.stop());
    await run.waitOutput(/^ready/m);
    const e = await waitUntil(() => new Registry(j).list()[0], "the registry entry");
    assert.equal(await uidMap(j, ["--idrange", String(e.jid), "/", "share", env.probe]), e.ids?.uid, "a running jail's jid");
    run.closeStdin();
    await run.done;
    await assertStateEmpty(j);
  });

  it("bad idrange values are refused with one line (exit 64), and nothing is left", async (t) => {
    const j = stateDir(t);
    for (const v of ["no-such-jail-x", String(pool().start + 1), "0", "bad/value", "\u001b[2J"]) {
      const r = await sysjail(["-j", j, "--idrange", v, "/", "bad", env.probe, "pid"]);
      assertOneLineError(r, 64, /^sysjail: idrange /);
      assert.doesNotMatch(r.stderr, /\u001b/, "a control character printed raw");
    }
    await assertStateEmpty(j);
  });

  it("rootless: the map is the caller alone, and --idrange is refused (exit 64)", async (t) => {
    const nobody = makeNobody();
    defer(t, () => nobody.remove());
    const j = stateDir(t, NOBODY_UID);
    const r = await sysjail(["-j", j, "/", "rl", env.probe, "read", "/proc/self/uid_map"], { as: nobody });
    assert.match(probeLine(r), /^ok\s+0\s+65534\s+1$/, show(r));
    const bad = await sysjail(["-j", j, "--idrange", "x", "/", "rl", env.probe, "pid"], { as: nobody });
    assertOneLineError(bad, 64, /only root's jails have id ranges/);
    await assertStateEmpty(j);
  });
});
