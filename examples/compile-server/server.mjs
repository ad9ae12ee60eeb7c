#!/usr/bin/env node
// A compile service built on sysjail(3): POST C source to /run; it is compiled with the host's gcc
// in one jail and the program runs in another, each under limits, and the answer is JSON with the
// compiler's output, the program's output and both run reports.
//
//   node examples/compile-server/server.mjs [--port N] [--work-dir DIR] [--state-dir DIR]
//   curl --data-binary @hello.c http://127.0.0.1:PORT/run
//   curl -H 'content-type: application/json' -d '{"source":"...","stdin":"..."}' http://127.0.0.1:PORT/run
//
// Plain JavaScript on purpose: it imports the package by its name, as any program would.
//
// The compile jail's root is the host's "/" (it needs the host's compiler, headers and static
// libc), with a private tmpfs on /tmp and the request's build directory bound onto /tmp/build, the
// only place it can write. Its processes run as the jail's root, which owns nothing on the host.
// The run jail's root is a directory holding the compiled static binary and nothing else: no
// /etc, /proc, /dev, no network; the program runs as nobody (when the server runs as root) so it
// cannot even write to that root.
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { run, SysjailError } from "sysjail";

/** Limits of the two jails (docs/LIMITS.md). */
export const COMPILE_LIMITS = { memory: "512M", pids: 64, cpu: "20s", wall: "60s", tmpSize: "128M", fileSize: "64M" };
export const RUN_LIMITS = { memory: "64M", pids: 16, cpu: "2s", wall: "5s", openFiles: 64, fileSize: "1M" };

const MAX_SOURCE = 256 * 1024;
const MAX_OUTPUT = 64 * 1024;
const PATH = "/usr/local/bin:/usr/bin:/bin";

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Reads a request body, at most `max` bytes. */
async function readBody(req, max) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > max) throw new HttpError(413, `the request body is larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** { source, stdin } from a raw C body or a JSON one. */
function parseRequest(req, body) {
  let source = body;
  let stdin;
  if ((req.headers["content-type"] ?? "").startsWith("application/json")) {
    let doc;
    try {
      doc = JSON.parse(body);
    } catch {
      throw new HttpError(400, "the JSON body does not parse");
    }
    if (typeof doc?.source !== "string") throw new HttpError(400, 'the JSON body needs "source" (a string)');
    if (doc.stdin !== undefined && typeof doc.stdin !== "string") throw new HttpError(400, '"stdin" must be a string');
    source = doc.source;
    stdin = doc.stdin;
  }
  if (!source.trim()) throw new HttpError(400, "no C source in the request");
  return { source, stdin };
}

/** A small counting semaphore: at most `n` jobs at once, the rest wait in order. */
function limiter(n) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= n || queue.length === 0) return;
    active++;
    queue.shift()();
  };
  return async (job) => {
    await new Promise((resolve) => {
      queue.push(resolve);
      next();
    });
    try {
      return await job();
    } finally {
      active--;
      next();
    }
  };
}

/**
 * Starts the service on 127.0.0.1. Options: port (0 = any free one), workDir (a directory, not
 * under /tmp, in which the server makes and removes its own; default /var/tmp), stateDir (the
 * sysjail registry; default the caller's), concurrency (jobs at once, default 2), runUser (the
 * user the program runs as, from the host's passwd; default "nobody" for root, else jail root).
 * Resolves to { server, url, close() }.
 */
export async function startCompileServer(options = {}) {
  const parent = resolve(options.workDir ?? "/var/tmp");
  if (parent === "/tmp" || parent.startsWith("/tmp/")) {
    throw new Error(`--work-dir ${parent}: must not be under /tmp (the compile jail gets a private /tmp that hides it)`);
  }
  // traversable by the jails' users, listable by nobody but its owner
  const base = await mkdtemp(join(parent, "sysjail-compile-"));
  await chmod(base, 0o711);
  const stateDir = options.stateDir;
  const runUser = options.runUser !== undefined ? options.runUser : process.getuid?.() === 0 ? "nobody" : undefined;
  const shutdown = new AbortController();
  const inFlight = new Set();
  const gate = limiter(options.concurrency ?? 2);

  async function compileAndRun({ source, stdin }, signal) {
    const dir = await mkdtemp(join(base, "req-"));
    try {
      await chmod(dir, 0o711);
      const build = join(dir, "build");
      const root = join(dir, "root");
      await mkdir(build);
      // the compile jail's root is an id the host does not know: let it write its output here
      await chmod(build, 0o777);
      await writeFile(join(build, "prog.c"), source, { mode: 0o644 });
      const compile = await run({
        path: "/",
        hostname: "compile",
        command: ["gcc", "-O2", "-static", "-o", "prog", "prog.c", "-lm"],
        cwd: "/tmp/build",
        env: { PATH, LANG: "C" },
        mounts: [{ type: "bind", source: build, target: "/tmp/build", readonly: false, options: [] }],
        limits: COMPILE_LIMITS,
        maxOutputBytes: MAX_OUTPUT,
        signal,
        ...(stateDir ? { stateDir } : {}),
      });
      const compiled = {
        status: compile.report.status,
        output: compile.stdout + compile.stderr,
        report: compile.report,
      };
      if (compile.report.status !== "ok") return { compile: compiled, run: null };
      // the run jail's root: the binary and nothing else
      await mkdir(root, { mode: 0o755 });
      await chmod(root, 0o755);
      await copyFile(join(build, "prog"), join(root, "prog"));
      await chmod(join(root, "prog"), 0o755);
      const prog = await run({
        path: root,
        hostname: "sandbox",
        command: ["/prog"],
        env: {},
        ...(runUser ? { user: { name: runUser, from: "host" } } : {}),
        limits: RUN_LIMITS,
        maxOutputBytes: MAX_OUTPUT,
        ...(stdin !== undefined ? { stdin } : {}),
        signal,
        ...(stateDir ? { stateDir } : {}),
      });
      return { compile: compiled, run: { stdout: prog.stdout, stderr: prog.stderr, report: prog.report } };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const send = (res, status, doc) => {
    if (res.headersSent || res.destroyed) return;
    const body = `${JSON.stringify(doc)}\n`;
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };

  async function handle(req, res) {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/" && req.method === "GET") {
      return send(res, 200, { usage: "POST C source (raw, or JSON {source, stdin}) to /run", compileLimits: COMPILE_LIMITS, runLimits: RUN_LIMITS });
    }
    if (url.pathname !== "/run") return send(res, 404, { error: { message: "not found" } });
    if (req.method !== "POST") return send(res, 405, { error: { message: "use POST" } });
    if (shutdown.signal.aborted) return send(res, 503, { error: { message: "shutting down" } });
    // a client that goes away (or the server closing) aborts its jails
    const ac = new AbortController();
    const onGone = () => { if (!res.writableEnded) ac.abort(); };
    const onShutdown = () => ac.abort();
    res.on("close", onGone);
    shutdown.signal.addEventListener("abort", onShutdown, { once: true });
    const signal = ac.signal;
    try {
      const request = parseRequest(req, await readBody(req, MAX_SOURCE));
      const answer = await gate(() => {
        signal.throwIfAborted();
        return compileAndRun(request, signal);
      });
      send(res, 200, answer);
    } catch (err) {
      if (err instanceof HttpError) return send(res, err.status, { error: { message: err.message } });
      if (err instanceof SysjailError) {
        const status = err.code === "ABORT_ERR" ? 503 : 500;
        return send(res, status, { error: { message: err.message, code: err.code, phase: err.phase, step: err.step ?? null } });
      }
      send(res, 500, { error: { message: String(err?.message ?? err) } });
    } finally {
      res.off("close", onGone);
      shutdown.signal.removeEventListener("abort", onShutdown);
    }
  }

  const server = createServer((req, res) => {
    const p = handle(req, res).finally(() => inFlight.delete(p));
    inFlight.add(p);
  });
  await new Promise((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolveListen());
  });
  const { port } = server.address();
  let closing;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    workDir: base,
    /** Stops accepting, aborts the jobs in flight, waits for them, removes the work directory. */
    close() {
      closing ??= (async () => {
        const closed = new Promise((r) => server.close(() => r()));
        server.closeAllConnections?.();
        shutdown.abort();
        await Promise.allSettled([...inFlight]);
        await closed;
        await rm(base, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/** Command line: --port N, --work-dir DIR, --state-dir DIR. */
function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === "--port") o.port = Number(v());
    else if (a === "--work-dir") o.workDir = v();
    else if (a === "--state-dir") o.stateDir = v();
    else throw new Error(`unknown argument ${a} (use --port N, --work-dir DIR, --state-dir DIR)`);
  }
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port < 65536)) throw new Error("--port needs a port number");
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  let svc;
  try {
    svc = await startCompileServer(parseArgs(process.argv.slice(2)));
  } catch (err) {
    process.stderr.write(`compile-server: ${err.message}\n`);
    process.exit(64);
  }
  process.stdout.write(`listening on ${svc.url}\n`);
  const stop = () => {
    svc.close().then(() => process.exit(0), (err) => {
      process.stderr.write(`compile-server: ${err.message}\n`);
      process.exit(1);
    });
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
