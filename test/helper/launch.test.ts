// The helper's side of the protocol, with the real helper: it refuses a plan of another protocol
// version, and a whole plan that does not repeat its prelude (the namespaces it already made, the
// root its init already built), before any command runs; a prelude followed by its plan starts
// the jail; a mount of the prelude that fails is reported.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HelperRun, stepError, type HelperEvent } from "../../src/helper/launch.js";
import { encodePlan } from "../../src/plan/encode.js";
import { prepare, rootFacts, type RootFacts } from "../../src/jail/prepare.js";
import { hostFacts } from "../../src/host/facts.js";
import { planFlags, planPrelude } from "../../src/plan/planner.js";
import { PlanFlag, type Plan } from "../../src/plan/types.js";
import { baseSpec, validateSpec } from "../../src/spec/validate.js";
import type { JailSpec } from "../../src/spec/types.js";
import { isRunning, procId } from "../helpers/proc.js";
import { chmodSync, cpSync, mkdirSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO } from "../helpers/paths.js";
import { defer, stateDir, stateFiles } from "../helpers/suite.js";
import { makeTempDir, removeTree } from "../helpers/tmp.js";
import { waitUntil } from "../helpers/wait.js";

function spec(): JailSpec {
  return validateSpec(Object.assign(baseSpec("/", "proto"), { command: ["/bin/true"], env: { PATH: "/usr/bin:/bin" } }));
}

/** Every event until the helper closes its channel. */
async function events(h: HelperRun): Promise<HelperEvent[]> {
  const out: HelperEvent[] = [];
  for (let e = await h.next(); e; e = await h.next()) out.push(e);
  return out;
}

/** One look at the root per spec (its id range: a dry run's guess, the same for prelude and plan). */
const roots = new WeakMap<JailSpec, RootFacts>();
function rootOf(s: JailSpec): RootFacts {
  let r = roots.get(s);
  if (!r) roots.set(s, (r = rootFacts(s, { dryRun: true })));
  return r;
}

async function wholePlan(s: JailSpec): Promise<Plan> {
  return (await prepare(s, { dryRun: true, root: rootOf(s) })).plan;
}

/** A prelude without the init phase (the clone flags and id maps only). */
function barePrelude(s: JailSpec): Plan {
  return planPrelude(s, hostFacts(), planFlags(s, { debug: false, detach: false }), undefined, rootOf(s).ids);
}

/** A prelude that carries the init phase, as the CLI and run() send it (src/jail/early.ts). */
function earlyPrelude(s: JailSpec): Plan {
  return planPrelude(s, hostFacts(), planFlags(s, { debug: false, detach: false }), rootOf(s));
}

describe("helper protocol", () => {
  it("a plan of another protocol version is refused with a message naming both versions", async () => {
    const bytes = encodePlan(await wholePlan(spec()));
    bytes.writeUInt32LE(999, 4);
    const h = new HelperRun("run", "ignore", false);
    (h.child!.stdio[3] as unknown as NodeJS.WritableStream).write(bytes);
    const evs = await events(h);
    const err = evs.find((e) => e.ev === "error");
    assert.ok(err && err.ev === "error", `no error event: ${JSON.stringify(evs)}`);
    assert.equal(err.step, "protocol");
    const e = stepError(err);
    assert.equal(e.code, "EPROTO");
    assert.match(e.message, /plan speaks 999, helper speaks \d+; rebuild the helper/);
    assert.ok(!evs.some((x) => x.ev === "started"));
  });

  it("a jail's plan (no oci flag) asking for an idmapped root is refused before the jail runs", async () => {
    // idmapped trees are sysjail-oci's alone (native/src/idmaptree.c): a jail's files never carry host root's ids
    const plan = await wholePlan(spec());
    plan.ops = plan.ops.map((o) => (o.op === "root" ? { ...o, args: [o.args[0]!, "i"] } : o));
    const h = new HelperRun(plan, "ignore", false);
    const evs = await events(h);
    const err = evs.find((e) => e.ev === "error");
    assert.ok(err && err.ev === "error" && err.step === "idmap" && err.errno === 1, JSON.stringify(evs));
    assert.ok(!evs.some((e) => e.ev === "started" || e.ev === "ready"), JSON.stringify(evs));
  });

  it("a prelude and then its whole plan start the jail", async () => {
    const s = spec();
    const h = new HelperRun("run", "ignore", false, barePrelude(s));
    h.sendPlan(await wholePlan(s));
    const evs = await events(h);
    assert.ok(evs.some((e) => e.ev === "started"), JSON.stringify(evs));
    const exit = evs.find((e) => e.ev === "exit");
    assert.ok(exit && exit.ev === "exit" && exit.cmdCode === 0 && !exit.setupFailed, JSON.stringify(evs));
  });

  it("a prelude with the init phase and then its whole plan start the jail, with the prelude's root and hostname", async () => {
    const s = validateSpec(Object.assign(baseSpec("/", "early"), { command: ["/bin/sh", "-c", 'test "$(hostname)" = early && test -e /dev/null && test ! -e /dev/sda'], env: { PATH: "/usr/bin:/bin" } }));
    const h = new HelperRun("run", "ignore", false, earlyPrelude(s));
    h.sendPlan(await wholePlan(s));
    const evs = await events(h);
    assert.ok(evs.some((e) => e.ev === "started"), JSON.stringify(evs));
    const exit = evs.find((e) => e.ev === "exit");
    assert.ok(exit && exit.ev === "exit" && exit.cmdCode === 0 && !exit.setupFailed, JSON.stringify(evs));
  });

  // [what differs, the change, whether the prelude carries the init phase, the refusal]
  const mismatches: [string, (p: Plan) => Plan["ops"], boolean, RegExp][] = [
    ["other id maps", (p) => p.ops.map((o) => (o.op === "uidMap" ? { ...o, args: ["0 1879048193 65535\n"] } : o)), false, /flags, clone flags and id maps/],
    ["other clone flags", (p) => p.ops.map((o) => (o.op === "clone" ? { ...o, args: [String(Number(o.args[0]) & ~0x40000000)] } : o)), false, /flags, clone flags and id maps/],
    ["another hostname", (p) => p.ops.map((o) => (o.op === "hostname" ? { ...o, args: ["other"] } : o)), true, /root, mounts, hostname and loopback/],
    ["a mount less", (p) => p.ops.filter((o) => !(o.op === "mask" && o.args[0] === "/proc/kcore")), true, /root, mounts, hostname and loopback/],
    ["a mount more", (p) => p.ops.flatMap((o) => (o.op === "pivot" ? [{ op: "mountFs" as const, args: ["tmpfs", "/mnt", "sudx", ""] }, o] : [o])), true, /root, mounts, hostname and loopback/],
    ["its mounts in another order", (p) => {
      const i = p.ops.findIndex((o) => o.op === "mask");
      const ops = [...p.ops];
      [ops[i], ops[i + 1]] = [ops[i + 1]!, ops[i]!];
      return ops;
    }, true, /root, mounts, hostname and loopback/],
  ];
  for (const [what, change, withInit, refusal] of mismatches) {
    it(`a whole plan with ${what} than its prelude${withInit ? "'s init phase" : ""} is refused, and its command never runs`, async () => {
      const s = spec();
      const h = new HelperRun("run", "ignore", false, withInit ? earlyPrelude(s) : barePrelude(s));
      const helper = procId(h.child!.pid!);
      const plan = await wholePlan(s);
      h.sendPlan({ ...plan, ops: change(plan) });
      const evs = await events(h);
      const err = evs.find((e) => e.ev === "error");
      assert.ok(err && err.ev === "error" && err.step === "plan", JSON.stringify(evs));
      assert.match(err.msg, /does not repeat its prelude/);
      assert.match(err.msg, refusal);
      assert.ok(!evs.some((e) => e.ev === "started" || e.ev === "ready"), "no jail started");
      await waitUntil(() => !isRunning(helper), "the helper to end", 5000);
    });
  }

  it("a mount of the prelude's init phase that fails is reported, and the command never runs", async (t) => {
    // a bind mount whose source is gone by the time the init mounts it (made here by skipping the
    // spec's validation): the init fails while the caller is still planning; the monitor reports it
    const dir = makeTempDir("sysjail-early-", 0o755);
    defer(t, () => removeTree(dir));
    const s = spec();
    s.mounts = [{ type: "bind", source: join(dir, "gone"), target: "/mnt", readonly: true, options: [] }];
    const h = new HelperRun("run", "ignore", false, earlyPrelude(s));
    const helper = procId(h.child!.pid!);
    h.sendPlan(await wholePlan(s));
    const evs = await events(h);
    const err = evs.find((e) => e.ev === "error");
    assert.ok(err && err.ev === "error" && err.step === "bind" && err.errno === 2, JSON.stringify(evs));
    assert.ok(!evs.some((e) => e.ev === "ready"), JSON.stringify(evs));
    const exit = evs.find((e) => e.ev === "exit");
    assert.ok(!exit || (exit.ev === "exit" && exit.setupFailed && !exit.cmd), JSON.stringify(evs));
    await waitUntil(() => !isRunning(helper), "the helper to end", 5000);
  });

  it("a whole plan with other header flags than its prelude is refused", async () => {
    const s = spec();
    const h = new HelperRun("run", "ignore", false, barePrelude(s));
    const plan = await wholePlan(s);
    h.sendPlan({ ...plan, flags: plan.flags | PlanFlag.persist });
    const evs = await events(h);
    assert.ok(evs.some((e) => e.ev === "error" && e.step === "plan"), JSON.stringify(evs));
    assert.ok(!evs.some((e) => e.ev === "started"));
  });

  it("a helper built for another protocol is named as such, with what fixes it, and nothing is left", (t) => {
    // a copy of the installed tool whose helper is an older build: it refuses the plan's protocol
    // and exits at once, before the caller has written the whole plan
    const pkg = makeTempDir("sysjail-oldhelper-");
    defer(t, () => removeTree(pkg));
    cpSync(join(REPO, "bin"), join(pkg, "bin"), { recursive: true });
    cpSync(join(REPO, "build", "bin"), join(pkg, "build", "bin"), { recursive: true });
    mkdirSync(join(pkg, "native", "build"), { recursive: true });
    const fake = join(pkg, "native", "build", "sysjail-helper");
    writeFileSync(fake, `#!/bin/sh
if [ "$1" = "--version" ]; then echo "sysjail-helper protocol 3"; exit 0; fi
printf '{"ev":"error","op":-1,"step":"protocol","errno":71,"path":"","msg":"protocol mismatch: plan speaks 4, helper speaks 3"}\\n' >&3
exit 70
`);
    chmodSync(fake, 0o755);
    const j = stateDir(t);
    const r = spawnSync(process.execPath, [join(pkg, "bin", "sysjail.js"), "-j", j, "/", "old", "/bin/true"], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 70, r.stderr);
    const lines = r.stderr.split("\n").filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^sysjail: protocol mismatch: .*helper speaks 3.*; rebuild the helper with `npm rebuild sysjail`$/);
    assert.deepEqual(stateFiles(j), []);
  });
});
