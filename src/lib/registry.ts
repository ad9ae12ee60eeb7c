// list() and get(): the library's view of the same registry jls reads.
import { Registry } from "../registry/store.js";
import { stateDir } from "../registry/paths.js";
import type { JailEntry } from "../registry/types.js";
import { checkJailId, checkStateDirOption } from "./options.js";

/** Running jails of this caller's registry (or of `dir`). */
export async function list(options: { stateDir?: string | undefined } = {}): Promise<JailEntry[]> {
  return new Registry(stateDir(checkStateDirOption(options))).list();
}

/** One running jail by jid or name, or undefined. */
export async function get(id: number | string, options: { stateDir?: string | undefined } = {}): Promise<JailEntry | undefined> {
  const key = checkJailId(id);
  return new Registry(stateDir(checkStateDirOption(options))).find(key);
}
