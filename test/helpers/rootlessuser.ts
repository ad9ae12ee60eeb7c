// A temporary unprivileged account for rootless podman: a system user of a unique name with a temp
// home and XDG_RUNTIME_DIR, and /etc/subuid and /etc/subgid ranges of its own; remove() takes all of
// it away again (its containers, its podman storage, its processes, the user and its range lines).
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireRoot } from "./nobody.js";
import { makeTempDir, removeTree } from "./tmp.js";

/** One temporary account and how to run commands as it. */
export interface RootlessUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  xdg: string;
  /** First subordinate id (uids and gids alike) and how many. */
  subBase: number;
  subCount: number;
  /** Runs CMD as the user (its own environment only), output captured, two minutes at most. */
  run(cmd: string, args: string[], input?: string | Buffer): SpawnSyncReturns<string>;
  /** Everything removed; what could not be is thrown as one error after trying the rest. */
  remove(): void;
}

const SUB_COUNT = 65536;

/** Processes of host uid UID or of a uid in [LO, LO+N): this account's, which only this test made. */
function pidsOf(uid: number, lo: number, n: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${d}/status`, "utf8"));
      if (!m) continue;
      const ids = m.slice(1, 4).map(Number);
      if (ids.some((x) => x === uid || (x >= lo && x < lo + n))) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Drops the lines of NAME from /etc/subuid or /etc/subgid that userdel left (it removes them itself). */
function dropSubLines(file: string, name: string): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file, "utf8");
  const kept = text.split("\n").filter((l) => !l.startsWith(`${name}:`));
  const next = kept.join("\n");
  if (next !== text) writeFileSync(file, next);
}

/** A fresh account named PREFIX + this process's pid, with ranges beside sysjail's id pool (which
 * starts at 0x70000000): 0x40000000 + a block chosen by the pid. */
export function makeRootlessUser(prefix: string): RootlessUser {
  requireRoot("the rootless engine tests");
  const name = `${prefix}${process.pid}`.slice(0, 31);
  const subBase = 0x40000000 + (process.pid % 4096) * SUB_COUNT;
  const base = makeTempDir(`sysjail-${prefix}-`, 0o755);
  const home = join(base, "home");
  const errors: string[] = [];
  let created = false;
  let xdgMade: string | undefined;
  const user: RootlessUser = {
    name, uid: -1, gid: -1, home, xdg: join(base, "xdg"), subBase, subCount: SUB_COUNT,
    run(cmd, args, input) {
      const env = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", `HOME=${home}`, `XDG_RUNTIME_DIR=${user.xdg}`, `USER=${name}`, `LOGNAME=${name}`];
      return spawnSync("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", ...env, cmd, ...args], {
        encoding: "utf8", input, cwd: "/", stdio: ["pipe", "pipe", "pipe"], timeout: 120_000, maxBuffer: 16 << 20,
      });
    },
    remove() {
      if (created) {
        if (user.uid > 0) {
          // its containers and storage first (podman as the user), then whatever process is left
          for (const a of [["rm", "-a", "-f", "-t", "0"], ["system", "reset", "-f"]]) user.run("podman", a);
          for (let round = 0; round < 50; round++) {
            const pids = pidsOf(user.uid, subBase, SUB_COUNT);
            if (!pids.length) break;
            for (const p of pids) try { process.kill(p, "SIGKILL"); } catch { /* gone */ }
            spawnSync("sleep", ["0.1"]);
          }
          const left = pidsOf(user.uid, subBase, SUB_COUNT);
          if (left.length) errors.push(`processes of ${name} left: ${left.join(" ")}`);
        }
        const del = spawnSync("userdel", [name], { encoding: "utf8" });
        if (del.status !== 0) errors.push(`userdel ${name}: ${del.stderr.trim()}`);
        created = false;
      }
      for (const f of ["/etc/subuid", "/etc/subgid"]) {
        try { dropSubLines(f, name); } catch (e) { errors.push(`${f}: ${(e as Error).message}`); }
      }
      for (const d of [xdgMade, base]) if (d) try { removeTree(d); } catch (e) { errors.push((e as Error).message); }
      if (errors.length) throw new Error(errors.join("; "));
    },
  };
  try {
    const add = spawnSync("useradd", ["--system", "--no-create-home", "--home-dir", home, "--shell", "/usr/sbin/nologin", "--user-group", name], { encoding: "utf8" });
    if (add.status !== 0) throw new Error(`useradd ${name}: ${add.stderr.trim()}`);
    created = true;
    const range = `${subBase}-${subBase + SUB_COUNT - 1}`;
    const mod = spawnSync("usermod", ["--add-subuids", range, "--add-subgids", range, name], { encoding: "utf8" });
    if (mod.status !== 0) throw new Error(`usermod --add-subuids ${range} ${name}: ${mod.stderr.trim()}`);
    const id = (f: string) => Number(spawnSync("id", [f, name], { encoding: "utf8" }).stdout.trim());
    user.uid = id("-u");
    user.gid = id("-g");
    if (!(user.uid > 0 && user.gid > 0)) throw new Error(`id ${name}: no uid or gid`);
    // its runtime directory where a login's would be (/run/user/UID, which root's jls reads),
    // when the host has /run/user and this fresh uid has none there yet; else beside its home
    const runUser = join("/run/user", String(user.uid));
    if (existsSync("/run/user") && !existsSync(runUser)) user.xdg = runUser;
    for (const d of [home, user.xdg]) {
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, user.uid, user.gid);
      if (d === runUser) xdgMade = runUser;
    }
  } catch (e) {
    try { user.remove(); } catch (e2) { throw new Error(`${(e as Error).message}; cleanup: ${(e2 as Error).message}`); }
    throw e;
  }
  return user;
}
