// The helper's side of the protocol, with the real helper: it refuses a plan of another protocol
// version, and a whole plan that does not repeat its prelude (the namespaces it already made),
// before any jail starts; a prelude followed by its plan starts the jail.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HelperRun, stepError, type HelperEvent } from "../../src/helper/launch.js";
import { encodePlan } from "../../src/plan/encode.js";
import { prepare } from "../../src/jail/prepare.js";
import { hostFacts } from "../../src/host/facts.js";
import { planFlags, planPrelude } from "../../src/plan/planner.js";
import { PlanFlag, type Plan } from "../../src/plan/types.js";
import { baseSpec, validateSpec } from "../../src/spec/validate.js";
import type { JailSpec } from "../../src/spec/types.js";
import { isRunning, procId } from "../helpers/proc.js";
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

async function wholePlan(s: JailSpec): Promise<Plan> {
  return (await prepare(s, { dryRun: true })).plan;
}

describe("helper protocol", () => {
  it("a plan of another protocol version is refused with a message naming both versions", async () => {
    const bytes = encodePlan(await wholePlan(spec()));
    bytes.writeUInt32LE(999, 4);
    const h = new HelperRun("run", "ignore", false);
    (h.child.stdio[3] as unknown as NodeJS.WritableStream).write(bytes);
    const evs = await events(h);
    const err = evs.find((e) => e.ev === "error");
    assert.ok(err && err.ev === "error", `no error event: ${JSON.stringify(evs)}`);
    assert.equal(err.step, "protocol");
    const e = stepError(err);
    assert.equal(e.code, "EPROTO");
    assert.match(e.message, /plan speaks 999, helper speaks \d+; rebuild the helper/);
    assert.ok(!evs.some((x) => x.ev === "started"));
  });

  it("a prelude and then its whole plan start the jail", async () => {
    const s = spec();
    const h = new HelperRun("run", "ignore", false, planPrelude(s, hostFacts(), planFlags(s, { debug: false, detach: false })));
    h.sendPlan(await wholePlan(s));
    const evs = await events(h);
    assert.ok(evs.some((e) => e.ev === "started"), JSON.stringify(evs));
    const exit = evs.find((e) => e.ev === "exit");
    assert.ok(exit && exit.ev === "exit" && exit.cmdCode === 0 && !exit.setupFailed, JSON.stringify(evs));
  });

  for (const [what, change] of [
    ["other id maps", (p: Plan) => p.ops.map((o) => (o.op === "uidMap" ? { ...o, args: ["0 1879048193 65535\n"] } : o))],
    ["other clone flags", (p: Plan) => p.ops.map((o) => (o.op === "clone" ? { ...o, args: [String(Number(o.args[0]) & ~0x40000000)] } : o))],
  ] as const) {
    it(`a whole plan with ${what} than its prelude is refused, before any jail starts`, async () => {
      const s = spec();
      const h = new HelperRun("run", "ignore", false, planPrelude(s, hostFacts(), planFlags(s, { debug: false, detach: false })));
      const helper = procId(h.child.pid!);
      const plan = await wholePlan(s);
      h.sendPlan({ ...plan, ops: change(plan) });
      const evs = await events(h);
      const err = evs.find((e) => e.ev === "error");
      assert.ok(err && err.ev === "error" && err.step === "plan", JSON.stringify(evs));
      assert.match(err.msg, /does not repeat its prelude/);
      assert.ok(!evs.some((e) => e.ev === "started"), "no jail started");
      await waitUntil(() => !isRunning(helper), "the helper to end", 5000);
    });
  }

  it("a whole plan with other header flags than its prelude is refused", async () => {
    const s = spec();
    const h = new HelperRun("run", "ignore", false, planPrelude(s, hostFacts(), planFlags(s, { debug: false, detach: false })));
    const plan = await wholePlan(s);
    h.sendPlan({ ...plan, flags: plan.flags | PlanFlag.persist });
    const evs = await events(h);
    assert.ok(evs.some((e) => e.ev === "error" && e.step === "plan"), JSON.stringify(evs));
    assert.ok(!evs.some((e) => e.ev === "started"));
  });
});
