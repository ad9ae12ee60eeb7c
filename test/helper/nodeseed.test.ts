// The --random-seed the native front gives its Node (native/src/nodeseed.c): drawn from
// getrandom at each start, and one whose V8 string-hash secret search tests few composites. The
// search is replayed here by an implementation of our own in BigInt arithmetic; that V8 searches
// so, and what it costs, is measured in docs/BENCHMARKS-NOTES.md (no timed assertion here).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { defer, makeNobody, makeTempDir, removeTree, requireRoot, show } from "../helpers/index.js";
import { runCli } from "../helpers/cli.js";

const M64 = (1n << 64n) - 1n;
/** The composites nodeseed.c lets V8's search test at most (NODESEED_LIMIT). */
const LIMIT = 20;

/** V8's RandomNumberGenerator seeded with R, its first NextInt64 (as an unsigned 64-bit value). */
function firstRandom(r: number): bigint {
  const fmix = (h: bigint) => {
    h ^= h >> 33n;
    h = (h * 0xff51afd7ed558ccdn) & M64;
    h ^= h >> 33n;
    h = (h * 0xc4ceb9fe1a85ec53n) & M64;
    return h ^ (h >> 33n);
  };
  const s0 = fmix(BigInt.asUintN(64, BigInt(r)));
  const s1 = fmix(~s0 & M64);
  let x = s0;
  x ^= (x << 23n) & M64;
  x ^= x >> 17n;
  x ^= s1;
  x ^= s1 >> 26n;
  return (s1 + x) & M64;
}

function powmod(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

/** A strong probable prime to base 2. */
function sprp2(n: bigint): boolean {
  let d = n - 1n, s = 0;
  while (!(d & 1n)) { d >>= 1n; s++; }
  let b = powmod(2n, d, n);
  if (b === 1n || b === n - 1n) return true;
  for (let i = 1; i < s; i++) {
    b = (b * b) % n;
    if (b === n - 1n) return true;
    if (b <= 1n) return false;
  }
  return false;
}

const popcount = (v: bigint) => v.toString(2).replaceAll("0", "").length;
const BALANCED = [...Array(256).keys()].filter((v) => popcount(BigInt(v)) === 4).map(BigInt);

/** The composites V8's secret search from SEED tests before its three words are found (counting
 * stops past CAP). */
function composites(seed: bigint, cap: number): number {
  const next = () => {
    seed = (seed + 0x2d358dccaa6c78a5n) & M64;
    const p = seed * (seed ^ 0x8bb84b93962eacc9n);
    return (p & M64) ^ (p >> 64n);
  };
  const words: bigint[] = [];
  let tested = 0;
  while (words.length < 3) {
    let w = 0n;
    for (let j = 0n; j < 64n; j += 8n) w |= BALANCED[Number(next() % 70n)]! << j;
    if (!(w & 1n) || words.some((o) => popcount(o ^ w) !== 32)) continue;
    if (sprp2(w)) words.push(w);
    else if (++tested > cap) return tested;
  }
  return tested;
}

describe("the front's --random-seed for Node (native/src/nodeseed.c)", () => {
  it("each start gets its own, a non-zero 32-bit value whose hash-secret search is short, as root and as 65534", async (t) => {
    requireRoot("the front's seed test");
    const nobody = makeNobody();
    defer(t, () => nobody.remove());
    const dir = makeTempDir("sysjail-nodeseed-");
    defer(t, () => removeTree(dir));
    // a `node` first on PATH shows the options the front gave Node, then runs the real one
    writeFileSync(join(dir, "node"), `#!/bin/sh\necho "node-args: $*" >&2\nexec ${process.execPath} "$@"\n`, { mode: 0o755 });
    const env = { PATH: `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}` };
    const seeds: number[] = [];
    for (const as of [undefined, nobody]) {
      for (let i = 0; i < 3; i++) {
        const r = await runCli(["-v"], { as, env });
        assert.equal(r.code, 0, show(r));
        const m = /^node-args: --random-seed=(-?\d+) --preserve-symlinks-main \S+\/bin\/run-tool\.js sysjail -v$/m.exec(r.stderr);
        assert.ok(m, show(r));
        const seed = Number(m[1]);
        assert.ok(Number.isInteger(seed) && seed !== 0 && seed >= -(2 ** 31) && seed < 2 ** 31, m[1]);
        assert.ok(composites(firstRandom(seed), LIMIT) <= LIMIT, `seed ${seed}: its search tests more than ${LIMIT} composites`);
        seeds.push(seed);
      }
    }
    assert.equal(new Set(seeds).size, seeds.length, `a seed came twice: ${seeds.join(" ")}`);
  });

  it("the replay above tells a short search from a long one (seeds measured with V8)", () => {
    // docs/BENCHMARKS-NOTES.md: --random-seed=397634490 started Node about 11 ms faster than
    // --random-seed=1763595064 on the test VM
    assert.ok(composites(firstRandom(397634490), 200) <= 5);
    assert.ok(composites(firstRandom(1763595064), 200) > 100);
  });

  it("V8 leaves --random-seed out of the code cache's check, so bin/run-tool.js's cache stays valid", () => {
    const dir = makeTempDir("sysjail-nodeseed-cache-");
    try {
      const src = JSON.stringify("(function () { return [1, 2, 3].map((x) => x * 2).join(','); })");
      const cache = join(dir, "cache");
      const make = `const vm = require("vm"); const s = new vm.Script(${src}); s.runInThisContext()(); require("fs").writeFileSync(${JSON.stringify(cache)}, s.createCachedData());`;
      const use = `const vm = require("vm"); const s = new vm.Script(${src}, { cachedData: require("fs").readFileSync(${JSON.stringify(cache)}) }); process.stdout.write(String(s.cachedDataRejected));`;
      const run = (flag: string, code: string) => spawnSync(process.execPath, [flag, "-e", code], { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
      const m = run("--random-seed=11", make);
      assert.equal(m.status, 0, m.stderr);
      const u = run("--random-seed=-123456789", use);
      assert.equal(u.status, 0, u.stderr);
      assert.equal(u.stdout, "false", "the cache was rejected under another --random-seed");
    } finally {
      removeTree(dir);
    }
  });
});
