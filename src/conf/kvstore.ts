// The meta and env stores: newline-separated text whose `key=value` lines can be set one key at a time.

/** A store's text as lines (no trailing empty line). */
export type StoreLines = string[];

/** Replaces the whole store (`meta = "..."`); several values become several lines. */
export function storeSetAll(values: readonly string[]): StoreLines {
  const text = values.join("\n");
  return text === "" ? [] : text.split("\n");
}

/** Sets one key (`meta.KEY=VALUE`): drops the key's old lines and puts `KEY=VALUE` first. Setting
 * a key to the value it already has changes nothing (so `jail -c $(jls -s)` keeps the order). */
export function storeSetKey(lines: StoreLines, key: string, value: string): StoreLines {
  const mine = lines.filter((l) => l.startsWith(`${key}=`));
  if (mine.length === 1 && mine[0] === `${key}=${value}`) return lines;
  const kept = lines.filter((l) => {
    const eq = l.indexOf("=");
    return eq < 0 || l.slice(0, eq) !== key;
  });
  return [`${key}=${value}`, ...kept];
}

/** The keys of the `key=value` lines, first appearance order. */
export function storeKeys(lines: StoreLines): string[] {
  return Object.keys(storeRecord(lines));
}

/** The value of one key, or undefined. */
export function storeGet(lines: StoreLines, key: string): string | undefined {
  for (const l of lines) {
    const eq = l.indexOf("=");
    if (eq >= 0 && l.slice(0, eq) === key) return l.slice(eq + 1);
  }
  return undefined;
}

/** The `key=value` lines as a record, in order (the first line of a key wins; other lines are left out). */
export function storeRecord(lines: StoreLines): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const eq = l.indexOf("=");
    if (eq <= 0) continue;
    const k = l.slice(0, eq);
    if (!(k in out)) out[k] = l.slice(eq + 1);
  }
  return out;
}

/** The store's text, as jls prints it. */
export function storeText(lines: StoreLines): string {
  return lines.join("\n");
}

/**
 * Applies `meta=...`/`meta.KEY=...` (or env) command-line parameters, in order, to a running jail's
 * current store text (jail -m): a whole value replaces the store, a key sets that key; a key
 * without a value (no '=') sets it empty, as FreeBSD's jail(8) does (only libjail can delete one).
 */
export function applyStoreArgs(current: string, store: "meta" | "env", args: readonly { name: string; values: string[] }[]): string {
  let lines = storeSetAll([current]);
  for (const a of args) {
    if (a.name === store) lines = storeSetAll(a.values);
    else if (a.name.startsWith(`${store}.`) && a.name.length > store.length + 1) {
      lines = storeSetKey(lines, a.name.slice(store.length + 1), a.values.join(","));
    }
  }
  return storeText(lines);
}
