// sjtest's inside mode: `sjtest --inside CHECK`, run as the jail's command (a path=/ jail, so
// this very file is there). It looks at the jail from within, as an attacker would, and prints
// one line per finding ("ok VALUE" or "err CODE"); the host side (confinement.ts) judges them.
import { openSync, closeSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";

const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? "EUNKNOWN";
const attempt = (fn: () => string): string => {
  try { return `ok ${fn()}`; } catch (e) { return `err ${code(e)}`; }
};
const field = (status: string, key: string): string => new RegExp(`^${key}:\\s*(\\S+)`, "m").exec(status)?.[1] ?? "?";

const CHECKS: Record<string, () => string[]> = {
  /** the pids this jail's /proc shows */
  proc: () => [attempt(() => readdirSync("/proc").filter((n) => /^\d+$/.test(n)).join(","))],
  /** the masked kernel files (a mount on top: another device than /proc's) and a read-only
   * /proc/sys (opened for writing, nothing written); never reads kmsg or kcore */
  masked: () => {
    const proc = statSync("/proc").dev;
    const names = ["kcore", "kmsg", "keys", "key-users", "timer_list", "sched_debug", "latency_stats", "kpagecount", "kpageflags", "kpagecgroup"];
    const present = names.filter((n) => { try { statSync(`/proc/${n}`); return true; } catch { return false; } });
    const open = present.filter((n) => statSync(`/proc/${n}`).dev === proc);
    return [
      open.length ? `err unmasked ${open.join(",")}` : `ok ${present.join(",")}`,
      attempt(() => { closeSync(openSync("/proc/sys/kernel/hostname", "r+")); return "opened"; }),
    ];
  },
  /** what the jail can learn of its pid 1: its executable, its command line */
  init: () => [
    attempt(() => readlinkSync("/proc/1/exe")),
    attempt(() => JSON.stringify(readFileSync("/proc/1/cmdline", "latin1"))),
    attempt(() => JSON.stringify(readFileSync("/proc/1/comm", "latin1"))),
  ],
  /** the jail's /dev */
  dev: () => [attempt(() => readdirSync("/dev").sort().join(","))],
  hostname: () => [attempt(() => hostname())],
  /** no_new_privs, seccomp mode, bounding and effective capability sets */
  status: () => {
    const s = readFileSync("/proc/self/status", "latin1");
    return [`ok ${field(s, "NoNewPrivs")} ${field(s, "Seccomp")} ${field(s, "CapBnd")} ${field(s, "CapEff")}`];
  },
  /** the jail's id maps */
  idmap: () => ["uid_map", "gid_map"].map((f) => attempt(() => readFileSync(`/proc/self/${f}`, "latin1").trim().replace(/\s+/g, " "))),
  /** the network interfaces it sees */
  ifaces: () => [attempt(() => Object.keys(networkInterfaces()).sort().join(","))],
};

/** `--inside serve ADDR PORT`: a TCP listener for the outbound test (in a namespace sjtest made,
 * not a jail): prints "listening", then "peer" for the first connection, and ends (15 s at most). */
function serve(addr: string, port: string): Promise<number> {
  return import("node:net").then(({ createServer }) => new Promise((resolve) => {
    const s = createServer((c) => { process.stdout.write("peer\n"); c.destroy(); s.close(); clearTimeout(t); resolve(0); });
    const t = setTimeout(() => { s.close(); resolve(1); }, 15_000);
    s.on("error", (e) => { process.stdout.write(`err ${code(e)}\n`); clearTimeout(t); resolve(1); });
    s.listen(Number(port), addr, () => process.stdout.write("listening\n"));
  }));
}

/** Runs the inside check NAME; the exit status is 0 when it ran. */
export async function insideMain(name: string, args: string[] = []): Promise<number> {
  if (name === "serve" && args.length === 2) return serve(args[0]!, args[1]!);
  const check = CHECKS[name];
  if (!check) {
    process.stderr.write(`sjtest: unknown inside check '${name.replace(/[^\x20-\x7e]/g, "?")}'\n`);
    return 64;
  }
  process.stdout.write(`${check().join("\n")}\n`);
  return 0;
}
