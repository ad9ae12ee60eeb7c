// sysjail-oci(8): an OCI runtime (runc's command line) whose containers are jails.
import { closeSync, openSync, writeSync, constants as FS } from "node:fs";
import { SysjailError } from "../errors.js";
import { vis } from "../manage/vis.js";
import { VERSION } from "../version.js";
import { create, freeze, kill, pids, remove, run, signalNumber, start, state, type Globals } from "../oci/lifecycle.js";
import { listIds, readRecord } from "../oci/state.js";
import { features } from "../oci/features.js";
import { mainPathRan } from "./main.js";
import { isoNow } from "../jail/run.js";
import { dropFront } from "../helper/front.js";
import { defaultOciRoot, rootlessStateDir } from "../oci/defaultroot.js";

const USAGE = `usage: sysjail-oci [--root dir] [--log file] [--log-format text|json] [--systemd-cgroup] COMMAND ...
  create [--bundle dir] [--pid-file file] [--console-socket sock] ID      start ID      state ID      kill [--all] ID [SIGNAL]
  delete [--force] ID      run [--bundle dir] [--pid-file file] [--detach] ID
  exec [--tty] [--console-socket sock] [--process file | --cwd dir --env K=V --user uid[:gid]] [--detach] [--pid-file file] ID [ARG...]
  ps [--format table|json] ID      pause ID      resume ID      list [--format table|json] [--quiet]
  update [-r resources.json|-] [--memory N] [--memory-reservation N] [--memory-swap N] [--kernel-memory(-tcp) N] [--pids-limit N]
         [--cpu-shares N] [--cpu-period N] [--cpu-quota N] [--cpu-rt-period N] [--cpu-rt-runtime N] [--cpuset-cpus L] [--cpuset-mems L]
         [--blkio-weight N] ID
  features      --version`;

/** How --log is opened (native/src/oci.c opens it alike). */
const LOG_FLAGS = FS.O_WRONLY | FS.O_APPEND | FS.O_CREAT | FS.O_NOFOLLOW | FS.O_NONBLOCK;

interface Opt { long: string; short?: string; value?: boolean; list?: boolean }
type Parsed = { o: Record<string, string | boolean | string[]>; rest: string[] };

/** Parses OPTS (long and short, `--x=v` and `--x v`) up to the first operand; then operands
 * (and, for exec, the command) follow. Unknown options are usage errors. */
function parse(cmd: string, argv: string[], opts: Opt[], stopAtOperand = true): Parsed {
  const o: Parsed["o"] = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") { rest.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith("-") || a === "-") {
      rest.push(a);
      if (stopAtOperand) { rest.push(...argv.slice(i + 1)); break; }
      continue;
    }
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(a)!;
    const spec = opts.find((x) => (a.startsWith("--") ? x.long === m[1] : x.short === m[1]))
      ?? opts.find((x) => x.long === m[1]); // runc accepts -long too
    if (!spec) throw usage(`${cmd}: unknown option ${a}`);
    let v: string | boolean = true;
    if (spec.value) {
      v = m[2] ?? argv[++i] ?? "";
      if (m[2] === undefined && i >= argv.length) throw usage(`${cmd}: option ${a} needs a value`);
    }
    if (spec.list) o[spec.long] = [...((o[spec.long] as string[] | undefined) ?? []), String(v)];
    else o[spec.long] = v;
  }
  return { o, rest };
}

function usage(msg: string): SysjailError {
  return new SysjailError(msg, { code: "EUSAGE", phase: "usage", exitCode: 64 });
}

const GLOBAL: Opt[] = [
  { long: "root", value: true }, { long: "log", value: true }, { long: "log-format", value: true },
  { long: "systemd-cgroup" }, { long: "debug" }, { long: "rootless", value: true }, { long: "criu", value: true },
  { long: "help", short: "h" }, { long: "version", short: "v" },
];
const CREATE: Opt[] = [
  { long: "bundle", short: "b", value: true }, { long: "pid-file", value: true }, { long: "console-socket", value: true },
  { long: "no-pivot" }, { long: "no-new-keyring" }, { long: "preserve-fds", value: true }, { long: "detach", short: "d" },
  { long: "keep" },
];
const UPDATE: Opt[] = [
  { long: "resources", short: "r", value: true },
  ...["memory", "memory-reservation", "memory-swap", "kernel-memory", "kernel-memory-tcp", "pids-limit", "blkio-weight",
    "cpu-shares", "cpu-share", "cpu-period", "cpu-quota", "cpu-rt-period", "cpu-rt-runtime", "cpuset-cpus", "cpuset-mems",
    "l3-cache-schema", "mem-bw-schema"].map((long) => ({ long, value: true })),
];
const EXEC: Opt[] = [
  { long: "process", short: "p", value: true }, { long: "detach", short: "d" }, { long: "pid-file", value: true },
  { long: "tty", short: "t" }, { long: "console-socket", value: true }, { long: "cwd", value: true },
  { long: "env", short: "e", value: true, list: true }, { long: "user", short: "u", value: true },
  { long: "cap", short: "c", value: true, list: true }, { long: "no-new-privs" }, { long: "preserve-fds", value: true },
  { long: "process-label", value: true }, { long: "apparmor", value: true }, { long: "additional-gids", short: "g", value: true, list: true },
  { long: "ignore-paused" }, { long: "cgroup", value: true },
];

function one(cmd: string, rest: string[], max = 1): string {
  if (rest.length < 1) throw usage(`${cmd}: a container id is needed`);
  if (rest.length > max) throw usage(`${cmd}: unexpected operand ${JSON.stringify(rest[max])}`);
  return rest[0]!;
}

async function dispatch(cmd: string, argv: string[], g: Globals): Promise<number> {
  const out = (s: string) => { writeSync(1, s); };
  switch (cmd) {
    case "create": case "run": {
      const { o, rest } = parse(cmd, argv, CREATE);
      const id = one(cmd, rest);
      const a = { id, bundle: String(o.bundle ?? "."), pidFile: o["pid-file"] as string | undefined, consoleSocket: o["console-socket"] as string | undefined };
      // marked once it succeeded: a create that fails early (no bundle) would leave a cache
      // without the rest of create's code, compiled cold at every later create (about 5 ms)
      if (cmd === "create") { await create(g, a); mainPathRan(); return 0; }
      const status = await run(g, a, o.detach === true);
      mainPathRan();
      return status;
    }
    case "start": start(g, one(cmd, parse(cmd, argv, []).rest)); return 0;
    case "state": out(`${JSON.stringify(state(g, one(cmd, parse(cmd, argv, []).rest)), null, 2)}\n`); return 0;
    case "kill": {
      const { o, rest } = parse(cmd, argv, [{ long: "all", short: "a" }], false);
      const id = one(cmd, rest, 2);
      kill(g, id, signalNumber(rest[1]), o.all === true);
      return 0;
    }
    case "delete": {
      const { o, rest } = parse(cmd, argv, [{ long: "force", short: "f" }], false);
      await remove(g, one(cmd, rest), o.force === true);
      return 0;
    }
    case "exec": {
      const { o, rest } = parse(cmd, argv, EXEC);
      if (!rest.length) throw usage("exec: a container id is needed");
      const { exec } = await import("../oci/exec.js");
      return await exec(g, {
        id: rest[0]!, args: rest.slice(1), processFile: o.process as string | undefined, env: (o.env as string[] | undefined) ?? [],
        cwd: o.cwd as string | undefined, user: o.user as string | undefined, detach: o.detach === true,
        pidFile: o["pid-file"] as string | undefined, tty: o.tty === true, consoleSocket: o["console-socket"] as string | undefined,
        noNewPrivs: o["no-new-privs"] === true, apparmor: o.apparmor as string | undefined, processLabel: o["process-label"] as string | undefined,
        unapplied: ["cap", "additional-gids", "preserve-fds"].filter((k) => o[k] !== undefined && !(k === "preserve-fds" && o[k] === "0")).map((k) => `--${k}`),
      });
    }
    case "ps": {
      const { o, rest } = parse(cmd, argv, [{ long: "format", short: "f", value: true }]);
      if (o.format !== undefined && o.format !== "table" && o.format !== "json") throw usage(`ps: --format ${JSON.stringify(String(o.format).slice(0, 40))}: table or json`);
      // runc's form: ps ID [ps(1) options]; the table is ps(1)'s (-ef by default) with only the
      // container's lines, json the pids alone
      const rec = readRecord(g.root, one(cmd, rest, Infinity));
      const list = pids(rec);
      if (o.format === "json") {
        if (rest.length > 1) g.warn(`ps: ps(1) options ${vis(rest.slice(1).join(" "))} apply to the table format only: ignored`);
        out(`${JSON.stringify(list)}\n`);
      } else out((await import("../oci/ps.js")).psTable(list, rest.slice(1)));
      return 0;
    }
    case "pause": case "resume": freeze(g, one(cmd, parse(cmd, argv, []).rest), cmd === "pause"); return 0;
    case "list": {
      const { o } = parse(cmd, argv, [{ long: "format", short: "f", value: true }, { long: "quiet", short: "q" }], false);
      const rows = listIds(g.root).map((id) => { try { return state(g, id); } catch { return undefined; } }).filter((r) => r !== undefined);
      if (o.quiet) out(rows.map((r) => `${r.id}\n`).join(""));
      else if (o.format === "json") out(`${JSON.stringify(rows)}\n`);
      else {
        out("ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n");
        for (const r of rows) out(`${vis(String(r.id))}\t${r.pid}\t${r.status}\t${vis(String(r.bundle))}\t${r.created}\t${r.owner}\n`);
      }
      return 0;
    }
    case "update": {
      const { o, rest } = parse(cmd, argv, UPDATE);
      const id = one(cmd, rest);
      const { update, flagResources, resourcesFile } = await import("../oci/update.js");
      let r;
      if (o.resources !== undefined) {
        // as runc: with -r the other limit options are ignored
        const other = Object.keys(o).filter((k) => k !== "resources");
        if (other.length) g.warn(`update: --${other.join(", --")} ignored (--resources gives every limit)`);
        r = resourcesFile(String(o.resources), g.warn);
      } else r = flagResources(o, g.warn);
      await update(g, id, r);
      return 0;
    }
    case "features": out(`${JSON.stringify(features(), null, 2)}\n`); return 0;
    case "version": out(`sysjail-oci version ${VERSION}\nspec: 1.2.0\n`); return 0;
    default: throw usage(`unknown command ${JSON.stringify(cmd.slice(0, 40))} (see sysjail-oci --help)`);
  }
}

/** Writes to standard error directly: process.stderr on a pipe (an engine's) loads Node's
 * stream and socket code, milliseconds at every create. */
function toStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    /* no stderr */
  }
}

/** The sysjail-oci tool: errors are one line on stderr (JSON with --log-format json) and, with
 * --log, a line in that file as runc writes it; statuses as runc's (1), 64 for usage errors. */
export async function ociMain(argv: string[]): Promise<number> {
  let logFile: string | undefined;
  let json = false;
  // isoNow: Date#toISOString would read the time zone data first (a warning at every create)
  const log = (level: string, msg: string) => {
    // JSON escapes the C0 controls itself; DEL and the C1 controls as well here, so that the line
    // is printable as it stands (vis() would break its escapes)
    const line = json ? JSON.stringify({ level, msg, time: isoNow() }).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) : `time="${isoNow()}" level=${level} msg=${JSON.stringify(msg)}`;
    // never through a symbolic link at the path (a non-root user's directory: root would append
    // to the host file it names), nor blocking on a FIFO without a reader
    if (logFile) { try { const fd = openSync(logFile, LOG_FLAGS, 0o644); try { writeSync(fd, `${line}\n`); } finally { closeSync(fd); } } catch { /* an unwritable log loses the line */ } }
    return line;
  };
  try {
    const { o, rest } = parse("sysjail-oci", argv, GLOBAL);
    logFile = o.log as string | undefined;
    if (o["log-format"] !== undefined && o["log-format"] !== "json" && o["log-format"] !== "text") throw usage(`--log-format ${JSON.stringify(o["log-format"])}: text or json`);
    json = o["log-format"] === "json";
    if (o.help || o.version || !rest.length) dropFront();
    if (o.help) { process.stdout.write(`${USAGE}\n`); return 0; }
    if (o.version) return await dispatch("version", [], { root: "", warn: () => undefined });
    if (!rest.length) throw usage("a command is needed (see sysjail-oci --help)");
    // rootless podman's namespace: uid 0 there, the user's registry (not the host's /run/sysjail)
    const rsd = rootlessStateDir();
    if (rsd) process.env.SYSJAIL_STATE_DIR = rsd;
    const g: Globals = {
      root: String(o.root ?? defaultOciRoot()),
      systemdCgroup: o["systemd-cgroup"] === true,
      warn: (m0) => { const m = m0.replace(/^warning: /, ""); const l = log("warning", m); if (!logFile) toStderr(`${json ? l : vis(`sysjail-oci: warning: ${m}`)}\n`); },
    };
    // only create hands its plan to the native front (src/oci/lifecycle.ts)
    if (rest[0] !== "create") dropFront();
    return await dispatch(rest[0]!, rest.slice(1), g);
  } catch (err) {
    const e = err as SysjailError;
    const msg = String(e?.message ?? err).replace(/^sysjail(-oci)?: /, "").split("\n")[0]!;
    const line = log("error", msg);
    toStderr(`${json ? line : vis(`sysjail-oci: ${msg}`)}\n`);
    if (e instanceof SysjailError || (e as { name?: string })?.name === "SysjailError") {
      return e.phase === "usage" ? 64 : e.exitCode === 64 ? 64 : 1;
    }
    return 1;
  }
}
