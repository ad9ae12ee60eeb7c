// Where a parent jail's child registry (children.max) lives on the host: <state>.nest/<jid>
// (src/jail/nest.ts makes and removes it; kept apart so that the run path loads nothing more).
import { join } from "node:path";

/** Where a parent jail's child registry lives on the host. */
export function nestDir(stateDir: string, jid: number): string {
  return join(`${stateDir.replace(/\/+$/, "")}.nest`, String(jid));
}
