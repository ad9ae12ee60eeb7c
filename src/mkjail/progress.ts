// Progress of a build: steps on a terminal (stderr), JSON events for programs (--json, stdout),
// nothing when the output is piped.
import { writeSync } from "node:fs";
import type { Progress } from "./types.js";

/** Escapes control characters of a line some tool (or a tree) produced before it is printed. */
export function printable(s: string): string {
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** The progress reporter for this run. */
export function makeProgress(json: boolean, tty = process.stderr.isTTY === true): Progress & { event(ev: Record<string, unknown>): void } {
  const event = (ev: Record<string, unknown>) => {
    if (json) writeSync(1, `${JSON.stringify(ev)}\n`);
  };
  return {
    terminal: !json && tty,
    event,
    step(what, pct) {
      event({ ev: "step", step: what, ...(pct !== undefined ? { pct } : {}) });
      if (!json && tty) writeSync(2, `mkjail: ${pct !== undefined ? `[${String(pct).padStart(3)}%] ` : ""}${printable(what)}\n`);
    },
    log(line) {
      event({ ev: "log", line });
      if (!json && tty) writeSync(2, `  ${printable(line)}\n`);
    },
  };
}
