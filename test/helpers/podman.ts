// A podman fixture for sysjail-oci's engine tests: an image of a probe jail root under a tag of
// this process, `podman run` through sysjail-oci, and every container and the image removed after.
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeJailRoot, type JailRoot } from "./jailroot.js";
import { requireRoot } from "./nobody.js";
import { REPO } from "./paths.js";
import { buildProbe } from "./probe.js";

/** The image, the commands and the names of one test file's containers. */
export interface PodmanFixture {
  tag: string;
  /** The names handed out so far. */
  names: readonly string[];
  /** podman ARGS, output captured, two minutes at most. */
  podman(args: string[]): SpawnSyncReturns<string>;
  /** podman run through sysjail-oci with explicit ulimits (the host's hard limits are below podman's defaults). */
  run(args: string[]): SpawnSyncReturns<string>;
  /** A container name of this process, removed by teardown. */
  name(label: string): string;
  /** Root only: checks podman is there and imports the probe's jail root as the image. */
  setup(): void;
  teardown(): void;
}

/** A fixture whose image and names carry PREFIX (one per test file). */
export function podmanFixture(prefix: string): PodmanFixture {
  const oci = join(REPO, "native", "build", "sysjail-oci");
  const tag = `localhost/sysjail-${prefix}:${process.pid}`;
  const names: string[] = [];
  let jr: JailRoot | undefined;
  // conmon writes a file named "oom" into its working directory when a container is OOM-killed
  // (under runc too): podman runs in a directory of the fixture's own, removed at teardown
  const cwd = mkdtempSync(join(tmpdir(), `sysjail-${prefix}-cwd-`));
  const podman = (args: string[]) => spawnSync("podman", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
  return {
    tag,
    names,
    podman,
    run: (args) => podman(["--runtime", oci, "run", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", ...args]),
    name: (label) => { const n = `${prefix}-${process.pid}-${label}`; names.push(n); return n; },
    setup() {
      requireRoot(`sysjail-oci's ${prefix} tests`);
      assert.equal(spawnSync("podman", ["--version"]).status, 0, "these tests need podman (Debian: apt-get install podman)");
      jr = makeJailRoot(buildProbe());
      const tar = spawnSync("tar", ["-C", jr.path, "-c", "."], { maxBuffer: 64 << 20 });
      const imp = spawnSync("podman", ["import", "-", tag], { input: tar.stdout, encoding: "utf8" });
      assert.equal(imp.status, 0, imp.stderr);
    },
    teardown() {
      for (const n of names) podman(["rm", "-f", "-t", "0", n]);
      podman(["rmi", "-f", tag]);
      jr?.remove();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
