// The channel to a native front (native/src/front.c): when `sysjail` or `jail` is started as the
// package's native command, Node runs as the front's child with a socket to it on fd 3, and the
// front is the helper of this run's foreground jail.
import { closeSync, fstatSync, readSync, writeSync } from "node:fs";

const ENV = "SYSJAIL_FRONT_FD";
let frontFd: number | undefined;
/** sysjail-oci's front: a pipe where the last word goes too (native/src/front.c, the create of a
 * container, whose channel the container's monitor reads). */
const DONE_ENV = "SYSJAIL_FRONT_DONE_FD";
let doneFd: number | undefined;

/** The channel handed to this run's foreground jail (takeFront), for lastWord. */
let taken: FrontChannel | undefined;

/** Tells the front this process's exit status, after every other exit handler has run (call it
 * just before process.exit). A front that ran this run's jail then ends this process at once and
 * exits with STATUS: what is left of Node's exit is freeing memory and ending threads. With no
 * exit handler to wait for (the usual case: the code cache's writer is there only on a first
 * run), it is said at once. */
export function lastWord(status: number): void {
  const ch = taken;
  if (!ch) return;
  const code = Math.min(255, Math.max(0, status | 0));
  const say = () => {
    const word = `E${String(code).padStart(3, "0")}`;
    ch.write(word);
    if (doneFd !== undefined) {
      // sysjail-oci's front returns at this word without waiting for this process's end (its
      // teardown, a millisecond or two, then ends orphaned): the engine's stdio must not be held
      // by it past the front's exit (conmon reads those pipes until their last writer is gone).
      // Nothing is written after the word.
      for (const fd of [0, 1, 2]) {
        try {
          closeSync(fd);
        } catch {
          /* not open */
        }
      }
      try {
        writeSync(doneFd, word);
      } catch {
        /* the front is gone */
      }
    }
  };
  if (process.listenerCount("exit") === 0) say();
  else process.once("exit", say);
}

const HELD = "SYSJAIL_HELD";

/** Puts back into ENV the NODE_* variables the front moved aside (native/src/front.c
 * hold_node_env: NAME=value became SYSJAIL_HELD_NAME=value, SYSJAIL_HELD lists the names joined
 * by "="), so that the jail's command and hooks see the caller's environment unchanged. */
export function restoreHeld(env: NodeJS.ProcessEnv): void {
  const list = env[HELD];
  if (list === undefined) return;
  delete env[HELD];
  for (const name of list.split("=")) {
    const v = env[`${HELD}_${name}`];
    if (!name.startsWith("NODE_") || v === undefined) continue;
    env[name] = v;
    delete env[`${HELD}_${name}`];
  }
}

/** ENV without NODE_* variables: the environment for a Node process of sysjail's own (the
 * front's rule, native/src/front.c hold_node_env). */
export function ownNodeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith("NODE_")));
}

/** Takes the front's channel from the environment (once, at a tool's start), and removes the
 * variable so that nothing started from here (a jail included) inherits it. Also puts back the
 * NODE_* variables the front held away from this Node (restoreHeld). */
export function captureFront(): void {
  restoreHeld(process.env);
  const v = process.env[ENV];
  if (v === undefined) return;
  delete process.env[ENV];
  const fd = /^\d+$/.test(v) ? Number(v) : -1;
  try {
    if (fd > 2 && fstatSync(fd).isSocket()) frontFd = fd;
  } catch {
    /* no such descriptor: run as if started by node directly */
  }
  const d = process.env[DONE_ENV];
  delete process.env[DONE_ENV];
  const dfd = d !== undefined && /^\d+$/.test(d) ? Number(d) : -1;
  try {
    if (frontFd !== undefined && dfd > 2 && dfd !== frontFd && fstatSync(dfd).isFIFO()) doneFd = dfd;
  } catch {
    /* none */
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
  if (doneFd !== undefined) {
    try {
      closeSync(doneFd);
    } catch {
      /* already gone */
    }
    doneFd = undefined;
  }
  if (frontFd === undefined) return;
  try {
    closeSync(frontFd);
  } catch {
    /* already gone */
  }
  frontFd = undefined;
}

/** A byte stream to the front, written and read synchronously: loading `net` for a socket would
 * cost more than the spawn the front saves, and a blocking read wakes this thread directly when
 * the front reports, without a hop through Node's thread pool (which then never starts).
 *
 * Node only waits while it reads: the jail's monitor is the front, which handles the signals
 * that end a run (it is the process whose pid the caller has, and the terminal's signals reach
 * it too); a signal sent to this Node process alone is seen after the jail has ended. */
export class FrontChannel {
  private open = true;
  private readonly buf = Buffer.allocUnsafe(65536); // only the bytes read are ever looked at

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

  /** Waits for the front's next bytes; null at the end of the stream (or an error). The bytes are
   * a view of this channel's buffer, valid until the next read (the caller decodes them at once). */
  readSync(): Buffer | null {
    if (!this.open) return null;
    for (;;) {
      try {
        const n = readSync(this.fd, this.buf, 0, this.buf.length, null);
        return n > 0 ? this.buf.subarray(0, n) : null;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EINTR") continue;
        return null;
      }
    }
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
