// Every rule of the default policy inside real jails: `sysjail [--allow-*] [--policy FILE] ROOT
// HOSTNAME /probe ...` with the static probe in a fresh root per test, on x86_64 natively, on i386
// through int $0x80 and on x32. Needs x86_64 (skipped elsewhere); fails without root, gcc or a
// sysjail that runs the probe.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildFixture, CASES, ROOT } from "./probe-cases.js";

const SYSJAIL = join(ROOT, "bin", "sysjail.js");
const skip = process.arch !== "x64" ? "needs an x86_64 host" : undefined;

interface Run { out: string; status: number | null }

function sysjail(args: string[]): Run {
  const r = spawnSync(process.execPath, [SYSJAIL, ...args], { encoding: "utf8", timeout: 20_000, stdio: ["ignore", "pipe", "pipe"] });
  return { out: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim(), status: r.status };
}

describe("default policy in real jails (sysjail + probe)", { skip }, () => {
  let probe: string | undefined;

  /** A fresh jail root: the probe and empty proc, dev, tmp; removed after `fn`, even when it throws. */
  function withRoot<T>(fn: (root: string) => T): T {
    const root = mkdtempSync(join(tmpdir(), "sysjail-root-"));
    try {
      chmodSync(root, 0o755);
      for (const d of ["proc", "dev", "tmp", "etc"]) mkdirSync(join(root, d));
      chmodSync(join(root, "tmp"), 0o1777);
      copyFileSync(probe!, join(root, "probe"));
      chmodSync(join(root, "probe"), 0o755);
      return fn(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  const jailed = (flags: string[], args: string[]) => withRoot((root) => sysjail([...flags, root, "pb", "/probe", ...args]));

  before(() => {
    if (process.getuid?.() !== 0) throw new Error("the seccomp jail tests start jails as root: run them as root");
    if (!existsSync(SYSJAIL)) throw new Error(`${SYSJAIL} is missing`);
    probe = buildFixture("probe");
  });
  after(() => { if (probe) rmSync(join(probe, ".."), { recursive: true, force: true }); });

  for (const c of CASES) {
    it(`${c.name}${c.flags ? ` (${c.flags.join(" ")})` : ""}: ${c.args.join(" ")}`, () => {
      const r = jailed(c.flags ?? [], c.args.map((a) => a.replace("{tmp}", "/tmp")));
      assert.match(r.out, c.inJail ?? c.want, `sysjail said (exit ${r.status}): ${r.out}`);
    });
  }

  it("adds a --policy file to the default policy", () => {
    const dir = mkdtempSync(join(tmpdir(), "sysjail-pol-"));
    try {
      const f = join(dir, "extra.policy");
      writeFileSync(f, "# this jail may not ask for its parent\ngetppid errno EPERM\nkeyctl allow\n");
      assert.match(jailed(["--policy", f], ["sys", "110"]).out, /^err EPERM$/);
      assert.match(jailed(["--policy", f], ["i386", "64"]).out, /^err EPERM$/);
      assert.doesNotMatch(jailed(["--policy", f], ["sys", "250", "0", "0", "0"]).out, /ENOSYS/);
      assert.match(jailed(["--policy", f], ["sys", "39"]).out, /^ok \d+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a bad --policy file with its file:line:column, exit 64", () => {
    const dir = mkdtempSync(join(tmpdir(), "sysjail-pol-"));
    try {
      const f = join(dir, "bad.policy");
      writeFileSync(f, "# a comment\n@@@ not a rule !!!\n");
      const r = jailed(["--policy", f], ["sys", "39"]);
      assert.equal(r.status, 64);
      assert.match(r.out, /bad\.policy:2:1: unexpected character near '@@@'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--policy-dump lists the program for every ABI", () => {
    const r = sysjail(["--policy-dump"]);
    assert.equal(r.status, 0);
    assert.ok(r.out.split("\n").length > 20);
    assert.match(r.out, /x86_64/);
    assert.match(r.out, /i386/);
    assert.match(r.out, /x32/);
  });

  // No timed assertion (docs/TESTING.md): that getppid is a cached allow, which is what makes it
  // cost seccomp's entry work only, is checked exactly by isCachedAllow (default-policy.test.ts).
  it("runs a million getppid calls in a jail (the time per call is a diagnostic)", (t) => {
    const ns = (out: string) => Number(/^ok ([\d.]+)/m.exec(out)?.[1] ?? NaN);
    let bare = Infinity, jail = Infinity;
    for (let i = 0; i < 3; i++) {
      bare = Math.min(bare, ns(execFileSync(probe!, ["loop", "1000000"], { encoding: "utf8" })));
      jail = Math.min(jail, ns(jailed([], ["loop", "1000000"]).out));
    }
    t.diagnostic(`getppid: ${bare} ns bare, ${jail} ns in a jail (${(jail / bare).toFixed(3)}x)`);
    assert.ok(Number.isFinite(bare) && Number.isFinite(jail), `the loop did not report in a jail or bare: ${bare} ns, ${jail} ns`);
  });
});
