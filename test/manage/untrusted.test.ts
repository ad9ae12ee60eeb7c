// Root managing a user's jails: the user's hooks run as the user, the user's registry entries are
// checked field by field (a corrupt one of a live jail is still shown and removable), and what a
// jail controls reaches root's terminal escaped. Real jails, as root and as uid 65534.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { alive, makeRoot, nobodyRuntimeDir, requireBuilt, run, Scope, start, tempDir, waitFor, type RunOptions } from "./helpers.js";

const ESC = "\x1b]0;SJB-TITLE\x07\x1b[2J";

/** Replaces a registry entry as its owner would (renamed into place, owned by 65534). */
function rewrite(state: string, jid: number, change: (e: Record<string, unknown>) => unknown): Record<string, unknown> {
  const file = join(state, "jails", `${jid}.json`);
  const e = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const out = change(e) ?? e;
  writeFileSync(`${file}.t`, typeof out === "string" ? out : JSON.stringify(out));
  chownSync(`${file}.t`, 65534, 65534);
  renameSync(`${file}.t`, file);
  return e;
}

describe("root and a user's jails", () => {
  let scope: Scope; // a state directory owned by 65534: root's tools treat it as that user's
  let xdg: string;
  let out: string; // where hooks write, owned by 65534
  let root: string;
  let user: RunOptions;
  let asRoot: RunOptions;
  before(() => {
    requireBuilt();
    xdg = nobodyRuntimeDir("sysjail-untr-xdg-");
    scope = new Scope(xdg);
    out = tempDir("sysjail-untr-out-");
    chownSync(out, 65534, 65534);
    root = makeRoot(65534);
    user = scope.o;
    asRoot = { state: scope.state };
  });
  after(() => {
    scope?.cleanup();
    for (const d of [xdg, out, root]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const hooks = (tag: string) => {
    const probe = (h: string) => `{ id -u; id -G; pwd; echo "HOME=$HOME"; ls /proc/self/fd | wc -l; readlink /proc/self/fd/0; } > ${out}/${tag}-${h}`;
    return ["prestop", "poststop", "release"].map((h) => `exec.${h}=${probe(h)}`);
  };
  const check = (tag: string) => {
    for (const h of ["prestop", "poststop", "release"]) {
      const f = join(out, `${tag}-${h}`);
      assert.ok(existsSync(f), `exec.${h} ran (${tag})`);
      const [uid, groups, cwd, home, nfds, stdin] = readFileSync(f, "utf8").split("\n");
      assert.equal(uid, "65534", `exec.${h} of ${tag} ran as uid ${uid}`);
      assert.equal(groups, "65534", `exec.${h}: groups ${groups}`);
      assert.equal(cwd, "/");
      assert.notEqual(home, "HOME=/root");
      assert.equal(nfds, "4", "only 0, 1, 2 and ls's own directory"); // no descriptor of root's
      assert.equal(stdin, "/dev/null");
      assert.equal(lstatSync(f).uid, 65534);
    }
  };

  for (const how of ["jid", "name", "*"] as const) {
    test(`jail.conf hooks of a user's jail run as the user when root removes it by ${how}`, () => {
      const name = `uh${how === "*" ? "all" : how}`;
      const c = run("jail", ["-c", `name=${name}`, `path=${root}`, "persist", ...hooks(name)], user);
      assert.equal(c.code, 0, c.stderr);
      const jid = run("jls", ["-j", name, "jid"], asRoot).stdout.trim();
      assert.match(jid, /^\d+$/);
      const r = run("jail", ["-r", how === "jid" ? jid : how === "name" ? name : "*"], asRoot);
      assert.equal(r.code, 0, r.stderr);
      check(name);
      assert.equal(run("jls", ["-j", name], user).code, 1, "the jail is gone");
    });
  }

  test("hooks a user writes into its own entry run as the user; exec.system_user cannot name root", () => {
    const jid = start(user, root, "own.example", ["/mprobe", "sleep", "120"]);
    rewrite(scope.state, jid, (e) => {
      e.lifecycle = { exec: { poststop: [`id -u > ${out}/written`] }, systemUser: undefined };
    });
    assert.equal(run("jail", ["-r", String(jid)], asRoot).code, 0);
    assert.equal(readFileSync(join(out, "written"), "utf8"), "65534\n");
    const j2 = start(user, root, "sys.example", ["/mprobe", "sleep", "120"]);
    rewrite(scope.state, j2, (e) => {
      e.lifecycle = { exec: { poststop: [`id -u > ${out}/sysuser`] }, systemUser: "root" };
    });
    const r = run("jail", ["-r", String(j2)], asRoot);
    assert.match(r.stderr, /exec\.system_user root: the host commands of a jail of uid 65534 run as that user only/);
    assert.equal(existsSync(join(out, "sysuser")), false);
    assert.equal(run("jls", ["-j", String(j2)], asRoot).code, 1, "the jail is removed all the same");
  });

  test("exec.stop of a user's jail, run by root, gets none of root's environment", () => {
    const c = run("jail", ["-c", "name=ustop", `path=${root}`, "persist", "exec.stop=/mprobe env ROOT_SECRET_X"], user);
    assert.equal(c.code, 0, c.stderr);
    const r = run("jail", ["-r", "ustop"], { ...asRoot, env: { ROOT_SECRET_X: "s3cret" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\(unset\)$/m);
    assert.doesNotMatch(r.stdout + r.stderr, /s3cret/);
  });

  test("a corrupt entry of a live jail: each field refused, the jail shown by jid and pid and removable", () => {
    const jid = start(user, root, "corrupt.example", ["/mprobe", "sleep", "120"]);
    const orig = JSON.parse(readFileSync(join(scope.state, "jails", `${jid}.json`), "utf8")) as Record<string, unknown>;
    const pid = orig.initPid as number;
    const cases: [string, (e: Record<string, unknown>) => void, RegExp][] = [
      ["name", (e) => { e.name = "../../../etc/x"; }, /name: /],
      ["hostname", (e) => { e.hostname = "h".repeat(200000); }, /hostname: /],
      ["path", (e) => { e.path = "/a/../../etc"; }, /path: /],
      ["command", (e) => { e.command = { rm: 1 }; }, /command: /],
      ["cgroups", (e) => { e.cgroups = { memory: "/sys/fs/cgroup/memory" }; }, /cgroups\.memory: /],
      ["owner", (e) => { e.owner = 0; }, /owner: /],
      ["spec", (e) => { e.spec = "x"; }, /spec: /],
      ["hooks", (e) => { e.lifecycle = { exec: { poststop: [`id -u > ${out}/corrupt`, 7] } }; }, /lifecycle\.exec\.poststop\[1\]/],
    ];
    for (const [field, change, problem] of cases) {
      rewrite(scope.state, jid, (e) => { change(e); });
      const j = run("jls", [], asRoot);
      assert.match(j.stdout, new RegExp(`^ +${jid}  `, "m"), `${field}: the jail is still listed`);
      assert.match(j.stderr, new RegExp(`jls: jail ${jid} \\(uid 65534, init pid ${pid}\\): corrupt registry entry: `), field);
      assert.match(j.stderr, problem, field);
      assert.doesNotMatch(j.stdout + j.stderr, /\.\.\/\.\.|corrupt\.example|\/etc/, `${field}: nothing of the entry used`);
      const s = JSON.parse(run("sjls", ["--json"], asRoot).stdout) as { jid: number; initPid: number; corrupt?: string[]; hostname: string }[];
      const x = s.find((i) => i.jid === jid);
      assert.ok(x?.corrupt?.some((p) => problem.test(p)), `${field}: sjls shows it as corrupt`);
      assert.equal(x?.initPid, pid);
      assert.equal(x?.hostname, "");
      assert.match(run("sjls", ["-v"], asRoot).stdout, new RegExp(`corrupt +${problem.source}`));
      rewrite(scope.state, jid, () => orig);
    }
    // removal by jid: no hook of the corrupt entry runs, the init is killed, the files go
    rewrite(scope.state, jid, (e) => { e.lifecycle = { exec: { poststop: [`id -u > ${out}/corrupt`, 7] } }; });
    const r = run("jail", ["-r", String(jid)], asRoot);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(alive(pid), false);
    assert.equal(existsSync(join(out, "corrupt")), false, "no hook of a corrupt entry runs");
    assert.equal(existsSync(join(scope.state, "jails", `${jid}.json`)), false);
  });

  test("an entry naming another process, a wrong start time or a foreign cgroup is never acted on", async () => {
    const jid = start(user, root, "liar.example", ["/mprobe", "sleep", "120"]);
    const orig = JSON.parse(readFileSync(join(scope.state, "jails", `${jid}.json`), "utf8")) as Record<string, unknown>;
    // a process of ours that is no jail: a lying entry must not get it killed
    const victim = spawn("sleep", ["120"], { stdio: "ignore" });
    try {
      const vstat = readFileSync(`/proc/${victim.pid}/stat`, "utf8");
      const vstart = Number(vstat.slice(vstat.lastIndexOf(")") + 2).split(" ")[19]);
      for (const [what, change] of [
        ["another process", (e: Record<string, unknown>) => { e.initPid = victim.pid; e.initStart = vstart; }],
        ["a wrong start time", (e: Record<string, unknown>) => { e.initStart = (e.initStart as number) + 1; }],
      ] as const) {
        rewrite(scope.state, jid, (e) => { change(e); });
        assert.equal(run("jls", ["-j", String(jid)], asRoot).code, 1, `${what}: not shown as a running jail`);
        const r = run("jail", ["-R", String(jid)], asRoot);
        assert.notEqual(r.code, 0, what);
        assert.ok(alive(victim.pid!), `${what}: the process is untouched`);
        assert.ok(alive(orig.initPid as number), `${what}: the jail is untouched`);
        rewrite(scope.state, jid, () => orig);
      }
      // a cgroup of root's is well-formed but not the user's: jail -r never removes it
      const cg = `/sys/fs/cgroup/pids/registry-untr-${process.pid}`;
      mkdirSync(cg);
      try {
        rewrite(scope.state, jid, (e) => { e.cgroups = { pids: cg }; });
        assert.equal(run("jail", ["-r", String(jid)], asRoot).code, 0);
        assert.ok(existsSync(cg), "root's cgroup is still there");
      } finally {
        rmSync(cg, { recursive: true, force: true });
      }
    } finally {
      victim.kill("SIGKILL");
    }
  });

  test("a user's entry naming root's freezer cgroup (a container's other hierarchy): jexec refuses, nothing joins it", (t) => {
    if (!existsSync("/sys/fs/cgroup/freezer/tasks")) return t.skip("this host has no v1 freezer hierarchy");
    const jid = start(user, root, "frz.example", ["/mprobe", "sleep", "120"]);
    const cg = `/sys/fs/cgroup/freezer/registry-frz-${process.pid}`;
    mkdirSync(cg);
    try {
      rewrite(scope.state, jid, (e) => { e.cgroups = { ...(e.cgroups as object), freezer: cg }; });
      const x = run("jexec", [String(jid), "/mprobe", "ids"], asRoot);
      assert.notEqual(x.code, 0);
      assert.match(x.stderr, /the jail's freezer cgroup ".*registry-frz-\d+" cannot be verified; refusing to enter the jail outside it/);
      assert.equal(readFileSync(join(cg, "cgroup.procs"), "utf8"), "", "no process joined root's cgroup");
    } finally {
      rmSync(cg, { recursive: true, force: true });
    }
  });

  test("a policy file in a user's entry that is a FIFO hangs neither jexec nor jail -r", () => {
    const jid = start(user, root, "fifo.example", ["/mprobe", "sleep", "120"]);
    const fifo = join(out, "policy.fifo");
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
    rewrite(scope.state, jid, (e) => {
      (e.spec as { policy: { files: string[] } }).policy.files = [fifo];
      e.lifecycle = { exec: { stop: ["true"] } };
    });
    const x = run("jexec", [String(jid), "/mprobe", "ids"], { ...asRoot, timeoutMs: 20000 });
    assert.equal(x.signal, null, "jexec returned by itself");
    assert.notEqual(x.code, 0);
    assert.match(x.stderr, /policy\.fifo: (not a regular file|EINVAL)/);
    assert.equal(x.stderr.split("\n").length, 2, x.stderr);
    const r = run("jail", ["-R", String(jid)], { ...asRoot, timeoutMs: 20000 });
    assert.equal(r.signal, null);
    assert.equal(r.code, 0, r.stderr);
  });

  test("a symlinked or oversized entry file is reported, never followed", () => {
    const jid = start(user, root, "link.example", ["/mprobe", "sleep", "120"]);
    const file = join(scope.state, "jails", `${jid}.json`);
    const text = readFileSync(file, "utf8");
    const secret = tempDir("sysjail-untr-secret-", 0o700);
    try {
      // a root-only copy, with a hostname only the copy has
      writeFileSync(join(secret, "e.json"), text.replace("link.example", "secret.example"), { mode: 0o600 });
      rmSync(file);
      symlinkSync(join(secret, "e.json"), file);
      const j = run("jls", ["-v"], asRoot);
      assert.doesNotMatch(j.stdout, /secret\.example/);
      assert.match(j.stderr, new RegExp(`jls: .*jails/${jid}\\.json \\(uid 65534\\): corrupt registry entry: entry: not a regular file`));
      rmSync(file);
      writeFileSync(file, " ".repeat(2 << 20));
      chownSync(file, 65534, 65534);
      assert.match(run("sjls", [], asRoot).stderr, /corrupt registry entry: entry: not a regular file of at most 1 MiB/);
      writeFileSync(file, text);
      chownSync(file, 65534, 65534);
      assert.equal(run("jail", ["-r", String(jid)], asRoot).code, 0);
    } finally {
      rmSync(secret, { recursive: true, force: true });
    }
  });

  test("what a jail controls reaches root's and the user's terminal escaped", async () => {
    const weird = join(tempDir("sysjail-untr-esc-"), `r${ESC}`);
    mkdirSync(weird);
    for (const d of ["proc", "dev", "tmp", "etc", "sys"]) mkdirSync(join(weird, d));
    writeFileSync(join(weird, "mprobe"), readFileSync(join(root, "mprobe")), { mode: 0o755 });
    chownSync(weird, 65534, 65534);
    try {
      const jid = start(user, weird, "esc.example", ["/mprobe", "rename", ESC, "120"], ["-n", "escjail"]);
      assert.equal(run("jail", ["-m", String(jid), `meta.k=v${ESC}`], user).code, 0);
      await waitFor(() => run("sjls", ["-p", String(jid)], asRoot).stdout.includes("SJB-TITLE"));
      for (const o of [asRoot, user]) {
        const outs = [
          run("jls", [], o), run("jls", ["-v"], o), run("jls", ["-n"], o), run("jls", ["-s"], o), run("jls", ["-N"], o),
          run("jls", ["-h", "path", "meta"], o), run("sjls", [], o), run("sjls", ["-v"], o), run("sjls", ["-p", String(jid)], o),
          run("sjls", ["--watch", "--count", "1"], o),
        ];
        for (const r of outs) {
          assert.equal(r.code, 0, r.stderr);
          assert.doesNotMatch(r.stdout + r.stderr, /\x1b|\x07/);
        }
        assert.match(outs[1]!.stdout, /\\033\]0;SJB-TITLE\\007\\033\[2J/, "the path, escaped");
        assert.match(outs[8]!.stdout, /\\033\]0;SJB-TITLE\\007\\033\[2J sleep 120/, "the process title, escaped");
        // JSON keeps the value, escaped as JSON does
        const js = JSON.parse(run("jls", ["--json", "-v"], o).stdout) as { "jail-information": { jail: { path: string }[] } };
        assert.ok(js["jail-information"].jail.some((x) => x.path === weird));
        assert.match(run("jls", ["--json", "-v"], o).stdout, /\\u001b\]0;SJB-TITLE\\u0007/);
      }
      // error lines naming what a user typed or a jail chose
      for (const r of [
        run("jail", ["-r", `x${ESC}`], asRoot), run("jexec", [`x${ESC}`, "/mprobe"], asRoot),
        run("jail", ["-m", `x${ESC}`, "host.hostname=a"], asRoot), run("sysjail", [`/nonexistent${ESC}`, "h", "/mprobe"], asRoot),
        run("jls", ["-j", `x${ESC}`], asRoot), run("sjls", ["-p", `x${ESC}`], asRoot),
      ]) {
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /\\033\]0;SJB-TITLE/);
        assert.doesNotMatch(r.stderr, /\x1b|\x07/);
        assert.equal(r.stderr.split("\n").length, 2, r.stderr);
      }
      assert.equal(run("jail", ["-r", String(jid)], asRoot).code, 0);
    } finally {
      rmSync(join(weird, ".."), { recursive: true, force: true });
    }
  });

  test("a process title that is not UTF-8 prints byte for byte as \\ooo", async () => {
    const mine = new Scope();
    try {
      // the jail's own process writes the bytes (a command line given from here would be UTF-8)
      const jid = String(start(mine.o, root, "inv.example", ["/mprobe", "renamehex", "74ffc31b", "120"]));
      await waitFor(() => run("sjls", ["-p", jid], mine.o).stdout.includes("t\\377"));
      const p = run("sjls", ["-p", jid], mine.o).stdout;
      assert.match(p, /t\\377\\303\\033 sleep 120/);
      const js = JSON.parse(run("sjls", ["-p", jid, "--json"], mine.o).stdout) as { argv: string[] }[];
      assert.ok(js.some((x) => x.argv[0] === "t\udcff\udcc3\x1b"));
    } finally {
      mine.cleanup();
    }
  });
});
