// list() and get(): the library's view of the same registry jls reads.
import { Registry } from "../registry/store.js";
import { stateDir } from "../registry/paths.js";
import type { JailEntry } from "../registry/types.js";

/** Running jails of this caller's registry (or of `dir`). */
export async function list(options: { stateDir?: string } = {}): Promise<JailEntry[]> {
  return new Registry(stateDir(options.stateDir)).list();
}

/** One running jail by jid or name, or undefined. */
export async function get(id: number | string, options: { stateDir?: string } = {}): Promise<JailEntry | undefined> {
  return new Registry(stateDir(options.stateDir)).find(String(id));
}
