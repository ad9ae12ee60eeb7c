// The compiled default policy on the real kernel, without a jail: fixtures/seccomp-exec loads the
// filter exactly as the helper does and runs the probe under it as host root. Host root holds
// every capability, so an errno here comes from the filter, not from a capability check.
// Needs x86_64 (skipped elsewhere); fails without root or gcc.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { defaultPolicy, type PolicyOptions } from "../../src/spec/types.js";
import { compileJailFilter } from "../../src/seccomp/index.js";
import { buildFixture, CASES, FLAG_OPTIONS } from "./probe-cases.js";

const skip = process.arch !== "x64" ? "needs an x86_64 host" : undefined;

describe("default policy on the kernel (seccomp-exec + probe, no jail)", { skip }, () => {
  let probe: string | undefined, loader: string | undefined;
  const dir = mkdtempSync(join(tmpdir(), "sysjail-kernel-"));
  const filters = new Map<string, string>();

  before(() => {
    if (process.getuid?.() !== 0) throw new Error("the seccomp kernel tests load filters as host root: run them as root");
    probe = buildFixture("probe");
    loader = buildFixture("seccomp-exec");
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const f of [probe, loader]) if (f) rmSync(join(f, ".."), { recursive: true, force: true });
  });

  /** The filter file for a set of sysjail flags. */
  function filterFor(flags: string[] = []): string {
    const key = [...flags].sort().join(" ");
    let file = filters.get(key);
    if (!file) {
      const opts: PolicyOptions = { ...defaultPolicy() };
      for (const f of flags) (opts as unknown as Record<string, boolean>)[FLAG_OPTIONS[f]!] = true;
      file = join(dir, `filter-${filters.size}.bpf`);
      writeFileSync(file, compileJailFilter(opts, "x64").program);
      filters.set(key, file);
    }
    return file;
  }

  function underFilter(file: string, args: string[]): string {
    const r = spawnSync(loader!, [file, "0", probe!, ...args], { encoding: "utf8", timeout: 10_000 });
    return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  }

  for (const c of CASES) {
    it(`${c.name}${c.flags ? ` (${c.flags.join(" ")})` : ""}: ${c.args.join(" ")}`, () => {
      const out = underFilter(filterFor(c.flags), c.args.map((a) => a.replace("{tmp}", dir)));
      assert.match(out, c.onHost ?? c.want, `the probe said: ${out}`);
    });
  }

  it("i386 and x32 really reach the kernel from this host (so the cases above mean something)", () => {
    assert.match(execFileSync(probe!, ["i386", "20"], { encoding: "utf8" }), /^ok \d+/);
  });

  // No timed assertion (docs/TESTING.md): the guarantee behind the cost, cached calls, is checked
  // exactly by isCachedAllow in default-policy.test.ts; the times are a diagnostic.
  it("runs getppid loops bare, under allow-all and under the default policy (times as a diagnostic)", (t) => {
    const allowAll = join(dir, "allow.bpf");
    writeFileSync(allowAll, Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]));
    const ns = (cmd: string[]) => Number(/^ok ([\d.]+)/.exec(execFileSync(cmd[0]!, cmd.slice(1), { encoding: "utf8" }))?.[1]);
    const best = { bare: Infinity, allow: Infinity, policy: Infinity };
    for (let i = 0; i < 7; i++) {
      best.bare = Math.min(best.bare, ns([probe!, "loop", "300000"]));
      best.allow = Math.min(best.allow, ns([loader!, allowAll, "0", probe!, "loop", "300000"]));
      best.policy = Math.min(best.policy, ns([loader!, filterFor(), "0", probe!, "loop", "300000"]));
    }
    t.diagnostic(`getppid: ${best.bare} ns bare, ${best.allow} ns under allow-all, ${best.policy} ns under the default policy`);
    assert.ok(Object.values(best).every(Number.isFinite), `a loop did not report: ${JSON.stringify(best)}`);
  });
});
