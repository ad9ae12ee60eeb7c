// npm run bench:pledge: the start cost of --unveil and --pledge against none, restrict()'s own
// time, and a system-call loop in a Node process after restrict() against an allow-all filter.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sysjail = join(root, "native", "build", "sysjail");
const rounds = Number(process.env.ROUNDS ?? 21);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const once = (args) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(sysjail, args, { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`sysjail ${args.join(" ")}: status ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
// the variants run interleaved, round by round, so a load change on a shared machine hits all alike
const variants = [
  ["`sysjail / h /bin/true` (ms)", ["/", "h", "/bin/true"]],
  ["with 4 `--unveil` paths", ["--unveil", "/usr:rx", "--unveil", "/lib:rx", "--unveil", "/lib64:rx", "--unveil", "/etc:r", "/", "h", "/bin/true"]],
  ["with `--pledge \"stdio rpath exec prot_exec\"`", ["--pledge", "stdio rpath exec prot_exec", "/", "h", "/bin/true"]],
  ["with `--pledge \"stdio rpath prot_exec\"` (no exec: the listener lets the one exec through)", ["--pledge", "stdio rpath prot_exec", "/", "h", "/bin/true"]],
  ["with `-d` (the listener explains refusals)", ["-d", "/", "h", "/bin/true"]],
];
const times0 = variants.map(() => []);
for (const v of variants) once(v[1]); // warm the filter cache
for (let i = 0; i < rounds; i++) variants.forEach((v, k) => times0[k].push(once(v[1])));
const rows = [];
const none = median(times0[0]);
variants.forEach((v, k) => {
  const m = median(times0[k]);
  rows.push([k === 0 ? v[0] : `${v[0]} (ms, delta)`, k === 0 ? m : `${m.toFixed(2)} (${m - none >= 0 ? "+" : ""}${(m - none).toFixed(2)})`]);
});

// restrict(): its own time and a loop of process.ppid (one getppid each) after it
const dir = mkdtempSync(join(tmpdir(), "sj-bench-"));
const script = join(dir, "r.mjs");
writeFileSync(script, `
import { restrict } from ${JSON.stringify(join(root, "build", "src", "index.js"))};
import { createRequire } from "node:module";
const mode = process.argv[2];
const loop = () => { let best = Infinity; for (let k = 0; k < 5; k++) { const n = 300000, t0 = process.hrtime.bigint(); for (let i = 0; i < n; i++) process.ppid; best = Math.min(best, Number(process.hrtime.bigint() - t0) / n); } return best; };
let t = 0;
if (mode === "restrict") { const t0 = process.hrtime.bigint(); await restrict({ unveil: { "/tmp": "rwc" }, pledge: "stdio rpath" }); t = Number(process.hrtime.bigint() - t0) / 1e6; }
if (mode === "allow-all") {
  const addon = createRequire(import.meta.url)(${JSON.stringify(join(root, "native", "build", "sysjail-restrict.node"))});
  const prog = Buffer.alloc(8); prog.writeUInt16LE(0x06, 0); prog.writeUInt32LE(0x7fff0000, 4);
  const [r] = addon.restrict(0, [], [], prog); if (r !== 0) throw new Error("allow-all " + r);
}
console.log(JSON.stringify({ t, ns: loop() }));
`);
const run = (mode) => {
  const r = spawnSync(process.execPath, [script, mode], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${mode}: status ${r.status} ${r.signal ?? ""}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};
const times = [], bare = [], floor = [], after = [];
for (let i = 0; i < 7; i++) {
  bare.push(run("bare").ns);
  floor.push(run("allow-all").ns);
  const r = run("restrict");
  times.push(r.t);
  after.push(r.ns);
}
rmSync(dir, { recursive: true, force: true });
rows.push(["`restrict({ unveil: 1 path, pledge })` call (ms, median of 7; compiles the filter)", median(times)]);
rows.push(["`process.ppid` loop in Node, no filter (ns/call)", median(bare)]);
rows.push(["... under a one-instruction allow-all filter (floor)", median(floor)]);
rows.push(["... after restrict() (default policy + pledge, Landlock)", median(after)]);
rows.push(["ratio restrict() / allow-all floor", (median(after) / median(floor)).toFixed(3)]);
console.log("| measure | value |\n|---|---|");
for (const [k, v] of rows) console.log(`| ${k} | ${typeof v === "number" ? v.toFixed(2) : v} |`);
