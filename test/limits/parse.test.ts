// Tests of the --limit parser, the library normaliser and the unit helpers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SysjailError } from "../../src/errors.js";
import { formatLimits, normalizeLimits, parseLimits, sharesToWeight, weightToShares } from "../../src/limits/parse.js";
import { formatDuration, formatSize, parseDecimal, parseDuration, parseSize } from "../../src/limits/units.js";

const M = 2 ** 20;

/** Asserts a usage error (exit 64) whose one-line message matches. */
function usage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SysjailError, `not a SysjailError: ${e}`);
    assert.equal(e.code, "EUSAGE");
    assert.equal(e.phase, "usage");
    assert.equal(e.exitCode, 64);
    assert.ok(!e.message.includes("\n"), "one line");
    assert.match(e.message, re);
    return true;
  });
}

describe("units", () => {
  it("parses binary sizes", () => {
    assert.equal(parseSize("4096"), 4096);
    assert.equal(parseSize("64M"), 64 * M);
    assert.equal(parseSize("64m"), 64 * M);
    assert.equal(parseSize("64MiB"), 64 * M);
    assert.equal(parseSize("64MB"), 64 * M);
    assert.equal(parseSize("1.5K"), 1536);
    assert.equal(parseSize("2G"), 2 * 2 ** 30);
    assert.equal(parseSize("1T"), 2 ** 40);
    assert.equal(parseSize("10b"), 10);
    for (const bad of ["", "lots", "-1M", "0", "0.1", "1X", "1 M M", "M", "1e3"]) assert.equal(parseSize(bad), undefined, bad);
  });
  it("parses durations, seconds by default", () => {
    assert.equal(parseDuration("2"), 2000);
    assert.equal(parseDuration("2s"), 2000);
    assert.equal(parseDuration("1.5s"), 1500);
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("2m"), 120_000);
    assert.equal(parseDuration("2min"), 120_000);
    assert.equal(parseDuration("1h"), 3_600_000);
    assert.equal(parseDuration("250", "ms"), 250);
    for (const bad of ["", "soon", "0", "0.0001s", "-1s", "1d", "s"]) assert.equal(parseDuration(bad), undefined, bad);
  });
  it("parses decimals and percentages", () => {
    assert.equal(parseDecimal("1.5"), 1.5);
    assert.equal(parseDecimal("150%", true), 1.5);
    assert.equal(parseDecimal("150%"), undefined);
    assert.equal(parseDecimal("0"), undefined);
  });
  it("formats sizes and durations", () => {
    assert.equal(formatSize(64 * M), "64 MiB");
    assert.equal(formatSize(1536), "1.5 KiB");
    assert.equal(formatSize(1000), "1000 bytes");
    assert.equal(formatDuration(1000), "1 s");
    assert.equal(formatDuration(1500), "1.5 s");
    assert.equal(formatDuration(250), "250 ms");
    assert.equal(formatDuration(300_000), "5 min");
    assert.equal(formatDuration(7_200_000), "2 h");
  });
});

describe("parseLimits", () => {
  it("parses every key", () => {
    const l = parseLimits("memory=256M,swap=1G,pids=64,cpu=2s,wall=5s,cpushares=512,cores=1.5,nofile=100,fsize=10M,tmp=64M,shm=32M");
    assert.deepEqual(l, {
      memory: 256 * M,
      swap: 2 ** 30,
      pids: 64,
      cpu: 2000,
      wall: 5000,
      cpuShares: 512,
      cores: 1.5,
      openFiles: 100,
      fileSize: 10 * M,
      tmpSize: 64 * M,
      shmSize: 32 * M,
    });
  });
  it("accepts aliases, case and spaces", () => {
    assert.deepEqual(parseLimits(" Memory = 1G , openfiles=8, filesize=1K, cpu.shares=100"), {
      memory: 2 ** 30,
      openFiles: 8,
      fileSize: 1024,
      cpuShares: 100,
    });
    assert.deepEqual(parseLimits("cpu.weight=100"), { cpuShares: 1024 });
    assert.deepEqual(parseLimits("cores=50%"), { cores: 0.5 });
  });
  it("is repeatable: merges into the given object, later items win, unlimited removes", () => {
    const l = parseLimits("memory=1G,pids=10");
    parseLimits("memory=2G,wall=1s", l);
    assert.deepEqual(l, { memory: 2 * 2 ** 30, pids: 10, wall: 1000 });
    parseLimits("memory=unlimited,pids=max", l);
    assert.deepEqual(l, { wall: 1000 });
  });
  it("maps FreeBSD rctl rules", () => {
    assert.deepEqual(
      parseLimits("memoryuse:deny=256m,maxproc:deny=64,cputime:deny=2,openfiles:deny=100,wallclock:deny=10,pcpu:deny=50,swapuse:deny=1g"),
      { memory: 256 * M, pids: 64, cpu: 2000, openFiles: 100, wall: 10_000, cores: 0.5, swap: 2 ** 30 },
    );
    assert.deepEqual(parseLimits("vmemoryuse:deny=1g"), { memory: 2 ** 30 });
    assert.deepEqual(parseLimits("nthr:deny=32"), { pids: 32 });
    assert.deepEqual(parseLimits("cputime:sigkill=3"), { cpu: 3000 });
    assert.deepEqual(parseLimits("memoryuse:deny=1g/jail"), { memory: 2 ** 30 });
    assert.deepEqual(parseLimits("jail:www:memoryuse:deny=1g"), { memory: 2 ** 30 });
  });
  it("rejects every malformed item with a one-line usage error", () => {
    usage(() => parseLimits("memory=lots"), /"memory=lots".*"lots" is not a size.*K, M, G or T/);
    usage(() => parseLimits(""), /expected key=value/);
    usage(() => parseLimits("memory"), /"memory": expected key=value \(keys: memory, swap/);
    usage(() => parseLimits("=5"), /expected key=value/);
    usage(() => parseLimits("memory=1G,"), /bad limit "": expected key=value/);
    usage(() => parseLimits("bogus=1"), /unknown limit "bogus" \(allowed: memory, swap, pids, cpu, wall/);
    usage(() => parseLimits("memory=0"), /not a size/);
    usage(() => parseLimits("memory="), /"" is not a size/);
    usage(() => parseLimits("pids=1.5"), /not a whole number above 0/);
    usage(() => parseLimits("pids=0"), /not a whole number above 0/);
    usage(() => parseLimits("cpu=fast"), /not a duration/);
    usage(() => parseLimits("wall=-1"), /not a duration/);
    usage(() => parseLimits("cores=0.001"), /number of CPUs from 0.01/);
    usage(() => parseLimits("cores=5000"), /number of CPUs/);
    usage(() => parseLimits("cpushares=1"), /from 2 to 262144/);
    usage(() => parseLimits("cpushares=300000"), /from 2 to 262144/);
    usage(() => parseLimits("cpu.weight=0"), /from 1 to 10000/);
    usage(() => parseLimits("cpu.weight=10001"), /from 1 to 10000/);
    usage(() => parseLimits("nofile=lots"), /whole number/);
    usage(() => parseLimits("fsize=1X"), /not a size/);
    usage(() => parseLimits("tmp=big"), /not a size/);
    usage(() => parseLimits("shm=-1"), /not a size/);
    usage(() => parseLimits("swap=none?"), /not a size/);
  });
  it("rejects bad rctl rules", () => {
    usage(() => parseLimits("memoryuse=1g"), /unknown limit "memoryuse"/);
    usage(() => parseLimits("memoryuse:deny:x=1g"), /rctl rule is resource:action=amount/);
    usage(() => parseLimits("readbps:deny=1m"), /rctl resource "readbps" is not supported \(supported: memoryuse/);
    usage(() => parseLimits("memoryuse:log=1g"), /rctl action "log" is not supported \(use deny or sigkill\)/);
    usage(() => parseLimits("openfiles:deny=10/process"), /only per-jail rctl rules \(\/jail\) are supported, not \/process/);
    usage(() => parseLimits("pcpu:deny=0"), /percentage of one CPU/);
    usage(() => parseLimits("maxproc:deny=many"), /whole number/);
  });
  it("converts shares and weights proportionally", () => {
    assert.equal(weightToShares(100), 1024);
    assert.equal(sharesToWeight(1024), 100);
    assert.equal(weightToShares(1), 10);
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(262144), 10000);
  });
  it("formats limits back in --limit syntax", () => {
    const text = "memory=256M,swap=1G,pids=64,cpu=2s,wall=1500ms,cpushares=512,cores=1.5,nofile=100,fsize=1000,tmp=64M,shm=32M";
    assert.equal(formatLimits(parseLimits(text)), text);
  });
});

describe("normalizeLimits", () => {
  it("takes strings in --limit syntax and numbers in Limits units", () => {
    assert.deepEqual(normalizeLimits({ memory: "64M", wall: "5s", pids: 64, cpu: 1500, cores: 2 }), {
      memory: 64 * M,
      wall: 5000,
      pids: 64,
      cpu: 1500,
      cores: 2,
    });
    assert.deepEqual(normalizeLimits({ cpuShares: 512, openFiles: 10, fileSize: 4096, tmpSize: "1M", shmSize: 2048, swap: 0.5 * 2 ** 30 }), {
      cpuShares: 512,
      openFiles: 10,
      fileSize: 4096,
      tmpSize: M,
      shmSize: 2048,
      swap: 2 ** 29,
    });
  });
  it("accepts --limit spellings and skips null/undefined and unlimited", () => {
    assert.deepEqual(normalizeLimits({ nofile: 5, fsize: "1K", "cpu.weight": 100, tmp: "1M", memory: null, pids: undefined, wall: "unlimited" }), {
      openFiles: 5,
      fileSize: 1024,
      cpuShares: 1024,
      tmpSize: M,
    });
    assert.deepEqual(normalizeLimits(undefined), {});
    assert.deepEqual(normalizeLimits(null), {});
  });
  it("is idempotent on Limits", () => {
    const l = parseLimits("memory=256M,pids=64,cpu=2s,cores=0.5");
    assert.deepEqual(normalizeLimits(l), l);
  });
  it("rejects unknown keys, naming the key and the allowed ones", () => {
    usage(() => normalizeLimits({ memroy: "1G" }), /unknown limit "memroy" \(allowed: memory, swap, pids, cpu, wall, cpuShares, cores, openFiles/);
  });
  it("rejects bad values and shapes", () => {
    usage(() => normalizeLimits("memory=1G"), /limits must be an object/);
    usage(() => normalizeLimits([1]), /not an array/);
    usage(() => normalizeLimits({ memory: "lots" }), /bad limit memory: "lots" is not a size/);
    usage(() => normalizeLimits({ memory: -5 }), /bad limit memory: -5 is out of range \(a whole number of bytes above 0\)/);
    usage(() => normalizeLimits({ memory: 1.5 }), /out of range/);
    usage(() => normalizeLimits({ cpu: 0 }), /milliseconds, at least 1/);
    usage(() => normalizeLimits({ cpu: Infinity }), /out of range/);
    usage(() => normalizeLimits({ pids: NaN }), /out of range/);
    usage(() => normalizeLimits({ pids: 2.5 }), /whole number above 0/);
    usage(() => normalizeLimits({ cores: 0.001 }), /number of CPUs/);
    usage(() => normalizeLimits({ cpuShares: 1 }), /from 2 to 262144/);
    usage(() => normalizeLimits({ "cpu.weight": 0 }), /out of range/);
    usage(() => normalizeLimits({ memory: true }), /expected a number or a string, not boolean/);
    usage(() => normalizeLimits({ memory: {} }), /not object/);
  });
});
