// Where a `podman run --rm` spends its time, sysjail-oci beside runc (issue 21): alternating runs,
// each traced by a private ftrace instance, split into phases (the runtime's calls, conmon's and
// podman's steps between them) and into CPU time per process. Root only; nothing of the host's
// tracing is touched (an instance of our own, removed at the end).
//   node scripts/podman-timeline.mjs [--rounds N] [--runtime PATH] IMAGE COMMAND [ARG...]
// e.g. node scripts/podman-timeline.mjs --rounds 30 localhost/sysjail-bars:probe /probe pid
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const usage = "usage: node scripts/podman-timeline.mjs [--rounds N] [--runtime PATH] IMAGE COMMAND [ARG...]";

function args(argv) {
  const o = { rounds: 15, ours: join(root, "native", "build", "sysjail-oci"), rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (o.rest.length === 0 && a === "--rounds") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 1000) fail(`--rounds ${JSON.stringify(argv[i] ?? "")}: a whole number from 1 to 1000 is needed`);
      o.rounds = n;
    } else if (o.rest.length === 0 && a === "--runtime") {
      if (!argv[i + 1]) fail("--runtime: a path to sysjail-oci is needed");
      o.ours = argv[++i];
    } else if (o.rest.length === 0 && a.startsWith("-")) fail(`unknown option ${JSON.stringify(a)}; ${usage}`);
    else o.rest.push(a);
  }
  if (o.rest.length < 2) fail(usage);
  return o;
}
function fail(msg) {
  process.stderr.write(`podman-timeline: ${msg}\n`);
  process.exit(64);
}

/** One trace line: [ms, comm, pid, event, rest], or null. */
const LINE = /^\s*(.+?)-(\d+)\s+\[\d+\]\s+\S+\s+([\d.]+):\s+(\w+)(?::\s*|\s+|(?=\())(.*)$/;
function parse(text) {
  const ev = [];
  for (const l of text.split("\n")) {
    if (l.startsWith("#")) continue;
    const m = LINE.exec(l);
    if (m) ev.push([Number(m[3]) * 1000, m[1], Number(m[2]), m[4], m[5]]);
  }
  return ev;
}

/** Phases (ms) of one traced run of RUNTIME whose container command is PROG; null when the trace
 * lacks a step (a lost event, a failed run). */
function phases(ev, runtime, prog) {
  const mark = (s) => ev.find((e) => e[3] === "tracing_mark_write" && e[4].includes(s))?.[0];
  const t0 = mark("TIMELINE start"), t1 = mark("TIMELINE end");
  const execs = ev.filter((e) => e[3] === "sched_process_exec").map((e) => ({ t: e[0], pid: Number(/ pid=(\d+)/.exec(e[4])?.[1]), file: /filename=(\S+)/.exec(e[4])?.[1] }));
  const reaped = new Map(); // pid -> [ms, by pid]
  for (const e of ev) {
    const m = e[3] === "sys_wait4" ? /-> 0x([0-9a-f]+)/.exec(e[4]) : null;
    if (m && parseInt(m[1], 16) > 0 && !reaped.has(parseInt(m[1], 16))) reaped.set(parseInt(m[1], 16), [e[0], e[2]]);
  }
  const rt = execs.filter((x) => x.file === runtime);
  const p = execs.find((x) => x.file === prog && rt[1] && x.t > rt[1].t);
  if (t0 === undefined || t1 === undefined || rt.length < 3 || !p) return null;
  const [create, start] = rt, del = rt[rt.length - 1];
  const pexit = ev.find((e) => e[3] === "sched_process_exit" && e[2] === p.pid)?.[0];
  const cr = reaped.get(create.pid), sr = reaped.get(start.pid), dr = reaped.get(del.pid), prr = reaped.get(p.pid);
  if (!cr || !sr || !dr || !prr || pexit === undefined) return null;
  const conmon = cr[1];
  const fork = ev.find((e) => e[3] === "sched_process_fork" && e[2] === conmon && e[0] > prr[0])?.[0];
  const cexit = ev.find((e) => e[3] === "sched_process_exit" && e[2] === conmon)?.[0];
  if (fork === undefined || cexit === undefined) return null;
  return {
    "podman until create": create.t - t0,
    "create": cr[0] - create.t,
    "create reaped to start": start.t - cr[0],
    "start": sr[0] - start.t,
    "start to the program's exec": p.t - start.t,
    "program's exit to its reap": prr[0] - pexit,
    "reap to the exit command": fork - prr[0],
    "exit command to delete": del.t - fork,
    "delete": dr[0] - del.t,
    "delete to conmon's exit": cexit - dr[0],
    "conmon's exit to podman's": t1 - cexit,
    "whole run": t1 - t0,
  };
}

/** CPU time (ms) per program run below ROOTPID: each process is named for the program it last
 * exec'd (its fork's parent's name until then), numbered in exec order (podman#0 is the run,
 * podman#1 its exit command). */
function cpu(ev, rootPid) {
  const label = new Map([[rootPid, "self"]]);
  const seen = new Map(), tot = {};
  for (const e of ev) {
    if (e[3] === "sched_process_fork") {
      const m = / pid=(\d+) child_comm=.* child_pid=(\d+)/.exec(e[4]);
      if (m && label.has(Number(m[1]))) label.set(Number(m[2]), label.get(Number(m[1])));
    } else if (e[3] === "sched_process_exec" && label.has(e[2])) {
      let base = (/filename=(\S+)/.exec(e[4])?.[1] ?? "?").split("/").pop();
      if (base === "exe" || /^\d+$/.test(base)) base = "runc"; // runc's /proc/self/exe and /dev/fd/N
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      label.set(e[2], `${base}#${n}`);
    } else if (e[3] === "sched_stat_runtime") {
      const m = / pid=(\d+) runtime=(\d+)/.exec(e[4]);
      const l = m && label.get(Number(m[1]));
      if (l && l !== "self") tot[l] = (tot[l] ?? 0) + Number(m[2]) / 1e6;
    }
  }
  return tot;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN; };

function main() {
  const o = args(process.argv.slice(2));
  if (process.getuid?.() !== 0) fail("tracing needs root");
  const which = (c) => spawnSync("sh", ["-c", `command -v ${c}`], { encoding: "utf8" }).stdout.trim();
  const runc = which("runc");
  if (!which("podman") || !runc) fail("podman and runc are needed");
  if (!existsSync(o.ours)) fail(`${o.ours}: no such runtime (npm run build first)`);
  const runtimes = { "sysjail-oci": o.ours.startsWith("/") ? o.ours : join(process.cwd(), o.ours), runc };
  // an exec shows the path the engine ran (a link's own path, not where it leads)
  const execName = { "sysjail-oci": o.ours.startsWith("/") ? o.ours : join(process.cwd(), o.ours), runc };
  const tracefs = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"].find((d) => existsSync(join(d, "instances")));
  if (!tracefs) fail("no tracefs with instances (mount -t tracefs nodev /sys/kernel/tracing)");
  const inst = join(tracefs, "instances", `sysjail-timeline-${process.pid}`);
  mkdirSync(inst);
  const w = (f, v) => writeFileSync(join(inst, f), v);
  const removeInstance = () => { try { w("tracing_on", "0"); } catch { /* gone */ } try { rmdirSync(inst); } catch { /* gone */ } };
  process.on("SIGINT", () => { removeInstance(); process.exit(130); });
  const [image, ...cmd] = o.rest;
  const res = { "sysjail-oci": [], runc: [] }, cpus = { "sysjail-oci": [], runc: [] };
  let lost = 0;
  try {
    w("buffer_size_kb", "16384");
    for (const e of ["sched/sched_process_fork", "sched/sched_process_exec", "sched/sched_process_exit", "sched/sched_stat_runtime", "syscalls/sys_exit_wait4"]) w(`events/${e}/enable`, "1");
    for (let i = 0; i < o.rounds; i++) {
      for (const name of ["sysjail-oci", "runc"]) {
        w("trace", "");
        w("tracing_on", "1");
        w("trace_marker", "TIMELINE start");
        const r = spawnSync("podman", ["--runtime", runtimes[name], "run", "--rm", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--network=none", image, ...cmd], { stdio: "ignore" });
        w("trace_marker", "TIMELINE end");
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // the last exits' events (no process of ours)
        w("tracing_on", "0");
        if (r.status === null) fail(`podman did not run: ${r.error?.message ?? r.signal}`);
        const ev = parse(readFileSync(join(inst, "trace"), "utf8"));
        const ph = phases(ev, execName[name], cmd[0]);
        if (!ph) { lost++; continue; }
        res[name].push(ph);
        cpus[name].push(cpu(ev, process.pid));
      }
    }
  } finally {
    removeInstance();
  }
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(`podman run --rm ${image} ${cmd.join(" ")}: ${res["sysjail-oci"].length} / ${res.runc.length} traced runs (${lost} incomplete), load ${load}; medians, ms`);
  console.log(`${"phase".padEnd(30)} ${"sysjail-oci".padStart(11)} ${"runc".padStart(8)}`);
  for (const k of Object.keys(res.runc[0] ?? res["sysjail-oci"][0] ?? {})) {
    const a = median(res["sysjail-oci"].map((r) => r[k])), b = median(res.runc.map((r) => r[k]));
    console.log(`${k.padEnd(30)} ${a.toFixed(2).padStart(11)} ${b.toFixed(2).padStart(8)}`);
  }
  for (const name of ["sysjail-oci", "runc"]) {
    const labels = [...new Set(cpus[name].flatMap((c) => Object.keys(c)))].sort();
    const parts = labels.map((l) => `${l} ${median(cpus[name].map((c) => c[l] ?? 0)).toFixed(2)}`);
    console.log(`CPU, ${name} (ms): ${parts.join(", ")}; in all ${median(cpus[name].map((c) => Object.values(c).reduce((s, v) => s + v, 0))).toFixed(1)}`);
  }
}

main();
