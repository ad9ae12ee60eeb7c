// How long `start` lets the container's supervisor accept connections queued on its listening
// sockets before the command is released (native/src/settle.c; docs/OCI.md, "A lost exit under
// podman"): decided at create, recorded in the container's `settle` file for the native start.
import type { OciConfig } from "./config.js";
import { ociError } from "./config.js";

/** The annotation that sets the bound, in milliseconds (0: no wait). */
export const SETTLE_ANNOTATION = "sysjail.start-settle";

/** The bound when config.json does not set one: far above conmon's usual accept delay (well under
 * a millisecond, a few under load), and only paid when a connection stays queued. */
export const SETTLE_DEFAULT_MS = 50;

/** The bound for CONFIG: its annotation, or the default; a bad value is one clear error. */
export function settleBound(config: OciConfig): number {
  const a = config.annotations;
  const v = a && typeof a === "object" && Object.prototype.hasOwnProperty.call(a, SETTLE_ANNOTATION) ? (a as Record<string, unknown>)[SETTLE_ANNOTATION] : undefined;
  if (v === undefined) return SETTLE_DEFAULT_MS;
  if (typeof v !== "string" || !/^(0|[1-9][0-9]{0,3})$/.test(v) || Number(v) > 1000) {
    throw ociError(`annotation ${SETTLE_ANNOTATION} ${JSON.stringify(String(v).slice(0, 40))}: a whole number of milliseconds from 0 to 1000 is allowed`);
  }
  return Number(v);
}
