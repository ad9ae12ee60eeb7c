// sjls output: the jail table, the long (-v) form, the process list (-p) and the watch frame. Pure.
import { formatLimits } from "../limits/parse.js";
import type { JailInfo, JailProc } from "./sjlsinfo.js";
import { policyWords } from "./sjlsinfo.js";
import { vis } from "./vis.js";

/** Bytes as a short human figure: 512, 1.5K, 12M, 3.2G. */
export function humanBytes(n: number): string {
  const units = ["", "K", "M", "G", "T"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  if (u === 0) return String(Math.round(v));
  return `${v >= 10 ? Math.round(v) : v.toFixed(1)}${units[u]}`;
}

/** CPU seconds as s.ss under a minute, else m:ss, else h:mm:ss. */
export function humanCpu(s: number): string {
  if (s < 60) return `${s.toFixed(2)}s`;
  return humanDuration(Math.round(s));
}

/** A duration in whole seconds: m:ss, h:mm:ss, or Nd+hh:mm. */
export function humanDuration(total: number): string {
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  if (d > 0) return `${d}d+${two(h)}:${two(m)}`;
  if (h > 0) return `${h}:${two(m)}:${two(s)}`;
  return `${m}:${two(s)}`;
}

function col(s: string, w: number, right = false): string {
  const c = s.length > w ? s.slice(0, w) : s;
  return right ? c.padStart(w) : c.padEnd(w);
}

/** The columns of the jail table. */
const COLS: [string, number, boolean][] = [
  ["JID", 5, true], ["NAME", 12, false], ["HOSTNAME", 20, false], ["OWNER", 8, false],
  ["PROCS", 5, true], ["MEM", 7, true], ["CPU", 8, true], ["UPTIME", 9, true],
];

/** The jail table's header line; with cpuPercent, a %CPU column follows CPU (watch mode). */
export function tableHeader(cpuPercent = false): string {
  const cells = COLS.map(([n, w, r]) => col(n, w, r));
  if (cpuPercent) cells.splice(7, 0, col("%CPU", 6, true));
  return `${cells.join(" ")} COMMAND`;
}

/** One jail's row in the table. */
export function tableRow(j: JailInfo, cpuPercent?: number): string {
  const cells = [
    col(String(j.jid), 5, true), col(vis(j.name), 12), col(vis(j.hostname), 20), col(vis(j.ownerName), 8),
    col(String(j.processes), 5, true), col(humanBytes(j.memoryBytes), 7, true), col(humanCpu(j.cpuSeconds), 8, true),
    col(humanDuration(j.uptimeSeconds), 9, true),
  ];
  if (cpuPercent !== undefined) cells.splice(7, 0, col(cpuPercent.toFixed(1), 6, true));
  return `${cells.join(" ")} ${j.command.map(vis).join(" ")}`;
}

/** The long form of one jail (sjls -v). */
export function longForm(j: JailInfo): string[] {
  const addrs = [...j.ip4, ...j.ip6].map(vis);
  const net = addrs.length ? addrs.join(", ") : j.policy.ownNetwork ? "none (own network namespace, loopback only)" : "none";
  const src = j.usageSource === "cgroup" ? "cgroup" : "sum of its processes";
  const limits = formatLimits(j.limits);
  const cgroups = Object.entries(j.cgroups).map(([k, v]) => `${vis(k)}=${vis(v)}`).join(" ");
  const meta = Object.entries(j.meta).map(([k, v]) => `${vis(k)}=${vis(v)}`).join(" ");
  const lines = [
    `jail ${j.jid} "${vis(j.name)}" (owner ${vis(j.ownerName)}, uid ${j.owner})`,
    `  hostname    ${vis(j.hostname)}`,
    `  path        ${vis(j.path)}`,
    `  addresses   ${net}`,
    `  init        host pid ${j.initPid} (monitor ${j.monitorPid})`,
    `  started     ${vis(j.startedAt)} (up ${humanDuration(j.uptimeSeconds)})${j.persist ? ", persistent" : ""}`,
    `  command     ${j.command.length ? j.command.map(vis).join(" ") : "-"}`,
    `  processes   ${j.processes}`,
    ...(j.denials !== undefined ? [`  denials     ${j.denials} refused calls so far (sysjail -d or --report lists them at the end)`] : []),
    `  memory      ${humanBytes(j.memoryBytes)} (${j.memoryBytes} bytes, ${src})`,
    `  cpu         ${humanCpu(j.cpuSeconds)} (${src})`,
    `  user ns     uid ${vis(j.idmap.uidMap.trim()) || "-"}, gid ${vis(j.idmap.gidMap.trim()) || "-"}${j.idmap.rootless ? " (rootless)" : ""}`,
    ...(j.ids && /^[a-z]{1,16}$/.test(String(j.ids.lease)) ? [`  host ids    ${j.ids.uid}-${j.ids.uid + j.ids.count - 1}, gids ${j.ids.gid}-${j.ids.gid + j.ids.count - 1} (${j.ids.lease})`] : []),
    `  policy      ${j.policy.noNewPrivs ? "no_new_privs, " : ""}seccomp; allow: ${vis(policyWords(j.policy))}`,
    `  caps        ${vis(j.policy.capabilities.join(","))}`,
    `  limits      ${vis(limits) || "-"}`,
    `  cgroups     ${cgroups || "-"}`,
    `  state       ${vis(j.stateDir)}`,
  ];
  if (meta) lines.push(`  meta        ${meta}`);
  if (j.corrupt) lines.push(`  corrupt     ${vis(j.corrupt.join("; "))}`);
  return lines;
}

/** The process list (sjls -p): host pid and jail pid side by side, uid as the jail sees it. */
export function processTable(procs: JailProc[]): string[] {
  const head = `${col("HOST PID", 9, true)} ${col("JAIL PID", 9, true)} ${col("UID", 6, true)} ${col("S", 1)} ${col("RSS", 7, true)} ${col("CPU", 8, true)} COMMAND`;
  return [
    head,
    ...procs.map((p) =>
      `${col(String(p.hostPid), 9, true)} ${col(String(p.jailPid), 9, true)} ${col(String(p.jailUid), 6, true)} ${col(vis(p.state), 1)} ${col(humanBytes(p.rssBytes), 7, true)} ${col(humanCpu(p.cpuSeconds), 8, true)} ${p.argv.map(vis).join(" ")}`),
  ];
}

/** One watch frame: a summary line, then the table sorted by CPU use over the last interval. */
export function watchFrame(jails: { info: JailInfo; cpuPercent: number }[], when: Date, interval: number): string[] {
  const sorted = [...jails].sort((a, b) => b.cpuPercent - a.cpuPercent || a.info.jid - b.info.jid);
  const procs = jails.reduce((s, j) => s + j.info.processes, 0);
  const mem = jails.reduce((s, j) => s + j.info.memoryBytes, 0);
  return [
    `sjls - ${when.toTimeString().slice(0, 8)}  ${jails.length} jail${jails.length === 1 ? "" : "s"}, ${procs} processes, ${humanBytes(mem)} memory; every ${interval}s (q to quit)`,
    "",
    tableHeader(true),
    ...sorted.map((j) => tableRow(j.info, j.cpuPercent)),
  ];
}
