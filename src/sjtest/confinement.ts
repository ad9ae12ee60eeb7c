// The jail's confinement, one test per property: root, /proc, /dev, pids, hostname, IPC, the
// network without addresses, capabilities, no_new_privs, id maps, the host's files. The attacker
// is sjtest itself (`--inside`, a path=/ jail) or the probe (a tree of its own).
import type { Ctx, Result } from "./context.js";
import { lines, show } from "./context.js";
import { E, OK, probeCheck, runProbe } from "./probe.js";
import { abstractListener, hostReaches, tcpListener } from "./servers.js";
import { fail, pass, type SjTest } from "./types.js";

/** Runs `sjtest --inside CHECK` as the command of a new path=/ jail named NAME. */
export function inside(ctx: Ctx, name: string, check: string, flags: string[] = []): Promise<Result> {
  return ctx.tool("sysjail", [...flags, "/", name, ctx.node, ctx.self, "--inside", check]);
}

/** Capabilities that must never be in a jail's bounding set (docs/JAILS.md, Privilege). */
const FORBIDDEN_CAPS: Record<string, number> = {
  SYS_MODULE: 16, SYS_RAWIO: 17, SYS_PACCT: 20, SYS_TIME: 25, SYS_TTY_CONFIG: 26, MKNOD: 27,
  AUDIT_CONTROL: 30, MAC_OVERRIDE: 32, MAC_ADMIN: 33, SYSLOG: 34, WAKE_ALARM: 35, PERFMON: 38, BPF: 39,
};
const DEV_ALLOWED = new Set(["null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm", "mqueue", "fd", "stdin", "stdout", "stderr", "console"]);

/** The value of an "ok VALUE" line, or undefined. */
const okValue = (line: string | undefined): string | undefined => (line?.startsWith("ok ") ? line.slice(3) : undefined);

/** The confinement tests. */
export function confinementTests(): SjTest[] {
  return [
    {
      // breaks when the root is not pivoted (host paths visible) or the old root stays attached
      name: "root-pivot",
      run: (ctx) => {
        const t = ctx.tree("root");
        return probeCheck(ctx, "root", { path: t, calls: [
          { args: ["stat", "/etc/marker"], want: OK },
          { args: ["stat", `${t}/etc/marker`], want: E("ENOENT") },
          { args: ["stat", ctx.dir], want: E("ENOENT") },
        ] });
      },
    },
    {
      // breaks when chroot + ".." walks above the jail's root (no pivot_root, a chroot-only jail)
      name: "root-chroot-escape",
      run: (ctx) => {
        const t = ctx.tree("chroot");
        return probeCheck(ctx, "chroot", { path: t, calls: [{ args: ["chroot-escape", `${t}/etc/marker`], want: E("ENOENT") }] });
      },
    },
    {
      // breaks without a pid namespace or with the host's procfs mounted
      name: "proc-pids",
      run: async (ctx) => {
        const r = await inside(ctx, ctx.name("proc"), "proc");
        const v = okValue(lines(r)[0]);
        if (v === undefined) return fail(show(r));
        const pids = v.split(",");
        if (pids.length > 4 || pids.includes(String(process.pid))) return fail(`the jail's /proc shows ${pids.length} processes: ${v.slice(0, 200)}`);
        return pass(`the jail's /proc shows only its own ${pids.length} processes (${v})`);
      },
    },
    {
      // breaks when /proc/kcore, kmsg, keys, timer_list ... are not masked or /proc/sys is writable
      name: "proc-masked",
      run: async (ctx) => {
        const r = await inside(ctx, ctx.name("masked"), "masked");
        const [masked, sys] = lines(r);
        const v = okValue(masked);
        if (!v) return fail(`kernel files not masked: ${masked ?? show(r)}`);
        if (!/^err (EROFS|EACCES|EPERM)$/.test(sys ?? "")) return fail(`/proc/sys/kernel/hostname opens for writing: ${sys ?? show(r)}`);
        return pass(`masked: ${v}; /proc/sys read-only (${sys})`);
      },
    },
    {
      // breaks when the jail's pid 1 is dumpable or jail-owned (its /proc/1/exe would lead to the helper)
      name: "proc-init",
      run: async (ctx) => {
        const r = await inside(ctx, ctx.name("init"), "init");
        const exe = lines(r)[0];
        if (!/^err (EACCES|EPERM|ENOENT)$/.test(exe ?? "")) return fail(`/proc/1/exe is readable in the jail: ${exe ?? show(r)}`);
        return pass(`/proc/1/exe: ${exe}`);
      },
    },
    {
      // breaks when the jail gets the host's /dev or any device node beyond the fixed set
      name: "dev",
      run: async (ctx) => {
        const r = await inside(ctx, ctx.name("dev"), "dev");
        const v = okValue(lines(r)[0]);
        if (v === undefined) return fail(show(r));
        const extra = v.split(",").filter((n) => !DEV_ALLOWED.has(n));
        return extra.length ? fail(`the jail's /dev has ${extra.join(", ")}`) : pass(`/dev holds ${v}`);
      },
    },
    {
      // breaks without a pid namespace: sjtest's own pid would answer signal 0
      name: "pids-host-signal",
      run: (ctx) => probeCheck(ctx, "kill", { calls: [
        { args: ["kill", String(process.pid), "0"], want: E("ESRCH") },
        { args: ["kill", String(process.ppid), "0"], want: E("ESRCH") },
      ] }),
    },
    {
      // breaks without a UTS namespace (the jail would show the host's name)
      name: "hostname",
      run: async (ctx) => {
        const name = ctx.name("uts");
        const r = await inside(ctx, name, "hostname");
        return lines(r)[0] === `ok ${name}` ? pass(`the jail's hostname is ${name}`) : fail(`wanted ${name}: ${show(r)}`);
      },
    },
    {
      // breaks without an IPC namespace: the host's queue would be visible (ok or EACCES)
      name: "ipc-namespace",
      run: async (ctx) => {
        const made = await ctx.exec(ctx.probe, ["msgq-new"]);
        const id = okValue(lines(made)[0]);
        if (id === undefined) return fail(`cannot make a SysV queue on the host: ${show(made)}`);
        ctx.defer(() => ctx.exec(ctx.probe, ["msgq-rm", id]));
        const control = await ctx.exec(ctx.probe, ["msgq-stat", id]);
        if (!control.out.startsWith("ok")) return fail(`the host cannot see its own queue: ${show(control)}`);
        const o = await probeCheck(ctx, "ipc", { flags: ["--allow-ipc"], calls: [{ args: ["msgq-stat", id], want: E("EINVAL") }] });
        await ctx.exec(ctx.probe, ["msgq-rm", id]);
        return o.pass ? pass(`the host's queue ${id} does not exist in the jail (EINVAL)`) : o;
      },
    },
    {
      // breaks without a network namespace: the host's 127.0.0.1 listener would accept
      name: "net-none-loopback",
      run: async (ctx) => {
        const l = await tcpListener(ctx, "127.0.0.1");
        if (!(await hostReaches(ctx, l, "tcp4"))) return fail("control: the host cannot reach its own 127.0.0.1 listener");
        const before = l.peers();
        const o = await probeCheck(ctx, "net", { calls: [{ args: ["connect4", "127.0.0.1", String(l.port)], want: E("ECONNREFUSED") }] });
        await l.close();
        if (l.peers() !== before) return fail("the host's 127.0.0.1 listener accepted a connection from the jail");
        return o;
      },
    },
    {
      // breaks without a network namespace: abstract unix sockets are per network namespace
      name: "net-none-abstract-unix",
      run: async (ctx) => {
        const l = await abstractListener(ctx);
        if (!(await hostReaches(ctx, l, "unix"))) return fail("control: the host cannot reach its own abstract socket");
        const before = l.peers();
        const o = await probeCheck(ctx, "unix", { calls: [{ args: ["uconnect", l.name], want: E("ECONNREFUSED") }] });
        await l.close();
        if (l.peers() !== before) return fail("the host's abstract socket accepted a connection from the jail");
        return o;
      },
    },
    {
      // breaks when the jail sees the host's interfaces
      name: "net-none-interfaces",
      run: async (ctx) => {
        const r = await inside(ctx, ctx.name("ifaces"), "ifaces");
        const v = okValue(lines(r)[0]);
        return v === "lo" ? pass("only lo") : fail(`interfaces: ${v ?? show(r)}`);
      },
    },
    {
      // breaks when a forbidden capability stays in the bounding set
      name: "caps-bounding-set",
      run: async (ctx) => {
        const r = await inside(ctx, ctx.name("caps"), "status");
        const f = okValue(lines(r)[0])?.split(" ");
        if (!f || f.length < 4) return fail(show(r));
        const bnd = BigInt(`0x${f[2]}`);
        const held = Object.entries(FORBIDDEN_CAPS).filter(([, bit]) => (bnd >> BigInt(bit)) & 1n).map(([n]) => n);
        return held.length ? fail(`the bounding set holds ${held.join(", ")}`) : pass(`CapBnd ${f[2]}: none of ${Object.keys(FORBIDDEN_CAPS).length} forbidden capabilities`);
      },
    },
    {
      // breaks without no_new_privs or without a seccomp filter
      name: "no-new-privs-seccomp",
      run: async (ctx) => {
        const r = await inside(ctx, ctx.name("nnp"), "status");
        const f = okValue(lines(r)[0])?.split(" ");
        if (!f) return fail(show(r));
        return f[0] === "1" && f[1] === "2" ? pass("NoNewPrivs 1, Seccomp 2 (filter)") : fail(`NoNewPrivs ${f[0]}, Seccomp ${f[1]}`);
      },
    },
    {
      // breaks when any id map line covers host id 0 (jail root would be host root)
      name: "id-map",
      run: async (ctx) => {
        const r = await inside(ctx, ctx.name("idmap"), "idmap");
        const maps = lines(r).map(okValue);
        if (maps.length < 2 || maps.some((m) => m === undefined)) return fail(show(r));
        for (const m of maps) {
          const n = m!.split(" ").map(Number);
          for (let i = 0; i + 2 < n.length; i += 3) if (n[i + 1]! <= 0 && n[i + 1]! + n[i + 2]! > 0) return fail(`a map line covers host id 0: ${m}`);
        }
        if (!ctx.root && !maps.every((m) => m === `0 ${ctx.uid} 1` || m!.startsWith("0 "))) return fail(`rootless map: ${maps.join("; ")}`);
        return pass(`uid_map "${maps[0]}", gid_map "${maps[1]}"`);
      },
    },
    {
      // breaks when jail root can write the host's root-owned files (jail root = host root)
      name: "host-files-readonly",
      run: (ctx) => probeCheck(ctx, "hostfiles", { calls: [
        { args: ["openw", "/etc/passwd"], want: E("EACCES") },
        { args: ["openw", "/etc/hostname"], want: E("EACCES") },
        { args: ["stat", "/etc/passwd"], want: /^ok 65534 65534 / },
      ] }),
    },
    {
      // breaks when a jail's limit on pids is not enforced
      name: "limit-pids",
      run: async (ctx) => {
        const r = await runProbe(ctx, "pids", { flags: ["--limit", "pids=16"], calls: [{ args: ["forks", "64"], want: OK }] });
        const n = Number(okValue(lines(r)[0]));
        if (!Number.isFinite(n)) return fail(show(r));
        return n < 64 ? pass(`pids=16: ${n} of 64 forks succeeded`) : fail(`pids=16: all 64 forks succeeded`);
      },
    },
    {
      // breaks when a jail's memory limit is not enforced (the probe would touch 512 MiB)
      name: "limit-memory",
      run: async (ctx) => {
        const r = await runProbe(ctx, "mem", { flags: ["--limit", "memory=64M"], calls: [{ args: ["alloc", "512"], want: OK }] });
        const l = lines(r)[0];
        if (l === "ok 512") return fail("memory=64M: the probe touched 512 MiB");
        if (l === "err ENOMEM" || r.status === 137 || r.signal === "SIGKILL") return pass(`memory=64M: ${l ?? `killed (${show(r)})`}`);
        return fail(show(r));
      },
    },
  ];
}
