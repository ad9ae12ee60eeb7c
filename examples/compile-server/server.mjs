#!/usr/bin/env node
// A compile service built on sysjail(3): POST C source to /run; it is compiled with the host's gcc
// in one jail and the program runs in another, each under limits, and the answer is JSON with the
// compiler's output, the program's output and both run reports.
//
//   node examples/compile-server/server.mjs [--port N] [--work-dir DIR] [--state-dir DIR] [--no-restrict]
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
//
// The server confines itself once its port is open: restrict() leaves it its sockets and nothing
// else (no file, no exec, no new socket but inet ones). The jails are started by two launchers
// forked before (startLauncher()): each is a fixed jail template with a fresh work directory per
// request, made, filled (the source, the binary), read back (the binary) and removed by the
// launcher; a request through it gives only the command, its input and the files' content.
import { openSync, closeSync } from "node:fs";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { restrict, run, startLauncher, SysjailError } from "sysjail";

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
  const stateDir = options.stateDir;
  const runUser = options.runUser !== undefined ? options.runUser : process.getuid?.() === 0 ? "nobody" : undefined;
  const shutdown = new AbortController();
  const inFlight = new Set();
  const gate = limiter(options.concurrency ?? 2);
  const state = stateDir ? { stateDir } : {};
  // The two jails, fixed here, before the server restricts itself. Each launcher makes its own
  // directory in PARENT (mode 0711: the jails' users reach a request's directory, list nothing)
  // and one fresh directory per request in it; the compile jail's is writable by its root (an id
  // the host does not know), the run jail's is its root.
  const compiler = await startLauncher({
    path: "/",
    hostname: "compile",
    cwd: "/tmp/build",
    env: { PATH, LANG: "C" },
    limits: COMPILE_LIMITS,
    work: { in: parent, mount: "/tmp/build", mode: 0o777, maxFileBytes: 64 << 20 },
    ...state,
  });
  let runner;
  try {
    runner = await startLauncher({
      hostname: "sandbox",
      env: {},
      ...(runUser ? { user: { name: runUser, from: "host" } } : {}),
      limits: RUN_LIMITS,
      work: { in: parent, mode: 0o755, maxFileBytes: 0 },
      ...state,
    });
  } catch (err) {
    await compiler.close();
    throw err;
  }

  async function compileAndRun({ source, stdin }, signal) {
    const compile = await run({
      via: compiler,
      command: ["gcc", "-O2", "-static", "-o", "prog", "prog.c", "-lm"],
      files: { "prog.c": source },
      collect: ["prog"],
      maxOutputBytes: MAX_OUTPUT,
      signal,
    });
    const compiled = {
      status: compile.report.status,
      output: compile.stdout + compile.stderr,
      report: compile.report,
    };
    if (compile.report.status !== "ok") return { compile: compiled, run: null };
    // the binary as the launcher read it back: a regular file (a symlink or FIFO in its place is not taken)
    const binary = compile.files?.prog;
    if (!binary) return { compile: { ...compiled, status: "no-program", output: `${compiled.output}the compiler left no regular file prog\n` }, run: null };
    // the run jail's root: the binary and nothing else
    const prog = await run({
      via: runner,
      command: ["/prog"],
      files: { prog: { data: binary, mode: 0o755 } },
      maxOutputBytes: MAX_OUTPUT,
      ...(stdin !== undefined ? { stdin } : {}),
      signal,
    });
    return { compile: compiled, run: { stdout: prog.stdout, stderr: prog.stderr, report: prog.report } };
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
  try {
    await new Promise((resolveListen, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolveListen());
    });
  } catch (err) {
    await Promise.all([compiler.close(), runner.close()]);
    throw err;
  }
  const { port } = server.address();
  let closing;
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise((r) => server.close(() => r()));
      server.closeAllConnections?.();
      shutdown.abort();
      await Promise.allSettled([...inFlight]);
      await closed;
      // the launchers remove their directories before they exit
      await Promise.all([compiler.close(), runner.close()]);
    })();
    return closing;
  };
  // The port is open: from here on the server needs its sockets and nothing else. No path is
  // unveiled (no file at all), and the pledge leaves stdio (its descriptors: the launchers'
  // channels, the connections) and inet (accepting). Refusals are EPERM (restrict() adds error).
  let restricted = null;
  if (options.restrict !== false) {
    try {
      restricted = await restrict({ unveil: {}, pledge: "stdio inet" });
      // prove it: the server's own file is out of reach now
      let fd;
      try {
        fd = openSync(fileURLToPath(import.meta.url), "r");
      } catch (err) {
        restricted.check = `open ${fileURLToPath(import.meta.url)}: ${err.code}`;
      }
      if (fd !== undefined) {
        closeSync(fd);
        throw new Error("restrict() returned but the server can still open its own file");
      }
    } catch (err) {
      await close();
      throw err;
    }
  }
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    /** What restrict() enforced (null with restrict: false). */
    restricted,
    /** Stops accepting, aborts the jobs in flight, waits for them and for the launchers to remove their directories. */
    close,
  };
}

/** Command line: --port N, --work-dir DIR, --state-dir DIR, --no-restrict. */
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
    else if (a === "--no-restrict") o.restrict = false;
    else throw new Error(`unknown argument ${a} (use --port N, --work-dir DIR, --state-dir DIR, --no-restrict)`);
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
  if (svc.restricted) process.stdout.write(`restricted ${JSON.stringify(svc.restricted)}\n`);
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
