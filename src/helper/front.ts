// The channel to a native front (native/src/front.c): when `sysjail` or `jail` is started as the
// package's native command, Node runs as the front's child with a socket to it on fd 3, and the
// front is the helper of this run's foreground jail.
import { closeSync, fstatSync, read, writeSync } from "node:fs";

const ENV = "SYSJAIL_FRONT_FD";
let frontFd: number | undefined;

/** The channel handed to this run's foreground jail (takeFront), for lastWord. */
let taken: FrontChannel | undefined;

/** Tells the front this process's exit status, after every other exit handler has run (call it
 * just before process.exit). A front that ran this run's jail then ends this process at once and
 * exits with STATUS: what is left of Node's exit is freeing memory and ending threads. */
export function lastWord(status: number): void {
  const ch = taken;
  if (!ch) return;
  const code = Math.min(255, Math.max(0, status | 0));
  process.once("exit", () => ch.write(`E${String(code).padStart(3, "0")}`));
}

/** Takes the front's channel from the environment (once, at a tool's start), and removes the
 * variable so that nothing started from here (a jail included) inherits it. */
export function captureFront(): void {
  const v = process.env[ENV];
  if (v === undefined) return;
  delete process.env[ENV];
  const fd = /^\d+$/.test(v) ? Number(v) : -1;
  try {
    if (fd > 2 && fstatSync(fd).isSocket()) frontFd = fd;
  } catch {
    /* no such descriptor: run as if started by node directly */
  }
}

/** The front's channel for this run's foreground jail; undefined without a front, or once taken. */
export function takeFront(): FrontChannel | undefined {
  if (frontFd === undefined) return undefined;
  const fd = frontFd;
  frontFd = undefined;
  taken = new FrontChannel(fd);
  return taken;
}

/** Closes the front's channel unused (this run makes no foreground jail), so that no process
 * started from here inherits it (Node cannot mark it close-on-exec). The front then only waits
 * for this process to exit. */
export function dropFront(): void {
  if (frontFd === undefined) return;
  try {
    closeSync(frontFd);
  } catch {
    /* already gone */
  }
  frontFd = undefined;
}

/** A byte stream to the front, read on Node's thread pool: loading `net` for a socket would cost
 * more than the spawn the front saves. */
export class FrontChannel {
  private open = true;

  constructor(readonly fd: number) {}

  /** Writes all of DATA (blocking: the front reads the plan as it comes). A front that is gone
   * is noticed by the reader (the end of the stream), as for a spawned helper. */
  write(data: Uint8Array | string): void {
    if (!this.open) return;
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    } catch {
      /* EPIPE: the reader sees the end */
    }
  }

  /** Calls ON_DATA with each chunk read, then ON_END once at the end of the stream (or an error). */
  start(onData: (d: Buffer) => void, onEnd: () => void): void {
    const buf = Buffer.alloc(65536);
    const next = (): void => {
      read(this.fd, buf, 0, buf.length, null, (err, n) => {
        if (err || n <= 0 || !this.open) return onEnd();
        onData(Buffer.from(buf.subarray(0, n)));
        next();
      });
    };
    next();
  }

  /** Closes this end: the front sees the caller gone (before a plan: no jail). */
  close(): void {
    if (!this.open) return;
    this.open = false;
    try {
      closeSync(this.fd);
    } catch {
      /* already gone */
    }
  }
}
