// examples/compile-server: the HTTP compile service built on the library. The server runs as its
// own process on 127.0.0.1 (plain JavaScript importing "sysjail") and restricts itself once its
// port is open (its jails come from launchers); programs are posted to it and each answer is
// checked; at the end it is stopped and every temp directory is gone.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { list, type RunReport } from "../../src/index.js";
import { requireRoot } from "../helpers/nobody.js";
import { removeTree } from "../helpers/tmp.js";
import { waitUntil } from "../helpers/wait.js";
import { libState, REPO, stateLeft } from "./helpers.js";

interface Answer {
  compile: { status: string; output: string; report: RunReport };
  run: { stdout: string; stderr: string; report: RunReport } | null;
}

const SERVER = join(REPO, "examples", "compile-server", "server.mjs");

const PRINTS = `#include <stdio.h>
int main(void) { printf("hello from the jail\\n"); return 0; }
`;
const LOOPS = `int main(void) { volatile unsigned long n = 0; for (;;) n++; }
`;
const ALLOCATES = `#include <stdio.h>
#include <stdlib.h>
int main(void) {
  size_t size = 256u << 20;
  volatile char *p = malloc(size);
  if (!p) { puts("malloc failed"); return 3; }
  for (size_t i = 0; i < size; i += 4096) p[i] = 1;
  printf("allocated %d\\n", p[size - 4096]);
  return 0;
}
`;
const READS_HOST = `#include <errno.h>
#include <stdio.h>
#include <string.h>
int main(void) {
  const char *paths[] = { "/etc/hostname", "/etc/passwd", "/proc/self/status" };
  int found = 0;
  for (int i = 0; i < 3; i++) {
    FILE *f = fopen(paths[i], "r");
    if (!f) { printf("%s: %s\\n", paths[i], strerror(errno)); continue; }
    char line[256] = "";
    if (fgets(line, sizeof line, f)) printf("%s: read %s", paths[i], line);
    fclose(f);
    found++;
  }
  return found ? 0 : 1;
}
`;
const ECHOES = `#include <stdio.h>
int main(void) { char b[128]; while (fgets(b, sizeof b, stdin)) printf("echo: %s", b); return 0; }
`;
const BROKEN = `int main(void) { return undeclared_thing; }
`;

let server: ChildProcess | undefined;
let url = "";
let workParent = "";
let stateDir = "";
const serverErr: string[] = [];

/** POSTs C source (raw, or as JSON with stdin) to /run. */
async function post(source: string, stdin?: string): Promise<{ status: number; body: Answer & { error?: { message: string } } }> {
  const res = stdin === undefined
    ? await fetch(`${url}/run`, { method: "POST", body: source, headers: { "content-type": "text/x-c" } })
    : await fetch(`${url}/run`, { method: "POST", body: JSON.stringify({ source, stdin }), headers: { "content-type": "application/json" } });
  return { status: res.status, body: (await res.json()) as Answer & { error?: { message: string } } };
}

/** Stops the server (SIGTERM: it aborts its jobs, removes its work directory and exits 0). */
async function stopServer(): Promise<number | null> {
  const s = server;
  if (!s || s.exitCode !== null || s.signalCode !== null) return s?.exitCode ?? null;
  const exited = new Promise<number | null>((r) => s.once("exit", (code) => r(code)));
  s.kill("SIGTERM");
  const timer = setTimeout(() => s.kill("SIGKILL"), 20_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

before(async () => {
  requireRoot("the compile-server tests");
  // not under /tmp: the compile jail gets a private /tmp
  workParent = mkdtempSync("/var/tmp/sysjail-cs-test-");
  chmodSync(workParent, 0o755);
});

after(async () => {
  await stopServer();
  if (workParent) removeTree(workParent);
});

describe("examples/compile-server", { timeout: 90_000 }, () => {
  it("compiles and runs posted C programs in jails and answers with both reports", async (t) => {
    stateDir = libState(t);
    server = spawn(process.execPath, [SERVER, "--port", "0", "--work-dir", workParent, "--state-dir", stateDir], { stdio: ["ignore", "pipe", "pipe"] });
    server.stderr!.on("data", (d: Buffer) => serverErr.push(d.toString()));
    let out = "";
    server.stdout!.on("data", (d: Buffer) => { out += d.toString(); });
    url = await waitUntil(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? (server!.exitCode !== null ? `exit ${server!.exitCode}` : undefined), "the server to listen");
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, `the server did not start: ${serverErr.join("")}`);

    // it restricted itself once its port was open: a seccomp filter and no_new_privs on the
    // server's process (the kernel's view), no file reachable (its own open of server.mjs failed)
    const restricted = JSON.parse(/^restricted (.*)$/m.exec(out)?.[1] ?? "null") as { pledge: string[]; unveil: Record<string, string>; landlockAbi: number; check: string } | null;
    assert.ok(restricted, `no restricted line: ${out}`);
    assert.deepEqual(restricted.pledge, ["stdio", "inet", "prot_exec", "error"]);
    assert.deepEqual(restricted.unveil, {});
    assert.ok(restricted.landlockAbi >= 1, out);
    assert.equal(restricted.check, `open ${SERVER}: EPERM`);
    const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
    assert.match(status, /^Seccomp:\s+2$/m, status);
    assert.match(status, /^NoNewPrivs:\s+1$/m, status);

    const [prints, loops, allocates, readsHost, echoes, broken] = await Promise.all([
      post(PRINTS), post(LOOPS), post(ALLOCATES), post(READS_HOST), post(ECHOES, "one\ntwo\n"), post(BROKEN),
    ]);

    // a program that prints
    assert.equal(prints.status, 200, JSON.stringify(prints.body));
    assert.equal(prints.body.compile.status, "ok", prints.body.compile.output);
    assert.equal(prints.body.compile.report.status, "ok");
    assert.ok(prints.body.run);
    assert.equal(prints.body.run.stdout, "hello from the jail\n");
    assert.equal(prints.body.run.report.status, "ok");
    assert.equal(prints.body.run.report.exitCode, 0);
    assert.equal(prints.body.run.report.limits.memory, 64 * 1024 * 1024, "the run jail's limits are in its report");

    // a program that loops forever: a timeout (cpu, else wall)
    assert.equal(loops.body.compile.status, "ok", loops.body.compile.output);
    assert.equal(loops.body.run?.report.status, "timeout", JSON.stringify(loops.body.run?.report));
    assert.ok(loops.body.run.report.limitsHit?.some((l) => l === "cpu" || l === "wall"));

    // one that allocates more than the run jail's memory
    assert.equal(allocates.body.compile.status, "ok", allocates.body.compile.output);
    assert.equal(allocates.body.run?.report.status, "oom", JSON.stringify(allocates.body.run?.report));
    assert.equal(allocates.body.run.stdout, "");

    // one that reads host files: the run jail's root holds nothing but the program
    assert.equal(readsHost.body.compile.status, "ok", readsHost.body.compile.output);
    const r = readsHost.body.run!;
    assert.equal(r.report.status, "runtime-error", r.stdout);
    assert.equal(r.report.exitCode, 1);
    assert.equal(r.stdout, "/etc/hostname: No such file or directory\n/etc/passwd: No such file or directory\n/proc/self/status: No such file or directory\n");
    if (existsSync("/etc/hostname")) {
      const hostLine = readFileSync("/etc/hostname", "utf8").trim();
      assert.ok(!r.stdout.includes(`read ${hostLine}`), "the host's hostname file leaked");
    }

    // stdin through the JSON form
    assert.equal(echoes.body.run?.stdout, "echo: one\necho: two\n");

    // a compile error: the compiler's output and no run
    assert.equal(broken.status, 200);
    assert.equal(broken.body.compile.status, "runtime-error");
    assert.match(broken.body.compile.output, /undeclared_thing/);
    assert.equal(broken.body.run, null);

    // bad requests
    assert.equal((await fetch(`${url}/run`)).status, 405);
    assert.equal((await fetch(`${url}/nothing`)).status, 404);
    assert.equal((await post("   ")).status, 400);
    const badJson = await fetch(`${url}/run`, { method: "POST", body: "{", headers: { "content-type": "application/json" } });
    assert.equal(badJson.status, 400);
    await badJson.arrayBuffer();

    // stopping it leaves nothing: no work directory, no jail
    assert.equal(await stopServer(), 0, `the server's exit status (stderr: ${serverErr.join("")})`);
    assert.deepEqual(readdirSync(workParent), [], "the launchers removed their work directories");
    assert.deepEqual(await list({ stateDir }), []);
    assert.deepEqual(stateLeft(stateDir), []);
  });
});
