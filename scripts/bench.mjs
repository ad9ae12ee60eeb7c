#!/usr/bin/env node
// npm run bench: measures sysjail against its peers in one run and writes BENCHMARKS.md.
// Installs its peers (bubblewrap, firejail, strace) with apt-get when they are missing.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync, existsSync } from "node:fs";
import { tmpdir, cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
const N = quick ? 5 : 31;
/** Rounds of the start-up comparison: its deltas are a few ms against ~100 ms of noisy Node start. */
const NSTART = quick ? 5 : 61;
const sysjail = join(root, "bin", "sysjail.js");
/** The installed command (package.json bin): the helper's native front. */
const front = join(root, "native", "build", "sysjail");

function have(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}
function ensurePeers() {
  const missing = [["bwrap", "bubblewrap"], ["firejail", "firejail"], ["strace", "strace"]].filter(([c]) => !have(c)).map(([, p]) => p);
  if (missing.length === 0) return;
  console.error(`bench: installing ${missing.join(" ")}`);
  spawnSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
  spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const best = (xs) => Math.min(...xs);
const fmt = (x, d = 2) => (x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(d));

/** Median wall time (ms) of running a command to completion, N times. */
function timeCmd(cmd, args, n = N) {
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: "ignore" });
    ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) return { median: NaN, error: `${cmd} exited ${r.status}` };
  }
  return { median: median(ts), min: best(ts) };
}

/** Against a baseline: each round runs BASE, then each command followed by BASE again, and a
 * command's delta is its time minus the mean of the BASE runs on either side. This virtual
 * machine switches between a fast and a slow state within seconds; a delta taken across ~0.3 s
 * is far steadier than a difference of medians taken over the whole run. Returns the median
 * baseline time, and each command's median time and median delta (ms). */
function timeAgainst(base, cmds, n = N) {
  const run = ([cmd, args, env]) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: "ignore", env });
    return r.status === 0 ? Number(process.hrtime.bigint() - t0) / 1e6 : NaN;
  };
  const baseT = [];
  const times = cmds.map(() => []);
  const deltas = cmds.map(() => []);
  for (let i = 0; i < n; i++) {
    let before = run(base);
    baseT.push(before);
    cmds.forEach((c, k) => {
      const t = run(c);
      const after = run(base);
      baseT.push(after);
      times[k].push(t);
      deltas[k].push(t - (before + after) / 2);
      before = after;
    });
  }
  const med = (xs) => (xs.some(Number.isNaN) ? NaN : median(xs));
  return { base: med(baseT), times: times.map(med), deltas: deltas.map(med) };
}

function out(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function main() {
  spawnSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
  ensurePeers();
  const work = mkdtempSync(join(tmpdir(), "sysjail-bench-"));
  // jail root is no longer host root: the jail's tree must be reachable by "others" (docs/JAILS.md)
  chmodSync(work, 0o755);
  const results = [];
  const section = (title, rows, note) => results.push({ title, rows, note });
  try {
    const probe = join(work, "probe");
    execFileSync("gcc", ["-O2", "-static", "-o", probe, join(root, "bench", "probe.c")]);
    const jroot = join(work, "root");
    for (const d of ["proc", "dev", "tmp", "etc", "sys"]) mkdirSync(join(jroot, d), { recursive: true });
    copyFileSync(probe, join(jroot, "probe"));
    spawnSync("chmod", ["1777", join(jroot, "tmp")]);

    // --- issue 3: start-up
    const unshare = timeCmd("unshare", ["-Upfimu", "--mount-proc", "-r", "true"]);
    const unshareN = timeCmd("unshare", ["-Upfimun", "--mount-proc", "-r", "true"]);
    const bwrapArgs = ["--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--hostname", "h", "/bin/true"];
    const bwrap = have("bwrap") ? timeCmd("bwrap", bwrapArgs) : { median: NaN };
    const firejail = have("firejail") ? timeCmd("firejail", ["--quiet", "--noprofile", "--net=none", "/bin/true"], Math.min(N, 11)) : { median: NaN };
    const { prepare } = await import(join(root, "build/src/jail/prepare.js"));
    const { JailRun } = await import(join(root, "build/src/jail/run.js"));
    const { baseSpec, validateSpec } = await import(join(root, "build/src/spec/validate.js"));
    const setups = [], walls = [];
    for (let i = 0; i < N; i++) {
      const spec = validateSpec(Object.assign(baseSpec("/", "h"), { command: ["/bin/true"], env: { PATH: "/usr/bin:/bin" } }));
      const jr = new JailRun(spec, await prepare(spec, {}), { stdio: "ignore", detach: false });
      const ev = await jr.wait();
      if (ev?.setup > 0) setups.push(ev.setup * 1000);
      if (ev?.wall > 0) walls.push(ev.wall * 1000);
    }
    // the floors of the two ways in, on this machine: minimal Node programs that skip argument
    // parsing, registry, planning and encoding. Under a front (a copy of the helper beside a
    // bin/run-tool.js of its own): write a plan encoded beforehand to fd 3, wait for the exit event,
    // say the status as Node's last word (src/helper/front.ts lastWord), exit.
    // Node as the parent: load child_process, spawn the helper with that plan, wait likewise.
    const { encodePlan } = await import(join(root, "build/src/plan/encode.js"));
    const { helperPath } = await import(join(root, "build/src/helper/launch.js"));
    const floorSpec = validateSpec(Object.assign(baseSpec("/", "h"), { command: ["/bin/true"], env: { PATH: "/usr/bin:/bin" } }));
    writeFileSync(join(work, "plan.bin"), encodePlan((await prepare(floorSpec, { dryRun: true })).plan));
    writeFileSync(join(work, "floor.cjs"), `const plan = require("fs").readFileSync(${JSON.stringify(join(work, "plan.bin"))});
const c = require("child_process").spawn(${JSON.stringify(helperPath())}, ["run"], { stdio: ["inherit", "inherit", "inherit", "pipe"] });
c.stdio[3].on("data", (d) => { if (String(d).includes('"ev":"exit"')) process.exit(0); });
c.stdio[3].write(plan);
`);
    const frontFloor = join(work, "frontfloor");
    mkdirSync(join(frontFloor, "native", "build"), { recursive: true });
    mkdirSync(join(frontFloor, "bin"));
    copyFileSync(helperPath(), join(frontFloor, "native", "build", "sysjail-helper"));
    spawnSync("chmod", ["755", join(frontFloor, "native", "build", "sysjail-helper")]);
    spawnSync("ln", ["-s", "sysjail-helper", join(frontFloor, "native", "build", "sysjail")]);
    writeFileSync(join(frontFloor, "bin", "run-tool.js"), `const fs = require("fs");
fs.writeSync(3, fs.readFileSync(${JSON.stringify(join(work, "plan.bin"))}));
const buf = Buffer.alloc(65536); let acc = "";
const next = () => fs.read(3, buf, 0, buf.length, null, (e, n) => { if (e || n <= 0) process.exit(1); acc += buf.toString("utf8", 0, n); if (acc.includes('"ev":"exit"')) { fs.writeSync(3, "E000"); process.exit(0); } next(); });
next();
`);
    for (let i = 0; i < 3; i++) { spawnSync(front, ["/", "h", "/bin/true"]); spawnSync("node", [sysjail, "/", "h", "/bin/true"]); } // code caches
    // The front runs sysjail's Node without the caller's NODE_* variables (docs/ARCHITECTURE.md),
    // so the like-for-like baseline is `node -e 0` without them too: every row of the first
    // comparison runs in that environment. The second compares the installed command with
    // `node -e 0` in the caller's own environment, as a user (and the acceptance check) sees it.
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("NODE_")));
    const held = Object.keys(process.env).filter((k) => k.startsWith("NODE_")).sort();
    const startup = timeAgainst(["node", ["-e", "0"], clean], [
      [front, ["/", "h", "/bin/true"], clean],
      ["node", [sysjail, "/", "h", "/bin/true"], clean],
      [join(frontFloor, "native", "build", "sysjail"), [], clean],
      ["node", [join(work, "floor.cjs")], clean],
    ], NSTART);
    const asCalled = held.length > 0 ? timeAgainst(["node", ["-e", "0"]], [[front, ["/", "h", "/bin/true"]]], NSTART) : undefined;
    const [sjD, sjNodeD, frontFloorD, floorD] = startup.deltas;
    const heldNote = held.length > 0 ? `here ${held.map((k) => `\`${k}\``).join(", ")}` : "none set here";
    section("Start-up (issue 3): median of " + NSTART + " rounds, ms (the first six rows: each command run between two runs of `node -e 0`, its delta taken against their mean; all run without the NODE_* variables, " + heldNote + ")", [
      ["`node -e 0`", fmt(startup.base)],
      ["`sysjail / h /bin/true` end to end (the installed command, native front)", fmt(startup.times[0])],
      ["sysjail minus `node -e 0` (goal <= 25)", fmt(sjD)],
      ["`node bin/sysjail.js / h /bin/true` minus `node -e 0` (Node spawns the helper)", fmt(sjNodeD)],
      ["floor under the front: Node writing a ready plan, minus `node -e 0`", fmt(frontFloorD)],
      ["floor with Node as the parent: loading child_process, spawning the helper with a ready plan, minus `node -e 0`", fmt(floorD)],
      ["helper's own setup (helper start to command exec)", fmt(median(setups))],
      ["jail life of /bin/true (clone to jail empty)", fmt(median(walls))],
      ["`unshare -Upfimu --mount-proc -r true` (floor)", fmt(unshare.median)],
      ["`unshare -Upfimun --mount-proc -r true` (+ net)", fmt(unshareN.median)],
      ["`bwrap --unshare-all --ro-bind / / --proc --dev true`", fmt(bwrap.median)],
      ["`firejail --noprofile --net=none true`", fmt(firejail.median)],
      ...(asCalled ? [
        ["`node -e 0` with this machine's environment (" + heldNote + ")", fmt(asCalled.base)],
        ["sysjail minus `node -e 0`, both with this machine's environment (what a user and the acceptance check see)", fmt(asCalled.deltas[0])],
      ] : []),
    ], "The helper's setup includes new user, pid, mount, uts, ipc, cgroup and network namespaces, id maps, ~35 mount steps, pivot_root, capabilities, no_new_privs and the seccomp filter.");

    // --- issue 4: system-call policy
    const loops = quick ? 1000000 : 10000000;
    const runProbe = (args, jailed) => {
      const r = jailed
        ? spawnSync("node", [sysjail, jroot, "b", "/probe", ...args], { encoding: "utf8" })
        : spawnSync(probe, args, { encoding: "utf8" });
      return Number(r.stdout.trim());
    };
    const bareLoop = best([0, 1, 2].map(() => runProbe(["loop", String(loops)], false)));
    const jailLoop = best([0, 1, 2].map(() => runProbe(["loop", String(loops)], true)));
    const fdir = join(work, "files");
    mkdirSync(fdir);
    const bareFiles = best([0, 1, 2].map(() => runProbe(["files", "20000", fdir], false)));
    const jailFiles = best([0, 1, 2].map(() => runProbe(["files", "20000", "/tmp"], true)));
    let straceLoop = NaN;
    if (have("strace")) {
      const r = spawnSync("strace", ["-f", "-qq", "-o", "/dev/null", probe, "loop", "200000"], { encoding: "utf8" });
      straceLoop = Number(r.stdout.trim());
    }
    const { compileJailFilter, defaultRules } = await import(join(root, "build/src/seccomp/index.js"));
    const { defaultPolicy } = await import(join(root, "build/src/spec/types.js"));
    let t0 = performance.now();
    const f = compileJailFilter(defaultPolicy(), process.arch);
    const compileCold = performance.now() - t0;
    const filterFile = join(work, "filter.bin");
    writeFileSync(filterFile, f.program);
    // a docker-like filter: one linear comparison per allowed call, no binary search
    const allowAll = join(work, "allow.bin");
    const ins = (code, jt, jf, k) => { const b = Buffer.alloc(8); b.writeUInt16LE(code, 0); b[2] = jt; b[3] = jf; b.writeUInt32LE(k >>> 0, 4); return b; };
    writeFileSync(allowAll, ins(0x06, 0, 0, 0x7fff0000));
    const linear = [ins(0x20, 0, 0, 4), ins(0x15, 1, 0, 0xc000003e), ins(0x06, 0, 0, 0), ins(0x20, 0, 0, 0)];
    // one "jeq nr; ret allow" pair per allowed call, scanned in order, then the default action
    for (let nr = 0; nr < 350; nr++) linear.push(ins(0x15, 0, 1, nr), ins(0x06, 0, 0, 0x7fff0000));
    linear.push(ins(0x06, 0, 0, 0x00050026));
    const linearFile = join(work, "linear.bin");
    writeFileSync(linearFile, Buffer.concat(linear));
    const install = (file) => median(Array.from({ length: N }, () => Number(out(probe, ["install", file]))));
    // the kernel's own cost of being filtered at all: the same loop under a 1-instruction allow-all filter
    section("System-call policy (issue 4)", [
      ["getppid loop, bare (ns/call, best of 3)", fmt(bareLoop)],
      ["getppid loop, in a jail with the default policy", fmt(jailLoop)],
      ["ratio jail / bare (goal <= 1.03)", fmt(jailLoop / bareLoop, 3)],
      ["getppid loop under `strace -f` (a ptrace interceptor)", fmt(straceLoop)],
      ["file cycle (create, write, stat, unlink), bare (us)", fmt(bareFiles, 3)],
      ["file cycle in a jail", fmt(jailFiles, 3)],
      ["ratio jail / bare", fmt(jailFiles / bareFiles, 3)],
      ["compiled default filter: instructions", String(f.instructions)],
      ["worst path (instructions executed)", String(f.worstPath)],
      ["compile time, first call in a process (ms)", fmt(compileCold)],
      ["install time of our filter (us, median)", fmt(install(filterFile), 1)],
      ["install time of a 1-instruction allow-all filter (us)", fmt(install(allowAll), 1)],
      ["install time of a docker-like linear filter, 350 calls (us)", fmt(install(linearFile), 1)],
    ], "Allowed calls that do not depend on arguments compile to constant results, so the kernel's seccomp action cache answers them without running the filter.");

    // --- issue 7: shared-stack address jails (loopback addresses only)
    const netRows = [];
    if (process.getuid?.() === 0) {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const sink = spawn(probe, ["sink", "127.0.0.9", String(port), "600"], { stdio: ["ignore", "pipe", "ignore"] });
      await new Promise((r) => sink.stdout.once("data", r));
      const jailedNet = (args) => Number(out("node", [sysjail, "-4", "127.0.0.2", jroot, "n", "/probe", ...args]));
      const conns = quick ? 2000 : 20000, mib = quick ? 256 : 1024;
      const bareConn = median([0, 1, 2].map(() => Number(out(probe, ["connects", "127.0.0.9", String(port), String(conns)]))));
      const jailConn = median([0, 1, 2].map(() => jailedNet(["connects", "127.0.0.9", String(port), String(conns)])));
      const bareSend = median([0, 1, 2].map(() => Number(out(probe, ["send", "127.0.0.9", String(port), String(mib)]))));
      const jailSend = median([0, 1, 2].map(() => jailedNet(["send", "127.0.0.9", String(port), String(mib)])));
      sink.kill("SIGKILL");
      const plain = timeCmd("node", [sysjail, jroot, "v", "/probe", "loop", "1"], Math.min(N, 11));
      const vnet = timeCmd("node", [sysjail, "--vnet", "-4", "10.213.0.2", jroot, "v", "/probe", "loop", "1"], Math.min(N, 11));
      netRows.push(
        [`TCP connect+close to a host listener, bare (conn/s, ${conns} each, median of 3)`, fmt(bareConn, 0)],
        ["the same from a shared-stack jail (-4 127.0.0.2)", fmt(jailConn, 0)],
        ["ratio jail / bare", fmt(jailConn / bareConn, 3)],
        [`${mib} MiB loopback transfer, bare (MiB/s)`, fmt(bareSend, 1)],
        ["the same from a shared-stack jail", fmt(jailSend, 1)],
        ["ratio jail / bare (goal >= 0.97)", fmt(jailSend / bareSend, 3)],
        ["`sysjail ROOT v /probe` end to end, own namespace, no address (ms)", fmt(plain.median)],
        ["the same with `--vnet -4 10.213.0.2` (ms; veth pair and routes, no traffic)", fmt(vnet.median)],
      );
    }
    section("Jail addresses (issue 7)", netRows.length ? netRows : [["(needs root)", "n/a"]],
      "Traffic stays on 127.0.0.0/8: the jail sends from 127.0.0.2 to a sink on 127.0.0.9. The vnet case creates a veth pair and routes, and sends nothing.");

    // --- issue 8: library rate and memory
    const lib = await import(join(root, "build/src/index.js"));
    const seqN = quick ? 40 : 200;
    t0 = performance.now();
    for (let i = 0; i < seqN; i++) await lib.run({ path: "/", hostname: "r", command: ["/bin/true"] });
    const ourSeq = seqN / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    for (let i = 0; i < seqN / 2; i++) await Promise.all([0, 1].map(() => lib.run({ path: "/", hostname: "r", command: ["/bin/true"] })));
    const ourPar = seqN / ((performance.now() - t0) / 1000);
    const bw = (n, par) => new Promise((resolve) => {
      let done = 0, started = 0;
      const t = performance.now();
      const next = () => {
        if (started >= n) return;
        started++;
        spawn("bwrap", bwrapArgs.map((a) => (a === "h" ? "r" : a)), { stdio: "ignore" }).on("exit", () => {
          if (++done === n) resolve(n / ((performance.now() - t) / 1000));
          else next();
        });
      };
      for (let i = 0; i < par; i++) next();
    });
    const bwSeq = have("bwrap") ? await bw(seqN, 1) : NaN;
    const bwPar = have("bwrap") ? await bw(seqN, 2) : NaN;
    // memory of an idle persistent jail: the monitor and the init, proportional set size
    let pssKiB = NaN;
    const sd = join(work, "state");
    const jid = out("node", [sysjail, "-b", "-i", "-j", sd, "/", "idle", "/bin/sleep", "600"]);
    if (jid) {
      const entry = JSON.parse(readFileSync(join(sd, "jails", `${jid}.json`), "utf8"));
      const pss = (pid) => { try { return Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1]); } catch { return NaN; } };
      pssKiB = pss(entry.monitorPid) + pss(entry.initPid);
      spawnSync("kill", ["-KILL", String(entry.initPid)]);
    }
    section("Library (issue 8)", [
      [`run() of /bin/true, ${seqN} in a row (jails/s)`, fmt(ourSeq, 0)],
      ["`child_process.spawn` of bwrap, in a row (jails/s)", fmt(bwSeq, 0)],
      ["run(), 2 at a time (jails/s)", fmt(ourPar, 0)],
      ["bwrap, 2 at a time (jails/s)", fmt(bwPar, 0)],
      ["memory per idle jail: PSS of monitor + init (MiB, goal <= 1)", fmt(pssKiB / 1024, 2)],
    ]);

    // --- issue 23: the library under a long load, in one process
    const { soakRows } = await import(join(root, "scripts", "bench-soak.mjs"));
    section("Soak (issue 23)", await soakRows({ quick, jroot }),
      "10,000 sequential `run()` calls of `/probe loop 1` (every tenth with memory and pids limits) in one process, after 100 to warm up. No growth means the same descriptors, the heap within a few hundred KiB, and no cgroup directory or registry file left at the end.");

    // --- issue 18: mkjail and the full jail
    const { mkjailRows } = await import(join(root, "scripts", "bench-mkjail.mjs"));
    section("mkjail and full jails (issue 18)", await mkjailRows({ quick }),
      "The Debian rows fetch from the host's configured mirror (the first build and mmdebstrap) and so depend on the network; the cached build reads only the cache. The full jail listens on 127.0.0.90.");

    // --- issue 21: sysjail-oci beside runc, under the same engine
    const { ociRows } = await import(join(root, "scripts", "bench-oci.mjs"));
    const oci = await ociRows({ quick, jroot });
    section("sysjail-oci beside runc under podman (issue 21)", oci.rows, oci.note);

    const md = [
      "# Benchmarks",
      "",
      `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, kernel ${out("uname", ["-r"])}, Node ${process.version}, bwrap ${out("bwrap", ["--version"]) ?? "absent"}.`,
      "Peers are measured in the same run. Figures on a shared virtual machine vary by 10-30% between runs; compare rows of one run.",
      "",
    ];
    for (const s of results) {
      md.push(`## ${s.title}`, "", "| measure | value |", "|---|---|", ...s.rows.map(([k, v]) => `| ${k} | ${v} |`), "");
      if (s.note) md.push(s.note, "");
    }
    const extra = join(root, "docs", "BENCHMARKS-NOTES.md");
    if (existsSync(extra)) md.push(readFileSync(extra, "utf8"));
    writeFileSync(join(root, "BENCHMARKS.md"), md.join("\n"));
    console.log(md.join("\n"));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench: ${err.stack ?? err}`);
  process.exit(1);
});
