#!/usr/bin/env node
// The mkjail and full-jail rows of `npm run bench` (issue 18); `node scripts/bench-mkjail.mjs`
// runs them alone and prints the section. Root only; the Debian rows need the host's mirror.
// Addresses: 127.0.0.90 only; the jail is named bench-full and removed afterwards.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const mkjail = join(root, "bin", "mkjail.js");
const front = (t) => join(root, "native", "build", t);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (x, d = 2) => (x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(d));
const have = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

/** Wall time (s) of one run; NaN when it fails. */
function once(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: "ignore", ...opts });
  return r.status === 0 ? Number(process.hrtime.bigint() - t0) / 1e9 : NaN;
}
function timeN(n, cmd, args) {
  const ts = [];
  for (let i = 0; i < n; i++) ts.push(once(cmd, args) * 1000);
  return ts.some(Number.isNaN) ? NaN : median(ts);
}
/** Resolves once ADDR:PORT accepts a connection (polls every 2 ms). */
function accepting(addr, port, deadline) {
  return new Promise((resolve) => {
    const tryOnce = () => {
      const s = connect({ host: addr, port });
      s.once("connect", () => { s.destroy(); resolve(true); });
      s.once("error", () => { s.destroy(); if (Date.now() > deadline) resolve(false); else setTimeout(tryOnce, 2); });
    };
    tryOnce();
  });
}

/** The rows: [measure, value]. */
export async function mkjailRows({ quick = false } = {}) {
  if (process.getuid?.() !== 0) return [["(needs root)", "n/a"]];
  const work = mkdtempSync(join(tmpdir(), "sysjail-bench-mkjail-"));
  chmodSync(work, 0o755); // jail root (a host uid of sysjail's range) passes through to its tree
  const rows = [];
  try {
    const cache = join(work, "cache");
    // Debian + ssh: cold (network), then from the cache; mmdebstrap alone with the same packages
    const cold = once("node", [mkjail, "-c", cache, "-s", "ssh", "debian", join(work, "d1")]);
    const warm = once("node", [mkjail, "-c", cache, "-s", "ssh", "debian", join(work, "d2")]);
    const warmOffline = once("unshare", ["-n", "node", mkjail, "-c", cache, "-s", "ssh", "debian", join(work, "d3")]);
    rmSync(join(work, "d3"), { recursive: true, force: true });
    const mirrors = spawnSync("node", ["-e", `import(${JSON.stringify(join(root, "build/src/mkjail/apt.js"))}).then(m => console.log(JSON.stringify(m.mirrorLines("bookworm"))))`], { encoding: "utf8" });
    const lines = JSON.parse(mirrors.stdout || "[]");
    const mm = have("mmdebstrap") ? once("mmdebstrap", ["--mode=root", "--variant=minbase", "--include=openssh-server", "bookworm", join(work, "mm"), ...lines]) : NaN;
    rmSync(join(work, "mm"), { recursive: true, force: true });
    const tarball = spawnSync("sh", ["-c", `ls ${cache}/*.tar`], { encoding: "utf8" }).stdout.trim();
    spawnSync("mkdir", [join(work, "untar")]);
    const untar = once("tar", ["-x", "-f", tarball, "-C", join(work, "untar"), "--numeric-owner"]);
    rmSync(join(work, "untar"), { recursive: true, force: true });
    rows.push(
      ["`mkjail -c CACHE -s ssh debian` first build, from the host's mirror (s)", fmt(cold, 1)],
      ["`mmdebstrap --variant=minbase --include=openssh-server` of the same packages, from the mirror (s; peer)", fmt(mm, 1)],
      ["`mkjail -c CACHE -s ssh debian` again, from the cache (s)", fmt(warm, 1)],
      ["the same under `unshare -n` (no network at all) (s)", fmt(warmOffline, 1)],
      ["`tar -x` of the cached root alone (s; floor)", fmt(untar, 1)],
    );
    // the full jail: jail -c to sshd accepting on 127.0.0.90:22, then jail -r
    const conf = join(work, "full.conf");
    writeFileSync(conf, `bench-full {\n  path = "${join(work, "d2")}";\n  host.hostname = "bench-full";\n  ip4.addr = 127.0.0.90;\n  mount.devfs;\n  mount.procfs;\n  exec.start = "/etc/init.d/ssh start";\n  exec.stop = "/etc/init.d/ssh stop";\n  persist;\n}\n`);
    const starts = [], stops = [];
    for (let i = 0; i < (quick ? 3 : 7); i++) {
      const t0 = process.hrtime.bigint();
      const c = spawn(front("jail"), ["-f", conf, "-c", "bench-full"], { stdio: "ignore" });
      const ok = await accepting("127.0.0.90", 22, Date.now() + 20000);
      starts.push(ok ? Number(process.hrtime.bigint() - t0) / 1e6 : NaN);
      await new Promise((r) => (c.exitCode !== null ? r() : c.once("exit", r)));
      stops.push(once(front("jail"), ["-f", conf, "-r", "bench-full"]) * 1000);
    }
    rows.push(
      ["`jail -c` of the full Debian jail to sshd accepting at 127.0.0.90:22 (ms, median; goal < 1000)", fmt(median(starts), 0)],
      ["`jail -r` of it: exec.stop, then nothing left (ms, median)", fmt(median(stops), 0)],
    );
    // a nano jail of /bin/sh
    const nano = join(work, "nano");
    const make = once("node", [mkjail, "nano:/bin/sh", nano]) * 1000;
    const run = timeN(quick ? 5 : 21, front("sysjail"), [nano, "n", "/bin/sh", "-c", "true"]);
    const bw = have("bwrap") ? timeN(quick ? 5 : 21, "bwrap", ["--unshare-all", "--bind", nano, "/", "--proc", "/proc", "--dev", "/dev", "/bin/sh", "-c", "true"]) : NaN;
    rows.push(
      ["`mkjail nano:/bin/sh` (ms)", fmt(make, 0)],
      ["`sysjail NANO n /bin/sh -c true` end to end (ms, median; goal < 200)", fmt(run, 1)],
      ["`bwrap --unshare-all --bind NANO / --proc /proc --dev /dev /bin/sh -c true` (ms, median; peer)", fmt(bw, 1)],
    );
  } finally {
    spawnSync(front("jail"), ["-r", "bench-full"], { stdio: "ignore" });
    spawnSync("rm", ["-rf", "--one-file-system", work]);
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await mkjailRows({ quick: process.argv.includes("--quick") });
  console.log(["| measure | value |", "|---|---|", ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join("\n"));
}
