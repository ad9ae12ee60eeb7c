// sysjail-oci's test commands and bundles: a command line against a test --root whose output
// goes through a file, and a bundle whose probe waits, namespaces of its own plus LINUX.
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { join } from "node:path";
import type { JailRoot } from "./jailroot.js";
import { REPO } from "./paths.js";
import { removeTree } from "./tmp.js";

/** The built sysjail-oci. */
export const OCI_BIN = join(REPO, "native", "build", "sysjail-oci");
/** The namespaces a test container gets (its own pid, network, ipc, uts and mount). */
export const OCI_NS = ["pid", "network", "ipc", "uts", "mount"].map((type) => ({ type }));

/** sysjail-oci with --root STATE(): its output and errors piped back as text, or both to the
 * descriptor OUT (a command whose container keeps create's stdio must not get a pipe). */
export function ociCli(state: () => string): (args: string[], out?: "pipe" | number) => SpawnSyncReturns<string> {
  return (args, out = "pipe") => spawnSync(OCI_BIN, ["--root", state(), ...args], { encoding: "utf8", stdio: ["ignore", out, out === "pipe" ? "pipe" : out], timeout: 60_000 });
}

/** sysjail-oci with --root STATE(); its output read back from a file in WORK() (create's detached
 * monitor keeps a pipe it was given open, so no pipe is given), INPUT on its stdin. */
export function ociFileCli(state: () => string, work: () => string): (args: string[], input?: string) => { status: number | null; out: string } {
  return (args, input) => {
    const out = join(work(), `out-${args[0]}`);
    const fd = openSync(out, "w");
    const r = spawnSync(OCI_BIN, ["--root", state(), ...args], { stdio: [input === undefined ? "ignore" : "pipe", fd, fd], input, timeout: 60_000 });
    closeSync(fd);
    return { status: r.status, out: readFileSync(out, "utf8") };
  };
}

/** Writes WORK()/NAME/config.json: the probe in ROOT() waiting for a file that never comes, under
 * HOSTNAME, with OCI_NS and LINUX; returns the bundle's directory. */
export function ociWaitBundle(work: () => string, root: () => string, hostname: string): (name: string, linux: Record<string, unknown>) => string {
  return (name, linux) => {
    const dir = join(work(), name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify({
      ociVersion: "1.2.0", root: { path: root() }, hostname,
      process: { args: ["/probe", "waitfile", "/never"], env: ["PATH=/bin"], cwd: "/", user: { uid: 0, gid: 0 } },
      linux: { namespaces: OCI_NS, ...linux },
    }));
    return dir;
  };
}

/** An OCI test file's after hook: deletes every container of IDS (`delete --force` through OCI),
 * then removes the jail root JR and the directories DIRS (those made before a failure). */
export function ociTeardown(oci: (args: string[]) => unknown, ids: string[], jr: JailRoot | undefined, ...dirs: (string | undefined)[]): void {
  for (const i of ids) oci(["delete", "--force", i]);
  jr?.remove();
  for (const d of dirs) if (d) removeTree(d);
}
