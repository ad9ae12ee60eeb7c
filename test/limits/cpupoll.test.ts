// Issue 23: the monitor's cpu-time poll reads cgroup v2's cpu.stat (`cpuLimit NS FILE usage_usec
// 1000`: the number on the key's line, scaled), so a v2 cpu limit is the cgroup's, not RLIMIT_CPU.
// The real helper runs a jail whose cpuLimit points at a file the test wrote in cpu.stat's format.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { HelperRun, type HelperEvent } from "../../src/helper/launch.js";
import { prepare, rootFacts } from "../../src/jail/prepare.js";
import { op } from "../../src/plan/types.js";
import { baseSpec, validateSpec } from "../../src/spec/validate.js";
import { makeTempDir, removeTree } from "../helpers/tmp.js";

async function runWithCpuStat(t: { after: (fn: () => void) => void }, stat: string, command: string[], args: string[]): Promise<HelperEvent[]> {
  const dir = makeTempDir("sysjail-cpupoll-");
  t.after(() => removeTree(dir));
  const file = join(dir, "cpu.stat");
  writeFileSync(file, stat);
  const s = validateSpec(Object.assign(baseSpec("/", "cpupoll"), { command, env: { PATH: "/usr/bin:/bin" } }));
  const plan = (await prepare(s, { dryRun: true, root: rootFacts(s, { dryRun: true }) })).plan;
  plan.ops.push(op("cpuLimit", ["1000000", file, ...args]));
  const h = new HelperRun(plan, "ignore", false);
  const out: HelperEvent[] = [];
  for (let e = await h.next(); e; e = await h.next()) out.push(e);
  return out;
}

describe("the monitor's cpu-time poll", () => {
  it("cgroup v2 cpu.stat: usage_usec x 1000 over the limit ends the jail with reason cpu", async (t) => {
    const evs = await runWithCpuStat(t, "user_usec 1\nusage_usec 2000\nsystem_usec 1\n", ["/bin/sleep", "60"], ["usage_usec", "1000"]);
    const exit = evs.find((e) => e.ev === "exit");
    assert.ok(exit && exit.ev === "exit" && exit.reason === "cpu", JSON.stringify(evs));
  });
  it("under the limit (500 usec of 1 ms) the command ends on its own", async (t) => {
    const evs = await runWithCpuStat(t, "usage_usec 500\nuser_usec 999999\n", ["/bin/true"], ["usage_usec", "1000"]);
    const exit = evs.find((e) => e.ev === "exit");
    assert.ok(exit && exit.ev === "exit" && exit.reason === null && exit.cmdCode === 0, JSON.stringify(evs));
  });
  it("a key with no value or an odd argument count is refused as a bad plan", async (t) => {
    const evs = await runWithCpuStat(t, "usage_usec 1\n", ["/bin/true"], ["usage_usec"]);
    assert.ok(evs.some((e) => e.ev === "error" && e.step === "cpu-limit"), JSON.stringify(evs));
  });
});
