// The frame of a jail test file: build the probe once, give each test a private state directory
// and cleanup that runs on failure too, and check after the file that the host was not harmed.
import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, type TestContext } from "node:test";
import { hostname } from "node:os";
import { stopAllCli } from "./cli.js";
import { NOBODY_GID, NOBODY_UID, requireRoot } from "./nobody.js";
import { buildProbe } from "./probe.js";
import { hostNs } from "./proc.js";
import { filesBelow, makeOwnedDir, makeTempDir, removeAllTemp, removeTree } from "./tmp.js";
import { waitUntil } from "./wait.js";
import { cleanUpAfterMonitor } from "../../src/jail/orphan.js";
import { Registry } from "../../src/registry/store.js";

export interface CoreEnv {
  /** Host path of the built probe (world-executable). */
  probe: string;
  /** The runner's namespace links, for the probe's guard. */
  ns: ReturnType<typeof hostNs>;
  /** The host's hostname when the file started. */
  hostname: string;
}

/** Registers the file's before/after hooks and returns the environment they fill in. */
export function coreSuite(): CoreEnv {
  const env = {} as CoreEnv;
  before(() => {
    requireRoot();
    env.probe = buildProbe();
    env.ns = hostNs();
    env.hostname = hostname();
  });
  after(async () => {
    const stopped = await stopAllCli();
    const problems: string[] = [];
    if (env.hostname && hostname() !== env.hostname) {
      const now = hostname();
      spawnSync("hostname", [env.hostname]);
      problems.push(`the host's hostname changed from ${env.hostname} to ${now} (restored)`);
    }
    try {
      removeAllTemp();
    } catch (e) {
      problems.push((e as Error).message);
    }
    if (problems.length) throw new Error(problems.join("; "));
    if (stopped) process.emitWarning(`${stopped} sysjail run(s) were still alive after the tests and were killed`);
  });
  return env;
}

const stacks = new WeakMap<TestContext, (() => unknown)[]>();

/** Runs FN at the end of the test, whether it passed or failed; the last deferred runs first
 * (like a stack of try/finally). Every function runs even if an earlier one throws. */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const s: (() => unknown)[] = [];
    stacks.set(t, s);
    stack = s;
    t.after(async () => {
      const errors: unknown[] = [];
      while (s.length) {
        try {
          await s.pop()!();
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length) throw errors.length === 1 ? errors[0] : new AggregateError(errors, "cleanup failed");
    });
  }
  stack.push(fn);
}

/** A private state directory for one test (-j DIR), removed after it. For the unprivileged
 * runner, pass its uid: the directory is then owned by it. Its cleanup runs after the test's
 * own (which stop its runs): a jail still recorded there then lost both its monitor and Node to
 * a failing test's SIGKILL, and its cgroups are removed as its caller would have. */
export function stateDir(t: TestContext, owner?: number): string {
  const d = owner === undefined ? makeTempDir("sysjail-state-") : makeOwnedDir(owner, owner === NOBODY_UID ? NOBODY_GID : owner, "sysjail-state-", 0o755);
  defer(t, async () => {
    await cleanUpRecorded(d);
    removeTree(d);
  });
  return d;
}

/** What the monitors of the jails recorded in state directory DIR did not live to remove. */
async function cleanUpRecorded(dir: string): Promise<void> {
  let files: string[];
  try {
    files = readdirSync(join(dir, "jails"));
  } catch {
    return;
  }
  const registry = new Registry(dir);
  for (const f of files) {
    const e = /^(\d+)\.json$/.test(f) ? registry.read(Number(f.slice(0, -5))) : undefined;
    if (e) await cleanUpAfterMonitor(e, registry);
  }
}

/** Files of a state directory that describe jails (registry entries, reservations, name locks,
 * anything else but the compiled-policy cache under cache/, and the last-jid counter, both kept on purpose). */
export function stateFiles(dir: string): string[] {
  return filesBelow(dir).filter((f) => !f.startsWith("cache/") && f !== "lastjid");
}

/** Asserts that a state directory holds nothing about any jail right now (use it right after
 * sysjail returned, to check that a jail's entry is gone when its sysjail is). */
export function assertStateEmptyNow(dir: string, what = "when sysjail returned"): void {
  assert.deepEqual(stateFiles(dir), [], `state directory ${dir} is not empty ${what}`);
}

/** Asserts that a state directory holds nothing about any jail once the runs that used it are
 * over (allowing a jail's monitor a moment to finish its cleanup after sysjail returned). */
export async function assertStateEmpty(dir: string, what = "after the jail ended"): Promise<void> {
  await waitUntil(() => stateFiles(dir).length === 0, `state directory ${dir} to empty`, 3_000).catch(() => undefined);
  assert.deepEqual(stateFiles(dir), [], `state directory ${dir} is not empty ${what}`);
}
