#!/usr/bin/env node
// Runs test files of the built checkout in a VM: Debian 12's stock kernel, cgroup v2 only, as root.
//
// usage: node scripts/vmtest.mjs [--kernel-dir DIR] [--keep] [--kvm] [--name RE] [--timeout SEC] PATTERN...
//   PATTERN  as for `npm test -- PATTERN`: build/test files whose path contains it (at least one)
//   --kernel-dir DIR  a directory to keep the extracted kernel in (made when missing, reused when
//                     it holds one); default: a temp directory removed at the end
//   --timeout SEC     the VM is ended after SEC seconds (default 1800)
//   --name RE         only tests whose name matches RE (node's --test-name-pattern)
//   --kvm             KVM instead of TCG (default TCG: this machine's nested KVM fails on the
//                     guest kernel's cmpxchg16b, "KVM internal error", and is slower than TCG
//                     without cx16; docs/TESTING.md, "cgroup v2 in a VM")
// Needs: qemu-system-x86_64, apt (the stock kernel package and kmod are downloaded
// and unpacked with dpkg-deb, never installed), a built checkout (`npm run build`), root.
//
// The VM: the host's own / shared read-only over 9p (so node, the checkout and every tool are the
// host's), an overlay with a tmpfs upper layer on top, fresh proc, sys, dev, /tmp and /run, and
// only cgroup2 at /sys/fs/cgroup (+cpu +cpuset +memory +pids +io in its subtree_control). Each test
// file runs alone with `node --test`; its status comes back on the serial console as a marker
// line, and the script's exit status is 0 only when every file passed.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { newc } from "./vmtest-cpio.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const usage = "usage: node scripts/vmtest.mjs [--kernel-dir DIR] [--keep] [--kvm] [--name RE] [--timeout SEC] PATTERN...";
const fail = (msg, code = 1) => { console.error(`vmtest: ${msg}`); process.exit(code); };

let kernelDir = null, keep = false, kvm = false, timeout = 1800, name = null;
const patterns = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--kernel-dir" && i + 1 < argv.length) kernelDir = argv[++i];
  else if (a === "--keep") keep = true;
  else if (a === "--kvm") kvm = true;
  else if (a === "--name" && i + 1 < argv.length) name = argv[++i];
  else if (a === "--timeout" && i + 1 < argv.length) {
    timeout = Number(argv[++i]);
    if (!Number.isInteger(timeout) || timeout <= 0) fail(`--timeout ${JSON.stringify(argv[i])}: a whole number of seconds above 0 is allowed`, 64);
  } else if (a === "-h" || a === "--help") { console.log(usage); process.exit(0); }
  else if (a.startsWith("-")) fail(`unknown option ${JSON.stringify(a)}; ${usage}`, 64);
  else patterns.push(a);
}
if (patterns.length === 0) fail(`no PATTERN given; ${usage}`, 64);
if (process.getuid() !== 0) fail("run as root (the VM shares the host's / with ownership kept)", 64);
if (kvm && !existsSync("/dev/kvm")) fail("--kvm: /dev/kvm is missing");
const qemu = spawnSync("sh", ["-c", "command -v qemu-system-x86_64"], { encoding: "utf8" }).stdout.trim();
if (!qemu) fail("qemu-system-x86_64 is missing (Debian package qemu-system-x86)");

const find = (dir) => readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
  d.isDirectory() ? find(join(dir, d.name)) : d.name.endsWith(".test.js") ? [join(dir, d.name)] : []);
if (!existsSync(join(root, "build", "test"))) fail("no build/test: run `npm run build` first");
const files = find(join("build", "test")).filter((f) => patterns.some((p) => f.includes(p))).sort();
if (files.length === 0) fail("no test files matched", 64);

const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  if (r.status !== 0) fail(`${cmd} ${args.join(" ")}: ${(r.stderr || r.error?.message || "").trim().split("\n").pop()}`);
  return r.stdout;
};

// the stock kernel: the version linux-image-amd64 depends on, and kmod (modprobe, depmod)
const work = mkdtempSync(join(tmpdir(), "sysjail-vmtest-"));
const kdir = kernelDir ?? join(work, "kernel");
mkdirSync(kdir, { recursive: true });
const cleanup = () => { if (!keep) rmSync(work, { recursive: true, force: true }); };
process.on("exit", cleanup);
if (!existsSync(join(kdir, "done"))) {
  const dep = run("apt-cache", ["depends", "linux-image-amd64"]).match(/Depends: (linux-image-[0-9][^\s]*)/);
  if (!dep) fail("apt-cache depends linux-image-amd64 names no linux-image package");
  run("apt-get", ["download", dep[1], "kmod"], { cwd: kdir });
  for (const deb of readdirSync(kdir).filter((f) => f.endsWith(".deb"))) {
    run("dpkg-deb", ["-x", join(kdir, deb), join(kdir, deb.startsWith("kmod_") ? "kmod" : "image")]);
    rmSync(join(kdir, deb));
  }
  const release = readdirSync(join(kdir, "image", "lib", "modules"))[0];
  spawnSync("ln", ["-sf", "kmod", join(kdir, "kmod", "bin", "depmod")]);
  run(join(kdir, "kmod", "bin", "depmod"), ["-b", join(kdir, "image"), release]);
  writeFileSync(join(kdir, "done"), release + "\n");
}
const release = readFileSync(join(kdir, "done"), "utf8").trim();
const modules = join(kdir, "image", "lib", "modules", release);

// the initramfs: a shell, mount, switch_root, insmod and the modules that mount the 9p root
const dep = new Map(readFileSync(join(modules, "modules.dep"), "utf8").trim().split("\n").map((l) => {
  const [m, rest] = l.split(":");
  return [m, rest.trim() ? rest.trim().split(/\s+/) : []];
}));
const byName = (name) => [...dep.keys()].find((k) => k.endsWith(`/${name}.ko`) || k.endsWith(`/${name}.ko.xz`)) ?? fail(`module ${name} not in ${release}`);
const order = [];
const want = (m) => { if (order.includes(m)) return; for (const d of [...dep.get(m)].reverse()) want(d); order.push(m); };
for (const m of ["virtio_pci", "9pnet_virtio", "9p", "overlay"]) want(byName(m));

const entries = new Map();
const addDir = (p) => { if (p === "" || entries.has(p)) return; addDir(dirname(p) === "." ? "" : dirname(p)); entries.set(p, { type: "dir" }); };
const addFile = (p, data, mode = 0o755) => { addDir(dirname(p)); entries.set(p, { type: "file", data, mode }); };
const addHost = (hostPath, p = hostPath.slice(1)) => addFile(p, readFileSync(hostPath), 0o755);
const bins = ["/bin/sh", "/bin/mount", "/bin/mkdir", "/sbin/switch_root", join(kdir, "kmod", "bin", "kmod")];
for (const b of bins) {
  for (const m of run("ldd", [b]).matchAll(/(\/[^\s]+) \(0x/g)) if (!entries.has(m[1].slice(1))) addHost(m[1]);
}
addHost("/bin/sh", "bin/sh");
addHost("/bin/mount", "bin/mount");
addHost("/bin/mkdir", "bin/mkdir");
addHost("/sbin/switch_root", "bin/switch_root");
addHost(join(kdir, "kmod", "bin", "kmod"), "bin/insmod");
for (const m of order) addFile(`modules/${m.split("/").pop()}`, readFileSync(join(modules, m)), 0o644);
for (const d of ["proc", "sys", "dev", "lower", "upper", "newroot"]) addDir(d);
// stage 1: the overlay root, then stage 2 (the run script in the shared directory) as pid 1
addFile("init", `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${order.map((m) => m.split("/").pop()).join(" ")}; do insmod /modules/$m || echo "vmtest: insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose hostroot /lower || echo "vmtest: 9p mount failed"
mount -t tmpfs -o mode=0755 upper /upper
mkdir /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot || echo "vmtest: overlay failed"
mkdir -p /newroot/vmtest /newroot/vmtest-kernel
mount -n --bind /lower${work} /newroot/vmtest
mount -n --bind /lower${kdir} /newroot/vmtest-kernel
mount -n --move /proc /newroot/proc
mount -n --move /sys /newroot/sys
mount -n --move /dev /newroot/dev
exec switch_root /newroot /bin/sh /vmtest/stage2.sh
`);
writeFileSync(join(work, "initrd"), newc(entries));

// stage 2: what a cgroup-v2-only Debian host has, then the test files, one by one
const q = (s) => `'${s.replaceAll("'", "'\\''")}'`;
writeFileSync(join(work, "stage2.sh"), `#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 NO_COLOR=1
mount -t sysfs sys /sys 2>/dev/null
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
for c in cpu cpuset memory pids io; do echo +$c > /sys/fs/cgroup/cgroup.subtree_control || echo "vmtest: no +$c"; done
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t mqueue mqueue /dev/mqueue
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=0755 run /run
mount -t tmpfs -o mode=0755 mnt /mnt
# podman's storage: overlay cannot stack on the VM's overlay root, as on a real host's ext4 it does
mkdir -p /var/lib/containers && mount -t tmpfs -o mode=0700 containers /var/lib/containers
mkdir -p /run/lock /run/user /run/netns /lib/modules
ln -sfn /vmtest-kernel/image/lib/modules/${release} /lib/modules/${release}
ln -sf /vmtest-kernel/kmod/bin/kmod /usr/sbin/modprobe
echo /usr/sbin/modprobe > /proc/sys/kernel/modprobe
ip link set lo up
# a host has more than lo (the tests' controls check it): a dummy link, no traffic leaves the VM
ip link add eth0 type dummy && ip link set eth0 up
hostname vmtest
echo "VMTEST-KERNEL $(uname -r) cgroup: $(stat -fc %T /sys/fs/cgroup) controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
cd ${q(root)}
export SYSJAIL_IDS_DIR=$(mktemp -d /tmp/sysjail-test-ids-XXXXXX)
rc=0
for f in ${files.map(q).join(" ")}; do
  echo "VMTEST-START $f"
  node --test --test-reporter=spec --test-concurrency=2 ${name === null ? "" : `--test-name-pattern=${q(name)} `}"$f" < /dev/null
  s=$?
  echo "VMTEST-FILE $s $f"
  [ $s = 0 ] || rc=1
done
echo "VMTEST-EXIT=$rc"
sync
echo o > /proc/sysrq-trigger
sleep 60
`);
chmodSync(join(work, "stage2.sh"), 0o755);

const args = [
  ...(kvm ? ["-enable-kvm", "-cpu", "host"] : ["-accel", "tcg,thread=multi", "-cpu", "max,la57=off"]), "-smp", "2", "-m", "4096", "-nographic", "-no-reboot",
  "-kernel", join(kdir, "image", "boot", `vmlinuz-${release}`), "-initrd", join(work, "initrd"),
  "-append", "console=ttyS0 panic=-1 loglevel=4 rdinit=/init",
  "-virtfs", "local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap",
  "-nic", "none",
];
const started = Date.now();
const vm = spawn(qemu, args, { stdio: ["ignore", "pipe", "inherit"] });
const timer = setTimeout(() => { console.error(`vmtest: timed out after ${timeout} s, ending the VM`); vm.kill("SIGKILL"); }, timeout * 1000);
const results = [];
let exit = null, buf = "", skipped = 0;
vm.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  buf += chunk.toString("latin1");
  let nl;
  while ((nl = buf.indexOf("\n")) >= 0) {
    const line = buf.slice(0, nl).replace(/\r$/, "");
    buf = buf.slice(nl + 1);
    const sk = line.match(/^\S+ skipped (\d+)$/);
    if (sk) skipped += Number(sk[1]);
    const m = line.match(/^VMTEST-FILE (\d+) (.*)$/);
    if (m) { results.push({ status: Number(m[1]), file: m[2], skipped }); skipped = 0; }
    const e = line.match(/^VMTEST-EXIT=(\d+)$/);
    if (e) exit = Number(e[1]);
  }
});
vm.on("exit", () => {
  clearTimeout(timer);
  console.log(`\nvmtest: ${release}, cgroup v2 only, ${Math.round((Date.now() - started) / 1000)} s including boot`);
  for (const r of results) console.log(`vmtest: ${r.status === 0 ? "pass" : "FAIL"} ${r.file}${r.skipped ? ` (${r.skipped} skipped)` : ""}`);
  const missing = files.filter((f) => !results.some((r) => r.file === f));
  for (const f of missing) console.log(`vmtest: no result ${f}`);
  process.exit(exit === 0 && missing.length === 0 ? 0 : 1);
});
