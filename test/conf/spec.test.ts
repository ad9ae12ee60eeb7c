// Tests: paramsToSpec: JailSpec and JailLifecycle from resolved parameters.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultPolicy } from "../../src/spec/types.js";
import { CREATE_STEPS, REMOVE_STEPS, paramsToSpec, parseJailConf, parseParamArgs, resolveJail, resolveParams } from "../../src/conf/index.js";
import { memfs, throwsConf } from "./helpers.js";

const fromConf = (text: string, name: string, opts = {}) => paramsToSpec(resolveJail(parseJailConf(text, "j.conf"), name), opts);
const fromCli = (argv: string[], opts = {}) => paramsToSpec(resolveParams(parseParamArgs(argv)), opts);

test("a full jail maps onto JailSpec and JailLifecycle", () => {
  const text = `
    exec.clean; mount.devfs; persist;
    path = "/jails/$name/";
    www {
      jid = 12;
      host.hostname = www.example;
      ip4.addr = "em0|192.0.2.10/24", 192.0.2.11;
      ip6.addr = 2001:db8::1;
      mount = "/usr/ports /jails/www/usr/ports nullfs ro 0 0";
      mount += "tmpfs tmp tmpfs rw,size=64m";
      mount.procfs; devfs_ruleset = 10;
      allow.raw_sockets; allow.sysvipc; allow.chflags; allow.set_hostname; allow.socket_af;
      exec.prepare = "zfs create tank/$name"; exec.prestart = "echo pre", "echo pre2";
      exec.created = c; exec.start = "/bin/sh /etc/rc"; exec.poststart = ps;
      exec.prestop = pst; exec.stop = "/bin/sh /etc/rc.shutdown"; exec.poststop = pso; exec.release = rel;
      exec.jail_user = www; exec.system_jail_user; exec.system_user = admin;
      exec.timeout = 30; stop.timeout = 5; exec.consolelog = /var/log/jail_www.log;
      depend = db, cache;
      meta = "tag=blue"; meta.owner = ops; env = "LANG=C";
      limits.memory = 256M; rctl = "maxproc:deny=100", "jail:www:cputime:deny=60";
      enforce_statfs = 1;
      command = /usr/local/bin/app, --serve;
    }`;
  const { spec, lifecycle, warnings } = fromConf(text, "www");
  assert.deepEqual(spec, {
    name: "www",
    path: "/jails/www",
    hostname: "www.example",
    ip4: ["192.0.2.10", "192.0.2.11"],
    ip6: ["2001:db8::1"],
    vnet: false,
    persist: true,
    killOnExit: false,
    command: ["/usr/local/bin/app", "--serve"],
    cleanEnv: true,
    user: { name: "www", from: "host" },
    mounts: [
      { source: "/usr/ports", target: "/usr/ports", type: "bind", readonly: true, options: [] },
      { source: "tmpfs", target: "/tmp", type: "tmpfs", readonly: false, options: ["size=64m"] },
    ],
    mountDev: true,
    devfsRuleset: 10,
    mountProc: true,
    policy: { ...defaultPolicy(), allowRawSockets: true, allowIpc: true, allowChflags: true, allowSetHostname: true, allowAllDomains: true },
    meta: { owner: "ops", tag: "blue" },
    params: spec.params,
  });
  assert.equal(spec.params!["exec.timeout"], "30");
  assert.deepEqual(lifecycle, {
    exec: {
      prepare: ["zfs create tank/www"],
      prestart: ["echo pre", "echo pre2"],
      created: ["c"],
      start: ["/bin/sh /etc/rc"],
      poststart: ["ps"],
      prestop: ["pst"],
      stop: ["/bin/sh /etc/rc.shutdown"],
      poststop: ["pso"],
      release: ["rel"],
    },
    clean: true,
    systemJailUser: true,
    stopTimeout: 5,
    depend: ["db", "cache"],
    vnetInterfaces: [],
    mountFstab: [],
    ip4Mode: "new",
    ip6Mode: "new",
    env: { LANG: "C" },
    metaText: "owner=ops\ntag=blue",
    envText: "LANG=C",
    limits: { memory: "256M", pids: "100", cpu: "60s" },
    childrenMax: 0,
    enforceStatfs: 1,
    name: "www",
    jid: 12,
    command: ["/usr/local/bin/app", "--serve"],
    jailUser: "www",
    systemUser: "admin",
    execTimeout: 30,
    consoleLog: "/var/log/jail_www.log",
  });
  assert.deepEqual(warnings, ["j.conf:7:19: warning: ip4.addr: the interface, netmask and ifconfig options are ignored on Linux"]);
  assert.ok(JSON.parse(JSON.stringify(lifecycle)));
});

test("defaults of a bare jail follow jail(8)", () => {
  const { spec, lifecycle } = fromCli(["name=bare", "path=/r"]);
  assert.equal(spec.persist, false);
  assert.equal(spec.mountDev, false);
  assert.equal(spec.mountProc, true, "Linux tools need /proc: on unless mount.procfs is set false");
  assert.equal(fromCli(["name=bare", "path=/r", "mount.noprocfs"]).spec.mountProc, false);
  assert.equal(spec.devfsRuleset, 4);
  assert.equal(spec.cleanEnv, false);
  assert.equal(spec.vnet, false);
  assert.equal(spec.hostname, undefined);
  assert.equal(spec.user, undefined);
  assert.deepEqual(spec.policy, defaultPolicy());
  assert.equal(lifecycle.stopTimeout, 10);
  assert.equal(lifecycle.ip4Mode, "disable");
  assert.equal(lifecycle.enforceStatfs, 2);
  assert.equal(lifecycle.execTimeout, undefined);
});

test("users: exec.jail_user is looked up in the jail unless exec.system_jail_user", () => {
  assert.deepEqual(fromCli(["exec.jail_user=nobody"]).spec.user, { name: "nobody", from: "jail" });
  assert.deepEqual(fromCli(["exec.jail_user=nobody", "exec.system_jail_user"]).spec.user, { name: "nobody", from: "host" });
});

test("vnet, vnet.interface and address modes", () => {
  const v = fromCli(["vnet", "vnet.interface=veth0,veth1"]);
  assert.equal(v.spec.vnet, true);
  assert.deepEqual(v.lifecycle.vnetInterfaces, ["veth0", "veth1"]);
  assert.equal(fromCli(["ip4=inherit"]).lifecycle.ip4Mode, "inherit");
  assert.equal(fromCli(["ip6=disable"]).lifecycle.ip6Mode, "disable");
  throwsConf(() => fromCli(["vnet.interface=veth0"]), "command line argument 1: vnet.interface needs vnet near 'veth0'");
  throwsConf(() => fromCli(["ip4.addr=10.0.0.1", "ip4=disable"]), "command line argument 2: ip4.addr needs ip4 = new, not disable near 'disable'");
  throwsConf(() => fromCli(["ip4.addr=10.0.0.300"]), "command line argument 1: ip4.addr: '10.0.0.300' is not an IPv4 address near '10.0.0.300'");
  throwsConf(() => fromConf("w { ip6.addr = 10.0.0.1; }", "w"), "j.conf:1:16: ip6.addr: '10.0.0.1' is not an IPv6 address near '10.0.0.1'");
});

test("sysvmsg/sysvsem/sysvshm = new or inherit allow SysV IPC", () => {
  assert.equal(fromCli(["sysvshm=new"]).spec.policy!.allowIpc, true);
  assert.equal(fromCli(["sysvmsg=inherit"]).spec.policy!.allowIpc, true);
  assert.equal(fromCli(["sysvsem=disable"]).spec.policy!.allowIpc, false);
});

test("sysjail extensions: allow.rlimit, policy.files, policy.replace", () => {
  const p = fromCli(["allow.rlimit", "policy.files=/etc/sysjail/a.policy", "policy.files=/etc/sysjail/b.policy", "policy.replace"]).spec.policy!;
  assert.equal(p.allowRlimit, true);
  assert.deepEqual(p.files, ["/etc/sysjail/a.policy", "/etc/sysjail/b.policy"]);
  assert.equal(p.replaceDefault, true);
});

test("names and paths are checked", () => {
  throwsConf(() => fromConf("a.b { }", "a.b"), "j.conf:1:1: jail name 'a.b' contains '.' (nested jails are not supported) near 'a.b'");
  throwsConf(() => fromCli(["name=12", "jid=13"]), "command line argument 1: a numeric jail name must equal the jid near '12'");
  assert.equal(fromCli(["name=12", "jid=12"]).spec.name, "12");
  throwsConf(() => fromCli(["path=jails/x"]), "command line argument 1: path 'jails/x' is not an absolute pathname near 'jails/x'");
});

test("mount lines are checked against the jail's path, with the conf position", () => {
  throwsConf(
    () => fromConf('path = /jails/$name;\nweb {\n  mount = "/s /jails/d/share nullfs ro 0 0";\n}', "web"),
    "j.conf:3:15: mount target '/jails/d/share' is outside the jail's path '/jails/web' near '/jails/d/share'",
  );
  throwsConf(() => fromCli(["mount=/a b nullfs ro"]), "command line argument 1: a mount line needs the jail's path parameter near 'b'");
});

test("mount.fstab files are read and folded into mounts after the mount lines", () => {
  const fs = memfs({ "/etc/fstab.www": "# jail mounts\n/usr/src /jails/www/usr/src nullfs ro 0 0\n" });
  const { spec, lifecycle } = fromConf('www { path = /jails/www; mount = "/a /jails/www/a nullfs rw"; mount.fstab = /etc/fstab.www; }', "www", fs);
  assert.deepEqual(spec.mounts!.map((m) => m.target), ["/a", "/usr/src"]);
  assert.deepEqual(lifecycle.mountFstab, ["/etc/fstab.www"]);
  throwsConf(() => fromConf("www { path = /j; mount.fstab = /nope; }", "www", fs), "j.conf:1:32: cannot read fstab file '/nope': ENOENT near '/nope'");
  throwsConf(
    () => fromConf("www { path = /j; mount.fstab = /etc/fstab.www; }", "www", fs),
    "/etc/fstab.www:2:10: mount target '/jails/www/usr/src' is outside the jail's path '/j' near '/jails/www/usr/src'",
  );
});

test("limits: raw strings by Limits field, parsed when a parser is given", () => {
  const r = fromCli(["limits.memory=64M", "limits.wall=5s", "rctl=memoryuse:deny=128m", "limits.pids=16", "rctl=pcpu:deny=50"]);
  assert.deepEqual(r.lifecycle.limits, { memory: "128M", wall: "5s", pids: "16", cores: "0.5" });
  assert.equal(r.spec.limits, undefined);
  const parsed = fromCli(["limits.memory=64M", "limits.pids=16"], {
    parseLimit: (k: string, raw: string) => (k === "memory" ? parseInt(raw, 10) * 1024 * 1024 : Number(raw)),
  });
  assert.deepEqual(parsed.spec.limits, { memory: 64 * 1024 * 1024, pids: 16 });
  throwsConf(
    () => fromCli(["limits.memory=lots"], { parseLimit: () => { throw new Error("not a size"); } }),
    "command line argument 1: bad memory limit: not a size near 'lots'",
  );
  throwsConf(() => fromCli(["rctl=datasize:deny=1g"]), /^command line argument 1: rctl resource 'datasize' is not supported \(use memoryuse, .*\) near 'datasize:deny=1g'$/);
  throwsConf(() => fromCli(["rctl=memoryuse:log=1g"]), "command line argument 1: rctl action 'log' is not supported (only deny) near 'memoryuse:log=1g'");
  throwsConf(() => fromCli(["rctl=maxproc:deny=10k"]), "command line argument 1: rctl resource 'maxproc' takes a plain number near 'maxproc:deny=10k'");
  throwsConf(() => fromCli(["rctl=memoryuse:deny=1g/process"]), "command line argument 1: per-process rctl rules are not supported (only per jail) near 'memoryuse:deny=1g/process'");
  throwsConf(() => fromCli(["rctl=memoryuse"]), "command line argument 1: an rctl rule is [jail:NAME:]resource:deny=amount near 'memoryuse'");
});

test("a bare parameter record is accepted too", () => {
  const { spec } = paramsToSpec({ name: "x", path: "/x", persist: true, "ip4.addr": ["10.0.0.1"] });
  assert.deepEqual([spec.name, spec.path, spec.persist, spec.ip4], ["x", "/x", true, ["10.0.0.1"]]);
  throwsConf(() => paramsToSpec({ path: "x" }), "(parameter path):0:0: path 'x' is not an absolute pathname near 'x'");
});

test("the create and remove step orders", () => {
  assert.deepEqual(CREATE_STEPS.indexOf("exec.prepare") < CREATE_STEPS.indexOf("mounts"), true);
  assert.deepEqual(CREATE_STEPS.slice(-4), ["vnet.interface", "exec.start", "command", "exec.poststart"]);
  assert.deepEqual(REMOVE_STEPS.slice(0, 4), ["exec.prestop", "exec.stop", "stop.timeout", "remove"]);
  assert.deepEqual(REMOVE_STEPS.slice(-2), ["exec.poststop", "exec.release"]);
});

test("idrange and allow.setuid (sysjail extensions) reach the spec; absent, neither is set", () => {
  const { spec } = fromConf(`j { path = /jails/j; idrange = web; allow.setuid; persist; }`, "j");
  assert.equal(spec.idrange, "web");
  assert.equal(spec.policy?.allowSetuid, true);
  const plain = fromConf(`j { path = /jails/j; persist; }`, "j").spec;
  assert.equal(plain.idrange, undefined);
  assert.equal(plain.policy?.allowSetuid, undefined);
  assert.equal(fromCli(["name=k", "path=/", "idrange=1879113728", "persist"]).spec.idrange, "1879113728");
});

test("pledge, unveil and unveil.best_effort (sysjail extensions) give the --pledge/--unveil spec fields", () => {
  const { spec } = fromConf(`j { path = /jails/j; pledge = "stdio rpath stdio"; unveil = /usr:rx, "/tmp:rwc"; unveil += "/etc/:r"; unveil.best_effort; }`, "j");
  assert.deepEqual(spec.policy!.pledge, ["stdio", "rpath"]);
  assert.deepEqual(spec.unveil, [{ path: "/usr", perms: "rx" }, { path: "/tmp", perms: "rwc" }, { path: "/etc", perms: "r" }]);
  assert.equal(spec.unveilBestEffort, true);
  const cli = fromCli(["name=k", "path=/", "pledge=stdio inet", "unveil=/srv:r", "unveil=/var/tmp:rwc"]).spec;
  assert.deepEqual(cli.policy!.pledge, ["stdio", "inet"]);
  assert.deepEqual(cli.unveil, [{ path: "/srv", perms: "r" }, { path: "/var/tmp", perms: "rwc" }]);
  assert.equal(cli.unveilBestEffort, undefined);
  const plain = fromConf(`j { path = /jails/j; }`, "j").spec;
  assert.equal(plain.policy!.pledge, undefined);
  assert.equal(plain.unveil, undefined);
});

test("bad pledge and unveil values: one line naming the value and what is allowed, exit 64", () => {
  throwsConf(() => fromConf(`j { path = /j; pledge = "stdio rooting"; }`, "j"), /j\.conf:1:\d+: pledge: unknown promise 'rooting' \(allowed: stdio .*\)/);
  throwsConf(() => fromConf(`j { path = /j; pledge = ""; }`, "j"), /pledge: no promise given/);
  throwsConf(() => fromConf(`j { path = /j; unveil = /usr; }`, "j"), /j\.conf:1:\d+: unveil: '\/usr' is not PATH:PERMS/);
  throwsConf(() => fromConf(`j { path = /j; unveil = /usr:rq; }`, "j"), /unveil: bad permissions 'rq' \(allowed: a set of r, w, x, c\)/);
  throwsConf(() => fromConf(`j { path = /j; unveil = "usr/../x:r"; }`, "j"), /unveil: 'usr\/\.\.\/x' must be an absolute path/);
  throwsConf(() => fromCli(["name=k", "path=/", "unveil=/a\nb"]), /command line argument 3: unveil/);
  const many = Array.from({ length: 65 }, (_, i) => `unveil += /p${i}:r;`).join(" ");
  throwsConf(() => fromConf(`j { path = /j; ${many} }`, "j"), /unveil: at most 64 paths, not 65/);
});
