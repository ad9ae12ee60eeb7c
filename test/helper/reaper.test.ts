// sysjail-reaper (native/reaper/reaper.c) on its own: it removes only what its argv names and
// refuses, as defence in depth, cgroup dirs outside /sys/fs/cgroup, files outside the state
// directories it is handed, and paths with "." or ".." components. Its "pidfd" here is a socket
// whose other end the test closes: the same readable end as an ended init's pidfd.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, removeTree, REPO } from "../helpers/index.js";

const REAPER = join(REPO, "native", "build", "sysjail-reaper");

/** The loadable segments of an ELF64 file: their flags (4 R, 2 W, 1 X) and sizes in the file and
 * in memory; and PT_GNU_STACK's flags. */
function segments(file: string): { loads: { flags: number; filesz: number; memsz: number }[]; stack: number | undefined } {
  const b = readFileSync(file);
  const phoff = Number(b.readBigUInt64LE(0x20)), size = b.readUInt16LE(0x36), n = b.readUInt16LE(0x38);
  const loads = [];
  let stack: number | undefined;
  for (let i = 0; i < n; i++) {
    const o = phoff + i * size, type = b.readUInt32LE(o), flags = b.readUInt32LE(o + 4);
    if (type === 1) loads.push({ flags, filesz: Number(b.readBigUInt64LE(o + 32)), memsz: Number(b.readBigUInt64LE(o + 40)) });
    if (type === 0x6474e551) stack = flags;
  }
  return { loads, stack };
}

/** Runs the reaper with fd 3 a socket, closes the test's end, resolves with its exit status. */
function reap(args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn(REAPER, ["3", ...args], { stdio: ["ignore", "ignore", "ignore", "pipe"] });
    c.on("spawn", () => (c.stdio[3] as NodeJS.WritableStream).end());
    c.on("exit", (code) => resolve(code));
  });
}

describe("sysjail-reaper: its image, x86_64 and aarch64", () => {
  it("headers, code and constants in one read-only executable page, one writable page, nothing writable and executable", () => {
    const base = makeTempDir("sysjail-reapertest-");
    try {
      const flags = spawnSync(process.execPath, ["--input-type=module", "-e", `import("${join(REPO, "scripts", "native-common.mjs")}").then((m) => console.log(JSON.stringify(m.REAPER_FLAGS)))`], { encoding: "utf8" });
      const arm = join(base, "sysjail-reaper-aarch64");
      const cc = spawnSync("aarch64-linux-gnu-gcc", [...JSON.parse(flags.stdout), "-o", arm, join(REPO, "native", "reaper", "reaper.c")], { encoding: "utf8" });
      assert.equal(cc.status, 0, `the aarch64 cross compiler (gcc-aarch64-linux-gnu) builds the reaper: ${cc.error?.message ?? cc.stderr}`);
      for (const f of [REAPER, arm]) {
        const { loads, stack } = segments(f);
        assert.deepEqual(loads.map((l) => l.flags), [5, 6], `${f}: R+X, then R+W`);
        assert.ok(loads[0]!.filesz <= 4096, `${f}: code ${loads[0]!.filesz} bytes, one 4 kB page`);
        assert.deepEqual([loads[1]!.filesz, loads[1]!.memsz], [0, 4096], `${f}: one page of .bss, nothing from the file`);
        assert.equal(stack, 6, `${f}: a stack that is not executable`);
      }
    } finally {
      removeTree(base);
    }
  });
});

describe("sysjail-reaper: a flat executor of its argv", () => {
  const dirs: string[] = [];
  after(() => { for (const d of dirs) removeTree(d); });

  it("unlinks the files below a handed state dir, in order; refuses others, '..' paths and non-cgroup dirs (status 1)", async () => {
    const base = makeTempDir("sysjail-reapertest-");
    dirs.push(base);
    const state = join(base, "state"), other = join(base, "other"), notcg = join(base, "cg");
    for (const d of [state, other, notcg]) mkdirSync(d);
    for (const f of ["a", "b"]) writeFileSync(join(state, f), "");
    writeFileSync(join(other, "x"), "");
    const code = await reap(["-c", notcg, "-c", "/sys/fs/cgroup/../../" + notcg.slice(1), "-d", state,
      "-f", join(state, "a"), "-f", join(other, "x"), "-f", `${state}/../other/x`, "-f", `${state}/./b`, "-f", state]);
    assert.equal(code, 1, "a refused path makes its status 1");
    assert.equal(existsSync(join(state, "a")), false, "a file below the handed dir is removed");
    assert.equal(existsSync(join(other, "x")), true, "a file outside the handed dirs is refused");
    assert.equal(existsSync(join(state, "b")), true, "a path with a '.' component is refused");
    assert.equal(existsSync(state), true, "the handed dir itself is not a file below it");
    assert.equal(existsSync(notcg), true, "a directory outside /sys/fs/cgroup is refused");
  });

  it("with nothing refused its status is 0; without a pidfd argument it does nothing (status 2)", async () => {
    const base = makeTempDir("sysjail-reapertest-");
    dirs.push(base);
    writeFileSync(join(base, "f"), "");
    assert.equal(await reap(["-d", base, "-f", join(base, "f")]), 0);
    assert.equal(existsSync(join(base, "f")), false);
    writeFileSync(join(base, "g"), "");
    const c = spawn(REAPER, [], { stdio: "ignore" });
    assert.equal(await new Promise((r) => c.on("exit", r)), 2);
    assert.equal(existsSync(join(base, "g")), true);
  });
});
