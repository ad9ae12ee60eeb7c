// Issue 17 item 1: nothing a jail creates or changes runs on the host with more than the jail
// root's host identity (chmod, open modes, chown, setxattr security.capability, rename, copy),
// on root-owned, user-owned, adopted and `/` roots; setuid files of an adopted tree are the
// jail's own inside.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  assertStateEmpty, coreSuite, defer, makeJailRoot, makeNobody, makeTempDir, NOBODY_UID, probeLine, removeTree,
  show, stateDir, sysjail,
} from "../helpers/index.js";
import { hostPrivileged, mapBase, pool, privateLeases, sjadopt } from "./helpers.js";

const env = coreSuite();
privateLeases();
const PASSWD = "root:x:0:0:root:/:/bin/sh\njailer:x:1234:1234::/:/bin/sh\n";
const GROUP = "root:x:0:\njailer:x:1234:\n";

/** The attacker's moves, as jail root, each a separate run of the same jail (ARGS.pre names it
 * where its range would otherwise change between runs): DIR is a directory jail root may create
 * in, PROBE the program it copies and runs, OWNED a file it does not own. Returns the probe lines
 * by move. */
async function attack(j: string, args: { root: string; probe: string; dir: string; owned: string; as?: ReturnType<typeof makeNobody>; pre?: string[] }): Promise<Record<string, string>> {
  const run = async (...cmd: string[]) => probeLine(await sysjail(["-j", j, ...(args.pre ?? []), args.root, "attack", args.probe, ...cmd], args.as ? { as: args.as } : {}));
  const d = args.dir;
  const out: Record<string, string> = {};
  out["creat 06755"] = await run("creat", `${d}/made`, "6755");
  out["copy program"] = await run("copy", args.probe, `${d}/s`);
  out["chown 0:0"] = await run("chown", `${d}/s`, "0", "0");
  out["chmod 6755"] = await run("chmod", `${d}/s`, "6755");
  out["setcap v2"] = await run("setcap", `${d}/s`, "2");
  out["copy"] = await run("copy", `${d}/s`, `${d}/copied`);
  out["setcap v3 rootid 0"] = await run("setcap", `${d}/copied`, "3", "0");
  out["chown owned"] = await run("chown", args.owned, "0", "0");
  out["chmod owned 4755"] = await run("chmod", args.owned, "4755");
  out["rename"] = await run("rename", `${d}/s`, `${d}/renamed`);
  return out;
}

/** Host control: what euid the file gives uid 65534 on the host (never 0). */
function hostEuid(file: string): string {
  const p = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", file, "ids"], { encoding: "utf8" });
  return p.stdout.trim();
}

describe("no host-privileged file from a jail", { concurrency: 2 }, () => {
  it("root-owned root: jail root sees it as nobody's, and what it makes in /tmp is its range's", async (t) => {
    const j = stateDir(t);
    const r = makeJailRoot(env.probe, { passwd: PASSWD, group: GROUP });
    defer(t, () => r.remove());
    const out = await attack(j, { root: r.path, probe: "/probe", dir: "/tmp", owned: "/probe" });
    assert.match(out["chown owned"]!, /^err EPERM$/, JSON.stringify(out));
    assert.match(out["chmod owned 4755"]!, /^err EPERM$/, JSON.stringify(out));
    for (const k of ["creat 06755", "copy program", "chown 0:0", "chmod 6755", "setcap v2", "copy", "setcap v3 rootid 0", "rename"]) {
      assert.match(out[k]!, /^ok/, `control: jail root may do "${k}" in its 1777 /tmp: ${JSON.stringify(out)}`);
    }
    const root = probeLine(await sysjail(["-j", j, r.path, "attack", "/probe", "creat", "/planted", "4755"]));
    assert.match(root, /^err E(ACCES|PERM)$/, "a root-owned directory is not jail root's");
    assert.ok(!existsSync(r.at("planted")));
    assert.deepEqual(hostPrivileged(env.probe, r.path), []);
    const st = statSync(r.at("tmp/renamed"));
    assert.ok(st.uid >= pool().start && st.gid >= pool().start, `owned by the jail's range on the host: ${st.uid}:${st.gid}`);
    assert.doesNotMatch(hostEuid(r.at("tmp/renamed")), /^ok \d+ 0 /, "uid 65534 gains host root through the file");
    assert.equal(statSync(r.at("probe")).uid, 0, "the root-owned probe kept its owner");
    // host root's setuid file is nobody's inside: even without no_new_privs it grants nothing
    copyFileSync(env.probe, r.at("hostsuid"));
    chmodSync(r.at("hostsuid"), 0o4755);
    const h = await sysjail(["-j", j, "--allow-setuid", "-U", "jailer", r.path, "attack", "/hostsuid", "ids"]);
    assert.equal(probeLine(h), "ok 1234 1234 1234 1234 1234 1234", show(h));
    await assertStateEmpty(j);
  });

  it("`/` root: what jail root makes in a host 1777 directory belongs to its range", async (t) => {
    const j = stateDir(t);
    const dir = makeTempDir("sysjail-ids-slash-", 0o1777, "/var/tmp");
    defer(t, () => removeTree(dir));
    chmodSync(dir, 0o1777);
    const owned = join(dir, "hostfile");
    copyFileSync(env.probe, owned);
    const out = await attack(j, { root: "/", probe: env.probe, dir, owned, pre: ["-n", "ids-attack-slash"] });
    assert.match(out["chown owned"]!, /^err EPERM$/, JSON.stringify(out));
    assert.match(out["chmod owned 4755"]!, /^err EPERM$/, JSON.stringify(out));
    assert.match(out["rename"]!, /^ok/, JSON.stringify(out));
    assert.deepEqual(hostPrivileged(env.probe, dir), []);
    assert.doesNotMatch(hostEuid(join(dir, "renamed")), /^ok \d+ 0 /, "uid 65534 gains host root through the file");
    assert.ok(statSync(join(dir, "renamed")).uid >= pool().start);
    assert.equal(statSync(owned).mode & 0o7777, 0o755, "the host's file kept its mode");
    await assertStateEmpty(j);
  });

  it("user-owned root (rootless): jail root is the user, so are its files", async (t) => {
    const nobody = makeNobody();
    defer(t, () => nobody.remove());
    const j = stateDir(t, NOBODY_UID);
    const r = makeJailRoot(env.probe, { owner: { uid: NOBODY_UID, gid: NOBODY_UID } });
    defer(t, () => r.remove());
    const out = await attack(j, { root: r.path, probe: "/probe", dir: "", owned: "/etc/marker", as: nobody });
    assert.match(out["rename"]!, /^ok/, JSON.stringify(out));
    assert.deepEqual(hostPrivileged(env.probe, r.path), []);
    const st = statSync(r.at("renamed"));
    assert.equal(st.uid, NOBODY_UID);
    assert.match(hostEuid(r.at("renamed")), /^ok 65534 65534 /);
    await assertStateEmpty(j);
  });

  it("adopted root: setuid files are the jail's own inside and an unprivileged id's on the host", async (t) => {
    const j = stateDir(t);
    const r = makeJailRoot(env.probe, { passwd: PASSWD, group: GROUP });
    defer(t, () => r.remove());
    copyFileSync(env.probe, r.at("suid"));
    chmodSync(r.at("suid"), 0o4755); // setuid root, before adoption
    const a = sjadopt(["--json", r.path]);
    assert.equal(a.code, 0, show(a));
    const { uid: base } = JSON.parse(a.stdout) as { uid: number };
    assert.ok(base >= pool().start && (base - pool().start) % pool().size === 0, a.stdout);
    const st = statSync(r.at("suid"));
    assert.equal(st.uid, base);
    assert.equal(st.mode & 0o7777, 0o4755, "the setuid bit survived the shift");
    assert.match(hostEuid(r.at("suid")), new RegExp(`^ok 65534 ${base} `), "on the host the file runs as the range's first uid");
    const m = await sysjail(["-j", j, r.path, "adopted", "/probe", "read", "/proc/self/uid_map"]);
    assert.equal(mapBase(probeLine(m)), base, `the jail runs on the tree's range: ${show(m)}`);
    const inside = await sysjail(["-j", j, r.path, "adopted", "/probe", "stat", "/suid", "/"]);
    const lines = inside.stdout.trim().split("\n");
    assert.match(lines[0]!, /^ok 104755 0 0 /, `inside, setuid jail root: ${show(inside)}`);
    assert.match(lines[1]!, /^ok \d+ 0 0 /, `inside, jail root owns its tree: ${show(inside)}`);
    // with no_new_privs (the default) a user's ids stay; --allow-setuid lets the setuid bit work,
    // as far as jail root: euid 0 in the jail, without the capabilities the jail never has
    assert.equal(probeLine(await sysjail(["-j", j, "-U", "jailer", r.path, "adopted", "/suid", "ids"])), "ok 1234 1234 1234 1234 1234 1234");
    assert.equal(probeLine(await sysjail(["-j", j, "--allow-setuid", "-U", "jailer", r.path, "adopted", "/suid", "ids"])), "ok 1234 0 0 1234 1234 1234");
    const capsOf = async (...pre: string[]) => probeLine(await sysjail(["-j", j, ...pre, r.path, "adopted", "/suid", "status", "CapEff"]));
    assert.equal(await capsOf("--allow-setuid", "-U", "jailer"), await capsOf(), "setuid jail root gets what jail root gets, no more");
    assert.equal(probeLine(await sysjail(["-j", j, "--allow-setuid", r.path, "adopted", "/probe", "status", "NoNewPrivs"])), "ok 0");
    assert.equal(probeLine(await sysjail(["-j", j, "--allow-setuid", "-U", "jailer", r.path, "adopted", "/probe", "status", "Seccomp"])), "ok 2", "the filter is in without no_new_privs");
    const out = await attack(j, { root: r.path, probe: "/probe", dir: "", owned: "/nonexistent" });
    assert.match(out["rename"]!, /^ok/, `jail root writes its adopted tree: ${JSON.stringify(out)}`);
    assert.match(out["setcap v2"]!, /^ok/, JSON.stringify(out));
    assert.match(hostEuid(r.at("renamed")), new RegExp(`^ok 65534 ${base} `));
    assert.deepEqual(hostPrivileged(env.probe, r.path), []);
    assert.equal(statSync(r.at("renamed")).uid, base);
    await assertStateEmpty(j);
  });
});
