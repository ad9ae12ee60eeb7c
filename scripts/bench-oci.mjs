// npm run bench, issue 21: sysjail-oci against runc under the same engine (podman, with conmon) in
// the same run: `podman run --rm` of one command in alternating rounds, each runtime call's own
// time (through a logging wrapper, the same for both), and the memory of an idle container.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const median = (xs) => { const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const fmt = (x, d = 1) => (Number.isNaN(x) ? "n/a" : x.toFixed(d));
const have = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

/** PSS (kB) of PID and every process below it. */
function treePss(pid) {
  const kids = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  let sum = 0;
  const walk = (p) => {
    for (const c of kids.get(p) ?? []) {
      try { sum += Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${c}/smaps_rollup`, "utf8"))?.[1] ?? 0); } catch { /* gone */ }
      walk(c);
    }
  };
  walk(pid);
  return sum;
}

/** The rows of the section, given the bench's jail root (a static /probe in it). */
export async function ociRows({ quick, jroot }) {
  const missing = [["podman", "podman"], ["runc", "runc"], ["conmon", "conmon"]].filter(([c]) => !have(c)).map(([, p]) => p);
  if (missing.length) {
    console.error(`bench: installing ${missing.join(" ")}`);
    spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  }
  if (!have("podman") || !have("runc") || process.getuid?.() !== 0) return { rows: [["podman and runc as root", "not available: not measured"]] };
  const ours = join(root, "native", "build", "sysjail-oci");
  const runc = spawnSync("sh", ["-c", "command -v runc"], { encoding: "utf8" }).stdout.trim();
  const work = mkdtempSync(join(tmpdir(), "sysjail-bench-oci-"));
  const tag = `localhost/sysjail-bench-oci:${process.pid}`;
  const names = [];
  try {
    const tar = spawnSync("tar", ["-C", jroot, "-c", "."], { maxBuffer: 64 << 20 });
    if (spawnSync("podman", ["import", "-", tag], { input: tar.stdout, stdio: ["pipe", "ignore", "ignore"] }).status !== 0) return { rows: [["podman import", "failed: not measured"]] };
    // the same wrapper for both runtimes: it logs each call's own time
    const wrap = (name, bin) => {
      const f = join(work, name);
      writeFileSync(f, `#!/bin/sh\ns=$(date +%s%N)\n"${bin}" "$@"\nrc=$?\necho "$(( ($(date +%s%N) - s) / 1000 )) $*" >> "${f}.log"\nexit $rc\n`);
      chmodSync(f, 0o755);
      return f;
    };
    const rt = { ours, runc, oursW: wrap("ours", ours), runcW: wrap("runc", runc) };
    const base = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--network=none"];
    const run = (r) => {
      const t0 = process.hrtime.bigint();
      const x = spawnSync("podman", ["--runtime", r, "run", "--rm", ...base, tag, "/probe", "loop", "1"], { stdio: "ignore" });
      return x.status === 0 ? Number(process.hrtime.bigint() - t0) / 1e6 : NaN;
    };
    run(rt.ours); run(rt.runc); // the code cache and podman's own caches, warm for both
    const R = quick ? 3 : 21;
    const a = [], b = [];
    for (let i = 0; i < R; i++) { a.push(run(rt.ours)); b.push(run(rt.runc)); }
    // each call's time, through the wrapper (its own cost is the same for both)
    const W = quick ? 3 : 9;
    for (let i = 0; i < W; i++) { run(rt.oursW); run(rt.runcW); }
    const calls = (name) => {
      let log = "";
      try { log = readFileSync(join(work, `${name}.log`), "utf8"); } catch { /* none */ }
      const by = (re) => median(log.split("\n").filter((l) => re.test(l)).map((l) => Number(l.split(" ")[0]) / 1000));
      return { create: by(/ create /), start: by(/ start /), del: by(/ delete /) };
    };
    const co = calls("ours"), cr = calls("runc");
    // an idle container: PSS of everything under its conmon (runc has exited; our monitor is there)
    const idle = (r) => {
      const n = `sysjail-bench-oci-${process.pid}-${names.length}`;
      names.push(n);
      if (spawnSync("podman", ["--runtime", r, "run", "-d", "--name", n, ...base, tag, "/probe", "sleep", "600"], { stdio: "ignore" }).status !== 0) return NaN;
      spawnSync("sleep", ["1"]);
      const conmon = Number(spawnSync("podman", ["inspect", "-f", "{{.State.ConmonPid}}", n], { encoding: "utf8" }).stdout.trim());
      const kb = conmon > 0 ? treePss(conmon) : NaN;
      spawnSync("podman", ["rm", "-f", "-t", "0", n], { stdio: "ignore" });
      return kb;
    };
    const M = quick ? 2 : 5;
    const mo = [], mr = [];
    for (let i = 0; i < M; i++) { mo.push(idle(rt.ours)); mr.push(idle(rt.runc)); }
    const ma = median(a), mb = median(b);
    return {
      rows: [
        [`\`podman run --rm IMAGE /probe loop 1\`, sysjail-oci (ms, median of ${R})`, fmt(ma)],
        ["the same with runc (ms)", fmt(mb)],
        ["ratio (goal <= 1.0)", fmt(ma / mb, 2)],
        [`\`create\` sysjail-oci / runc (ms, median of ${W}, through a logging wrapper)`, `${fmt(co.create)} / ${fmt(cr.create)}`],
        ["`start` sysjail-oci / runc (ms)", `${fmt(co.start)} / ${fmt(cr.start)}`],
        ["`delete` sysjail-oci / runc (ms)", `${fmt(co.del)} / ${fmt(cr.del)}`],
        [`idle container, PSS under its conmon, sysjail-oci (kB, median of ${M})`, fmt(median(mo), 0)],
        ["the same with runc (kB; goal: ours at most this)", fmt(median(mr), 0)],
      ],
      note: "podman from Debian with conmon, the same image (a static /probe), `--network=none`, the two runtimes alternating round by round. The idle container runs `/probe sleep 600`; its memory is the PSS of every process below its conmon: under runc only the container's process, under sysjail-oci also its monitor (by then the small sysjail-reaper).",
    };
  } finally {
    for (const n of names) spawnSync("podman", ["rm", "-f", "-t", "0", n], { stdio: "ignore" });
    spawnSync("podman", ["rmi", "-f", tag], { stdio: "ignore" });
    rmSync(work, { recursive: true, force: true });
  }
}
