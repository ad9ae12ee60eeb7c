// containerd for sysjail-oci's engine tests: a daemon of the test's own (root, state, sockets and
// opt dir under a temp dir, nothing of the host's containerd), OCI image layout tars built from a
// directory (no registry), and the processes its shims left.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allPids } from "./proc.js";

/** Writes an OCI image layout of ROOT (one uncompressed layer) as a tar at OUT, named IMAGE, whose
 * config's Cmd is CMD; SCRATCH is an empty directory for the blobs. */
export function ociImageTar(root: string, scratch: string, out: string, image: string, cmd: string[]): void {
  const layout = join(scratch, "layout");
  const blobs = join(layout, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const blob = (file: string) => {
    const digest = createHash("sha256").update(readFileSync(file)).digest("hex");
    renameSync(file, join(blobs, digest));
    return { digest: `sha256:${digest}`, size: statSync(join(blobs, digest)).size };
  };
  const json = (name: string, v: unknown) => { const f = join(scratch, name); writeFileSync(f, JSON.stringify(v)); return blob(f); };
  const layerFile = join(scratch, "layer.tar");
  const t = spawnSync("tar", ["-C", root, "--numeric-owner", "-cf", layerFile, "."], { encoding: "utf8" });
  assert.equal(t.status, 0, t.stderr);
  const layer = blob(layerFile);
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const config = json("config.json", { architecture: arch, os: "linux", rootfs: { type: "layers", diff_ids: [layer.digest] }, config: { Cmd: cmd } });
  const manifest = json("manifest.json", {
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layer }],
  });
  writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(join(layout, "index.json"), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "io.containerd.image.name": image, "org.opencontainers.image.ref.name": image.split(":").at(-1) } }],
  }));
  const a = spawnSync("tar", ["-C", layout, "-cf", out, "."], { encoding: "utf8" });
  assert.equal(a.status, 0, a.stderr);
}

/** Pids whose command line mentions TEXT (the shims a test's containerd started name its socket),
 * or, for an armed sysjail-reaper (its command line empty), one of its descriptors' paths. */
export function pidsMentioning(text: string): number[] {
  return allPids().filter((p) => {
    if (p === process.pid) return false;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "latin1").includes(text)) return true;
      if (readFileSync(`/proc/${p}/comm`, "latin1").trim() !== "sysjail-reaper") return false;
      return readdirSync(`/proc/${p}/fd`).some((n) => { try { return readlinkSync(`/proc/${p}/fd/${n}`).includes(text); } catch { return false; } });
    } catch { return false; }
  });
}

/** A running containerd of a test's own. */
export interface Containerd {
  daemon: ChildProcess;
  /** Its gRPC socket. */
  sock: string;
  /** ctr on its socket in namespace NS. */
  ctr(ns: string, args: string[], timeout?: number): SpawnSyncReturns<string>;
  /** The end of its log (for failure messages). */
  log(): string;
  /** TERM to the daemon, then waits for its end; KILL to the shims it started (they name its socket). */
  stop(): Promise<void>;
}

/** Starts containerd with everything under DIR (a short path: the socket must fit a sockaddr_un);
 * PLUGINS is extra TOML (config version 2) for its plugins; without CRI in it the CRI plugin is off. */
export function startContainerd(dir: string, plugins: string[] = [], cri = false): Containerd {
  const sock = join(dir, "ctd.sock");
  writeFileSync(join(dir, "config.toml"), [
    "version = 2",
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    cri ? "" : `disabled_plugins = ["io.containerd.grpc.v1.cri"]`,
    "[grpc]", `  address = "${sock}"`,
    "[ttrpc]", `  address = "${sock}.ttrpc"`,
    "[debug]", `  address = ""`,
    "[metrics]", `  address = ""`,
    `[plugins."io.containerd.internal.v1.opt"]`, `  path = "${dir}/opt"`,
    ...plugins,
    "",
  ].join("\n"));
  const logFile = join(dir, "containerd.log");
  const fd = openSync(logFile, "w");
  const daemon = spawn("containerd", ["--config", join(dir, "config.toml")], { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const ctr = (ns: string, args: string[], timeout = 60_000) =>
    spawnSync("ctr", ["--address", sock, "--namespace", ns, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout });
  const log = () => { try { return readFileSync(logFile, "utf8").slice(-3000); } catch { return ""; } };
  const stop = async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      const gone = new Promise((res) => daemon.once("exit", res));
      daemon.kill("SIGTERM");
      await gone;
    }
    for (const p of pidsMentioning(sock)) try { process.kill(p, "SIGKILL"); } catch { /* gone */ }
  };
  let up = false;
  for (let i = 0; i < 1000 && !up && daemon.exitCode === null; i++) {
    up = existsSync(sock) && ctr("default", ["version"], 10_000).status === 0;
    if (!up) spawnSync("sleep", ["0.02"]);
  }
  if (!up) {
    if (daemon.exitCode === null) daemon.kill("SIGKILL");
    assert.fail(`containerd did not come up: ${log()}`);
  }
  return { daemon, sock, ctr, log, stop };
}
