// sjls --watch: a live table, refreshed every interval and sorted by CPU, until q, ^C or --count.
import { listJails, type JailRef } from "./locate.js";
import { jailInfo, type JailInfo } from "./sjlsinfo.js";
import { watchFrame } from "./sjlsformat.js";

/** Options of a watch. */
export interface WatchOptions {
  /** Seconds between frames. */
  interval: number;
  /** Stop after this many frames (undefined: until q or ^C). */
  count?: number | undefined;
  /** Only these jails (by key), when given. */
  filter?: ((r: JailRef) => boolean) | undefined;
  out?: NodeJS.WriteStream;
  input?: NodeJS.ReadStream;
}

/** A sample of one jail's cpu time, to turn totals into a rate. */
interface Sample { cpu: number; at: number }

function keyOf(r: JailRef): string {
  return `${r.dir}\0${r.entry.jid}\0${r.entry.initStart}`;
}

/** Runs the watch loop; resolves when it stops. */
export async function watch(opts: WatchOptions): Promise<void> {
  const out = opts.out ?? process.stdout;
  const input = opts.input ?? process.stdin;
  const tty = out.isTTY === true;
  let stop = false;
  let wake: (() => void) | undefined;
  const quit = () => { stop = true; wake?.(); };
  const onKey = (d: Buffer) => { if (d.includes(0x71) || d.includes(0x03) || d.includes(0x51)) quit(); };
  const raw = input.isTTY === true && typeof input.setRawMode === "function";
  if (raw) {
    input.setRawMode(true);
    input.resume();
    input.on("data", onKey);
  }
  process.on("SIGINT", quit);
  process.on("SIGTERM", quit);
  const last = new Map<string, Sample>();
  try {
    for (let frame = 0; !stop && (opts.count === undefined || frame < opts.count); frame++) {
      const now = Date.now();
      const refs = listJails(undefined, { corrupt: true }).filter((r) => !opts.filter || opts.filter(r));
      const rows: { info: JailInfo; cpuPercent: number }[] = [];
      const seen = new Map<string, Sample>();
      for (const r of refs) {
        const info = jailInfo(r, now);
        const prev = last.get(keyOf(r));
        // the first frame shows the average over the jail's life; later ones the last interval
        const pct = prev && now > prev.at
          ? (100 * (info.cpuSeconds - prev.cpu)) / ((now - prev.at) / 1000)
          : info.uptimeSeconds > 0 ? (100 * info.cpuSeconds) / info.uptimeSeconds : 0;
        rows.push({ info, cpuPercent: Math.max(0, pct) });
        seen.set(keyOf(r), { cpu: info.cpuSeconds, at: now });
      }
      last.clear();
      for (const [k, v] of seen) last.set(k, v);
      const text = watchFrame(rows, new Date(now), opts.interval).join("\n");
      out.write(tty ? `\x1b[H\x1b[2J${text}\n` : `${text}\n\n`);
      if (opts.count !== undefined && frame + 1 >= opts.count) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, opts.interval * 1000);
        wake = () => { clearTimeout(t); resolve(); };
      });
    }
  } finally {
    process.off("SIGINT", quit);
    process.off("SIGTERM", quit);
    if (raw) {
      input.off("data", onKey);
      input.setRawMode(false);
      input.pause();
    }
  }
}
