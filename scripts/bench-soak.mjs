#!/usr/bin/env node
// The soak rows of `npm run bench` (issue 23): 10,000 sequential run() calls in one process
// (every tenth with cgroup limits), with the process's descriptor count, its heap after a full
// GC and the host's leftovers (cgroup directories of this registry's jails, registry files) at
// the start and at the end. `node scripts/bench-soak.mjs [--quick] [N]` runs them alone.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, copyFileSync, chmodSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const fmt = (x, d = 2) => (x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(d));

/** A full garbage collection, also without --expose-gc. */
function fullGc() {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc");
  gc();
  gc();
}

const fds = () => readdirSync("/proc/self/fd").length;
const heapMiB = () => { fullGc(); return process.memoryUsage().heapUsed / 2 ** 20; };

/** Rows of the soak section. JROOT: a jail root holding /probe (made here when not given). */
export async function soakRows({ quick = false, n = quick ? 300 : 10_000, jroot } = {}) {
  const lib = await import(join(root, "build/src/index.js"));
  const { collectLeftovers, cgroupParents } = await import(join(root, "build/src/manage/gc.js"));
  const { instanceName } = await import(join(root, "build/src/registry/instance.js"));
  const work = mkdtempSync(join(tmpdir(), "sysjail-soak-"));
  try {
    if (!jroot) {
      jroot = join(work, "root");
      for (const d of ["proc", "dev", "tmp", "etc", "sys"]) mkdirSync(join(jroot, d), { recursive: true });
      const probe = join(work, "probe");
      execFileSync("gcc", ["-O2", "-static", "-o", probe, join(root, "bench", "probe.c")]);
      copyFileSync(probe, join(jroot, "probe"));
      chmodSync(join(jroot, "tmp"), 0o1777);
      chmodSync(work, 0o755);
    }
    const stateDir = join(work, "state");
    const prefix = instanceName(stateDir, 0).slice(0, -1);
    const leftovers = () => {
      let cg = 0;
      for (const p of cgroupParents()) cg += readdirSync(p).filter((x) => x.startsWith(prefix) && /^\d+$/.test(x.slice(prefix.length))).length;
      let reg = 0;
      try { reg = readdirSync(join(stateDir, "jails")).length; } catch { /* none yet */ }
      return { cg, reg };
    };
    const one = (i) => lib.run({
      path: jroot, hostname: "s", command: ["/probe", "loop", "1"], stateDir,
      ...(i % 10 === 9 ? { limits: { memory: "32M", pids: 8 } } : {}),
    });
    // warm up (caches, lazily loaded code) before the first figures
    for (let i = 0; i < Math.min(100, n); i++) await one(i);
    const f0 = fds(), h0 = heapMiB(), l0 = leftovers();
    let fails = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      try {
        const r = await one(i);
        if (r.report.status !== "ok") fails++;
      } catch {
        fails++;
      }
    }
    const secs = (performance.now() - t0) / 1000;
    const f1 = fds(), h1 = heapMiB(), l1 = leftovers();
    collectLeftovers(stateDir);
    return [
      [`run(), ${n} in a row in one process (jails/s; failures)`, `${fmt(n / secs, 0)}; ${fails}`],
      ["descriptors of the process, start / end", `${f0} / ${f1}`],
      ["heap after a full GC, start / end (MiB)", `${fmt(h0)} / ${fmt(h1)}`],
      ["host leftovers, start / end (cgroup directories, registry files)", `${l0.cg}, ${l0.reg} / ${l1.cg}, ${l1.reg}`],
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes("--quick");
  const nArg = process.argv.slice(2).find((a) => /^\d+$/.test(a));
  const rows = await soakRows({ quick, ...(nArg ? { n: Number(nArg) } : {}) });
  console.log(["| measure | value |", "|---|---|", ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join("\n"));
}
