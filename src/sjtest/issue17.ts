// The nine items of security issue #17, tested against the required behaviour: nothing of the
// host, or of the people who manage a jail, reaches into it.
import { closeSync, fstatSync, mkdirSync, chmodSync, chownSync, openSync, readFileSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "./context.js";
import { lines, PKG, show } from "./context.js";
import { loopbackAddr } from "./addresses.js";
import { ERR, judge, probeArgs, runProbe } from "./probe.js";
import { abstractListener, hostReaches, tcpListener } from "./servers.js";
import { fail, pass, type Outcome, type SjTest } from "./types.js";

const NOBODY = 65534;

/** Starts a background jail (-b) whose command waits; removed at the end. */
async function background(ctx: Ctx, name: string, path: string, flags: string[] = []): Promise<Outcome | undefined> {
  const probe = path === "/" ? ctx.probe : "/sjprobe";
  const r = await ctx.tool("sysjail", ["-b", "-n", name, ...flags, path, name, probe, "rename", "sjtest-idle", "60"]);
  ctx.defer(() => ctx.tool("jail", ["-r", name], { deadlineMs: 20_000 }));
  return r.status === 0 ? undefined : fail(`cannot start the background jail: ${show(r)}`);
}

/** Host-side look at the files the probe's "suid" call made in DIR: none may run with more than
 * the jail root's host identity (setuid/setgid root, or file capabilities valid on the host). */
async function hostSuidCheck(ctx: Ctx, dir: string, said: string): Promise<Outcome> {
  const bad: string[] = [];
  const seen: string[] = [];
  for (const f of ["chmod-u", "chmod-g", "creat-u", "fcaps"]) {
    const r = await ctx.exec(ctx.probe, ["host-file", join(dir, f)]);
    const l = lines(r)[0] ?? "";
    if (!l.startsWith("ok ")) { seen.push(`${f}: ${l.replace(/^err /, "")}`); continue; }
    const [uid, gid, mode, caps] = l.slice(3).split(" ");
    const m = parseInt(mode!, 8);
    seen.push(`${f}: ${uid}:${gid} ${mode} caps=${caps}`);
    if (uid === "0" && m & 0o4000) bad.push(`${f} is setuid root on the host`);
    if (gid === "0" && m & 0o2000) bad.push(`${f} is setgid root on the host`);
    if (caps === "v2" || caps === "v3:0") bad.push(`${f} has file capabilities valid for host root (${caps})`);
  }
  return bad.length ? fail(`${bad.join("; ")} (jail: ${said})`) : pass(seen.join(", "));
}

/** Item 1 in a jail on PATH, the probe making its files in JAILDIR (HOSTDIR on the host). */
async function suidIn(ctx: Ctx, tag: string, path: string, jailDir: string, hostDir: string): Promise<Outcome> {
  const r = await runProbe(ctx, tag, { path, calls: [{ args: ["suid", jailDir], want: /./ }] });
  return hostSuidCheck(ctx, hostDir, lines(r).join(" ") || show(r));
}

/** dev:ino of a host descriptor, as the probe prints it. */
const fdId = (fd: number): string => { const s = fstatSync(fd); return `${s.dev}:${s.ino}`; };

/** Runs a command of jail NAME's registry as 65534 (root mode) or as ourselves (rootless). */
function asUser(ctx: Ctx, state: string): string[] {
  return ctx.root ? ctx.nobody(state) : ["env", `SYSJAIL_STATE_DIR=${state}`];
}

/** The issue's tests. */
export function issue17Tests(): SjTest[] {
  return [
    {
      // item 1; breaks when jail root's chown 0:0 + chmod 4755 on a root-owned (idmapped) tree
      // leaves a host setuid-root file, likewise setgid, open(O_CREAT, 06755), security.capability
      name: "setuid-root-owned-tree (root)",
      root: true,
      run: (ctx) => {
        const t = ctx.tree("suidroot");
        mkdirSync(join(t, "work"), { mode: 0o755 });
        return suidIn(ctx, "suidroot", t, "/work", join(t, "work"));
      },
    },
    {
      // item 1 in a user's jail on a tree the user owns (as root: run as 65534 on a tree owned
      // by 65534): jail root is the user, so nothing it makes may belong to host root
      name: "setuid-user-owned-tree",
      run: async (ctx) => {
        const t = ctx.tree("suiduser", ctx.root ? NOBODY : undefined);
        mkdirSync(join(t, "work"), { mode: 0o755 });
        if (ctx.root) chownSync(join(t, "work"), NOBODY, NOBODY);
        const pre = asUser(ctx, ctx.root ? ctx.nobodyDir("suiduser") : ctx.state);
        const r = await ctx.exec(pre[0]!, [...pre.slice(1), `${ctx.tools}/sysjail`, t, ctx.name("suiduser"), "/sjprobe", "suid", "/work"]);
        return hostSuidCheck(ctx, join(t, "work"), lines(r).join(" ") || show(r));
      },
    },
    {
      // item 1 in a path=/ jail writing into a world-writable host directory
      name: "setuid-path-root",
      run: (ctx) => {
        const d = join(ctx.shared, `suid-${process.hrtime.bigint()}`);
        mkdirSync(d);
        chmodSync(d, 0o1777);
        return suidIn(ctx, "suidpath", "/", d, d);
      },
    },
    {
      // item 2; breaks when a process entered with jexec holds the caller's fds 0-2, or another
      // jail process can take its descriptors (pidfd_getfd, /proc/PID/fd)
      name: "jexec-caller-fds",
      run: async (ctx) => {
        const name = ctx.name("fds");
        // the attacker is the jail's own command: it waits for the entered process, tries to take
        // its fds 0-2, writes what it got to a file of sjtest's, then idles
        const loot = join(ctx.shared, `${name}.loot`);
        const r = await ctx.tool("sysjail", ["-b", "-n", name, "/", name, ctx.probe, "out", loot, "+", "steal", "hold", "20", "+", "rename", "sjtest-idle", "60"]);
        ctx.defer(() => ctx.tool("jail", ["-r", name], { deadlineMs: 20_000 }));
        if (r.status !== 0) return fail(`cannot start the jail: ${show(r)}`);
        const files = ["in", "out", "err"].map((n) => join(ctx.dir, `${name}.${n}`));
        writeFileSync(files[0]!, "caller's input\n", { mode: 0o600 });
        const fds = files.map((f, i) => openSync(f, i === 0 ? "r" : "w", 0o600));
        const ids = fds.map(fdId);
        const holder = ctx.tool("jexec", [name, ctx.probe, "hold", "30"], { stdio: [fds[0]!, fds[1]!, fds[2]!], deadlineMs: 40_000 });
        // wait for the attacker's verdict (a hang detector bounds it), then end the jail
        const got: string[] = [];
        for (let i = 0; i < 400; i++) {
          const text = existsSync(loot) ? readFileSync(loot, "latin1") : "";
          got.splice(0, got.length, ...text.split("\n").filter(Boolean));
          if (got.includes("done") || got.includes("none")) break;
          await new Promise((res) => setTimeout(res, 50));
        }
        await ctx.tool("jail", ["-r", name], { deadlineMs: 20_000 });
        await holder;
        for (const fd of fds) closeSync(fd);
        const said = readFileSync(files[1]!, "latin1").split("\n")[0] ?? "";
        const held = said.startsWith("ok ") ? said.slice(3).split(" ").map((id, i) => (ids.includes(id) ? `fd ${i}` : "")).filter(Boolean) : [];
        if (!got.includes("done")) return fail(`the jail's process found no entered process: ${got.join(" | ") || "no output"}`);
        const stolen = got.filter((l) => l.startsWith("stolen"));
        const problems: string[] = [];
        if (held.length) problems.push(`the entered process holds the caller's ${held.join(", ")}`);
        if (stolen.length) problems.push(`a jail process took the entered process's descriptors (${stolen.map((x) => x.split(" ").slice(1, 3).join(" ")).join(", ")})`);
        if (!said.startsWith("ok ")) problems.push(`the entered process's output did not reach the caller's file (${JSON.stringify(said.slice(0, 80))})`);
        return problems.length ? fail(problems.join("; ")) : pass(`entered process: fds ${said.slice(3)} (none the caller's); the jail's process: ${got.filter((l) => l.startsWith("denied")).map((l) => l.split(" ").slice(1, 4).join(" ")).join(", ")}`);
      },
    },
    {
      // item 3; breaks when jexec -l or sysjail -U read the jail's /etc/passwd through a symlink
      // to a host file (HOME would come from the host's secret file)
      name: "passwd-symlink",
      run: async (ctx) => {
        const t = ctx.tree("pwlink");
        const secret = join(ctx.dir, `secret-${process.hrtime.bigint()}`);
        writeFileSync(secret, "root:x:0:0::/SJTEST-HOST-SECRET:/sjprobe\n", { mode: 0o600 });
        symlinkSync(secret, join(t, "etc", "passwd"));
        const name = ctx.name("pwlink");
        const bad = await background(ctx, name, t);
        if (bad) return bad;
        const a = await ctx.tool("jexec", ["-l", name, "/sjprobe", "getenv", "HOME"], { deadlineMs: 20_000 });
        const b = await ctx.tool("sysjail", ["-l", "-U", "root", t, ctx.name("pwlink"), "/sjprobe", "getenv", "HOME"], { deadlineMs: 20_000 });
        const leaks = [["jexec -l", a], ["sysjail -U root -l", b]].filter(([, r]) => /SJTEST-HOST-SECRET/.test((r as { out: string }).out + (r as { err: string }).err)).map(([n]) => n);
        return leaks.length ? fail(`${leaks.join(" and ")} took HOME from a host file through a symlinked /etc/passwd`)
          : pass(`nothing of the host file: jexec -l: ${show(a)}; sysjail -U: ${show(b)}`);
      },
    },
    {
      // item 3; breaks when jexec or jail -r open a FIFO at the jail's /etc/passwd (they hang)
      name: "passwd-fifo",
      run: async (ctx) => {
        const t = ctx.tree("pwfifo");
        const mk = await ctx.exec(ctx.probe, ["mkfifo", join(t, "etc", "passwd")]);
        if (!mk.out.startsWith("ok")) return fail(`cannot make the FIFO: ${show(mk)}`);
        const name = ctx.name("pwfifo");
        const bad = await background(ctx, name, t);
        if (bad) return bad;
        // both at once, each with a hang detector (a fixed jexec answers at once)
        const [a, b] = await Promise.all([
          ctx.tool("jexec", [name, "/sjprobe", "pid"], { deadlineMs: 10_000 }),
          ctx.tool("jexec", ["-l", name, "/sjprobe", "pid"], { deadlineMs: 10_000 }),
        ]);
        const c = await ctx.tool("jail", ["-r", name], { deadlineMs: 10_000 });
        const d = await ctx.tool("jls", ["-j", name], { deadlineMs: 10_000 });
        if (a.timedOut || b.timedOut) return fail(`jexec${a.timedOut ? "" : " -l"} hung on a FIFO at the jail's /etc/passwd`);
        if (c.timedOut || d.status === 0) return fail(`jail -r could not remove a jail with a FIFO passwd (${show(c)})`);
        return pass(`jexec: ${show(a)}; jexec -l: ${show(b)}; jail -r: ${show(c)}`);
      },
    },
    {
      // item 4; breaks when root's jail -r runs a user's exec.poststop hook as root
      name: "user-hooks-as-root (root)",
      root: true,
      run: async (ctx) => {
        const d = ctx.nobodyDir("hooks");
        const who = join(d, "who");
        const name = ctx.name("hooks");
        // the user's default registry (no XDG_RUNTIME_DIR): /tmp/sysjail-65534, which root's tools see
        const user = ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "env", "-u", "XDG_RUNTIME_DIR", "-u", "SYSJAIL_STATE_DIR", `HOME=${d}`];
        const env = { SYSJAIL_STATE_DIR: undefined };
        const c = await ctx.exec(user[0]!, [...user.slice(1), `${ctx.tools}/jail`, "-c", `name=${name}`, "path=/", "persist", `exec.poststop=id -u > ${who}`], { env, cwd: d });
        ctx.defer(() => ctx.exec(user[0]!, [...user.slice(1), `${ctx.tools}/jail`, "-r", name], { env, cwd: d }));
        if (c.status !== 0) return fail(`the user's jail -c failed: ${show(c)}`);
        const j = await ctx.tool("jls", ["-j", name, "jid"], { env });
        const jid = lines(j)[0]?.trim();
        if (!jid || !/^\d+$/.test(jid)) return fail(`root's jls does not show the user's jail: ${show(j)}`);
        const r = await ctx.tool("jail", ["-r", jid], { env, deadlineMs: 20_000 });
        const ran = existsSync(who) ? readFileSync(who, "latin1").trim() : undefined;
        if (ran === undefined) return fail(`the hook did not run (jail -r ${jid}: ${show(r)})`);
        return ran === "0" ? fail(`root's jail -r ${jid} ran the user's exec.poststop as uid 0`) : pass(`the user's hook ran as uid ${ran}`);
      },
    },
    {
      // item 5; breaks when jls/sjls print a process title's escape sequences raw
      name: "escaped-title",
      run: async (ctx) => {
        const name = ctx.name("esc");
        const r = await ctx.tool("sysjail", ["-b", "-n", name, "/", name, ctx.probe, "rename", "\x1b]0;SJTEST-TITLE\x07\x1b[2J", "60"]);
        ctx.defer(() => ctx.tool("jail", ["-r", name], { deadlineMs: 20_000 }));
        if (r.status !== 0) return fail(`cannot start the jail: ${show(r)}`);
        const outs = await Promise.all([["sjls", "-p", name], ["sjls", "-v"], ["jls", "-v"]].map(([t, ...a]) => ctx.tool(t!, a)));
        const text = outs.map((o) => o.out + o.err).join("");
        if (!text.includes("SJTEST-TITLE")) return fail(`sjls -p does not show the process title: ${show(outs[0]!)}`);
        // eslint-disable-next-line no-control-regex
        const raw = /[\x00-\x08\x0b-\x1f\x7f]/.exec(text);
        return raw ? fail(`jls/sjls printed a raw control character (octal ${raw[0].charCodeAt(0).toString(8).padStart(3, "0")}) from a jail's process title`) : pass("the title is shown escaped");
      },
    },
    {
      // item 6; breaks when jexec into a -4 jail runs in another network namespace than the
      // jail's (a user's jexec ran in the host's, reaching the host's 127.0.0.1)
      name: "jexec-netns-4",
      run: async (ctx) => {
        const l = await tcpListener(ctx, "127.0.0.1");
        if (!(await hostReaches(ctx, l, "tcp4"))) return fail("control: the host cannot reach its own 127.0.0.1 listener");
        const name = ctx.name("jnet");
        const bad = await background(ctx, name, "/", ["-4", loopbackAddr()]);
        if (bad) return bad;
        const before = l.peers();
        const r = await ctx.tool("jexec", [name, ctx.probe, "connect4", "127.0.0.1", String(l.port)]);
        await l.close();
        if (l.peers() !== before) return fail(`a process entered into a -4 jail reached the host's 127.0.0.1 (${show(r)})`);
        return judge(r, [{ args: ["connect4"], want: ERR }]);
      },
    },
    ...(["4", "6"] as const).map((fam): SjTest => ({
      // item 6; breaks when a shared-stack jail reaches a host abstract unix socket
      // (the class of CVE-2020-15257): no Landlock scope, no cgroup hook, no refusal
      name: `abstract-unix-${fam}`,
      run: async (ctx) => {
        const l = await abstractListener(ctx);
        if (!(await hostReaches(ctx, l, "unix"))) return fail("control: the host cannot reach its own abstract socket");
        const before = l.peers();
        const r = await runProbe(ctx, `au${fam}`, { flags: [`-${fam}`, fam === "4" ? loopbackAddr() : "::1"], calls: [{ args: ["uconnect", l.name], want: ERR }] });
        await l.close();
        if (l.peers() !== before || lines(r)[0]?.startsWith("ok")) return fail(`a -${fam} jail reached the host's abstract socket: ${show(r)}`);
        return pass(`-${fam} jail: ${lines(r)[0] ?? show(r)}`);
      },
    })),
    ...([[], ["-4"]] as const).map((flags): SjTest => ({
      // item 6; breaks without Landlock's signal scope: signal 0 from the jail's command reaches
      // a process outside its domain (its init, the helper; the kernel's pid-namespace rule
      // drops real signals to pid 1, not signal 0)
      name: `signal-scope${flags.length ? "-4" : ""}`,
      run: async (ctx) => {
        const f = flags.length ? ["-4", loopbackAddr()] : [];
        const r = await runProbe(ctx, "sig", { flags: f, calls: [{ args: ["kill", "1", "0"], want: ERR }] });
        return judge(r, [{ args: ["kill 1 0"], want: /^err EPERM$/ }]);
      },
    })),
    {
      // item 6; breaks when a user's -4 jail gets no outbound connection (slirp4netns/pasta dead
      // or missing); runs in a network namespace sjtest makes (unshare -n) with 10.77.0.1 on lo
      name: "rootless-outbound (root)",
      root: true,
      run: async (ctx) => {
        const d = ctx.nobodyDir("outbound");
        const t = ctx.tree("outbound", NOBODY);
        const port = String(20000 + Math.floor(Math.random() * 20000));
        const script = `ip link set lo up && ip addr add 10.77.0.1/32 dev lo || exit 90
"$NODE" "$SELF" --inside serve 10.77.0.1 ${port} > "$D/serve.out" 2>&1 &
n=0; until grep -q listening "$D/serve.out" 2>/dev/null; do n=$((n+1)); [ $n -gt 300 ] && exit 91; sleep 0.05; done
"$@"; kill $! 2>/dev/null; wait; cat "$D/serve.out"`;
        const r = await ctx.exec("unshare", ["-n", "sh", "-c", script, "sh", ...ctx.nobody(d), `${ctx.tools}/sysjail`, "-4", "10.1.0.5", t, ctx.name("out"), "/sjprobe", "connect4", "10.77.0.1", port],
          { env: { NODE: ctx.node, SELF: ctx.self, D: d }, deadlineMs: 45_000 });
        const l = lines(r);
        return l.includes("peer") && l.some((x) => x.startsWith("ok ")) ? pass("a user's -4 jail connected out to a namespace sjtest made") : fail(`no outbound connection: ${show(r)}`);
      },
    },
    {
      // item 7; breaks when a user's jail -c with exec.start fails ("only root can enter ...")
      name: "jailconf-exec-start",
      run: async (ctx) => {
        const d = ctx.root ? ctx.nobodyDir("conf") : ctx.mkdir("conf");
        const mark = join(d, "started");
        const name = ctx.name("conf");
        const pre = asUser(ctx, d);
        const r = await ctx.exec(pre[0]!, [...pre.slice(1), `${ctx.tools}/jail`, "-c", `name=${name}`, "path=/", `host.hostname=${name}`, `exec.start=${ctx.probe} write ${mark} started`], { deadlineMs: 30_000, cwd: d });
        ctx.defer(() => ctx.exec(pre[0]!, [...pre.slice(1), `${ctx.tools}/jail`, "-r", name], { cwd: d }));
        const got = existsSync(mark) ? readFileSync(mark, "latin1") : "";
        return r.status === 0 && got === "started" ? pass(`${ctx.root ? "uid 65534's" : "the user's"} jail -c ran exec.start in the jail`) : fail(`jail -c with exec.start as a user: ${show(r)}`);
      },
    },
    {
      // item 8; breaks when two of root's jails share one host id range (B's root owns A's files)
      name: "disjoint-id-ranges (root)",
      root: true,
      run: async (ctx) => {
        const d = join(ctx.shared, `ids-${process.hrtime.bigint()}`);
        mkdirSync(d);
        chmodSync(d, 0o1777);
        const a = await ctx.tool("sysjail", ["/", ctx.name("ida"), ctx.probe, "write", `${d}/a`, "jail A"]);
        if (!a.out.startsWith("ok")) return fail(`jail A could not write its file: ${show(a)}`);
        chmodSync(`${d}/a`, 0o644);
        const b = await ctx.tool("sysjail", ["/", ctx.name("idb"), ctx.probe, ...probeArgs([{ args: ["openw", `${d}/a`], want: ERR }, { args: ["write", `${d}/b`, "jail B"], want: /./ }])]);
        const ua = fstatUid(`${d}/a`);
        const ub = existsSync(`${d}/b`) ? fstatUid(`${d}/b`) : -1;
        const open = lines(b)[0] ?? "";
        if (open.startsWith("ok")) return fail(`jail B may write jail A's file (both jails' root is host uid ${ua})`);
        if (ua === ub) return fail(`jails A and B create files as the same host uid ${ua}`);
        return pass(`jail A's root is host uid ${ua}, jail B's ${ub}; B's open of A's file: ${open}`);
      },
    },
    {
      // item 9; breaks when the jail's pid 1 shows a host path (the helper's) in /proc/1/cmdline
      name: "init-cmdline",
      run: async (ctx) => {
        const r = await ctx.tool("sysjail", ["/", ctx.name("cmdline"), ctx.node, ctx.self, "--inside", "init"]);
        const [, cmdline, comm] = lines(r);
        if (!cmdline?.startsWith("ok ")) return fail(show(r));
        const text = `${cmdline} ${comm ?? ""}`;
        const hostPath = [PKG, "/native/", "node_modules"].find((p) => text.includes(p));
        return hostPath ? fail(`the jail's pid 1 shows a host path: ${cmdline.slice(3, 200)}`) : pass(`pid 1: ${cmdline.slice(3)}`);
      },
    },
  ];
}

function fstatUid(path: string): number {
  const fd = openSync(path, "r");
  try { return fstatSync(fd).uid; } finally { closeSync(fd); }
}

