// Real jails for the network tests: builds test/net/fixtures/netprobe.c, a jail root holding it,
// runs `node bin/sysjail.js` and the probe on the host, and cleans everything up even on failure.
import { instanceName } from "../../src/registry/instance.js";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { detectCgroups } from "../../src/cgroup/detect.js";

/** The repository root (tests run from build/test/net). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const SYSJAIL = join(REPO, "bin", "sysjail.js");
const SOURCE = join(REPO, "test", "net", "fixtures", "netprobe.c");

/** Throws, naming what is missing, unless the network tests can run here (root, a build, cgroup2,
 * gcc, and the tools the caller names): a missing piece fails them, it never skips them. */
export function requireNet(...tools: ("unshare -n" | "setpriv")[]): void {
  const why = netMissing() ?? tools.map((t) => (spawnSync(t === "setpriv" ? "setpriv" : "unshare", t === "setpriv" ? ["--version"] : ["-n", "true"]).status !== 0 ? `needs ${t}` : undefined)).find((w) => w);
  if (why) throw new Error(`the network tests cannot run here: ${why}`);
}

function netMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (cgroup eBPF and veth pairs)";
  if (!existsSync(join(REPO, "build", "bin", "sysjail.mjs")) || !existsSync(join(REPO, "native", "build", "sysjail-helper"))) return "needs `npm run build`";
  if (!detectCgroups().v2) return "needs a cgroup2 hierarchy";
  if (spawnSync("gcc", ["--version"]).status !== 0) return "needs gcc";
  return undefined;
}

/** A jail root with the probe at /p, a state directory, and the processes to stop. */
export interface NetEnv {
  dir: string;
  root: string;
  probe: string;
  state: string;
  children: ChildProcess[];
  cgroupsBefore: string[];
}

function cgroupBase(): string {
  return join(detectCgroups().v2?.path ?? "/sys/fs/cgroup", "sysjail");
}

/** The jail cgroups that exist now; with a state directory, only that registry's (other test
 * files run at the same time and make their own). */
export function jailCgroups(state?: string): string[] {
  const prefix = state === undefined ? undefined : `${instanceName(state, 0).split("-")[0]}-`;
  try {
    return readdirSync(cgroupBase()).filter((n) => /^([0-9a-f]{4}-)?\d+$/.test(n) && (prefix === undefined || n.startsWith(prefix)));
  } catch {
    return [];
  }
}

/** Builds the probe and a root. */
export function setup(): NetEnv {
  const dir = mkdtempSync(join(tmpdir(), "sysjail-net-"));
  chmodSync(dir, 0o755);
  const probe = join(dir, "netprobe");
  const r = spawnSync("gcc", ["-O2", "-static", "-o", probe, SOURCE], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot build the network probe: ${r.stderr}`);
  const root = join(dir, "root");
  for (const d of ["proc", "dev", "tmp", "etc", "sys"]) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  copyFileSync(probe, join(root, "p"));
  chmodSync(join(root, "p"), 0o755);
  const state = join(dir, "state");
  return { dir, root, probe, state, children: [], cgroupsBefore: jailCgroups(state) };
}

/** Stops what is left and removes the files; resolves to the jail cgroups left behind. */
export async function teardown(env: NetEnv | undefined): Promise<string[]> {
  if (!env) return [];
  for (const c of env.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(env.children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined)));
  await sleep(300);
  rmSync(env.dir, { recursive: true, force: true });
  return jailCgroups(env.state).filter((n) => !env.cgroupsBefore.includes(n));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port for one test. */
export function port(): number {
  return 20000 + Math.floor(Math.random() * 30000);
}

/** `sysjail ARGS... ROOT nj /p CMD...` to completion: the probe's output (stdout and stderr). */
export function jail(env: NetEnv, opts: string[], cmd: string[], wrap: string[] = []): { out: string; code: number | null } {
  const argv = [...wrap, process.execPath, SYSJAIL, "-j", env.state, ...opts, env.root, "nj", "/p", ...cmd];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 20000 });
  return { out: `${r.stdout}${r.stderr}`.trim(), code: r.status };
}

/** Starts a process and resolves once its first output line is there (servers print "listening"). */
export function started(env: NetEnv, argv: string[]): Promise<{ child: ChildProcess; first: string; lines: string[] }> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  env.children.push(child);
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`no output from ${argv.join(" ")}: ${buf}`)), 15000);
    const onData = (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const l of parts) {
        lines.push(l);
        if (lines.length === 1) { clearTimeout(timer); resolve({ child, first: l, lines }); }
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", () => { clearTimeout(timer); if (!lines.length) reject(new Error(`${argv.join(" ")} ended: ${buf}`)); });
  });
}

/** A jail started in the foreground and kept running (a server). */
export function jailServer(env: NetEnv, opts: string[], cmd: string[], wrap: string[] = []) {
  return started(env, [...wrap, process.execPath, SYSJAIL, "-j", env.state, ...opts, env.root, "nj", "/p", ...cmd]);
}

/** The probe run on the host (not jailed). */
export function hostProbe(env: NetEnv, cmd: string[]) {
  return started(env, [env.probe, ...cmd]);
}

/** Whether a TCP connection to host:port is accepted within `ms` (false on refusal or silence). */
export function reachable(host: string, p: number, ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port: p });
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(ms, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

/** Waits until the child has exited. */
export function exited(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once("exit", () => r()));
}
