// A correct use of every option of the library: must compile in a strict NodeNext project with
// nothing but the package installed (test/types/package-types.test.ts).
import { run, Jail, SysjailError, list, get, VERSION, type RunReport, type RunOptions, type JailOptions, type LimitsInput, type MountInput, type JailLimitEvent } from "sysjail";

const limits: LimitsInput = { memory: "64M", pids: 16, wall: "5s", cpu: null, cores: 1.5, cpuShares: 512, openFiles: 64, fileSize: "1M", tmpSize: "8M", shmSize: null, swap: "unlimited", nofile: 32 };
const mounts: MountInput[] = [
  { source: "/usr", target: "/usr" },
  { source: "tmpfs", target: "/scratch", type: "tmpfs", options: ["size=1M"] },
  { source: "/etc", target: "/etc", readonly: true },
];
const options: RunOptions = {
  path: "/", hostname: "t", command: ["/bin/true"], limits, mounts,
  name: "typed", env: { PATH: "/bin" }, cwd: "/", user: "root", allowIpc: true, policyFiles: [], ip4: [], ip6: [],
  vnet: false, meta: { k: "v" }, killOnExit: true, stdin: new Uint8Array(1), maxOutputBytes: 1024,
  signal: new AbortController().signal, on: { exit: (r) => void r.status, oom: () => undefined },
};
const r = await run(options);
const status: RunReport["status"] = r.report.status;
const create: JailOptions = { path: "/", hostname: "t2", user: { name: "nobody", from: "host" }, limits: null };
const j = await Jail.create(create);
j.on("exit", (report: RunReport) => void report.exitCode).on("oom", (ev: JailLimitEvent) => void ev.count);
const p = j.spawn("/bin/echo", ["hi"]);
const code: number = (await p.exit).code;
await j.update({ limits: { memory: "32M", pids: null } });
await j.remove();
try {
  await run({ path: "/nonexistent", hostname: "t", command: ["/bin/true"] });
} catch (e) {
  if (e instanceof SysjailError) console.log(e.code, e.phase, e.exitCode);
}
console.log(status, code, VERSION, (await list()).length, typeof get);
