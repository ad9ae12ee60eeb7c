// Helpers of the jail.conf tests: the built tools run as a user would (`node bin/jail.js`), a
// private state directory per test whose jails are always removed, and jail roots holding the
// static probe and /bin/sh (dash and the libraries it loads) so that hooks can run in the jail.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestContext } from "node:test";
import { removeTree } from "../helpers/tmp.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The project root (tests run from build/test/jailconf). */
export const ROOT = join(here, "..", "..", "..");
const FIXTURE = join(ROOT, "test", "jailconf", "fixtures", "probe.c");

/** The tools under test. */
export type Tool = "jail" | "jls" | "jexec";

/** A tool's result. */
export interface Run { code: number | null; stdout: string; stderr: string }

/** Throws unless the tools and the helper are built and we are root. */
export function requireBuilt(): void {
  for (const t of ["jail", "jls", "jexec"]) {
    if (!existsSync(join(ROOT, "build", "bin", `${t}.mjs`))) throw new Error(`build/bin/${t}.mjs is missing: run npm run build first`);
  }
  if (!existsSync(join(ROOT, "native", "build", "sysjail-helper"))) throw new Error("the helper is not built: run npm run build first");
  if (process.getuid?.() !== 0) throw new Error("the jail.conf tests create jails as root: run them as root");
}

/** A directory under the system temp dir, mode 0755 (jail roots must be reachable from jails). */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  return d;
}

let probeBin: string | undefined;
/** test/jailconf/fixtures/probe.c, compiled with gcc -static once per process. */
export function probe(): string {
  if (probeBin) return probeBin;
  const dir = tempDir("sysjail-jcprobe-");
  const out = join(dir, "probe");
  const r = spawnSync("gcc", ["-O2", "-static", "-o", out, FIXTURE], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot build the test probe: ${r.stderr}`);
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  probeBin = out;
  return out;
}

/** A jail root: /probe, /bin/sh (dash and its libraries) and empty proc, dev, tmp, etc, sys. */
export function makeRoot(base: string, name = "root"): string {
  const r = join(base, name);
  // the mount points the tests use exist, as FreeBSD requires: jail root cannot create them in a
  // root-owned tree, which is nobody's inside (docs/JAILS.md, Host ids and setuid files)
  for (const d of ["proc", "dev", "tmp", "etc", "sys", "bin", "log", "share", "data", "scratch"]) mkdirSync(join(r, d), { recursive: true });
  chmodSync(r, 0o755);
  chmodSync(join(r, "tmp"), 0o1777);
  copyFileSync(probe(), join(r, "probe"));
  chmodSync(join(r, "probe"), 0o755);
  copyFileSync("/bin/dash", join(r, "bin", "sh"));
  chmodSync(join(r, "bin", "sh"), 0o755);
  const ldd = spawnSync("ldd", ["/bin/dash"], { encoding: "utf8" }).stdout ?? "";
  for (const lib of ldd.match(/\/[^ \t\n]+/g) ?? []) {
    mkdirSync(join(r, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(r, lib));
  }
  return r;
}

/** One test's world: a base directory, a state directory, and cleanup of every jail made in it. */
export class Scope {
  readonly base: string;
  readonly state: string;
  constructor() {
    this.base = tempDir("sysjail-jc-");
    this.state = join(this.base, "state");
    mkdirSync(this.state, { mode: 0o755 });
  }

  /** Runs a tool with this scope's state directory (and extra environment). */
  run(tool: Tool, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000, native = false): Run {
    const e: NodeJS.ProcessEnv = { ...process.env, SYSJAIL_STATE_DIR: this.state, ...env };
    delete e.NODE_TEST_CONTEXT;
    const cmd = native ? [join(ROOT, "native", "build", tool)] : [process.execPath, join(ROOT, "bin", `${tool}.js`)];
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), ...args], {
      env: e, encoding: "utf8", input: "", timeout: timeoutMs, cwd: this.base,
    });
    return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** jail ARGS. */
  jail(...args: string[]): Run {
    return this.run("jail", args);
  }

  /** Writes a file in the base directory; returns its path. */
  file(name: string, text: string): string {
    const p = join(this.base, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    return p;
  }

  /** Registry files left in the state directory (anything but the policy cache). */
  leftovers(): string[] {
    const out: string[] = [];
    for (const d of ["jails", "names"]) {
      try {
        out.push(...readdirSync(join(this.state, d)).map((f) => `${d}/${f}`));
      } catch {
        /* never created */
      }
    }
    return out;
  }

  /** Removes every jail of the scope without hooks, then the files. */
  cleanup(): void {
    this.run("jail", ["-R", "*"]);
    removeTree(this.base);
  }
}

/** A scope for one test, cleaned up when the test ends, whatever happened. */
export function scope(t: TestContext): Scope {
  const s = new Scope();
  t.after(() => s.cleanup());
  return s;
}

/** A base directory holding a jail root and a state directory for root or, with NOBODY, owned by
 * 65534; run() runs a native tool as that user with that state directory; the base and every jail
 * made in it are removed when the test ends, whatever happened. */
export function ownerScope(t: TestContext, prefix: string, nobody: boolean) {
  const base = tempDir(prefix);
  const state = join(base, "state");
  mkdirSync(state, { mode: 0o700 });
  const root = makeRoot(base);
  if (nobody) {
    chownSync(base, 65534, 65534);
    spawnSync("chown", ["-R", "65534:65534", state, root]);
  }
  const run = (tool: Tool, args: string[]): Run => {
    const bin = join(ROOT, "native", "build", tool);
    const pre = nobody ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "-u", "XDG_RUNTIME_DIR", "HOME=/", `SYSJAIL_STATE_DIR=${state}`] : [];
    const r = spawnSync(pre[0] ?? bin, [...pre.slice(1), ...(nobody ? [bin] : []), ...args], {
      encoding: "utf8", input: "", timeout: 60_000, cwd: "/", env: { ...process.env, SYSJAIL_STATE_DIR: state },
    });
    return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  };
  const leftovers = (): string[] => {
    try {
      return readdirSync(join(state, "jails"));
    } catch {
      return [];
    }
  };
  t.after(() => {
    run("jail", ["-R", "*"]);
    removeTree(base);
  });
  return { base, state, root, run, leftovers };
}

/** The host's mount table now. */
export function hostMountinfo(): string {
  return readFileSync("/proc/self/mountinfo", "utf8");
}

/** Host mount lines that mention PATH. */
export function mountsMentioning(path: string): string[] {
  return hostMountinfo().split("\n").filter((l) => l.includes(path));
}

/** Polls COND every 20 ms until it holds or MS pass; returns whether it held. */
export async function waitFor(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

/** TOOL ARGS in scope S (with extra environment), which must exit 0; its stdout. */
export function okRun(s: Scope, tool: Tool, args: string[], env: Record<string, string> = {}): string {
  const r = s.run(tool, args, env);
  assert.equal(r.code, 0, `${tool} ${args.join(" ")}: ${show(r)}`);
  return r.stdout;
}

/** Describes a run for assertion messages. */
export function show(r: Run): string {
  return `exit ${r.code}; stdout: ${JSON.stringify(r.stdout.slice(0, 800))}; stderr: ${JSON.stringify(r.stderr.slice(0, 800))}`;
}
