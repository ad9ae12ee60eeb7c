// The `sysjail` line of /etc/subuid or /etc/subgid: the one reader of the host's subordinate id files.
import { readFileSync } from "node:fs";

/** First id of the default range when /etc/subuid names no `sysjail` user. */
export const DEFAULT_SUBID_START = 0x70000000;

/** Start and count of FILE's first valid `sysjail:START:COUNT` line, or undefined (no file, no such line). */
export function sysjailSubids(file: string): [number, number] | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const [who, start, count] = line.trim().split(":");
    if (who === "sysjail" && start && count) {
      const s = Number(start), c = Number(count);
      if (Number.isInteger(s) && Number.isInteger(c) && s > 0 && c >= 1 && s + c <= 0xffffffff) return [s, c];
    }
  }
  return undefined;
}
